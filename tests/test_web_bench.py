"""The web runners follow the bench interface: timed inside Node / inside the page, raw samples back."""

from __future__ import annotations

import dataclasses

import pytest

from harness.artifacts import Artifacts

from .test_web_browser import browser_ok  # noqa: F401  (fixture)

pytestmark = pytest.mark.unit

bench_config = pytest.importorskip("harness.bench.config", reason="harness/bench (issue 4) is not here")
web_bench = pytest.importorskip("harness.backends.ort_web_bench", reason="harness/bench (issue 4) is not here")


@pytest.fixture
def tiny_config():
    config = bench_config.load_bench_config()
    method = dataclasses.replace(config.method, time_cap_s=0.01, min_repeats=3, max_repeats=5, warmup_s=0.0)
    return dataclasses.replace(config, method=method, load_repeats=1)


def check_runner(runner, in_page: bool) -> None:
    try:
        assert runner.init_ms is not None and runner.init_ms > 0  # WASM start-up, outside every load figure
        assert "onnxruntime-web" in runner.versions()
        load = runner.load("ridge", 1)
        assert load.cold_ms > 0 and load.warm_ms is not None
        point = runner.time("ridge", 1000, 1)
        assert point.rows == 1000 and point.chunks == 1
        assert 3 <= len(point.samples_ms) <= 5 and all(s > 0 for s in point.samples_ms)
        assert (point.peak_rss_mb is None) == in_page  # a page cannot read /proc
    finally:
        runner.close()


def test_node_runner_times_session_run_in_the_worker(tiny_config, artifacts: Artifacts) -> None:
    check_runner(web_bench.OrtWebNodeRunner(artifacts, tiny_config, ("ridge",)), in_page=False)


@pytest.mark.usefixtures("browser_ok")
def test_browser_runner_times_session_run_in_the_page(tiny_config, artifacts: Artifacts) -> None:
    check_runner(web_bench.OrtWebBrowserRunner(artifacts, tiny_config, ("ridge",)), in_page=True)
