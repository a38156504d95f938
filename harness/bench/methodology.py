"""The benchmark methodology, Python half (the Node half is node/bench_core.mjs: same steps).

One point (model, backend, rows, threads):
  1. inputs are built before timing (``make_inputs``: a counter hash, identical to Node's, so
     every backend sees the same rows); calls above ``chunk-rows`` run as chunks, split before;
  2. the first call is timed alone (``first_call_ms``); then ``warmup-calls`` more calls, and
     more until ``warmup-s`` has passed (arenas, JIT, caches, clock frequency);
  3. repeats = clamp(ceil(time-cap-s / median warm-up call), min-repeats, max-repeats); a
     first call slower than ``slow-call-s`` is the whole warm-up and ``slow-repeats`` are timed
     (a 10 s call is not repeated 7 times: the default sweep must fit in minutes);
  4. each repeat is timed on its own with a monotonic ns clock; the timed region holds only the
     inference call (all chunks);
  5. copying the outputs into fresh arrays is timed separately (``copy_ms``), never included;
  6. peak resident memory over the point (Linux VmHWM, reset through /proc/self/clear_refs).
Statistics (``summarize``) are computed here for every backend, from the raw samples.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from .config import BenchConfig, Method


def hash32(x: np.ndarray) -> np.ndarray:
    """lowbias32 on uint32 (wrapping arithmetic); node/bench_core.mjs:hash32 is the same."""
    x = x.astype(np.uint32, copy=True)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def make_inputs(rows: int, features: int, seed: int) -> np.ndarray:
    """rows x features float32 in [0, 1): value k is (hash32(k + seed) >> 8) / 2**24."""
    k = (np.arange(rows * features, dtype=np.uint64) + np.uint64(seed)) & np.uint64(0xFFFFFFFF)
    values = (hash32(k.astype(np.uint32)) >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-24)
    return values.reshape(rows, features)


def chunks(x: np.ndarray, chunk_rows: int) -> List[np.ndarray]:
    """Views of at most ``chunk_rows`` rows each (no copies)."""
    return [x[i : i + chunk_rows] for i in range(0, len(x), max(1, chunk_rows))]


@dataclass(frozen=True)
class Stats:
    iterations: int
    median_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    p95_ms: float
    q25_ms: float
    q75_ms: float

    @property
    def iqr_ms(self) -> float:
        return self.q75_ms - self.q25_ms


def summarize(samples_ms: Sequence[float]) -> Stats:
    """Per-call statistics; percentiles interpolate linearly (numpy's and bench_core's default)."""
    if not samples_ms:
        raise ValueError("no samples")
    s = np.asarray(samples_ms, dtype=np.float64)
    q25, median, q75, p95 = np.percentile(s, [25, 50, 75, 95])
    return Stats(
        iterations=len(s),
        median_ms=float(median),
        mean_ms=float(s.mean()),
        min_ms=float(s.min()),
        max_ms=float(s.max()),
        p95_ms=float(p95),
        q25_ms=float(q25),
        q75_ms=float(q75),
    )


def repeats_for(estimate_ms: float, method: Method) -> int:
    wanted = math.ceil(method.time_cap_s * 1000.0 / max(estimate_ms, 1e-6))
    return min(method.max_repeats, max(method.min_repeats, wanted))


def classify(median_ms: float, budgets_ms: Sequence[Tuple[str, float]]) -> str:
    """The first budget tier the median call fits ("interactive", "batch"), else "too slow"."""
    for tier, limit in budgets_ms:
        if median_ms < limit:
            return tier
    return "too slow"


@dataclass(frozen=True)
class RawPoint:
    """What a runner measured at one point, before statistics."""

    rows: int
    chunks: int
    first_call_ms: float
    warmup_calls: int
    samples_ms: Tuple[float, ...]
    copy_ms: Optional[float]
    inputs_ms: float
    rss_before_mb: Optional[float]
    peak_rss_mb: Optional[float]


def _ms_since(t0: int) -> float:
    return (time.perf_counter_ns() - t0) / 1e6


def time_point(call: Callable[[], Any], method: Method, copy: Optional[Callable[[Any], Any]] = None) -> dict:
    """Steps 2-5 around ``call`` (a closure doing only the inference)."""
    t0 = time.perf_counter_ns()
    last = call()
    first = _ms_since(t0)
    slow = first >= method.slow_call_s * 1000.0
    warm: List[float] = []
    warm_start = time.perf_counter_ns()
    while not slow and (len(warm) < method.warmup_calls or _ms_since(warm_start) < method.warmup_s * 1000.0):
        t0 = time.perf_counter_ns()
        last = call()
        warm.append(_ms_since(t0))
        if len(warm) >= method.max_repeats:
            break
    estimate = float(np.median(warm)) if warm else first
    samples = []
    for _ in range(method.slow_repeats if slow else repeats_for(estimate, method)):
        t0 = time.perf_counter_ns()
        last = call()
        samples.append(_ms_since(t0))
    copy_ms = None
    if copy is not None:
        copies = []
        for _ in range(3):
            t0 = time.perf_counter_ns()
            copy(last)
            copies.append(_ms_since(t0))
        copy_ms = float(np.median(copies))
    return {"first_call_ms": first, "warmup_calls": len(warm), "samples_ms": tuple(samples), "copy_ms": copy_ms}


def _status_mb(field: str) -> Optional[float]:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def reset_peak_memory() -> Optional[float]:
    """Reset the peak-RSS counter (Linux >= 4.0); the resident MB now, or None elsewhere."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _status_mb("VmRSS")


def peak_memory() -> Optional[float]:
    return _status_mb("VmHWM")


class InputCache:
    """The sweep's rows, built once for the largest size asked so far; smaller sizes are prefixes."""

    def __init__(self, features: int, seed: int) -> None:
        self.features = features
        self.seed = seed
        self._data = np.empty((0, features), dtype=np.float32)

    def rows(self, n: int) -> np.ndarray:
        if len(self._data) < n:
            self._data = make_inputs(n, self.features, self.seed)
        return self._data[:n]


def measure(
    call_on: Callable[[np.ndarray], Any],
    x: np.ndarray,
    config: BenchConfig,
    copy: Optional[Callable[[Any], Any]] = None,
) -> RawPoint:
    """One point of an in-process backend: ``call_on(chunk)`` is its inference call."""
    t0 = time.perf_counter_ns()
    parts = chunks(x, config.chunk_rows)
    inputs_ms = _ms_since(t0)

    def call() -> Any:
        out = None
        for part in parts:
            out = call_on(part)
        return out

    rss = reset_peak_memory()
    timed = time_point(call, config.method, copy)
    return RawPoint(
        rows=len(x), chunks=len(parts), inputs_ms=inputs_ms, rss_before_mb=rss, peak_rss_mb=peak_memory(), **timed
    )
