"""Plots of a results file (matplotlib, SVG and PNG): time per call against rows, log-log,
one panel per model, one line per backend (solid: one thread, dashed: all cores), the IQR
shaded, and the interactive and batch budgets drawn across every panel."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

from .results import BenchResults

PLOT_NAME = "bench_time_vs_rows"
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def _series(results: BenchResults, model: str) -> Dict[Tuple[str, int], List[Tuple[int, float, float, float]]]:
    out: Dict[Tuple[str, int], List[Tuple[int, float, float, float]]] = {}
    for e in results["benchmarks"][model]["inference"]:
        out.setdefault((e["backend"], e["threads"]), []).append((e["N"], e["median_ms"], e["q25_ms"], e["q75_ms"]))
    return {k: sorted(v) for k, v in out.items()}


def plot_time_vs_rows(results: BenchResults, out_dir: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(results["benchmarks"])
    backends = list(results["backends"])
    color = {b: COLORS[i % len(COLORS)] for i, b in enumerate(backends)}
    threads = sorted(results["threads"])
    cols = 4 if len(models) > 3 else len(models)
    rows = (len(models) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.3 * rows), squeeze=False, sharex=True, sharey=True)
    for ax, model in zip(axes.flat, models):
        for (backend, t), pts in _series(results, model).items():
            n = [p[0] for p in pts]
            style = "-" if t == threads[0] else "--"
            ax.plot(n, [p[1] for p in pts], style, marker="o", ms=3, color=color[backend], label=f"{backend} {t}t")
            ax.fill_between(n, [p[2] for p in pts], [p[3] for p in pts], color=color[backend], alpha=0.15, lw=0)
        for name, ms in results["budgets_ms"].items():
            ax.axhline(ms, color="grey", ls=":", lw=1)
            ax.text(1, ms * 1.1, f"{name} {ms:g} ms", fontsize=7, color="grey")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(results["benchmarks"][model]["title"], fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("rows per call")
    for ax in axes[:, 0]:
        ax.set_ylabel("median ms per call")
    spare = list(axes.flat)[len(models) :]
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if spare:
        for ax in spare:
            ax.axis("off")
        spare[0].legend(handles, labels, loc="center", fontsize=8, title="backend, threads")
    else:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    host = results["host"]
    fig.suptitle(
        f"Time per call vs rows ({host['cpu_model']}, {host['cores']} cores; {results['timestamp']})", fontsize=10
    )
    fig.tight_layout(rect=(0, 0 if spare else 0.08, 1, 1))
    paths = []
    for ext in ("svg", "png"):
        path = out_dir / f"{PLOT_NAME}.{ext}"
        tmp = out_dir / f".{PLOT_NAME}.tmp.{ext}"
        fig.savefig(tmp, dpi=100)
        tmp.replace(path)  # atomic: readers see the old plot or the new one
        paths.append(path)
    plt.close(fig)
    return paths
