"""The interface every benchmarked backend implements, and the list of known backends.

A runner is constructed with ``(artifacts, config)`` and raises ``BackendUnavailable`` (a
one-line reason) when it cannot run here; the bench then reports the backend as *skipped*
with that reason, never as passed. Once constructed it offers:

``name``                       the backend's name as reported ("ort-python", "ort-node", ...)
``versions() -> {pkg: ver}``   exact versions of everything that runs the models
``init_ms``                    one-time runtime set-up paid by the first session of the process
                               (``None`` when there is none), kept out of every load figure
``load(model, threads)``       create the model's session for that thread count and return
                               ``LoadTimes`` (cold = first creation of this model in the
                               process, warm = median of ``load-repeats`` further creations)
``time(model, rows, threads)`` one point: build the rows with ``methodology.make_inputs``
                               (or bench_core.mjs ``makeInputs``) *before* timing, run the
                               calibrated loop of methodology.py / bench_core.mjs around the
                               inference call only, return a ``methodology.RawPoint``
``close()``                    release sessions and processes

In-process Python backends call ``methodology.measure(call_on_chunk, rows, config, copy)``.
JavaScript backends send ``{op: "bench", action: "load" | "point" | "probe"}`` to their worker,
whose switch calls ``benchOp`` from node/bench_core.mjs (see runner_node.py): no IPC in the
timed region. To add a backend, write such a class and list it in ``RUNNERS`` below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Protocol, Tuple

from ..artifacts import Artifacts
from .config import BenchConfig
from .methodology import RawPoint

#: name -> "module:Class" (imported only when the backend is asked for).
RUNNERS: Dict[str, str] = {
    "sklearn": "harness.bench.runner_sklearn:SklearnRunner",
    "ort-python": "harness.bench.runner_ort:OrtPythonRunner",
    "ort-node": "harness.bench.runner_node:OrtNodeRunner",
    "ort-web-node": "harness.backends.ort_web_bench:OrtWebNodeRunner",
    "ort-web-browser": "harness.backends.ort_web_bench:OrtWebBrowserRunner",
}


@dataclass(frozen=True)
class LoadTimes:
    cold_ms: Optional[float]
    warm_ms: Optional[float]
    what: str  # what "load" means for this backend


class Runner(Protocol):
    name: str
    init_ms: Optional[float]

    def versions(self) -> Mapping[str, str]: ...

    def load(self, model: str, threads: int) -> LoadTimes: ...

    def time(self, model: str, rows: int, threads: int) -> RawPoint: ...

    def close(self) -> None: ...


def runner_class(name: str) -> type:
    module, cls = RUNNERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_runner(name: str, artifacts: Artifacts, config: BenchConfig, models: Tuple[str, ...]) -> Runner:
    """Construct one runner; BackendUnavailable (or an ImportError inside it) means skipped."""
    return runner_class(name)(artifacts, config, models)
