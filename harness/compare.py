"""Comparison maths: absolute, relative and float32 ULP errors with explicit NaN/Inf rules.

Rules (also in README): NaN equals NaN; an infinity equals the same infinity; a non-finite
value against anything else is a mismatch (counted, never hidden as a huge number); +0 and -0
are 0 ULP apart. Relative error is ``|a - b| / |b|`` with ``b`` the reference side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .registry import Budget


def ordered_f32(values: np.ndarray) -> np.ndarray:
    """Map float32 bit patterns onto integers that are ordered like the floats they encode,
    so that the difference of two is their distance in float32 ULPs (+0 and -0 map to 0)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise float32 ULP distance (int64). Only meaningful where both are finite."""
    return np.abs(ordered_f32(a) - ordered_f32(b))


@dataclass(frozen=True)
class ErrorStats:
    """Measured disagreement between two outputs over the compared rows."""

    n: int
    max_abs: float
    max_rel: float
    max_ulp: int
    nonfinite_mismatches: int
    budget_violations: int
    worst_index: Optional[int]
    budget_used: float = 0.0  # worst element's error as a fraction of its allowance (1.0 = at budget)

    @property
    def ok(self) -> bool:
        return self.nonfinite_mismatches == 0 and self.budget_violations == 0

    def describe(self) -> str:
        return (
            f"n={self.n} max_abs={self.max_abs:.3g} max_rel={self.max_rel:.3g} "
            f"max_ulp={self.max_ulp} nonfinite_mismatch={self.nonfinite_mismatches} "
            f"over_budget={self.budget_violations}"
        )


def compare(
    candidate: np.ndarray, reference: np.ndarray, budget: Optional[Budget], row_scale: Optional[np.ndarray] = None
) -> ErrorStats:
    """Compare element-wise; ``budget=None`` demands exact equality (class labels).

    ``row_scale`` (>= 1 per row) multiplies the absolute tolerance of that row's elements, and
    ULPs are only counted on rows whose scale is 1: a float32 dot product's rounding error grows
    with the magnitude of its terms, not with that of its result.
    """
    a = np.asarray(candidate)
    b = np.asarray(reference)
    if a.shape != b.shape:
        raise ValueError(f"shape {a.shape} vs reference shape {b.shape}")
    if budget is None:
        bad = a != b
        return ErrorStats(
            n=int(a.size),
            max_abs=float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0)),
            max_rel=0.0,
            max_ulp=0,
            nonfinite_mismatches=0,
            budget_violations=int(bad.sum()),
            worst_index=int(np.argmax(bad)) if bad.any() else None,
            budget_used=float("inf") if bad.any() else 0.0,
        )
    scale = np.ones(a.size)
    if row_scale is not None:
        scale = np.repeat(np.asarray(row_scale, dtype=np.float64), a.size // max(1, len(row_scale)))
    with np.errstate(all="ignore"):  # inf - inf and friends are handled as non-finite below
        return _compare_floats(a, b, budget, scale)


def _compare_floats(a: np.ndarray, b: np.ndarray, budget: Budget, scale: np.ndarray) -> ErrorStats:
    a32 = a.astype(np.float32).ravel()
    b32 = b.astype(np.float32).ravel()
    a64 = a32.astype(np.float64)
    b64 = b32.astype(np.float64)
    finite = np.isfinite(a64) & np.isfinite(b64)
    same_nonfinite = ~finite & ((np.isnan(a64) & np.isnan(b64)) | (a64 == b64))
    nonfinite_bad = ~finite & ~same_nonfinite

    abs_err = np.where(finite, np.abs(a64 - b64), 0.0)
    not_small = finite & (np.abs(b64) >= budget.ulp_floor) & (np.abs(b64) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_err = np.where(not_small, abs_err / np.abs(b64), 0.0)
    ulp = np.where(finite, ulp_distance(a32, b32), 0)
    ulp_counted = (not_small & (scale == 1.0)) | (finite & (budget.ulp_floor == 0))
    ulp_in_scope = np.where(ulp_counted, ulp, 0)

    allowance = budget.atol * scale + budget.rtol * np.abs(b64)
    over = finite & ((abs_err > allowance) | (ulp_in_scope > budget.max_ulp))
    with np.errstate(divide="ignore", invalid="ignore"):
        used_tol = np.where(abs_err > 0, abs_err / allowance, 0.0)
        used_ulp = np.where(ulp_in_scope > 0, ulp_in_scope / float(budget.max_ulp), 0.0)
    used = np.maximum(used_tol, used_ulp)
    if nonfinite_bad.any():
        used = np.append(used, np.inf)
    violations = over | nonfinite_bad
    worst = None
    if violations.any():
        worst = int(np.argmax(violations))
    elif a64.size:
        worst = int(np.argmax(abs_err))
    return ErrorStats(
        n=int(a32.size),
        max_abs=float(abs_err.max(initial=0.0)),
        max_rel=float(rel_err.max(initial=0.0)),
        max_ulp=int(ulp_in_scope.max(initial=0)),
        nonfinite_mismatches=int(nonfinite_bad.sum()),
        budget_violations=int(over.sum()),
        worst_index=worst,
        budget_used=float(used.max(initial=0.0)),
    )


def bitwise_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Same bytes (so NaN payloads and signed zeros count too)."""
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
