"""compat.html: the compatibility matrix as one self-contained page (inline CSS, no scripts, no
network). A coloured grid, one row per cell and one column per model; every ✗ opens its
details (model, backend, input set, measured error vs budget) and the one command that reruns
just that cell and model. The same sections as compat.md follow the grid.
"""

from __future__ import annotations

from html import escape
from typing import List

from .compat import FAIL, NONE, PASS, Compat, CompatCell
from .report_md import (
    LEGEND,
    MAX_FAILURES_LISTED,
    converter_check,
    counts_text,
    drift_text,
    failure_line,
    graph_text,
    status_line,
)

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.pass, td.fail, td.none, td code { white-space: nowrap; }
td.pass { background: #dafbe1; } td.fail { background: #ffebe9; } td.none { background: #f6f8fa; color: #57606a; }
td.st-passed { color: #1a7f37; } td.st-failed, td.st-error { color: #cf222e; font-weight: 600; }
td.st-unsupported, td.st-skipped { color: #9a6700; }
code { font: 12px ui-monospace, monospace; background: #eff1f3; padding: 1px 3px; border-radius: 3px; }
details summary { cursor: pointer; }
details ul { margin: 0.3em 0; padding-left: 1.2em; min-width: 28em; }
.problems li { color: #cf222e; }
"""

MARK_CLASS = {PASS: "pass", FAIL: "fail", NONE: "none"}


def e(text: object) -> str:
    return escape(" ".join(str(text).split()))


def rerun(command: str) -> str:
    return f"<div>rerun: <code>{e(command)}</code></div>"


def _entry(cell: CompatCell, model: str) -> str:
    entry = cell["models"][model]
    text = e(f"{entry['mark']} {entry['text']}".strip())
    klass = MARK_CLASS.get(entry["mark"], "none")
    if entry["mark"] != FAIL:
        return f'<td class="{klass}">{text}</td>'
    failures = [f for f in cell["failures"] if f["model"] == model]
    items = "".join(f"<li>{e(failure_line(f))}<br><small>{e(f['reason'])}</small></li>" for f in failures)
    command = failures[0]["rerun"] if failures else cell["rerun"]
    return f'<td class="{klass}"><details><summary>{text}</summary><ul>{items}</ul>{rerun(command)}</details></td>'


def _status(cell: CompatCell) -> str:
    klass = f"st-{e(cell['status'])}"
    if cell["status"] == "passed":
        return f'<td class="{klass}">passed</td>'
    return (
        f'<td class="{klass}"><details><summary>{e(cell["status"])}</summary>'
        f"<ul><li>{e(status_line(cell))}</li></ul>{rerun(cell['rerun'])}</details></td>"
    )


def _grid(compat: Compat) -> List[str]:
    head = ["cell", "label", *compat["axes"], "status", *compat["models"]]
    lines = ["<table>", "<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for cell in compat["cells"]:
        row = [f'<td id="cell-{e(cell["id"])}"><code>{e(cell["id"])}</code></td>', f"<td>{e(cell['label'])}</td>"]
        row += [f"<td>{e(cell['versions'].get(axis, ''))}</td>" for axis in compat["axes"]]
        row.append(_status(cell))
        row += [_entry(cell, m) for m in compat["models"]]
        lines.append("<tr>" + "".join(row) + "</tr>")
    return [*lines, "</table>"]


def _not_passed(compat: Compat) -> List[str]:
    lines = ["<h2>Cells not passed</h2>"]
    cells = [c for c in compat["cells"] if c["status"] != "passed"]
    if not cells:
        return [*lines, "<p>Every cell passed.</p>"]
    for cell in cells:
        versions = ", ".join(f"{k} {v}" for k, v in sorted(cell["versions"].items()))
        lines.append(f"<details open><summary><code>{e(cell['id'])}</code> · {e(cell['status'])}</summary>")
        lines.append(f"<p>{e(cell['label'])} ({e(versions)})</p><ul><li>{e(status_line(cell))}</li>")
        for f in cell["failures"][:MAX_FAILURES_LISTED]:
            lines.append(f"<li>{e(failure_line(f))}{rerun(f['rerun'])}</li>")
        more = len(cell["failures"]) - MAX_FAILURES_LISTED
        if more > 0:
            lines.append(f"<li>… and {more} more (compat.json lists them all)</li>")
        lines.append("</ul>" + ("" if cell["failures"] else rerun(cell["rerun"])) + "</details>")
    return lines


def _table(head: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["<table>", "<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    lines += ["<tr>" + "".join(f"<td>{e(x)}</td>" for x in row) + "</tr>" for row in rows]
    return [*lines, "</table>"]


def render(compat: Compat) -> str:
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Compatibility matrix · {e(counts_text(compat))}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Compatibility matrix</h1>",
        f"<p>{e(counts_text(compat))}.</p><p>{e(LEGEND)}.</p>",
    ]
    lines += _grid(compat)
    lines += _not_passed(compat)
    lines.append("<h2>Drift from the reference version</h2>")
    drift = [
        [
            d["backend"],
            d["version"],
            d["reference_version"],
            drift_text(d),
            ", ".join(d["differing"]),
            ", ".join(d["cells"]),
        ]
        for d in compat["drift"]
    ]
    head = ["backend", "version", "reference", "result", "not bit-identical", "cells"]
    lines += _table(head, drift) if drift else ["<p>No drift recorded.</p>"]
    lines.append("<h2>Converter (skl2onnx)</h2>")
    conv = [
        [
            c["skl2onnx"],
            c["cell"],
            c["model"],
            "✓" if c["converted"] else f"{FAIL} {c['reason']}",
            converter_check(c),
            graph_text(c),
        ]
        for c in compat["converter"]
    ]
    head = ["skl2onnx", "cell", "model", "converted", "ORT vs scikit-learn", "graph vs committed"]
    lines += _table(head, conv) if conv else ["<p>No converter cells.</p>"]
    lines.append("<h2>Problems reading the cell results</h2>")
    problems = "".join(f"<li>{e(p)}</li>" for p in compat["problems"])
    lines.append(f'<ul class="problems">{problems}</ul>' if problems else "<p>None.</p>")
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"
