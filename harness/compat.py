"""The collated compatibility matrix (``compat.json``): its shape as TypedDicts, built from
per-cell results (``harness.results.CellResult``). Pure, standard library only: no I/O, no clock,
every list sorted, so the same cell results give the same document in any order. Read and
written by ``harness.collate``; rendered by ``harness.report_md`` and ``harness.report_html``.
"""

from __future__ import annotations

import math
import re
import shlex
from typing import Any, Dict, List, Optional, Tuple, TypedDict

from .registry import MODELS
from .results import CELL_STATUSES, CellResult, CheckRecord

COMPAT_SCHEMA = 1
#: Version columns come first in this order; any other axis the cells have (matrix.toml is the
#: one place that names axes) follows, in the order the cells list it.
VERSION_AXES = ("python", "onnxruntime", "node", "onnxruntime-node", "onnxruntime-web", "skl2onnx")
#: Which cell-version axis says what version of a backend a cell ran (when it did not report it).
BACKEND_AXIS = {
    "sklearn": "scikit-learn",
    "ort-python": "onnxruntime",
    "ort-node": "onnxruntime-node",
    "ort-web": "onnxruntime-web",
    "ort-web-node": "onnxruntime-web",
    "ort-web-browser": "onnxruntime-web",
}
PASS, FAIL, NONE = "✓", "✗", "–"


class Failure(TypedDict):
    model: str
    backend: str  # the compared pair, "sklearn~ort-node"; "skl2onnx" for a failed conversion
    input_set: str
    output: str
    measured: str  # "max_abs=3.1e-5 max_rel=2e-4 max_ulp=300"
    budget: str  # the budget as the check recorded it; "exact" for labels
    reason: str
    rerun: str  # the command that reruns just this cell and model


class ModelEntry(TypedDict):
    mark: str  # ✓ ✗ –
    text: str  # "28%" of the budget used, "3.1e-5 > 1e-6", "not converted", ""
    checks: int
    failed: int
    budget_used: Optional[float]  # the largest finite share of a budget used by a passed check


class CompatCell(TypedDict):
    id: str
    kind: str
    label: str
    versions: Dict[str, str]
    companions: List[str]
    installed: Dict[str, Dict[str, str]]
    status: str
    reason: str
    log: Optional[str]
    complete: bool
    timings: Dict[str, float]
    models: Dict[str, ModelEntry]
    failures: List[Failure]
    rerun: str


class DriftEntry(TypedDict):
    backend: str
    version: str
    reference_version: str
    identical: bool  # bit-identical to the reference version on every record
    max_ulp: Optional[int]
    nonfinite_mismatches: int
    records: int
    differing: List[str]  # "model/input_set/output" that are not bit-identical
    cells: List[str]


class ConverterEntry(TypedDict):
    skl2onnx: str
    cell: str
    model: str
    converted: bool
    reason: str
    within_budget: Optional[bool]  # ORT vs that cell's scikit-learn; None when nothing was compared
    check: str  # the grid entry text for that comparison
    differs_from_committed: List[str]
    ir_version: Optional[int]
    opsets: Dict[str, int]
    op_types: List[str]
    bytes: Optional[int]


class Compat(TypedDict):
    schema: int
    models: List[str]
    axes: List[str]
    counts: Dict[str, int]
    cells: List[CompatCell]
    drift: List[DriftEntry]
    converter: List[ConverterEntry]
    problems: List[str]


