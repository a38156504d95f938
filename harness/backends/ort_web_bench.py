"""Benchmark runners for onnxruntime-web under Node and in Chromium (the ``Runner`` interface
of harness/bench/runner.py).

Both send ``{op: "bench", action: ...}`` to their worker, which calls ``benchOp`` from
node/bench_core.mjs: under Node in the web worker, in Chromium inside the test page, so the
timed region is ``performance.now()`` around ``session.run`` there and no transfer is in it.
onnxruntime-web fixes its WASM thread count when its module starts, so each thread count gets
its own worker (and, for the browser, its own Chromium), started on first use.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple, Union

from ..artifacts import Artifacts
from ..bench.config import BenchConfig
from ..bench.methodology import RawPoint
from ..bench.runner import LoadTimes
from ..bench.runner_node import POINT_TIMEOUT_S, point_header, raw_point
from ..errors import WorkerError
from .ort_web_browser import OrtWebBrowser
from .ort_web_node import OrtWebNode

WebBackend = Union[OrtWebNode, OrtWebBrowser]


class _WebRunner:
    name = ""
    load_what = "InferenceSession.create(model bytes)"

    def __init__(self, artifacts: Artifacts, config: BenchConfig, models: Tuple[str, ...]) -> None:
        self.artifacts = artifacts
        self.config = config
        self._backends: Dict[int, WebBackend] = {}
        self._threads_checked: Dict[int, bool] = {}
        # starts the one-thread worker: BackendUnavailable when Node, the package or the browser is missing
        first = self._load("_runtime_init", models[0], 1, 0)
        self.init_ms: Optional[float] = first["cold_ms"]  # includes the WASM compile + instantiate

    def _start(self, threads: int) -> WebBackend:
        raise NotImplementedError

    def _backend(self, threads: int) -> WebBackend:
        if threads not in self._backends:
            self._backends[threads] = self._start(threads)
        return self._backends[threads]

    def _check_threads(self, threads: int, model: str) -> None:
        """onnxruntime-web settles its thread count at its first session (a browser page that is
        not cross-origin isolated silently gets one): the count in effect must be the one asked."""
        if not self._threads_checked.get(threads):
            backend = self._backend(threads)
            backend.load(model)
            if backend.threads != threads:
                raise WorkerError(f"{self.name}: asked for {threads} WASM threads, got {backend.threads}")
            self._threads_checked[threads] = True

    def _request(self, threads: int, header: Dict[str, Any], payload: Tuple[bytes, ...] = ()) -> Dict[str, Any]:
        full = {"op": "bench", "timeout_ms": int(POINT_TIMEOUT_S * 900), **header}
        answer, _ = self._backend(threads).worker.request(full, payload, timeout=POINT_TIMEOUT_S)
        return answer

    def _load(self, key: str, model: str, threads: int, repeats: int) -> Dict[str, Any]:
        options = {"executionProviders": ["wasm"], "executionMode": "sequential", "graphOptimizationLevel": "all"}
        header = {"action": "load", "key": key, "options": options, "load_repeats": repeats}
        return self._request(threads, header, (self.artifacts.model_bytes(model),))

    def versions(self) -> Mapping[str, str]:
        versions = dict(self._backends[1].versions())
        versions.pop("wasm-threads", None)  # per point: the thread count is a benchmark axis
        return versions

    def load(self, model: str, threads: int) -> LoadTimes:
        if threads not in self._backends:  # a new worker: its WASM start-up stays out of the load figures
            self._load("_runtime_init", model, threads, 0)
        answer = self._load(f"{model}@{threads}", model, threads, self.config.load_repeats)
        self._check_threads(threads, model)
        return LoadTimes(cold_ms=answer["cold_ms"], warm_ms=answer.get("warm_ms"), what=self.load_what)

    def time(self, model: str, rows: int, threads: int) -> RawPoint:
        return raw_point(self._request(threads, point_header(self.config, model, rows, threads)))

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()


class OrtWebNodeRunner(_WebRunner):
    name = "ort-web-node"

    def _start(self, threads: int) -> WebBackend:
        return OrtWebNode(self.artifacts, threads=threads, timeout=POINT_TIMEOUT_S)


class OrtWebBrowserRunner(_WebRunner):
    """Timed in the page; memory figures are null (a page cannot read /proc)."""

    name = "ort-web-browser"
    load_what = "InferenceSession.create(model bytes) in the page"

    def _start(self, threads: int) -> WebBackend:
        return OrtWebBrowser(self.artifacts, threads=threads, timeout=POINT_TIMEOUT_S, page_timeout=60.0)
