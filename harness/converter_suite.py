"""Converter cells: the cell's scikit-learn and skl2onnx convert the seven models afresh.

Trained deterministically from the committed training data (never from new random draws),
converted at the committed target opsets, then: did conversion succeed, does the cell's
onnxruntime match the cell's scikit-learn within the registry's budget (nominal, edge and
fresh boundary probes of the cell's own forests), and how does the graph differ from the
committed one (op types, opsets, IR version, size)?
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from . import dataset
from .artifacts import Artifacts
from .compare import compare
from .config import load_matrix
from .errors import HarnessError
from .generate import DEFINED, export, sklearn_outputs
from .registry import INPUT_NAME, MODELS_BY_NAME
from .results import CellResult, CheckRecord, ConverterRecord
from .training import fit

PAIR = ("sklearn", "ort-python")


def graph_differences(info: Dict[str, Any], size: int, committed: Dict[str, Any]) -> List[str]:
    diffs = []
    if info["ir_version"] != committed["ir_version"]:
        diffs.append(f"ir_version {committed['ir_version']} -> {info['ir_version']}")
    if info["opsets"] != committed["opsets"]:
        diffs.append(f"opsets {committed['opsets']} -> {info['opsets']}")
    if info["op_types"] != committed["op_types"]:
        added = sorted(set(info["op_types"]) - set(committed["op_types"]))
        removed = sorted(set(committed["op_types"]) - set(info["op_types"]))
        diffs.append(f"op_types +{added} -{removed}")
    if size != committed["bytes"]:
        diffs.append(f"bytes {committed['bytes']} -> {size}")
    return diffs


def run_converter_cell(result: CellResult, models: List[str]) -> None:
    import onnxruntime
    from threadpoolctl import threadpool_limits

    artifacts = Artifacts()
    limits = load_matrix()["onnx-limits"]
    training = artifacts.manifest["training"]
    x, y, cls = (artifacts.array(training[k]) for k in ("x", "y", "class"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    result["backends"] = {"ort-python": {"onnxruntime": onnxruntime.__version__}}
    for name in models:
        spec = MODELS_BY_NAME[name]
        record = ConverterRecord(
            model=name, converted=False, reason="", ir_version=None, opsets={}, op_types=[], bytes=None,
            differs_from_committed=[],
        )  # fmt: skip
        result["converter"].append(record)
        try:
            with threadpool_limits(1):
                estimator = fit(spec, x, y, cls)
            data, info = export(spec, estimator, limits)
        except (HarnessError, Exception) as exc:  # any converter failure is this cell's finding
            record["reason"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            result["checks"].append(_failed(name, "conversion", record["reason"]))
            continue
        record.update(converted=True, ir_version=info["ir_version"], opsets=info["opsets"], op_types=info["op_types"])
        record["bytes"] = len(data)
        record["differs_from_committed"] = graph_differences(info, len(data), artifacts.model_entry(name))
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        inputs = {"nominal": artifacts.inputs("nominal"), "edge": artifacts.inputs("edge")}
        if spec.is_tree:
            inputs["boundary"] = dataset.boundary_inputs(estimator)
        for set_name, values in inputs.items():
            with threadpool_limits(1):
                expected, status = sklearn_outputs(spec, estimator, values, row_by_row=set_name == "edge")
            got = dict(zip(names, session.run(names, {INPUT_NAME: values})))
            rows = status == DEFINED
            scale = dataset.row_scale(values)[rows]
            for output in spec.outputs:
                budget = spec.budget(PAIR, output)
                reference = expected[output] if output == "label" else expected[output].astype(np.float32)
                stats = compare(got[output][rows], reference[rows], budget, scale)
                result["checks"].append(
                    CheckRecord(
                        model=name, input_set=set_name, pair=list(PAIR), output=output,
                        status="passed" if stats.ok else "failed", rows=int(rows.sum()),
                        max_abs=stats.max_abs, max_rel=stats.max_rel, max_ulp=stats.max_ulp,
                        budget=budget.describe() if budget else "exact",
                        budget_used=stats.budget_used if np.isfinite(stats.budget_used) else None,
                        reason="" if stats.ok else f"{stats.describe()} vs {budget.describe() if budget else 'exact'}",
                    )
                )  # fmt: skip


def _failed(model: str, input_set: str, reason: str) -> CheckRecord:
    return CheckRecord(
        model=model, input_set=input_set, pair=list(PAIR), output="*", status="failed", rows=0,
        max_abs=None, max_rel=None, max_ulp=None, budget=None, budget_used=None, reason=reason,
    )  # fmt: skip
