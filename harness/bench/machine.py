"""The machine a run measured: what it is (CPU, cores, memory, load) and what it can do
(memory bandwidth, float32 GEMM rate per thread count, dependent-load latency)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Dict, Optional, Sequence, TypedDict

import numpy as np


class HostEntry(TypedDict):
    cpu_model: str
    cores: int
    memory_gib: Optional[float]
    platform: str
    python: str
    load_average: Optional[Sequence[float]]  # 1/5/15-minute load when the run started
    load_average_end: Optional[Sequence[float]]  # ... and when it ended: others' work is noise


class MachineEntry(TypedDict):
    bandwidth_gb_s: float  # large-array copy, bytes read + written per second, one thread
    gflops_by_threads: Dict[str, float]  # float32 GEMM (numpy's BLAS), by thread count
    gflops_threads_limited: bool  # False: threadpoolctl missing, one figure for every count
    chase_ns: Optional[float]  # L1 pointer chase (Node JIT), ns per dependent load
    chase_source: str


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> Optional[float]:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def load_average() -> Optional[Sequence[float]]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux/macOS
        return None


def host() -> HostEntry:
    return HostEntry(
        cpu_model=_cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=_memory_gib(),
        platform=platform.platform(),
        python=platform.python_version(),
        load_average=load_average(),
        load_average_end=None,
    )


def _median_seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bandwidth_gb_s(megabytes: int = 256, repeats: int = 7) -> float:
    """Copy a ``megabytes`` float32 array (far larger than any cache): (read + write) / time."""
    src = np.ones(megabytes * 2**20 // 4, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = _median_seconds(lambda: np.copyto(dst, src), repeats)
    return 2 * src.nbytes / seconds / 1e9


def gemm_gflops(threads: int, n: int = 1024, repeats: int = 5) -> Optional[float]:
    """float32 n x n GEMM rate with ``threads`` BLAS threads; None when they can't be limited."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    a = np.ones((n, n), dtype=np.float32)
    b = np.ones((n, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds = _median_seconds(lambda: a @ b, repeats)
    return 2 * n**3 / seconds / 1e9


def measure_machine(threads: Sequence[int], chase_ns: Optional[float], chase_source: str) -> MachineEntry:
    rates: Dict[str, float] = {}
    limited = True
    for t in threads:
        rate = gemm_gflops(t)
        if rate is None:
            limited = False
            a = np.ones((1024, 1024), dtype=np.float32)
            rate = 2 * 1024**3 / _median_seconds(lambda a=a: a @ a, 5) / 1e9
        rates[str(t)] = rate
    return MachineEntry(
        bandwidth_gb_s=bandwidth_gb_s(),
        gflops_by_threads=rates,
        gflops_threads_limited=limited,
        chase_ns=chase_ns,
        chase_source=chase_source,
    )
