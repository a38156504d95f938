"""Cells: which version combinations a matrix run covers, built from matrix.lock.json.

The default selection is bounded but touches every locked version of every axis: the default
cell, each version paired with the default cell's versions on the other axes, the all-minimum
and the all-newest runtime cells, and one converter cell per skl2onnx version. ``--full`` is
the cartesian product of the runtime axes (opt-in). Companion pins come from the
``[[companion]]`` rules of matrix.toml, never from code.

    python -m harness.cells [--json] [--full] [--only AXIS=VERSION ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from .config import MATRIX_FILE, load_matrix
from .errors import ConfigError, run_cli
from .lock import Lock, load_lock, validate_axes
from .results import CellSpec

SYSTEM = "system"


def companion_pins(matrix: Mapping[str, Any], versions: Mapping[str, str], name: str = "matrix.toml") -> List[str]:
    """Every pin of every [[companion]] rule whose `when` specifiers all match ``versions``."""
    pins: List[str] = []
    for i, rule in enumerate(matrix.get("companion", [])):
        where = f"{name}: companion[{i}]"
        unknown = set(rule) - {"why", "when", "pins"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        if not isinstance(rule.get("when"), dict) or not isinstance(rule.get("pins"), list):
            raise ConfigError(f"{where}: needs a `when` table and a `pins` list")
        matches = True
        for axis, text in rule["when"].items():
            try:
                spec = SpecifierSet(text)
            except InvalidSpecifier:
                raise ConfigError(f"{where}.when.{axis}: bad version specifier {text!r}") from None
            version = versions.get(axis)
            if version is None or version == SYSTEM or Version(version) not in spec:
                matches = False
        if matches:
            pins.extend(p for p in rule["pins"] if p not in pins)
    return pins


def system_node_version() -> Optional[str]:
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.lstrip("v") or None


def _default_version(axis: str, wanted: str, locked: Sequence[str]) -> str:
    """The default cell's version on one axis: exact, a prefix ("3.12" -> "3.12.1"), or
    "system" (the PATH's Node, if the lock has that version)."""
    if wanted == SYSTEM:
        system = system_node_version()
        return system if system in locked else locked[-1]
    matching = [v for v in locked if v == wanted or v.startswith(wanted + ".")]
    if not matching:
        raise ConfigError(
            f"matrix.toml: default-cell.{axis} {wanted!r} is not in the lock ({', '.join(locked)}); "
            "pick a released version or run `nox -s lock`"
        )
    return matching[-1]


def defaults(matrix: Mapping[str, Any], lock: Lock) -> Dict[str, str]:
    cell = matrix["default-cell"]
    out = {}
    for axis, entry in lock["axes"].items():
        if axis in cell:
            out[axis] = _default_version(axis, cell[axis], entry["versions"])
    return out


def _cell(matrix: Mapping[str, Any], cell_id: str, kind: str, versions: Dict[str, str], label: str) -> CellSpec:
    return CellSpec(id=cell_id, kind=kind, versions=versions, companions=companion_pins(matrix, versions), label=label)


def select_cells(matrix: Mapping[str, Any], lock: Lock, full: bool = False) -> List[CellSpec]:
    axes = validate_axes(matrix)
    runtime_axes = [a for a, s in axes.items() if s["kind"] == "runtime"]
    converter_axes = [a for a, s in axes.items() if s["kind"] == "converter"]
    base = {a: v for a, v in defaults(matrix, lock).items() if a in runtime_axes}
    cells: Dict[str, CellSpec] = {}

    def add(cell: CellSpec) -> None:
        for other in cells.values():
            if other["versions"] == cell["versions"] and other["kind"] == cell["kind"]:
                return  # the same combination is already covered
        cells[cell["id"]] = cell

    add(_cell(matrix, "default", "runtime", dict(base), "default cell"))
    if full:
        lists = [lock["axes"][a]["versions"] for a in runtime_axes]
        for combo in itertools.product(*lists):
            versions = dict(zip(runtime_axes, combo))
            add(_cell(matrix, "-".join(f"{a}{v}" for a, v in versions.items()), "runtime", versions, "full product"))
    else:
        add(
            _cell(
                matrix,
                "all-minimum",
                "runtime",
                {a: lock["axes"][a]["versions"][0] for a in runtime_axes},
                "all-minimum",
            )
        )
        add(
            _cell(
                matrix,
                "all-newest",
                "runtime",
                {a: lock["axes"][a]["versions"][-1] for a in runtime_axes},
                "all-newest",
            )
        )
        for axis in runtime_axes:
            for version in lock["axes"][axis]["versions"]:
                add(_cell(matrix, f"{axis}-{version}", "runtime", {**base, axis: version}, f"{axis}={version}"))
    python = matrix.get("cells", {}).get("default-python-for-converters", matrix["default-cell"]["python"])
    for axis in converter_axes:
        for version in lock["axes"][axis]["versions"]:
            versions = {
                "python": _default_version("python", python, lock["axes"]["python"]["versions"]),
                "onnxruntime": base["onnxruntime"],
                axis: version,
            }
            add(_cell(matrix, f"{axis}-{version}", "converter", versions, f"{axis}={version}"))
    return list(cells.values())


_ONLY = re.compile(r"^([a-z0-9-]+)=(.+)$")


def apply_only(cells: List[CellSpec], only: Sequence[str]) -> List[CellSpec]:
    """Keep cells matching every ``--only`` filter: ``cell=ID[,ID]``, ``kind=runtime`` or
    ``AXIS=VERSION[,VERSION]``. A filter that names an unknown axis is an error."""
    known = {"cell", "kind"} | {axis for c in cells for axis in c["versions"]}
    for text in only:
        match = _ONLY.match(text)
        if not match:
            raise ConfigError(f"--only {text!r}: expected KEY=VALUE, e.g. onnxruntime=1.20.1 or cell=all-minimum")
        key, values = match.group(1), match.group(2).split(",")
        if key not in known:
            raise ConfigError(f"--only {text!r}: unknown key {key!r}; known: {', '.join(sorted(known))}")
        if key == "cell":
            cells = [c for c in cells if c["id"] in values]
        elif key == "kind":
            cells = [c for c in cells if c["kind"] in values]
        else:
            cells = [c for c in cells if c["versions"].get(key) in values]
    return cells


def load_cells(matrix_path: Path = MATRIX_FILE, full: bool = False, only: Sequence[str] = ()) -> List[CellSpec]:
    lock = load_lock(matrix_path.with_name(matrix_path.stem + ".lock.json"), matrix_path)
    return apply_only(select_cells(load_matrix(matrix_path), lock, full), only)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.cells", description=__doc__.split("\n")[0])
    parser.add_argument("--matrix", type=Path, default=MATRIX_FILE)
    parser.add_argument("--full", action="store_true", help="the cartesian product of the runtime axes")
    parser.add_argument("--only", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", action="store_true", help="one JSON list (for CI job matrices)")
    args = parser.parse_args(argv)
    cells = load_cells(args.matrix, args.full, args.only)
    if args.json:
        print(json.dumps([{k: c[k] for k in ("id", "kind", "label", "versions")} for c in cells]))
        return 0
    for c in cells:
        versions = " ".join(f"{a}={v}" for a, v in c["versions"].items())
        pins = f"  + {', '.join(c['companions'])}" if c["companions"] else ""
        print(f"{c['id']:<28} {c['kind']:<9} {versions}{pins}")
    full = len(
        select_cells(
            load_matrix(args.matrix),
            load_lock(args.matrix.with_name(args.matrix.stem + ".lock.json"), args.matrix),
            True,
        )
    )
    print(f"{len(cells)} cells selected; the full product has {full}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
