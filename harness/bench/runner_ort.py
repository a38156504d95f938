"""onnxruntime in this Python process: sessions per (model, threads), timed in-process."""

from __future__ import annotations

import statistics
import time
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..artifacts import Artifacts
from ..backends.ort_python import import_onnxruntime
from ..registry import INPUT_NAME, N_FEATURES
from .config import BenchConfig
from .methodology import InputCache, RawPoint, measure
from .runner import LoadTimes


def _copy(outputs: List[Any]) -> List[Any]:
    return [o.copy() for o in outputs]


class OrtPythonRunner:
    name = "ort-python"

    def __init__(self, artifacts: Artifacts, config: BenchConfig, models: Tuple[str, ...]) -> None:
        self._ort = import_onnxruntime()
        self.artifacts = artifacts
        self.config = config
        self.inputs = InputCache(N_FEATURES, config.seed)
        self._sessions: Dict[Tuple[str, int], Any] = {}
        t0 = time.perf_counter_ns()
        self._create(artifacts.model_bytes(models[0]), 1)  # the process's one-time runtime set-up
        self.init_ms: Optional[float] = (time.perf_counter_ns() - t0) / 1e6

    def versions(self) -> Mapping[str, str]:
        import numpy

        return {"onnxruntime": self._ort.__version__, "numpy": numpy.__version__}

    def _create(self, data: bytes, threads: int) -> Any:
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return self._ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def load(self, model: str, threads: int) -> LoadTimes:
        data = self.artifacts.model_bytes(model)
        times = []
        self._sessions.clear()  # one session at a time: peak memory is the point's, not the run's
        for _ in range(1 + self.config.load_repeats):
            self._sessions.pop((model, threads), None)
            t0 = time.perf_counter_ns()
            self._sessions[(model, threads)] = self._create(data, threads)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        warm = statistics.median(times[1:]) if len(times) > 1 else None
        return LoadTimes(cold_ms=times[0], warm_ms=warm, what="InferenceSession(model bytes)")

    def time(self, model: str, rows: int, threads: int) -> RawPoint:
        session = self._sessions[(model, threads)]
        return measure(lambda part: session.run(None, {INPUT_NAME: part}), self.inputs.rows(rows), self.config, _copy)

    def close(self) -> None:
        self._sessions.clear()
