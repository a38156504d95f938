"""The Markdown and HTML report of a results file, embedding the plots.

Both formats render the same tables: medians at the largest size, interactive and batch
capacity, distance from the hardware floor, session load times, and which backends ran.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ..artifacts import atomic_write
from .plots import PLOT_NAME, plot_time_vs_rows
from .results import BenchResults, InferenceEntry

REPORT_NAME = "bench_report"


@dataclass(frozen=True)
class Table:
    title: str
    note: str
    headers: Tuple[str, ...]
    rows: Tuple[Tuple[str, ...], ...]


def fmt_ms(ms: Optional[float]) -> str:
    if ms is None:
        return "–"
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def fmt_rows(n: int) -> str:
    return "0" if n == 0 else f"{n:.2g}".replace("e+0", "e").replace("e+", "e")


def _columns(results: BenchResults) -> List[Tuple[str, int]]:
    ran = [b for b, e in results["backends"].items() if e["status"] == "ran"]
    return [(b, t) for b in ran for t in results["threads"]]


def _largest(results: BenchResults, model: str, backend: str, threads: int) -> Optional[InferenceEntry]:
    """The largest size that ran for this series (a size not run has no measurement)."""
    pts = [e for e in results["benchmarks"][model]["inference"] if e["backend"] == backend and e["threads"] == threads]
    return max(pts, key=lambda e: e["N"]) if pts else None


def tables(results: BenchResults) -> List[Table]:
    cols = _columns(results)
    heads = ("model", *(f"{b} {t}t" for b, t in cols))
    largest = max(results["sizes"])
    medians, floors, loads, caps = [], [], [], []
    for model, bench in results["benchmarks"].items():
        tops = [_largest(results, model, b, t) for b, t in cols]
        skipped = {(n["backend"], n["threads"], n["N"]): n for n in bench.get("not_run", [])}
        medians.append(
            (
                model,
                *(
                    f"not run (≈{skipped[(b, t, largest)]['predicted_ms'] / 1000:.2g} s)"
                    if (b, t, largest) in skipped
                    else fmt_ms(e["median_ms"])
                    if e
                    else "–"
                    for (b, t), e in zip(cols, tops)
                ),
            )
        )
        floors.append(
            (
                model,
                *(
                    f"{e['ns_per_row']:.3g} / {e['floor_ns_per_row']:.2g} {e['bound']} = {e['fraction_of_limit']:.0%}"
                    if e and e["fraction_of_limit"] is not None
                    else "–"
                    for e in tops
                ),
            )
        )
        by: Dict[Tuple[str, int, str], str] = {}
        for c in bench["capacity"]:
            mark = "≥" if c["how"] == "extrapolated" else ""
            by[(c["backend"], c["threads"], c["budget"])] = mark + fmt_rows(c["rows"])
        caps.append(
            (model, *(f"{by.get((b, t, 'interactive'), '–')} / {by.get((b, t, 'batch'), '–')}" for b, t in cols))
        )
        load = {(e["backend"], e["threads"]): e for e in bench["load"]["by_backend"]}
        loads.append(
            (
                model,
                *(
                    f"{fmt_ms(load[(b, t)]['cold_ms'])} / {fmt_ms(load[(b, t)]['warm_ms'])}" if (b, t) in load else "–"
                    for b, t in cols
                ),
            )
        )
    budgets = results["budgets_ms"]
    return [
        Table(
            f"Median ms per call at {fmt_rows(largest)} rows",
            "t = threads. “not run”: the call was predicted (from the cost per row between the two "
            "sizes before) to exceed max-call-s, so the size was skipped and counts as too slow.",
            heads,
            tuple(medians),
        ),
        Table(
            "Capacity: largest rows per call within the budgets",
            f"interactive (< {budgets['interactive']:g} ms) / batch (< {budgets['batch']:g} ms), interpolated on "
            "log-log axes between the sizes run; ≥ marks a figure extrapolated past the largest size "
            "(time ∝ rows), which memory may not allow.",
            heads,
            tuple(caps),
        ),
        Table(
            "Against the hardware, at the largest size run",
            "measured ns per row / floor ns per row (bound) = fraction of the limit reached; the floor is "
            "the largest of memory traffic, dense FLOPs and dependent tree-node loads (docs/bench.md).",
            heads,
            tuple(floors),
        ),
        Table(
            "Session load, ms: cold / warm",
            "cold: first creation in the process; warm: median of later ones.",
            heads,
            tuple(loads),
        ),
        Table(
            "Backends",
            "",
            ("backend", "status", "versions / reason", "one-time init ms"),
            tuple(
                (
                    name,
                    e["status"],
                    e["reason"] or ", ".join(f"{k} {v}" for k, v in e["versions"].items()),
                    fmt_ms(e["init_ms"]),
                )
                for name, e in results["backends"].items()
            ),
        ),
    ]


def _header_lines(results: BenchResults) -> List[str]:
    h = results["host"]
    m = results["machine"]
    lines = [
        f"Run {results['timestamp']}, {results['wall_s']:.0f} s wall: `{' '.join(results['command'])}`.",
        f"Host: {h['cpu_model']}, {h['cores']} cores, {h['memory_gib']} GiB, {h['platform']}, Python {h['python']}; "
        f"load average {h['load_average']} at start, {h.get('load_average_end')} at end "
        "(other work on the machine is noise in these figures).",
    ]
    if m:
        lines.append(
            f"Machine: {m['bandwidth_gb_s']:.1f} GB/s copy bandwidth; float32 GEMM "
            + ", ".join(f"{v:.0f} GFLOP/s at {t}t" for t, v in m["gflops_by_threads"].items())
            + f"; dependent load {m['chase_ns'] and round(m['chase_ns'], 2)} ns ({m['chase_source']})."
        )
    meth = results["method"]
    lines.append(
        f"Method: first call timed alone, ≥{meth['warmupCalls']:g} warm-up calls and ≥{meth['warmupS']:g} s, then "
        f"repetitions calibrated to ~{meth['timeCapS']:g} s per point (between {meth['minRepeats']:g} and "
        f"{meth['maxRepeats']:g}); statistics over the per-call times. See docs/bench.md."
    )
    return lines


def markdown(results: BenchResults) -> str:
    out = ["# ONNX inference benchmarks", ""]
    out += [line + "\n" for line in _header_lines(results)]
    out += [f"![time per call vs rows]({PLOT_NAME}.svg)", ""]
    for t in tables(results):
        out += [f"## {t.title}", ""]
        if t.note:
            out += [t.note, ""]
        out.append("| " + " | ".join(t.headers) + " |")
        out.append("|" + "---|" * len(t.headers))
        out += ["| " + " | ".join(r) + " |" for r in t.rows]
        out.append("")
    return "\n".join(out)


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in t.rows)
    note = f"<p>{html.escape(t.note)}</p>" if t.note else ""
    return f"<h2>{html.escape(t.title)}</h2>{note}<table><tr>{head}</tr>{body}</table>"


def html_report(results: BenchResults) -> str:
    style = (
        "body{font-family:sans-serif;max-width:1400px;margin:1em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
    )
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in _header_lines(results))
    parts: Sequence[str] = [_html_table(t) for t in tables(results)]
    img = f'<img src="{PLOT_NAME}.svg" alt="time per call vs rows" style="max-width:100%">'
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>ONNX inference benchmarks</title>"
        f"<style>{style}</style></head><body><h1>ONNX inference benchmarks</h1>"
        f"{paras}{img}{''.join(parts)}</body></html>\n"
    )


def write_report(results: BenchResults, out_dir: Path) -> List[Path]:
    paths = plot_time_vs_rows(results, out_dir)
    for ext, text in (("md", markdown(results)), ("html", html_report(results))):
        path = out_dir / f"{REPORT_NAME}.{ext}"
        atomic_write(path, text.encode())
        paths.append(path)
    return paths
