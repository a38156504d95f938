"""Check of the Node figures: the harness's timings (worker op ``bench``, node/bench_core.mjs)
against a minimal standalone loop around ``session.run`` in a fresh Node process.

    python -m harness.bench.crosscheck [--model M ...] [--rows N ...] [--tolerance 0.10]

Both sides run the same model bytes on the same rows (bench_core's makeInputs) with one
thread. The two are alternated ``rounds`` times and each side keeps its lowest median, so a
burst of other work on the machine does not decide the verdict. Exit 1 beyond the tolerance.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ..artifacts import Artifacts
from ..config import ROOT
from ..errors import WorkerError, run_cli
from .config import BenchConfig, load_bench_config
from .methodology import summarize
from .runner_node import OrtNodeRunner

#: The minimal loop: no harness code in or around the timed region (makeInputs only builds rows).
MINIMAL = r"""
import { createRequire } from 'node:module';
import fs from 'node:fs';
const [modelPath, rows, features, seed, reps, core, prefix] = process.argv.slice(1);
const { makeInputs } = await import(core);
const ort = createRequire(prefix + '/package.json')('onnxruntime-node');
const session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(modelPath)),
  { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const n = Number(rows), f = Number(features);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', makeInputs(n, f, Number(seed)), [n, f]) };
const warmUntil = performance.now() + 500;  // warm up as long as a calibrated point's timing takes
for (let i = 0; i < 2 || performance.now() < warmUntil; i++) await session.run(feeds);
const times = [];
for (let i = 0; i < Number(reps); i++) {
  const t = process.hrtime.bigint();
  await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], reps: times.length }));
"""


@dataclass(frozen=True)
class Check:
    model: str
    rows: int
    harness_ms: float
    minimal_ms: float

    @property
    def ratio(self) -> float:
        return self.harness_ms / self.minimal_ms


def minimal_median(
    runner: OrtNodeRunner, artifacts: Artifacts, model: str, rows: int, config: BenchConfig, reps: int
) -> float:
    argv = [
        runner.backend.node,
        "--input-type=module",
        "-e",
        MINIMAL,
        str(artifacts.model_path(model)),
        str(rows),
        "4",
        str(config.seed),
        str(reps),
        (ROOT / "node" / "bench_core.mjs").as_uri(),
        str(runner.backend.prefix),
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise WorkerError(f"minimal Node loop for {model} at {rows} rows failed: {out.stderr.strip()[-300:]}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["median_ms"])


def crosscheck(models: Sequence[str], sizes: Sequence[int], rounds: int = 3) -> List[Check]:
    artifacts = Artifacts()
    config = load_bench_config()
    runner = OrtNodeRunner(artifacts, config, tuple(models))
    checks = []
    try:
        for model in models:
            runner.load(model, 1)
            for rows in sizes:
                harness, minimal = [], []
                for _ in range(rounds):
                    samples = runner.time(model, rows, 1).samples_ms
                    harness.append(summarize(samples).median_ms)
                    reps = max(5, min(200, len(samples)))  # as many calls as the harness timed
                    minimal.append(minimal_median(runner, artifacts, model, rows, config, reps))
                checks.append(Check(model, rows, min(harness), min(minimal)))
    finally:
        runner.close()
    return checks


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench.crosscheck", description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="default: ridge, logreg, rf_reg_50_d5")
    parser.add_argument("--rows", action="append", type=int, help="default: 100000 and 1000000")
    parser.add_argument("--tolerance", type=float, default=0.10)
    args = parser.parse_args(argv)
    checks = crosscheck(args.model or ["ridge", "logreg", "rf_reg_50_d5"], args.rows or [100_000, 1_000_000])
    worst: Tuple[float, Optional[Check]] = (0.0, None)
    for c in checks:
        print(
            f"{c.model:<14} N={c.rows:>8}: harness {c.harness_ms:9.3f} ms, "
            f"minimal loop {c.minimal_ms:9.3f} ms, ratio {c.ratio:.3f}"
        )
        worst = max(worst, (abs(c.ratio - 1.0), c), key=lambda w: w[0])
    print(f"largest |harness / minimal - 1| = {worst[0]:.1%} (tolerance {args.tolerance:.0%})")
    return 1 if worst[0] > args.tolerance else 0


if __name__ == "__main__":
    run_cli(main)
