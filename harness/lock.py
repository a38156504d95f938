"""Expand matrix.toml's axes against the registries and write matrix.lock.json.

    python -m harness.lock            # refresh the lock (nox -s lock)
    python -m harness.lock --check    # exit 1 when the registries have versions the lock lacks

Runs read only the lock, so a run is reproducible; `nox -s lock` refreshes it when new releases
appear. Registries are asked through their ordinary clients: ``pip index versions`` for PyPI,
``npm view`` for npm, and the installed CPython interpreters for the Python axis.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, TypedDict

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .config import MATRIX_FILE, ROOT, load_matrix
from .errors import ConfigError, HarnessError, read_json, run_cli

LOCK_FILE = ROOT / "matrix.lock.json"
LOCK_SCHEMA = 1
REGISTRIES = ("pypi", "npm", "interpreters")
SELECTS = ("latest-patch-per-minor", "latest-per-major")
AXIS_KEYS = {"registry", "package", "specifier", "select", "exclude", "kind"}
KINDS = ("runtime", "converter")


class LockedAxis(TypedDict):
    registry: str
    package: str
    specifier: str
    select: str
    versions: List[str]  # oldest first


class Lock(TypedDict):
    schema: int
    generated: str
    matrix_sha256: str
    axes: Dict[str, LockedAxis]


def validate_axes(matrix: Mapping[str, Any], name: str = "matrix.toml") -> Dict[str, Dict[str, Any]]:
    """Check [axes.*]: known keys, a valid specifier and select, a known registry."""
    axes = matrix.get("axes")
    if not isinstance(axes, dict) or not axes:
        raise ConfigError(f"{name}: section [axes] missing or empty")
    for axis, spec in axes.items():
        where = f"{name}: axes.{axis}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = set(spec) - AXIS_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        for key in ("registry", "specifier", "select", "kind"):
            if not isinstance(spec.get(key), str):
                raise ConfigError(f"{where}.{key} missing or not a string")
        if spec["registry"] not in REGISTRIES:
            raise ConfigError(f"{where}.registry {spec['registry']!r} is not one of {', '.join(REGISTRIES)}")
        if spec["select"] not in SELECTS:
            raise ConfigError(f"{where}.select {spec['select']!r} is not one of {', '.join(SELECTS)}")
        if spec["kind"] not in KINDS:
            raise ConfigError(f"{where}.kind {spec['kind']!r} is not one of {', '.join(KINDS)}")
        for key, text in [("specifier", spec["specifier"])] + [("exclude", e) for e in spec.get("exclude", [])]:
            try:
                SpecifierSet(text)
            except (InvalidSpecifier, TypeError):
                raise ConfigError(f"{where}.{key}: bad version specifier {text!r}") from None
    return axes


def available(registry: str, package: str) -> List[str]:
    """Every version the registry offers for ``package`` (pre-releases included; filtered later)."""
    if registry == "interpreters":
        return installed_pythons()
    if registry == "pypi":
        out = _run([*pip_command(), "index", "versions", package, "--pre"], package)
        match = re.search(r"Available versions:\s*(.+)", out)
        if not match:
            raise ConfigError(f"pip index versions {package}: no versions in its answer")
        return [v.strip() for v in match.group(1).split(",")]
    out = _run(["npm", "view", package, "versions", "--json"], package)
    versions = json.loads(out)
    return [versions] if isinstance(versions, str) else list(versions)


def pip_command() -> List[str]:
    """pip, from this interpreter or the machine's python3 (uv venvs have none), else uv's."""
    for python in (sys.executable, shutil.which("python3")):
        if python and subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0:
            return [python, "-m", "pip"]
    from .environments import uv_binary

    return [*uv_binary(), "tool", "run", "pip"]


def installed_pythons() -> List[str]:
    """CPython X.Y.Z builds that pyenv (or PATH) offers on this machine."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = [os.path.basename(p) for p in glob.glob(os.path.join(root, "versions", "*"))]
    return [v for v in found if re.fullmatch(r"3\.\d+\.\d+", v)]


