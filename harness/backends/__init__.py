"""Backends: each runs a committed model on reference inputs and returns named outputs.

``sklearn`` is not a live backend: tests never retrain, so its outputs are the committed ones
(``harness.invariance.reference_outputs``). Live backends share the ``Backend`` protocol.
"""

from __future__ import annotations

from typing import Dict, Mapping, Protocol

import numpy as np


class Backend(Protocol):
    name: str

    def versions(self) -> Mapping[str, str]:
        """Exact versions of what runs the models (reported beside every result)."""

    def run(self, model: str, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        """Run one committed model on float32 rows; outputs by ONNX output name."""

    def close(self) -> None:
        """Release processes and sessions."""
