"""The comparison maths: ULP distance, NaN/Inf rules, budgets, row scale."""

from __future__ import annotations

import numpy as np
import pytest

from harness.compare import bitwise_equal, compare, ulp_distance
from harness.registry import BITWISE, Budget

pytestmark = pytest.mark.unit
F = np.float32
LOOSE = Budget(atol=1e-6, rtol=1e-6, max_ulp=4, ulp_floor=1e-2)


def f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_ulp_distance_adjacent_floats_is_one() -> None:
    x = f32(1.0, 0.1, -3.5, 1e-30)
    assert (ulp_distance(x, np.nextafter(x, F(np.inf))) == 1).all()
    assert (ulp_distance(x, np.nextafter(x, F(-np.inf))) == 1).all()


def test_ulp_distance_signed_zero_and_across_zero() -> None:
    assert ulp_distance(f32(0.0), f32(-0.0))[0] == 0
    tiny = np.nextafter(F(0), F(1))
    assert ulp_distance(f32(tiny), f32(-tiny))[0] == 2
    assert ulp_distance(f32(1.0), f32(2.0))[0] == 2**23


def test_nan_matches_nan_and_inf_matches_same_inf() -> None:
    stats = compare(f32(np.nan, np.inf, -np.inf, 1.0), f32(np.nan, np.inf, -np.inf, 1.0), BITWISE)
    assert stats.ok and stats.max_ulp == 0 and stats.nonfinite_mismatches == 0


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [(np.nan, 1.0), (1.0, np.nan), (np.inf, -np.inf), (np.inf, 3e38), (-np.inf, np.nan)],
)
def test_nonfinite_mismatch_fails_even_with_loose_budget(candidate: float, reference: float) -> None:
    stats = compare(f32(candidate, 0.5), f32(reference, 0.5), Budget(atol=1e30, rtol=1.0, max_ulp=2**31))
    assert not stats.ok
    assert stats.nonfinite_mismatches == 1
    assert stats.worst_index == 0


def test_budget_absolute_and_ulp_parts() -> None:
    ref = f32(0.5, 0.001)
    within = compare(ref + F(2e-7), ref, Budget(atol=1e-6, rtol=0, max_ulp=100))
    assert within.ok and within.max_abs == pytest.approx(2e-7, rel=0.1)
    too_many_ulps = compare(ref + F(2e-7), ref, Budget(atol=1e-6, rtol=0, max_ulp=1))
    assert not too_many_ulps.ok and too_many_ulps.budget_violations == 1  # only 0.5 is above the floor
    too_far = compare(ref + F(2e-6), ref, Budget(atol=1e-6, rtol=0, max_ulp=10**9))
    assert not too_far.ok and too_far.budget_violations == 2


def test_ulps_not_counted_below_floor() -> None:
    ref = f32(1e-5)
    cand = ref + F(1e-9)
    stats = compare(cand, ref, Budget(atol=1e-6, rtol=0, max_ulp=0, ulp_floor=1e-2))
    assert stats.ok and stats.max_ulp == 0


def test_bitwise_budget_rejects_one_ulp() -> None:
    ref = f32(0.25, 0.75)
    assert compare(ref.copy(), ref, BITWISE).ok
    stats = compare(np.nextafter(ref, F(1)), ref, BITWISE)
    assert not stats.ok and stats.max_ulp == 1 and stats.budget_violations == 2


def test_row_scale_widens_absolute_tolerance_and_suspends_ulps() -> None:
    ref = f32(1000.0, 0.5)
    cand = f32(1000.001, 0.5)
    assert not compare(cand, ref, LOOSE).ok
    scaled = compare(cand, ref, LOOSE, row_scale=np.array([1e4, 1.0]))
    assert scaled.ok and scaled.max_ulp == 0


def test_labels_exact() -> None:
    labels = np.array([0, 1, 1], dtype=np.int64)
    assert compare(labels.copy(), labels, None).ok
    stats = compare(np.array([0, 0, 1]), labels, None)
    assert not stats.ok and stats.budget_violations == 1 and stats.worst_index == 1


def test_budget_used_reports_share_of_allowance() -> None:
    ref = f32(0.5)
    stats = compare(np.nextafter(ref, F(1)), ref, Budget(atol=1e-6, rtol=0, max_ulp=2))
    assert stats.max_ulp == 1 and stats.budget_used == pytest.approx(0.5)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        compare(f32(1, 2), f32(1, 2, 3), LOOSE)


def test_bitwise_equal_sees_signed_zero() -> None:
    assert bitwise_equal(f32(0.0), f32(0.0))
    assert not bitwise_equal(f32(0.0), f32(-0.0))
