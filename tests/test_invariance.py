"""scikit-learn <-> onnxruntime (Python) <-> onnxruntime-node on the committed artifacts.

Parametrized model x input set x backend pair x output, so a failure names all four.
"""

from __future__ import annotations

import pytest

from harness.invariance import check

from .conftest import record

pytestmark = pytest.mark.invariance


def test_invariance(runs, invariance_case) -> None:
    model, input_set, pair, output = invariance_case
    record(check(runs, model, input_set, pair, output))
