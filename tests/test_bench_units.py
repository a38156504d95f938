"""The benchmark's own pieces: inputs, statistics, calibration, budgets, capacity, cost model,
config validation and the spread check. Fast and deterministic: no timing is asserted."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from harness.bench.capacity import capacity
from harness.bench.compare import spread, verdict
from harness.bench.config import Method, bench_config, load_bench_config
from harness.bench.costmodel import floor, row_cost
from harness.bench.machine import MachineEntry
from harness.bench.methodology import (
    InputCache,
    chunks,
    classify,
    hash32,
    make_inputs,
    measure,
    repeats_for,
    summarize,
    time_point,
)
from harness.config import load_matrix
from harness.errors import ConfigError
from harness.registry import model

pytestmark = pytest.mark.unit

METHOD = Method(
    time_cap_s=0.01, min_repeats=5, max_repeats=50, warmup_calls=1, warmup_s=0.0, slow_call_s=1.0, slow_repeats=3
)


def test_hash_matches_known_lowbias32_values() -> None:
    # as node/bench_core.mjs computes them (test_bench_node.py compares whole input sets)
    assert hash32(np.array([0, 1], dtype=np.uint32)).tolist() == [0, 0x688990C0]


def test_inputs_are_deterministic_prefixes_in_unit_interval() -> None:
    x = make_inputs(1000, 4, 7)
    assert x.dtype == np.float32 and x.shape == (1000, 4)
    assert 0.0 <= x.min() and x.max() < 1.0
    assert np.array_equal(make_inputs(10, 4, 7), x[:10])
    assert abs(float(x.mean()) - 0.5) < 0.03
    cache = InputCache(4, 7)
    assert np.array_equal(cache.rows(10), x[:10]) and np.array_equal(cache.rows(1000), x)


def test_chunks_are_views_covering_every_row() -> None:
    x = make_inputs(25, 4, 1)
    parts = chunks(x, 10)
    assert [len(p) for p in parts] == [10, 10, 5]
    assert all(np.shares_memory(p, x) for p in parts)


def test_summarize_uses_linear_percentiles() -> None:
    s = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.iterations, s.median_ms, s.min_ms, s.max_ms, s.mean_ms) == (5, 3.0, 1.0, 5.0, 3.0)
    assert s.q25_ms == 2.0 and s.q75_ms == 4.0 and s.iqr_ms == 2.0
    assert s.p95_ms == pytest.approx(4.8)
    with pytest.raises(ValueError):
        summarize([])


def test_repeats_are_calibrated_to_the_cap_within_bounds() -> None:
    assert repeats_for(1.0, METHOD) == 10  # 10 ms cap / 1 ms
    assert repeats_for(100.0, METHOD) == 5  # at least min-repeats
    assert repeats_for(1e-6, METHOD) == 50  # at most max-repeats


def test_time_point_times_each_call_and_the_copy_apart() -> None:
    calls = []
    out = time_point(lambda: calls.append(1) or np.zeros(3), METHOD, copy=lambda a: a.copy())
    timed = len(out["samples_ms"])
    assert len(calls) == 1 + out["warmup_calls"] + timed
    assert METHOD.min_repeats <= timed <= METHOD.max_repeats
    assert out["copy_ms"] is not None and out["first_call_ms"] >= 0


def test_a_slow_first_call_is_the_whole_warm_up() -> None:
    slow = Method(
        time_cap_s=10.0, min_repeats=5, max_repeats=50, warmup_calls=1, warmup_s=1.0, slow_call_s=1e-9, slow_repeats=3
    )
    out = time_point(lambda: None, slow)
    assert out["warmup_calls"] == 0 and len(out["samples_ms"]) == 3


def test_measure_runs_every_chunk_in_one_call() -> None:
    cfg = load_bench_config()
    seen = []
    raw = measure(lambda part: seen.append(len(part)), make_inputs(3, 4, 0), cfg)
    assert raw.rows == 3 and raw.chunks == 1 and seen[0] == 3


def test_budget_classes() -> None:
    budgets = (("interactive", 75.0), ("batch", 1000.0))
    assert [classify(ms, budgets) for ms in (1.0, 75.0, 999.0, 1000.0)] == [
        "interactive",
        "batch",
        "batch",
        "too slow",
    ]


def test_capacity_interpolates_on_log_log_axes() -> None:
    pts = [(1, 0.01), (1000, 1.0), (10_000, 10.0), (100_000, 100.0)]  # time ∝ rows above 1e3
    cap = capacity(pts, 75.0)
    assert cap.how == "interpolated" and cap.rows == pytest.approx(75_000, rel=1e-4)
    assert capacity(pts, 0.001).rows == 0
    cap = capacity(pts, 1000.0)
    assert cap.how == "extrapolated" and cap.rows == 1_000_000
    # a noisy, non-increasing bracket stays at the last size that fitted
    assert capacity([(10, 80.0), (1, 90.0)], 75.0).rows == 0
    assert capacity([(1, 1.0), (10, 76.0), (100, 80.0)], 75.0).how == "interpolated"
    expected = math.exp(math.log(10) + math.log(10) * (math.log(75) - math.log(1)) / (math.log(80) - math.log(1)))
    assert capacity([(10, 1.0), (100, 80.0), (1000, 60.0)], 75.0).rows == int(expected)


def test_cost_model_follows_the_registry() -> None:
    ridge = row_cost(model("ridge"))
    assert (ridge.bytes, ridge.flops, ridge.node_visits) == (20, 9, 0)
    mlp = row_cost(model("mlp_reg_100_50"))
    assert mlp.flops == 2 * (4 * 100 + 100 * 50 + 50 * 1) + (100 + 50 + 1) + 150
    forest = row_cost(model("rf_reg_50_d5"))
    assert forest.node_visits == 250 and forest.flops == 0
    assert row_cost(model("logreg")).bytes == 16 + 8 + 8


def test_floor_takes_the_binding_limit() -> None:
    machine = MachineEntry(
        bandwidth_gb_s=20.0,
        gflops_by_threads={"1": 50.0, "2": 100.0},
        gflops_threads_limited=True,
        chase_ns=1.0,
        chase_source="t",
    )
    assert floor(row_cost(model("ridge")), machine, 1).bound == "memory"
    mlp = floor(row_cost(model("mlp_reg_100_50")), machine, 2)
    assert mlp.bound == "compute" and mlp.ns_per_row == pytest.approx(row_cost(model("mlp_reg_100_50")).flops / 100.0)
    forest = floor(row_cost(model("rf_reg_50_d5")), machine, 2)
    assert forest.bound == "latency" and forest.ns_per_row == 125.0


def _table() -> dict:
    return copy.deepcopy(load_matrix())


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("sizes", [1000, 10], "key 'bench.sizes' must be strictly increasing"),
        ("time-cap-s", -1, "key 'bench.time-cap-s' must be a positive number"),
        ("threads", [1, "many"], "key 'bench.threads' must be a positive integer"),
        ("budgets-ms", {"interactive": 75.0}, "key 'bench.budgets-ms' must be a table"),
        ("budgets-ms", {"interactive": 2000.0, "batch": 1000.0}, "must have interactive < batch"),
        ("max-repeats", 2, "key 'bench.max-repeats' must be >= min-repeats"),
        ("colour", "red", "unknown key 'bench.colour'"),
    ],
)
def test_bad_bench_table_is_one_line_naming_the_key(key: str, value: object, message: str) -> None:
    data = _table()
    data["bench"][key] = value
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        bench_config(data)
    assert "\n" not in str(info.value)


def test_missing_key_and_section() -> None:
    data = _table()
    del data["bench"]["seed"]
    with pytest.raises(ConfigError, match=r"key 'bench\.seed' missing"):
        bench_config(data)
    with pytest.raises(ConfigError, match=r"section \[bench\] missing"):
        bench_config({})


def test_config_resolves_all_cores_and_full_sizes() -> None:
    cfg = load_bench_config()
    assert cfg.threads[0] == 1
    assert max(cfg.sweep(True)) > max(cfg.sweep(False))


def _results(medians: dict) -> dict:
    return {
        "timestamp": "t",
        "benchmarks": {
            "m": {"inference": [{"N": n, "backend": "b", "threads": 1, "median_ms": ms} for n, ms in medians.items()]}
        },
    }


def test_spread_compares_only_large_points() -> None:
    a = _results({1000: 1.0, 100_000: 10.0, 1_000_000: 100.0})
    b = _results({1000: 5.0, 100_000: 10.5, 1_000_000: 120.0})
    s = spread(a, b, min_rows=100_000, tolerance=0.10)
    assert len(s.points) == 2
    assert s.max_deviation == pytest.approx(0.2) and len(s.beyond) == 1


def test_verdict_is_noise_aware() -> None:
    assert verdict(1.03, noise=0.05) == "same"
    assert verdict(2.0, noise=0.05) == "regression"
    assert verdict(0.5, noise=0.05) == "improvement"
    assert verdict(1.15, noise=0.2) == "same"


def test_results_reader_names_the_file(tmp_path: Path) -> None:
    from harness.bench.results import read_results

    with pytest.raises(ConfigError, match=r"bench_onnx_results\.json: missing"):
        read_results(tmp_path)
    (tmp_path / "bench_onnx_results.json").write_text('{"timestamp": 1}')
    with pytest.raises(ConfigError, match="key 'benchmarks' missing"):
        read_results(tmp_path)


def test_capacity_counts_sizes_not_run_at_their_predicted_time() -> None:
    from harness.bench.results import NotRunEntry
    from harness.bench.run import capacities

    cfg = load_bench_config()
    done = [{"N": n, "backend": "b", "threads": 1, "median_ms": n / 100.0} for n in (1000, 10_000, 100_000)]
    skipped = [NotRunEntry(N=1_000_000, backend="b", threads=1, predicted_ms=10_000.0, budget="too slow", reason="r")]
    by_tier = {c["budget"]: c for c in capacities(done, skipped, cfg)}  # type: ignore[arg-type]
    assert by_tier["interactive"]["rows"] == 7500 and by_tier["interactive"]["how"] == "interpolated"
    assert by_tier["batch"]["rows"] == pytest.approx(100_000, rel=1e-6) and by_tier["batch"]["how"] == "interpolated"


def test_max_call_limit_depends_on_full() -> None:
    cfg = load_bench_config()
    assert cfg.max_call_ms(True) >= cfg.max_call_ms(False) > 0


def test_prediction_uses_the_marginal_cost_per_row() -> None:
    from harness.bench.run import predict_ms

    # 10 ms of fixed overhead (a thread pool) must not be multiplied by the rows
    assert predict_ms([(1, 10.0), (1000, 11.0)], 1_000_000) == pytest.approx(11.0 + 999_000 / 999)
    assert predict_ms([(1000, 5.0), (10_000, 4.0)], 100_000) == 4.0  # noise: never below the last
