"""The data model and the reference input sets, each with its stated relation between backends.

Training data (the seed's): four float32 features A-D uniform in [0, 1), 50,000 rows drawn with
seed 42; y = A - B + N(0, 0.05); class = (A - B > 0). Input sets are drawn with other seeds so
that no reference row was seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import numpy as np

from .registry import N_FEATURES

TRAIN_ROWS = 50_000
TRAIN_SEED = 42
NOMINAL_ROWS = 20_000
NOMINAL_SEED = 123
NOISE_SIGMA = 0.05


@dataclass(frozen=True)
class InputSet:
    """A family of reference inputs and what the backends are expected to do on it."""

    name: str
    description: str
    relation: str
    per_tree_model: bool = False  # boundary probes are built from one tree model's splits


NOMINAL = InputSet(
    name="nominal",
    description=f"{NOMINAL_ROWS:,} rows drawn like the training data (seed {NOMINAL_SEED}).",
    relation="every pair within its budget on every row; labels identical.",
)
EDGE = InputSet(
    name="edge",
    description=(
        "one special value per feature per row: NaN, +/-Inf, +0/-0, +/-1e38, float32 "
        "denormals, the smallest normal, values far out of the training range; plus rows "
        "with every feature special."
    ),
    relation=(
        "onnxruntime Python and onnxruntime-node agree bit for bit on every row (NaN matches "
        "NaN). scikit-learn refuses NaN/Inf rows for linear and MLP models and Inf rows for "
        "forests (input validation): recorded as refused. Two regimes differ by design and are "
        "recorded as such: NaN through a forest (scikit-learn sends it to the child that saw "
        "more samples, ONNX TreeEnsemble to the false branch) and |x| >= 1e30 through linear "
        "and MLP models (the ONNX graph overflows or cancels in float32 where scikit-learn "
        "computes some steps in float64). All other rows are within budget, the absolute "
        "tolerance scaled by the row's largest |x| (a float32 dot product's error grows with "
        "its terms, not its result); ULPs are counted on rows with |x| <= 1."
    ),
)
BOUNDARY = InputSet(
    name="boundary",
    description=(
        "for every split of every tree: a row that reaches that node, with the split feature "
        "at the float32 threshold and one float32 ULP either side (3 rows per split)."
    ),
    relation=(
        "every pair within its budget: skl2onnx rounds float64 thresholds down to float32, so "
        "scikit-learn's float32 `x <= t` and ONNX's `x <= float32(t)` take the same branch."
    ),
    per_tree_model=True,
)
INPUT_SETS: Tuple[InputSet, ...] = (NOMINAL, EDGE, BOUNDARY)
INPUT_SETS_BY_NAME: Dict[str, InputSet] = {s.name: s for s in INPUT_SETS}


def training_data() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (float32), regression target (float64), class (int64)."""
    rng = np.random.default_rng(TRAIN_SEED)
    x = rng.random((TRAIN_ROWS, N_FEATURES)).astype(np.float32)
    y = x[:, 0].astype(np.float64) - x[:, 1] + rng.normal(0.0, NOISE_SIGMA, TRAIN_ROWS)
    cls = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
    return x, y, cls


def nominal_inputs() -> np.ndarray:
    rng = np.random.default_rng(NOMINAL_SEED)
    return rng.random((NOMINAL_ROWS, N_FEATURES)).astype(np.float32)


_F32 = np.finfo(np.float32)
EDGE_VALUES: Tuple[Tuple[str, float], ...] = (
    ("nan", float("nan")),
    ("inf", float("inf")),
    ("inf", float("-inf")),
    ("zero", 0.0),
    ("zero", -0.0),
    ("huge", 1e38),
    ("huge", -1e38),
    ("denormal", float(np.float32(1.4e-45))),  # smallest positive denormal
    ("denormal", float(-np.float32(1.4e-45))),
    ("denormal", float(np.nextafter(_F32.tiny, np.float32(0)))),  # largest denormal
    ("denormal", float(_F32.tiny)),  # smallest normal, beside the denormals
    ("far", -1.0),
    ("far", 2.0),
    ("far", -1e3),
    ("far", 1e6),
    ("far", -1e30),
)
EDGE_KINDS: Tuple[str, ...] = tuple(dict.fromkeys(kind for kind, _ in EDGE_VALUES))


def edge_inputs() -> Tuple[np.ndarray, np.ndarray]:
    """Rows and each row's kind (index into EDGE_KINDS)."""
    rows: List[np.ndarray] = []
    kinds: List[int] = []
    base = np.full(N_FEATURES, 0.5, dtype=np.float32)
    for kind, value in EDGE_VALUES:
        for feature in range(N_FEATURES):
            row = base.copy()
            row[feature] = value
            rows.append(row)
            kinds.append(EDGE_KINDS.index(kind))
        rows.append(np.full(N_FEATURES, value, dtype=np.float32))
        kinds.append(EDGE_KINDS.index(kind))
    return np.stack(rows), np.asarray(kinds, dtype=np.uint8)


OVERFLOW_REGIME = 1e30


def sklearn_diverges_by_design(is_tree: bool, row: np.ndarray) -> bool:
    """Rows where scikit-learn and the ONNX graph legitimately differ (see EDGE.relation)."""
    if is_tree:
        return bool(np.isnan(row).any())
    finite = row[np.isfinite(row)]
    return bool(finite.size and np.abs(finite).max() >= OVERFLOW_REGIME)


def row_scale(x: np.ndarray) -> np.ndarray:
    """Each row's error scale: max(1, largest finite |x|)."""
    magnitude = np.where(np.isfinite(x), np.abs(x), 0.0).max(axis=1, initial=0.0)
    return np.maximum(1.0, magnitude)


def _probe_values(threshold: float) -> List[np.float32]:
    """The float32 nearest the threshold and one ULP either side: this always includes the
    last float32 that scikit-learn sends left (``x <= t`` in float64) and the first it sends
    right, the pair where float32 threshold rounding would show."""
    at = np.float32(threshold)
    left = at if float(at) <= threshold else np.nextafter(at, np.float32(-np.inf))
    right = np.nextafter(left, np.float32(np.inf))
    values = {
        np.nextafter(at, np.float32(-np.inf)),
        at,
        np.nextafter(at, np.float32(np.inf)),
        left,
        right,
    }
    return sorted(values)


def boundary_inputs(forest: Any) -> np.ndarray:
    """Probe rows for every split of every tree of a fitted scikit-learn forest.

    Each row reaches its node: the other features sit in the middle of the box that the path
    from the root allows (clipped to the training range), the split feature at the probe value.
    """
    rows: List[np.ndarray] = []
    for estimator in forest.estimators_:
        tree = estimator.tree_
        stack = [(0, np.zeros(N_FEATURES), np.ones(N_FEATURES))]
        while stack:
            node, lo, hi = stack.pop()
            feature = int(tree.feature[node])
            if feature < 0:
                continue
            threshold = float(tree.threshold[node])
            centre = ((lo + hi) / 2).astype(np.float32)
            for value in _probe_values(threshold):
                row = centre.copy()
                row[feature] = value
                rows.append(row)
            left_hi = hi.copy()
            left_hi[feature] = min(hi[feature], threshold)
            right_lo = lo.copy()
            right_lo[feature] = max(lo[feature], threshold)
            stack.append((int(tree.children_left[node]), lo, left_hi))
            stack.append((int(tree.children_right[node]), right_lo, hi))
    return np.stack(rows).astype(np.float32)
