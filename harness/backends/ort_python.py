"""onnxruntime in this Python process, with fixed thread counts (FACTS.md: the thread count
changes the order of tree sums, so invariance runs pin it on every side)."""

from __future__ import annotations

from typing import Any, Dict, Mapping

import numpy as np

from ..artifacts import Artifacts
from ..errors import BackendUnavailable
from ..registry import INPUT_NAME


def import_onnxruntime() -> Any:
    """The onnxruntime module, or BackendUnavailable saying how to get it."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise BackendUnavailable(f"onnxruntime is not importable here: {exc}; pip install onnxruntime") from None
    return onnxruntime


class OrtPython:
    name = "ort-python"

    def __init__(self, artifacts: Artifacts, threads: int = 1) -> None:
        self._ort = import_onnxruntime()
        self.artifacts = artifacts
        self.threads = threads
        self._sessions: Dict[str, Any] = {}

    def versions(self) -> Mapping[str, str]:
        return {"onnxruntime": self._ort.__version__}

    def session(self, model: str) -> Any:
        if model not in self._sessions:
            options = self._ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
            self._sessions[model] = self._ort.InferenceSession(
                self.artifacts.model_bytes(model), options, providers=["CPUExecutionProvider"]
            )
        return self._sessions[model]

    def run(self, model: str, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        session = self.session(model)
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, {INPUT_NAME: inputs})))

    def close(self) -> None:
        self._sessions.clear()