def version_key(version: str) -> Tuple[Tuple[int, Any], ...]:
    """Sorts "1.9.0" before "1.17.3"; anything not numeric sorts after, as text."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+]", version))


def num(x: Optional[float]) -> str:
    """Short, stable number text: 3.1e-05 -> "3.1e-5", 0.0 -> "0"."""
    if x is None:
        return "n/a"
    if not math.isfinite(x):
        return str(x)
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), f"{x:.2g}")


def rerun_command(cell_id: str, model: Optional[str] = None) -> str:
    model_arg = f" --models {shlex.quote(model)}" if model else ""
    return f"nox -s matrix -- --only {shlex.quote('cell=' + cell_id)}{model_arg} --force"


def _budget_parts(budget: Optional[str]) -> Tuple[Optional[float], Optional[int]]:
    if not budget:
        return None, None
    atol = re.search(r"atol=(\S+)", budget)
    ulp = re.search(r"ulp<=(\d+)", budget)
    try:
        return (float(atol.group(1)) if atol else None), (int(ulp.group(1)) if ulp else None)
    except ValueError:
        return None, None


def failure_text(c: CheckRecord) -> str:
    """The measured error against its budget, as short as a grid entry can hold."""
    max_abs, max_ulp = c.get("max_abs"), c.get("max_ulp")
    if c.get("budget") is None:
        return "labels differ" if c.get("output") == "label" else f"{num(max_abs)} ≠ exact"
    if max_abs is not None and not math.isfinite(max_abs):
        return "non-finite mismatch"
    atol, ulp_limit = _budget_parts(c["budget"])
    if max_ulp is not None and ulp_limit is not None and max_ulp > ulp_limit:
        if atol is None or max_abs is None or max_abs <= atol:
            return f"{max_ulp} ULP > {ulp_limit}"
    if max_abs is not None and atol is not None:
        return f"{num(max_abs)} > {num(atol)}"
    return " ".join(c.get("reason", "").split())[:60] or "failed"


def _severity(c: CheckRecord) -> Tuple[float, str]:
    used = c.get("budget_used")
    used = float("inf") if used is None or math.isnan(used) else used
    return (-used, f"{c['input_set']}/{'~'.join(c['pair'])}/{c['output']}")


def model_entry(result: CellResult, model: str) -> ModelEntry:
    checks = [c for c in result["checks"] if c["model"] == model]
    records = [r for r in result["converter"] if r["model"] == model]
    failed = sorted((c for c in checks if c["status"] == "failed"), key=_severity)
    passed = [c for c in checks if c["status"] in ("passed", "xfail")]
    used = [c["budget_used"] for c in passed if c["status"] == "passed" and c.get("budget_used") is not None]
    finite = [u for u in used if math.isfinite(u)]
    worst = max(finite) if finite else None
    entry = ModelEntry(mark=NONE, text="", checks=len(checks), failed=len(failed), budget_used=worst)
    if failed:
        entry.update(mark=FAIL, text=failure_text(failed[0]))
    elif any(not r["converted"] for r in records):
        entry.update(mark=FAIL, text="not converted")
    elif passed:
        entry.update(mark=PASS, text=f"{worst:.0%}" if worst is not None else "")
    elif records:
        entry.update(mark=PASS, text="converted")
    return entry


def _measured(c: CheckRecord) -> str:
    ulp = c.get("max_ulp")
    return f"max_abs={num(c.get('max_abs'))} max_rel={num(c.get('max_rel'))} max_ulp={'n/a' if ulp is None else ulp}"


def failures(result: CellResult) -> List[Failure]:
    cell_id = result["cell"]["id"]
    out = [
        Failure(
            model=c["model"],
            backend="~".join(c["pair"]),
            input_set=c["input_set"],
            output=c["output"],
            measured=_measured(c),
            budget=c.get("budget") or "exact",
            reason=" ".join(c.get("reason", "").split()),
            rerun=rerun_command(cell_id, c["model"]),
        )
        for c in result["checks"]
        if c["status"] == "failed"
    ]
    out += [
        Failure(
            model=r["model"],
            backend="skl2onnx",
            input_set="-",
            output="-",
            measured="not converted",
            budget="-",
            reason=" ".join(r.get("reason", "").split()),
            rerun=rerun_command(cell_id, r["model"]),
        )
        for r in result["converter"]
        if not r["converted"]
    ]
    return sorted(out, key=lambda f: (f["model"], f["input_set"], f["backend"], f["output"], f["reason"]))


def compat_cell(result: CellResult, models: List[str]) -> CompatCell:
    cell = result["cell"]
    timings = {k: float(v) for k, v in result["timings"].items() if isinstance(v, (int, float)) and math.isfinite(v)}
    return CompatCell(
        id=cell["id"],
        kind=cell["kind"],
        label=cell["label"],
        versions=dict(cell["versions"]),
        companions=sorted(cell["companions"]),
        installed={k: dict(v) for k, v in result["installed"].items()},
        status=result["status"],
        reason=" ".join(str(result["reason"]).split()),
        log=result["log"],
        complete=bool(result["complete"]),
        timings=timings,
        models={m: model_entry(result, m) for m in models},
        failures=failures(result),
        rerun=rerun_command(cell["id"]),
    )


def backend_version(result: CellResult, backend: str) -> str:
    reported = result["backends"].get(backend, {}).get("version")
    if reported:
        return str(reported)
    axis = BACKEND_AXIS.get(backend, backend)
    for source in (
        result["cell"]["versions"],
        result["installed"].get("python", {}),
        result["installed"].get("npm", {}),
    ):
        if source.get(axis):
            return str(source[axis])
    return "?"


def drift_entries(results: List[CellResult]) -> List[DriftEntry]:
    """Per backend and version: bit-identical to the reference version, or the largest ULP gap."""
    groups: Dict[Tuple[str, str, str], DriftEntry] = {}
    for result in results:
        for d in result["drift"]:
            version = backend_version(result, d["backend"])
            key = (d["backend"], version, d["reference_version"])
            entry = groups.setdefault(
                key,
                DriftEntry(
                    backend=d["backend"],
                    version=version,
                    reference_version=d["reference_version"],
                    identical=True,
                    max_ulp=None,
                    nonfinite_mismatches=0,
                    records=0,
                    differing=[],
                    cells=[],
                ),
            )
            entry["records"] += 1
            entry["nonfinite_mismatches"] += int(d["nonfinite_mismatches"])
            if d["max_ulp"] is not None:
                entry["max_ulp"] = max(entry["max_ulp"] or 0, int(d["max_ulp"]))
            if not d["identical"]:
                entry["identical"] = False
                entry["differing"].append(f"{d['model']}/{d['input_set']}/{d['output']}")
            entry["cells"].append(result["cell"]["id"])
    for entry in groups.values():
        entry["differing"] = sorted(set(entry["differing"]))
        entry["cells"] = sorted(set(entry["cells"]))
    order = sorted(groups, key=lambda k: (k[0], version_key(k[1]), version_key(k[2])))
    return [groups[k] for k in order]


def converter_entries(results: List[CellResult]) -> List[ConverterEntry]:
    """Per skl2onnx version, cell and model: converted, ORT vs scikit-learn, graph vs committed."""
    out: List[ConverterEntry] = []
    for result in results:
        cell = result["cell"]
        version = cell["versions"].get("skl2onnx") or result["installed"].get("python", {}).get("skl2onnx", "?")
        for r in result["converter"]:
            checks = [c for c in result["checks"] if c["model"] == r["model"] and "sklearn" in c["pair"]]
            compared = [c for c in checks if c["status"] in ("passed", "failed")]
            failed = sorted((c for c in compared if c["status"] == "failed"), key=_severity)
            used = [c["budget_used"] for c in compared if c.get("budget_used") is not None]
            finite = [u for u in used if math.isfinite(u)]
            if failed:
                text = failure_text(failed[0])
            else:
                text = f"{max(finite):.0%}" if finite else ""
            out.append(
                ConverterEntry(
                    skl2onnx=version,
                    cell=cell["id"],
                    model=r["model"],
                    converted=bool(r["converted"]),
                    reason=" ".join(r.get("reason", "").split()),
                    within_budget=(not failed) if compared else None,
                    check=text,
                    differs_from_committed=sorted(r["differs_from_committed"]),
                    ir_version=r["ir_version"],
                    opsets=dict(sorted(r["opsets"].items())),
                    op_types=sorted(r["op_types"]),
                    bytes=r["bytes"],
                )
            )
    return sorted(out, key=lambda e: (version_key(e["skl2onnx"]), e["cell"], e["model"]))


def model_names(results: List[CellResult]) -> List[str]:
    """The registry's models in its order, then any other model a cell names, sorted."""
    known = [m.name for m in MODELS]
    seen = {c["model"] for r in results for c in r["checks"]} | {c["model"] for r in results for c in r["converter"]}
    return known + sorted(seen - set(known))


def cell_order(cell: CompatCell) -> Tuple[int, str, str]:
    return (0 if cell["kind"] == "runtime" else 1, cell["kind"], cell["id"])


def build(results: List[CellResult], problems: List[str]) -> Compat:
    """The whole document. ``results`` must already be well-formed (see ``harness.collate``)."""
    models = model_names(results)
    cells = sorted((compat_cell(r, models) for r in results), key=cell_order)
    counts = {s: sum(1 for c in cells if c["status"] == s) for s in CELL_STATUSES}
    seen = list(dict.fromkeys(a for c in cells for a in c["versions"]))
    axes = [a for a in VERSION_AXES if a in seen] + [a for a in seen if a not in VERSION_AXES]
    return Compat(
        schema=COMPAT_SCHEMA,
        models=models,
        axes=axes,
        counts=counts,
        cells=cells,
        drift=drift_entries(results),
        converter=converter_entries(results),
        problems=sorted(problems),
    )
