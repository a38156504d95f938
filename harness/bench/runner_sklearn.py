"""scikit-learn, trained in this process from the committed training data.

Tests never retrain, but a benchmark needs live estimators: the constructor fits the asked
models with the registry's parameters on ``reference_data/training`` (about 25 s for all
seven on the reference machine; reported as ``init_ms``). Without scikit-learn the backend
is reported skipped with the import error as its reason.

"Load" is what a scikit-learn user does to get a model: unpickling it (in memory).
The inference call is ``predict`` for regressors and ``predict_proba`` plus the arg-max label
for classifiers (what ``predict`` does internally; the ONNX graphs output both).
Threads: ``n_jobs`` for forests and threadpoolctl's BLAS/OpenMP limit for everything.
"""

from __future__ import annotations

import pickle
import statistics
import time
from contextlib import nullcontext
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from ..artifacts import Artifacts
from ..errors import BackendUnavailable
from ..registry import N_FEATURES, model
from ..training import fit
from .config import BenchConfig
from .methodology import InputCache, RawPoint, measure
from .runner import LoadTimes


def _copy(out: Any) -> Any:
    return [a.copy() for a in out] if isinstance(out, tuple) else out.copy()


class SklearnRunner:
    name = "sklearn"

    def __init__(self, artifacts: Artifacts, config: BenchConfig, models: Tuple[str, ...]) -> None:
        try:
            import sklearn
        except ImportError as exc:
            raise BackendUnavailable(f"scikit-learn is not installed here ({exc})") from None
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn depends on it
            threadpool_limits = None
        self._limits = threadpool_limits
        self._sklearn = sklearn
        self.config = config
        self.inputs = InputCache(N_FEATURES, config.seed)
        training = artifacts.manifest["training"]
        x, y, cls = (artifacts.array(training[k]) for k in ("x", "y", "class"))
        t0 = time.perf_counter_ns()
        self._pickles: Dict[str, bytes] = {}
        for name in models:
            self._pickles[name] = pickle.dumps(fit(model(name), x, y, cls))
        self.init_ms: Optional[float] = (time.perf_counter_ns() - t0) / 1e6
        self._estimators: Dict[Tuple[str, int], Any] = {}

    def versions(self) -> Mapping[str, str]:
        out = {"scikit-learn": self._sklearn.__version__, "numpy": np.__version__}
        try:
            import threadpoolctl

            out["threadpoolctl"] = threadpoolctl.__version__
        except ImportError:  # pragma: no cover
            pass
        return out

    def load(self, model_name: str, threads: int) -> LoadTimes:
        data = self._pickles[model_name]
        times = []
        for _ in range(1 + self.config.load_repeats):
            t0 = time.perf_counter_ns()
            estimator = pickle.loads(data)
            times.append((time.perf_counter_ns() - t0) / 1e6)
        if hasattr(estimator, "n_jobs"):
            estimator.n_jobs = threads
        self._estimators.clear()  # one estimator at a time, as the other runners hold one session
        self._estimators[(model_name, threads)] = estimator
        warm = statistics.median(times[1:]) if len(times) > 1 else None
        return LoadTimes(cold_ms=times[0], warm_ms=warm, what="pickle.loads(estimator) in memory")

    def _call(self, model_name: str, threads: int) -> Callable[[np.ndarray], Any]:
        estimator = self._estimators[(model_name, threads)]
        if model(model_name).is_classifier:
            classes = estimator.classes_

            def classify(part: np.ndarray) -> Any:
                proba = estimator.predict_proba(part)
                return classes.take(proba.argmax(axis=1)), proba

            return classify
        return estimator.predict

    def time(self, model_name: str, rows: int, threads: int) -> RawPoint:
        call = self._call(model_name, threads)
        x = self.inputs.rows(rows)
        limits = self._limits(limits=threads) if self._limits else nullcontext()
        with limits:
            return measure(call, x, self.config, _copy)

    def close(self) -> None:
        self._estimators.clear()
