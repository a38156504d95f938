"""``python -m harness.bench``: benchmark every backend on every size (see docs/bench.md).

    python -m harness.bench                      # default sizes (matrix.toml [bench]), all backends
    python -m harness.bench --full               # adds 1e7 rows
    python -m harness.bench --backend ort-node --model ridge --out /tmp/b
    python -m harness.bench --report-only --out bench_results   # redraw plots and report

Writes DIR/bench_onnx_results.json, DIR/bench_time_vs_rows.{svg,png}, DIR/bench_report.{md,html}.
A backend that cannot run is reported skipped with its reason; exit code 1 if one failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from ..artifacts import Artifacts
from ..config import ROOT
from ..errors import ConfigError, run_cli
from ..registry import MODELS_BY_NAME
from .config import load_bench_config
from .results import read_results, write_results
from .runner import RUNNERS


def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench_results", help="output folder")
    parser.add_argument("--full", action="store_true", help="add matrix.toml bench.full-sizes (1e7 rows)")
    parser.add_argument("--backend", action="append", help=f"only these ({', '.join(RUNNERS)}); repeatable")
    parser.add_argument("--model", action="append", help="only these models; repeatable")
    parser.add_argument("--no-report", action="store_true", help="write the JSON only (no matplotlib needed)")
    parser.add_argument("--report-only", action="store_true", help="redraw plots and report from --out's JSON")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(argv)
    if args.report_only:
        from .report import write_report

        for path in write_report(read_results(args.out), args.out):
            print(path)
        return 0
    for name in args.backend or []:
        if name not in RUNNERS:
            raise ConfigError(f"--backend {name!r}: unknown; known: {', '.join(RUNNERS)}")
    for name in args.model or []:
        if name not in MODELS_BY_NAME:
            raise ConfigError(f"--model {name!r}: unknown; known: {', '.join(MODELS_BY_NAME)}")
    config = load_bench_config()
    from .run import run_bench

    models = tuple(args.model or MODELS_BY_NAME)
    results = run_bench(
        config,
        Artifacts(),
        args.backend or list(RUNNERS),
        models,
        args.full,
        ["python", "-m", "harness.bench"] + (argv or sys.argv[1:]),
    )
    print(write_results(results, args.out))
    if not args.no_report:
        from .report import write_report

        for path in write_report(results, args.out):
            print(path)
    print(f"bench: {results['wall_s']:.0f} s wall, {os.cpu_count()} cores", file=sys.stderr)
    return 1 if any(b["status"] == "failed" for b in results["backends"].values()) else 0


if __name__ == "__main__":
    run_cli(main)
