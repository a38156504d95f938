"""The suite a matrix cell runs inside its own environment, writing the cell's result file.

    python -m harness.cell_suite --pending FILE --out DIR [--models a,b]

``FILE`` is the cell's result skeleton written by its nox session (cell spec, inputs key,
install facts). Runtime cells check the committed artifacts with the cell's onnxruntime and
onnxruntime-node (never retraining) and measure each backend's drift from the generator's
onnxruntime outputs. Converter cells train the seven models from the committed training data
with the cell's scikit-learn, convert them with the cell's skl2onnx at opset 17, and check the
cell's onnxruntime against the cell's scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .artifacts import ROOT, Artifacts
from .backends.ort_node import OrtNode
from .backends.ort_python import OrtPython
from .backends.ort_web_browser import OrtWebBrowser
from .backends.ort_web_node import OrtWebNode
from .compare import compare
from .errors import HarnessError, run_cli
from .invariance import BackendRuns, Outcome, cases, check
from .processes import exit_with_parent
from .registry import BITWISE, MODELS, MODELS_BY_NAME, PAIRS
from .results import CellResult, CheckRecord, DriftRecord, cell_status, write_result


def check_record(o: Outcome) -> CheckRecord:
    s = o.stats
    return CheckRecord(
        model=o.model,
        input_set=o.input_set,
        pair=list(o.pair),
        output=o.output,
        status=o.status,
        rows=o.rows,
        max_abs=s.max_abs if s else None,
        max_rel=s.max_rel if s else None,
        max_ulp=s.max_ulp if s else None,
        budget=(o.budget.describe() if o.budget else "exact") if s else None,
        budget_used=(s.budget_used if np.isfinite(s.budget_used) else None) if s else None,  # inf: see status
        reason=o.reason,
    )


def drift(runs: BackendRuns, backends: List[str], models: List[str]) -> List[DriftRecord]:
    """How far each live backend's outputs are from the generator's onnxruntime outputs."""
    reference = runs.artifacts.manifest["runtime_reference"]
    records: List[DriftRecord] = []
    for backend in backends:
        for model in models:
            for input_set, outputs in reference["outputs"][model].items():
                try:
                    got = runs.outputs(backend, model, input_set)
                except Exception:  # the backend is unavailable: its checks say so
                    continue
                for output, rel in outputs.items():
                    stats = compare(got[output], runs.artifacts.array(rel), None if output == "label" else BITWISE)
                    records.append(
                        DriftRecord(
                            backend=backend,
                            model=model,
                            input_set=input_set,
                            output=output,
                            reference_version=f"onnxruntime {reference['version']}",
                            identical=stats.ok,
                            max_ulp=stats.max_ulp if output != "label" else None,
                            nonfinite_mismatches=stats.nonfinite_mismatches
                            + (stats.budget_violations if output == "label" else 0),
                        )
                    )
    return records


def npm_versions(prefix: Path) -> Dict[str, str]:
    found = {}
    for pkg in sorted((prefix / "node_modules").glob("*/package.json")):
        try:
            found[pkg.parent.name] = json.loads(pkg.read_text())["version"]
        except (OSError, ValueError, KeyError):
            continue
    return found


def locked_mismatches(result: CellResult) -> List[str]:
    """Axis versions actually installed vs the cell's locked versions (nothing may float)."""
    installed = {k.lower(): v for k, v in result["installed"]["python"].items()}
    npm = {**result["installed"].get("npm", {}), **result["installed"].get("npm-web", {})}
    node = (result["backends"].get("ort-node") or {}).get("node", "")
    found = {
        "python": platform.python_version(),
        "onnxruntime": installed.get("onnxruntime"),
        "skl2onnx": installed.get("skl2onnx"),
        "onnxruntime-node": npm.get("onnxruntime-node"),
        "onnxruntime-web": result["installed"].get("npm-web", {}).get("onnxruntime-web"),
        "node": node.lstrip("v") or None,
    }
    wrong = []
    for axis, locked in result["cell"]["versions"].items():
        got = found.get(axis)
        if got is not None and got != locked:
            wrong.append(f"{axis} {got} (locked {locked})")
    return wrong


def run_runtime_cell(result: CellResult, models: List[str]) -> None:
    artifacts = Artifacts()
    factories = {
        "ort-python": lambda: OrtPython(artifacts, threads=1),
        "ort-node": lambda: OrtNode(artifacts, threads=1),
    }
    if "onnxruntime-web" in result["cell"]["versions"]:
        factories["ort-web-node"] = lambda: OrtWebNode(artifacts, threads=1)
        factories["ort-web-browser"] = lambda: OrtWebBrowser(artifacts, threads=1)
    runs = BackendRuns(artifacts, factories)
    try:
        live = {"sklearn", *factories}
        pairs = tuple(p for p in PAIRS if set(p) <= live)
        outcomes = [check(runs, *case) for case in cases(artifacts, pairs) if case[0] in models]
        result["checks"] = [check_record(o) for o in outcomes]
        result["drift"] = drift(runs, list(factories), models)
        result["backends"] = runs.versions()
    finally:
        runs.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.cell_suite", description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=Path, required=True, help="the cell's result skeleton")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models", default="", help="comma-separated model names (default: all)")
    args = parser.parse_args(argv)
    exit_with_parent()  # nox started us: if the matrix run is killed, so are we (and our workers)
    result: CellResult = json.loads(args.pending.read_text())
    models = [m for m in args.models.split(",") if m] or [m.name for m in MODELS]
    for m in models:
        if m not in MODELS_BY_NAME:
            raise HarnessError(f"--models: unknown model {m!r}; known: {', '.join(MODELS_BY_NAME)}")
    start = time.monotonic()
    result["installed"]["python"] = {d.metadata["Name"]: d.version for d in metadata.distributions()}
    prefix = Path(os.environ.get("ONNX_INV_NODE_PREFIX") or ROOT)
    result["installed"]["npm"] = npm_versions(prefix)
    web = os.environ.get("ONNX_INV_WEB_PREFIX")
    if web:
        result["installed"]["npm-web"] = npm_versions(Path(web))
    try:
        if result["cell"]["kind"] == "converter":
            from .converter_suite import run_converter_cell

            run_converter_cell(result, models)
        else:
            run_runtime_cell(result, models)
        result["status"], result["reason"] = cell_status(result["checks"])
        skipped = [c for c in result["checks"] if c["status"] == "skipped"]
        if skipped and result["status"] != "failed":  # the cell installed it: missing is a fault
            result["status"], result["reason"] = "error", f"backend unavailable in this cell: {skipped[0]['reason']}"
        drifted = locked_mismatches(result)
        if drifted:
            result["status"], result["reason"] = (
                "error",
                "installed versions differ from the lock: " + "; ".join(drifted),
            )
    except HarnessError as exc:
        result["status"], result["reason"] = "error", exc.one_line()
    result["timings"]["suite_s"] = round(time.monotonic() - start, 2)
    result["complete"] = True
    path = write_result(args.out, result)
    print(f"{result['cell']['id']}: {result['status']} {result['reason']}".rstrip() + f" -> {path}")
    return 0


if __name__ == "__main__":
    run_cli(main)
