"""Training a reference model: the one definition the generator, the converter cells and the
scikit-learn bench share (importing it changes no thread settings; the generator pins those).

MLP training leaves float32 denormal weights behind (L2 decay drives dead units' weights
towards zero: 1,618 of the MLPRegressor's 5,601 values). x86 runs arithmetic on denormals
roughly 10x slower, in scikit-learn and in every onnxruntime alike (measured: 982 ms -> 89 ms
for 10^5 rows through onnxruntime, one thread), and at float32 precision they change no output.
So after fitting they are set to zero in the scikit-learn model itself, before it is exported
and before its reference outputs are computed: scikit-learn and ONNX stay the same model.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .registry import ModelSpec

FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def flush_denormals(estimator: Any) -> int:
    """Zero every weight whose magnitude is below float32's smallest normal; return how many."""
    flushed = 0
    for attribute in ("coefs_", "intercepts_"):
        for array in getattr(estimator, attribute, []):
            tiny = (array != 0) & (np.abs(array) < FLOAT32_TINY)
            flushed += int(tiny.sum())
            array[tiny] = 0
    return flushed


def fit(spec: ModelSpec, x: np.ndarray, y: np.ndarray, cls: np.ndarray) -> Any:
    """Fit ``spec``'s estimator on the training data (class labels for classifiers) and flush
    its denormal weights; the count is kept on the estimator as ``flushed_denormals_``."""
    estimator = spec.build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP ConvergenceWarning at max_iter is expected
        estimator.fit(x, cls if spec.is_classifier else y)
    estimator.flushed_denormals_ = flush_denormals(estimator)
    return estimator
