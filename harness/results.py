"""Per-cell result files: the JSON shape (documented in README, "Cell result schema"), atomic
writing, and the resume rule. Standard library only: the noxfile and the collator import it
without numpy.

A result is trusted only when it parses, has this schema version, says ``complete: true`` and
carries the same ``inputs_key`` as the cell about to run (lock entry + artifact hashes + harness
version). Anything else is reported as stale and rerun; a half-written file cannot exist
because every write goes through a temporary file and ``os.replace``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, TypedDict

from .atomic import atomic_write

RESULT_SCHEMA = 1
#: The fixed vocabulary of a cell's status.
CELL_STATUSES = ("passed", "failed", "unsupported", "error", "skipped")
#: The fixed vocabulary of one check's status.
CHECK_STATUSES = ("passed", "failed", "skipped", "xfail")


class CellSpec(TypedDict):
    id: str
    kind: str  # "runtime" or "converter"
    versions: Dict[str, str]  # axis -> exact version ("system" for the default Node)
    companions: List[str]  # PEP 508 pins added by [[companion]] rules
    label: str  # why this cell is in the selection, e.g. "onnxruntime=1.20.1" or "all-minimum"


class CheckRecord(TypedDict):
    model: str
    input_set: str
    pair: List[str]
    output: str
    status: str
    rows: int
    max_abs: Optional[float]
    max_rel: Optional[float]
    max_ulp: Optional[int]
    budget: Optional[str]
    budget_used: Optional[float]
    reason: str


class DriftRecord(TypedDict):
    backend: str
    model: str
    input_set: str
    output: str
    reference_version: str
    identical: bool
    max_ulp: Optional[int]
    nonfinite_mismatches: int


class ConverterRecord(TypedDict):
    model: str
    converted: bool
    reason: str
    ir_version: Optional[int]
    opsets: Dict[str, int]
    op_types: List[str]
    bytes: Optional[int]
    differs_from_committed: List[str]  # what changed: "ir_version", "opsets", "op_types", "bytes"


class CellResult(TypedDict):
    schema: int
    harness_version: str
    inputs_key: str
    cell: CellSpec
    status: str
    reason: str
    log: Optional[str]
    installed: Dict[str, Dict[str, str]]  # {"python": {...}, "npm": {...}}
    backends: Dict[str, Dict[str, str]]  # what each backend reported about itself
    host: Dict[str, Any]
    timings: Dict[str, float]  # seconds: install, suite, total
    checks: List[CheckRecord]
    drift: List[DriftRecord]
    converter: List[ConverterRecord]
    complete: bool


def host_facts() -> Dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gib = None
    try:
        memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib, "platform": platform.platform()}


def inputs_key(cell: CellSpec, artifact_manifest: Path, harness_version: str) -> str:
    """What a result depends on: the cell's locked versions and pins, the artifacts, the harness."""
    h = hashlib.sha256()
    h.update(json.dumps(cell, sort_keys=True).encode())
    h.update(artifact_manifest.read_bytes())
    h.update(harness_version.encode())
    return h.hexdigest()


def new_result(cell: CellSpec, key: str, harness_version: str) -> CellResult:
    return CellResult(
        schema=RESULT_SCHEMA,
        harness_version=harness_version,
        inputs_key=key,
        cell=cell,
        status="error",
        reason="not finished",
        log=None,
        installed={"python": {}, "npm": {}},
        backends={},
        host=host_facts(),
        timings={},
        checks=[],
        drift=[],
        converter=[],
        complete=False,
    )


def result_path(out_dir: Path, cell_id: str) -> Path:
    return out_dir / "cells" / f"{cell_id}.json"


def write_result(out_dir: Path, result: CellResult) -> Path:
    """Atomically (temp file + fsync + rename): readers see the old file or the new, never half."""
    path = result_path(out_dir, result["cell"]["id"])
    atomic_write(path, (json.dumps(result, indent=1, sort_keys=True) + "\n").encode())
    return path


def read_result(path: Path) -> Tuple[Optional[CellResult], str]:
    """The result and "" when it can be trusted as such; else None and why not."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None, "no result yet"
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"{path.name}: unreadable ({exc})"
    if not isinstance(data, dict) or data.get("schema") != RESULT_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        return None, f"{path.name}: schema {found!r}, expected {RESULT_SCHEMA}"
    missing = [k for k in CellResult.__annotations__ if k not in data]
    if missing:
        return None, f"{path.name}: keys missing: {', '.join(missing)}"
    if data["status"] not in CELL_STATUSES:
        return None, f"{path.name}: unknown status {data['status']!r}"
    return data, ""  # type: ignore[return-value]


def is_reusable(path: Path, key: str) -> Tuple[bool, str]:
    """Whether a re-run may skip this cell, and why (or why not)."""
    result, why = read_result(path)
    if result is None:
        return False, why
    if not result["complete"]:
        return False, f"{path.name}: incomplete"
    if result["inputs_key"] != key:
        return False, f"{path.name}: inputs changed (lock entry, artifacts or harness version)"
    if result["status"] == "error":
        return False, f"{path.name}: last run was a harness error"
    return True, f"{result['status']} (kept)"


def cell_status(checks: List[CheckRecord], drift_ok: bool = True) -> Tuple[str, str]:
    """A cell's status from its checks: failed names the first failing check; skipped only when
    nothing ran."""
    failed = [c for c in checks if c["status"] == "failed"]
    if failed:
        c = failed[0]
        more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
        return "failed", f"{c['model']}/{c['input_set']}/{'~'.join(c['pair'])}/{c['output']}: {c['reason']}{more}"
    if checks and all(c["status"] == "skipped" for c in checks):
        return "skipped", checks[0]["reason"]
    if not checks:
        return "error", "no checks ran"
    skipped = [c for c in checks if c["status"] == "skipped"]
    return "passed", f"{len(skipped)} checks skipped: {skipped[0]['reason']}" if skipped else ""
