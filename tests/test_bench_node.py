"""The Node half of the benchmark: same rows and same statistics as Python, the worker's
``bench`` op, the standalone script's matrix.toml reader and, marked ``bench``, the check of
the worker's figures against a minimal standalone loop (slow; timings are reported, and the
10 % agreement is asserted only there, where it is the point of the test)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from harness.artifacts import Artifacts
from harness.bench.config import load_bench_config
from harness.bench.methodology import make_inputs, summarize
from harness.config import ROOT

node = shutil.which("node")
pytestmark = [pytest.mark.unit, pytest.mark.skipif(node is None, reason="no node on PATH")]
CORE = (ROOT / "node" / "bench_core.mjs").as_uri()


def run_node(script: str) -> str:
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_node_builds_the_same_rows_as_python() -> None:
    got = run_node(
        f"import {{ makeInputs }} from '{CORE}'; console.log(JSON.stringify(Array.from(makeInputs(50, 4, 99))))"
    )
    assert np.array_equal(np.array(json.loads(got), dtype=np.float32).reshape(50, 4), make_inputs(50, 4, 99))


def test_node_statistics_match_python() -> None:
    samples = [3.5, 1.25, 9.0, 2.0, 2.0, 7.75, 4.0]
    got = json.loads(
        run_node(f"import {{ summarize }} from '{CORE}'; console.log(JSON.stringify(summarize({samples})))")
    )
    s = summarize(samples)
    for key in ("median_ms", "mean_ms", "min_ms", "max_ms", "p95_ms", "q25_ms", "q75_ms", "iqr_ms"):
        assert got[key] == pytest.approx(getattr(s, key)), key


def test_standalone_reads_the_same_bench_table() -> None:
    script = (
        f"import {{ benchTable }} from '{(ROOT / 'node' / 'bench_inference_onnx.mjs').as_uri()}';"
        "import fs from 'node:fs';"
        f"console.log(JSON.stringify(benchTable(fs.readFileSync('{ROOT / 'matrix.toml'}', 'utf8'))))"
    )
    table = json.loads(run_node(script))
    cfg = load_bench_config()
    assert tuple(table["sizes"]) == cfg.sizes and tuple(table["full-sizes"]) == cfg.full_sizes
    assert table["budgets-ms"] == dict(cfg.budgets_ms) and table["seed"] == cfg.seed


def test_worker_bench_op_times_inside_node(artifacts: Artifacts) -> None:
    from harness.bench.runner_node import OrtNodeRunner

    runner = OrtNodeRunner(artifacts, load_bench_config(), ("ridge",))
    try:
        load = runner.load("ridge", 1)
        assert load.cold_ms > 0 and load.warm_ms > 0
        raw = runner.time("ridge", 1000, 1)
        assert raw.rows == 1000 and raw.chunks == 1 and len(raw.samples_ms) >= 5
        assert all(s > 0 for s in raw.samples_ms) and raw.copy_ms is not None
        assert runner.probe()["chase_ns"] > 0
    finally:
        runner.close()


@pytest.mark.bench
def test_node_figures_match_a_minimal_session_run_loop() -> None:
    from harness.bench.crosscheck import crosscheck

    checks = crosscheck(["ridge", "rf_reg_50_d5"], [100_000])
    for c in checks:
        print(f"{c.model} N={c.rows}: harness {c.harness_ms:.3f} ms, minimal {c.minimal_ms:.3f} ms ({c.ratio:.3f})")
    assert all(abs(c.ratio - 1.0) <= 0.10 for c in checks), checks
