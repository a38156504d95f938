"""compat.md: the compatibility matrix as GitHub-renderable Markdown (also the CI step summary).

One grid row per cell (id, label, versions, status) and one column per model, each entry
✓ / ✗ / – with the largest share of a budget used or the measured error against its budget;
then every cell that did not pass, the drift between versions of each backend, the converter
results per skl2onnx version, and the problems met while reading the cell files. The text
helpers here are shared with ``harness.report_html``.
"""

from __future__ import annotations

from typing import List

from .compat import FAIL, Compat, CompatCell, ConverterEntry, DriftEntry, Failure, ModelEntry

#: Failures listed per cell before "... and N more" (compat.json has them all).
MAX_FAILURES_LISTED = 20
LEGEND = (
    "✓ every check passed (the largest share of a budget used) · ✗ a check failed (measured error > budget) · – not run"
)


def esc(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: object) -> str:
    text = " ".join(str(text).split())
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if text else ""


def entry_text(entry: ModelEntry) -> str:
    return f"{entry['mark']} {entry['text']}".strip()


def counts_text(compat: Compat) -> str:
    parts = [f"{n} {status}" for status, n in compat["counts"].items()]
    return f"{len(compat['cells'])} cells: " + ", ".join(parts)


def status_line(cell: CompatCell) -> str:
    """Why a cell that did not pass is where it is, from the fixed vocabulary."""
    status, reason = cell["status"], cell["reason"] or "no reason recorded"
    if status == "unsupported":
        return f"unsupported: {reason}"
    if status == "error":
        return f"error: {reason}; log: {cell['log'] or 'none recorded'}"
    if status == "failed":
        return f"failed ({len(cell['failures'])} failure(s)): {reason}"
    return f"{status}: {reason}"


def failure_line(f: Failure) -> str:
    if f["backend"] == "skl2onnx":
        return f"{f['model']}: skl2onnx did not convert it: {f['reason']}"
    return (
        f"{f['model']} · backend {f['backend']} · input set {f['input_set']} · output {f['output']}: "
        f"{f['measured']} vs budget {f['budget']}"
    )


def drift_text(d: DriftEntry) -> str:
    if d["identical"]:
        return "bit-identical"
    text = f"max {d['max_ulp']} ULP" if d["max_ulp"] is not None else "differs"
    if d["nonfinite_mismatches"]:
        text += f", {d['nonfinite_mismatches']} non-finite mismatch(es)"
    return text


def graph_text(e: ConverterEntry) -> str:
    """How a converted graph differs from the committed one (only what differs)."""
    if not e["converted"]:
        return "–"
    if not e["differs_from_committed"]:
        return "same as committed"
    parts = []
    for field in e["differs_from_committed"]:
        if field == "ir_version":
            parts.append(f"IR {e['ir_version']}")
        elif field == "opsets":
            parts.append("opsets " + ", ".join(f"{k or 'ai.onnx'}={v}" for k, v in e["opsets"].items()))
        elif field == "op_types":
            parts.append("op types " + ", ".join(e["op_types"]))
        elif field == "bytes":
            parts.append(f"{e['bytes']:,} B" if e["bytes"] is not None else "size unknown")
        else:
            parts.append(field)
    return "differs: " + "; ".join(parts)


def converter_check(e: ConverterEntry) -> str:
    if e["within_budget"] is None:
        return "–"
    return f"{'✓' if e['within_budget'] else FAIL} {e['check']}".strip()


def _grid(compat: Compat) -> List[str]:
    head = ["cell", "label", *compat["axes"], "status", *compat["models"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in compat["cells"]:
        row = [code(cell["id"]), esc(cell["label"])]
        row += [esc(cell["versions"].get(axis, "")) for axis in compat["axes"]]
        row.append(cell["status"])
        row += [esc(entry_text(cell["models"][m])) for m in compat["models"]]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _not_passed(compat: Compat) -> List[str]:
    lines = ["## Cells not passed", ""]
    cells = [c for c in compat["cells"] if c["status"] != "passed"]
    if not cells:
        return [*lines, "Every cell passed.", ""]
    for cell in cells:
        versions = ", ".join(f"{k} {v}" for k, v in sorted(cell["versions"].items()))
        lines += [f"### {code(cell['id'])} · {cell['status']}", "", f"{esc(cell['label'])} ({esc(versions)})", ""]
        lines += [f"- {esc(status_line(cell))}"]
        for f in cell["failures"][:MAX_FAILURES_LISTED]:
            lines += [f"- {esc(failure_line(f))}", f"  rerun: {code(f['rerun'])}"]
        more = len(cell["failures"]) - MAX_FAILURES_LISTED
        if more > 0:
            lines.append(f"- … and {more} more (compat.json lists them all)")
        if not cell["failures"]:
            lines.append(f"- rerun: {code(cell['rerun'])}")
        lines.append("")
    return lines


def _drift(compat: Compat) -> List[str]:
    lines = ["## Drift from the reference version", ""]
    if not compat["drift"]:
        return [*lines, "No drift recorded.", ""]
    lines += ["| backend | version | reference | result | not bit-identical | cells |", "|---|---|---|---|---|---|"]
    for d in compat["drift"]:
        row = [d["backend"], d["version"], d["reference_version"], drift_text(d), ", ".join(d["differing"])]
        lines.append("| " + " | ".join(esc(x) for x in row) + " | " + ", ".join(code(c) for c in d["cells"]) + " |")
    return [*lines, ""]


def _converter(compat: Compat) -> List[str]:
    lines = ["## Converter (skl2onnx)", ""]
    if not compat["converter"]:
        return [*lines, "No converter cells.", ""]
    lines += [
        "| skl2onnx | cell | model | converted | ORT vs scikit-learn | graph vs committed |",
        "|---|---|---|---|---|---|",
    ]
    for e in compat["converter"]:
        converted = "✓" if e["converted"] else f"{FAIL} {e['reason']}"
        row = [esc(e["skl2onnx"]), code(e["cell"]), esc(e["model"]), esc(converted)]
        lines.append("| " + " | ".join([*row, esc(converter_check(e)), esc(graph_text(e))]) + " |")
    return [*lines, ""]


def render(compat: Compat) -> str:
    lines = ["# Compatibility matrix", "", counts_text(compat) + ".", "", LEGEND + ".", ""]
    lines += [*_grid(compat), ""]
    lines += _not_passed(compat)
    lines += _drift(compat)
    lines += _converter(compat)
    lines += ["## Problems reading the cell results", ""]
    lines += [f"- {esc(p)}" for p in compat["problems"]] or ["None."]
    return "\n".join(lines) + "\n"