def _run(argv: List[str], package: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"{' '.join(argv[:3])} {package}: {exc}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"registry lookup for {package!r} failed: {last}")
    return proc.stdout


def select(versions: List[str], specifier: str, how: str, exclude: Optional[List[str]] = None) -> List[str]:
    """Apply the axis's specifier, exclusions and selection rule; oldest first."""
    spec = SpecifierSet(specifier)
    excluded = [SpecifierSet(e) for e in exclude or []]
    parsed = []
    for text in versions:
        try:
            v = Version(text)
        except InvalidVersion:
            continue  # e.g. npm's "1.22.0-rev": not a release
        if v.is_prerelease or v.is_devrelease or v.local or text != str(v):
            continue
        if v in spec and not any(v in e for e in excluded):
            parsed.append(v)
    newest: Dict[tuple, Version] = {}
    for v in parsed:
        key = v.release[:2] if how == "latest-patch-per-minor" else v.release[:1]
        if key not in newest or v > newest[key]:
            newest[key] = v
    return [str(v) for v in sorted(newest.values())]


def build_lock(matrix_path: Path = MATRIX_FILE) -> Lock:
    matrix = load_matrix(matrix_path)
    axes = validate_axes(matrix, matrix_path.name)
    locked: Dict[str, LockedAxis] = {}
    for axis, spec in axes.items():
        package = spec.get("package", axis)
        versions = select(available(spec["registry"], package), spec["specifier"], spec["select"], spec.get("exclude"))
        if not versions:
            raise ConfigError(f"{matrix_path.name}: axes.{axis}: no version of {package} matches {spec['specifier']!r}")
        locked[axis] = LockedAxis(
            registry=spec["registry"],
            package=package,
            specifier=spec["specifier"],
            select=spec["select"],
            versions=versions,
        )
    return Lock(
        schema=LOCK_SCHEMA,
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        matrix_sha256=_sha256(matrix_path),
        axes=locked,
    )


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_lock(path: Path = LOCK_FILE, matrix_path: Path = MATRIX_FILE) -> Lock:
    """The lock, checked against the matrix file it was made from."""
    lock = read_json(path, path.name, "run `nox -s lock`", ConfigError)
    if lock.get("schema") != LOCK_SCHEMA:
        raise ConfigError(f"{path.name}: schema {lock.get('schema')!r}, expected {LOCK_SCHEMA}")
    axes = validate_axes(load_matrix(matrix_path), matrix_path.name)
    for axis, spec in axes.items():
        entry = lock["axes"].get(axis)
        if entry is None:
            raise ConfigError(f"{path.name}: axis {axis!r} of {matrix_path.name} is not locked; run `nox -s lock`")
        if entry["specifier"] != spec["specifier"] or entry["select"] != spec["select"]:
            raise ConfigError(f"{path.name}: axis {axis!r} was locked for another spec; run `nox -s lock`")
    return lock


def write_lock(lock: Lock, path: Path = LOCK_FILE) -> None:
    from .artifacts import atomic_write

    atomic_write(path, (json.dumps(lock, indent=1) + "\n").encode())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.lock", description=__doc__.split("\n")[0])
    parser.add_argument("--matrix", type=Path, default=MATRIX_FILE)
    parser.add_argument("--lock", type=Path, default=None, help="lock file (default: beside the matrix file)")
    parser.add_argument("--check", action="store_true", help="report new releases; write nothing")
    args = parser.parse_args(argv)
    lock_path = args.lock or args.matrix.with_name(args.matrix.stem + ".lock.json")
    fresh = build_lock(args.matrix)
    for axis, entry in fresh["axes"].items():
        print(f"{axis:<18} {len(entry['versions']):>3} versions: {', '.join(entry['versions'])}")
    if args.check:
        try:
            old = load_lock(lock_path, args.matrix)
        except HarnessError as exc:
            print(exc.one_line(), file=sys.stderr)
            return 1
        stale = [a for a in fresh["axes"] if fresh["axes"][a]["versions"] != old["axes"][a]["versions"]]
        for axis in stale:
            print(f"{lock_path.name}: axis {axis!r} is out of date; run `nox -s lock`", file=sys.stderr)
        return 1 if stale else 0
    write_lock(fresh, lock_path)
    print(f"wrote {lock_path}")
    return 0


if __name__ == "__main__":
    run_cli(main)
