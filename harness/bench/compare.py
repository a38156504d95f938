"""Run-to-run spread between two results files, and the noise-aware verdict on a speed ratio.

    python -m harness.bench.compare RUN_A RUN_B [--min-rows 100000] [--tolerance 0.10]

For every (model, backend, threads, rows >= min-rows) present in both runs, the ratio of the
medians B / A. Prints the spread (median and largest |ratio - 1|, the worst points) and exits
1 when a point differs by more than the tolerance (the issue's check: two consecutive default
runs agree within 10 % at >= 1e5 rows). ``verdict`` is what a version-matrix collation uses:
a ratio is a regression or an improvement only beyond the measured noise.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..errors import run_cli
from .results import BenchResults, read_results

Key = Tuple[str, str, int, int]  # model, backend, threads, rows


@dataclass(frozen=True)
class PointRatio:
    key: Key
    a_ms: float
    b_ms: float

    @property
    def ratio(self) -> float:
        return self.b_ms / self.a_ms

    @property
    def deviation(self) -> float:
        return abs(self.ratio - 1.0)


@dataclass(frozen=True)
class Spread:
    points: Tuple[PointRatio, ...]
    tolerance: float

    @property
    def median_deviation(self) -> float:
        return statistics.median(p.deviation for p in self.points) if self.points else 0.0

    @property
    def max_deviation(self) -> float:
        return max((p.deviation for p in self.points), default=0.0)

    @property
    def beyond(self) -> List[PointRatio]:
        return [p for p in self.points if p.deviation > self.tolerance]


def medians(results: BenchResults, min_rows: int) -> Dict[Key, float]:
    out: Dict[Key, float] = {}
    for model, bench in results["benchmarks"].items():
        for e in bench["inference"]:
            if e["N"] >= min_rows:
                out[(model, e.get("backend", "ort-node"), int(e.get("threads", 1)), int(e["N"]))] = e["median_ms"]
    return out


def spread(a: BenchResults, b: BenchResults, min_rows: int = 100_000, tolerance: float = 0.10) -> Spread:
    ma, mb = medians(a, min_rows), medians(b, min_rows)
    points = tuple(PointRatio(k, ma[k], mb[k]) for k in sorted(ma) if k in mb and ma[k] > 0)
    return Spread(points=points, tolerance=tolerance)


def verdict(ratio: float, noise: float, floor: float = 0.10) -> str:
    """'regression', 'improvement' or 'same' for new/old = ``ratio``, given the measured
    run-to-run ``noise`` (a fraction); never finer than ``floor``."""
    band = max(noise, floor)
    if ratio > 1.0 + band:
        return "regression"
    if ratio < 1.0 / (1.0 + band):
        return "improvement"
    return "same"


def describe(s: Spread, worst: int = 8) -> str:
    lines = [
        f"{len(s.points)} points compared; |B/A - 1|: median {s.median_deviation:.1%}, "
        f"max {s.max_deviation:.1%}; {len(s.beyond)} beyond {s.tolerance:.0%}"
    ]
    for p in sorted(s.points, key=lambda p: -p.deviation)[:worst]:
        model, backend, threads, rows = p.key
        lines.append(
            f"  {model:<14} {backend:<11} t={threads} N={rows:>8}: {p.a_ms:9.3f} -> {p.b_ms:9.3f} ms ({p.ratio:.3f})"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench.compare", description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--min-rows", type=int, default=100_000)
    parser.add_argument("--tolerance", type=float, default=0.10)
    args = parser.parse_args(argv)
    a, b = read_results(args.a), read_results(args.b)
    s = spread(a, b, args.min_rows, args.tolerance)
    for name, run in (("A", a), ("B", b)):
        h = run.get("host") or {}
        print(f"{name}: {run['timestamp']}, load average {h.get('load_average')} -> {h.get('load_average_end')}")
    print(describe(s))
    return 1 if s.beyond else 0


if __name__ == "__main__":
    run_cli(main)
