"""onnxruntime-node, timed inside the long-lived Node worker (op ``bench``; node/bench_core.mjs).

Python sends the model bytes once per (model, threads) and then one small request per point;
Node builds the rows itself and runs the calibrated loop, so no IPC sits in the timed region.
Only the raw per-call samples come back; statistics are computed in Python like every backend.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from ..artifacts import Artifacts
from ..backends.ort_node import OrtNode
from ..registry import N_FEATURES
from .config import BenchConfig
from .methodology import RawPoint
from .runner import LoadTimes

#: A point may run for minutes at 1e7 rows on a slow backend.
POINT_TIMEOUT_S = 1800.0


def session_options(threads: int) -> Dict[str, Any]:
    """The same settings as the Python runner (and the invariance worker's ``load``)."""
    return {
        "intraOpNumThreads": threads,
        "interOpNumThreads": 1,
        "executionMode": "sequential",
        "graphOptimizationLevel": "all",
    }


def point_header(config: BenchConfig, model: str, rows: int, threads: int) -> Dict[str, Any]:
    """The ``bench`` op's ``point`` request for a model loaded under ``model@threads``
    (benchOp of node/bench_core.mjs builds the rows itself from the seed)."""
    return {
        "action": "point",
        "key": f"{model}@{threads}",
        "rows": rows,
        "features": N_FEATURES,
        "seed": config.seed,
        "chunk_rows": config.chunk_rows,
        "method": config.method.to_node(),
    }


def raw_point(answer: Mapping[str, Any]) -> RawPoint:
    return RawPoint(
        rows=int(answer["rows"]),
        chunks=int(answer["chunks"]),
        first_call_ms=float(answer["first_call_ms"]),
        warmup_calls=int(answer["warmup_calls"]),
        samples_ms=tuple(float(s) for s in answer["samples_ms"]),
        copy_ms=answer.get("copy_ms"),
        inputs_ms=float(answer["inputs_ms"]),
        rss_before_mb=answer.get("rss_before_mb"),
        peak_rss_mb=answer.get("peak_rss_mb"),
    )


class OrtNodeRunner:
    name = "ort-node"

    def __init__(self, artifacts: Artifacts, config: BenchConfig, models: Tuple[str, ...]) -> None:
        self.artifacts = artifacts
        self.config = config
        self.backend = OrtNode(artifacts, threads=1)  # BackendUnavailable when Node or the package is missing
        first = self._load("_runtime_init", models[0], 1)
        self.init_ms: Optional[float] = first["cold_ms"]

    def _request(self, header: Dict[str, Any], payload: Tuple[bytes, ...] = ()) -> Dict[str, Any]:
        answer, _ = self.backend.worker.request({"op": "bench", **header}, payload, timeout=POINT_TIMEOUT_S)
        return answer

    def _load(self, key: str, model: str, threads: int, repeats: int = 0) -> Dict[str, Any]:
        header = {
            "action": "load",
            "key": key,
            "options": session_options(threads),
            "load_repeats": repeats,
            "release_others": True,  # one session at a time: peak memory is the point's
        }
        return self._request(header, (self.artifacts.model_bytes(model),))

    def versions(self) -> Mapping[str, str]:
        return dict(self.backend.versions())

    def load(self, model: str, threads: int) -> LoadTimes:
        answer = self._load(f"{model}@{threads}", model, threads, self.config.load_repeats)
        return LoadTimes(
            cold_ms=answer["cold_ms"], warm_ms=answer.get("warm_ms"), what="InferenceSession.create(model bytes)"
        )

    def time(self, model: str, rows: int, threads: int) -> RawPoint:
        return raw_point(self._request(point_header(self.config, model, rows, threads)))

    def probe(self) -> Dict[str, Any]:
        """Machine probes that need a JIT (the dependent-load latency for the tree cost model)."""
        return self._request({"action": "probe"})

    def close(self) -> None:
        self.backend.close()
