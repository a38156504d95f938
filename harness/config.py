"""Reading matrix.toml: the one file that holds every version and limit the project uses.

Validation is strict and every failure is one line naming the file and the key at fault.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised in 3.9/3.10 cells
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: Where models/ and reference_data/ are read from: $ONNX_INV_ROOT (a copy, e.g. in a fault
#: test) or this checkout.
ARTIFACT_ROOT = Path(os.environ.get("ONNX_INV_ROOT") or ROOT)
MATRIX_FILE = ROOT / "matrix.toml"
SCHEMA = 1

_SECTIONS: Dict[str, Dict[str, type]] = {
    "generate": {
        "python": str,
        "scikit-learn": str,
        "skl2onnx": str,
        "onnx": str,
        "onnxruntime": str,
        "numpy": str,
        "protobuf": str,
        "scipy": str,
    },
    "default-cell": {
        "python": str,
        "onnxruntime": str,
        "numpy": str,
        "node": str,
        "onnxruntime-node": str,
        "onnxruntime-web": str,
    },
    "onnx-limits": {
        "oldest-runtime": str,
        "max-ir-version": int,
        "max-opset": dict,
        "target-opset": dict,
    },
}
#: Sections that later parts of the harness validate themselves.
_OPEN_SECTIONS = ("axes", "companion", "cells", "bench")


def load_toml(path: Path) -> Dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_matrix(path: Path = MATRIX_FILE) -> Dict[str, Any]:
    """Load and check the fixed sections of matrix.toml."""
    data = load_toml(path)
    name = path.name
    schema = data.get("schema")
    if schema != SCHEMA:
        raise ConfigError(f"{name}: key 'schema' is {schema!r}, expected {SCHEMA}")
    for key in data:
        if key != "schema" and key not in _SECTIONS and key not in _OPEN_SECTIONS:
            raise ConfigError(f"{name}: unknown key {key!r}")
    for section, keys in _SECTIONS.items():
        table = data.get(section)
        if not isinstance(table, dict):
            raise ConfigError(f"{name}: section [{section}] missing")
        _check_table(name, section, table, keys)
    return data


def _check_table(name: str, section: str, table: Mapping[str, Any], keys: Dict[str, type]) -> None:
    for key, value in table.items():
        if key not in keys:
            raise ConfigError(f"{name}: unknown key '{section}.{key}'")
        if not isinstance(value, keys[key]):
            raise ConfigError(f"{name}: key '{section}.{key}' must be {keys[key].__name__}, got {type(value).__name__}")
    for key in keys:
        if key not in table:
            raise ConfigError(f"{name}: key '{section}.{key}' missing")
