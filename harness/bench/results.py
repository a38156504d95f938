"""The JSON the bench writes: bench_results/bench_onnx_results.json.

It keeps the seed's keys (``timestamp``, ``benchmarks.<model>.load.{cold_ms, warm_ms}``,
``benchmarks.<model>.inference[{N, iterations, median_ms, mean_ms, min_ms, max_ms, budget}]``)
and extends them: every inference entry names its backend and thread count and adds p95, IQR,
first call, output copy, chunks, peak memory and the cost model's figures; ``load`` keeps the
seed's two numbers (onnxruntime-node at one thread when it ran, as the seed measured, else the
first backend that ran) and lists every backend under ``by_backend``. Sizes predicted slower
than ``max-call-s`` are listed under ``not_run`` with their predicted time. ``backends`` gives exact
versions or the reason a backend was skipped; ``host`` and ``machine`` say where it ran.
node/bench_inference_onnx.mjs writes the same shape for onnxruntime-node alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, TypedDict

from ..artifacts import atomic_write
from ..errors import ConfigError, read_json
from .capacity import Capacity
from .costmodel import CostEntry, Floor, fraction_of_limit, ns_per_row
from .machine import HostEntry, MachineEntry
from .methodology import RawPoint, Stats

SCHEMA = 1
RESULTS_NAME = "bench_onnx_results.json"


class InferenceEntry(TypedDict):
    N: int
    iterations: int
    median_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    budget: str
    backend: str
    threads: int
    p95_ms: float
    q25_ms: float
    q75_ms: float
    iqr_ms: float
    first_call_ms: float
    warmup_calls: int
    copy_ms: Optional[float]
    chunks: int
    rss_before_mb: Optional[float]
    peak_rss_mb: Optional[float]
    ns_per_row: float
    floor_ns_per_row: Optional[float]
    bound: Optional[str]
    fraction_of_limit: Optional[float]


class LoadEntry(TypedDict):
    backend: str
    threads: int
    cold_ms: Optional[float]
    warm_ms: Optional[float]
    what: str


class LoadSummary(TypedDict):
    cold_ms: Optional[float]
    warm_ms: Optional[float]
    backend: Optional[str]
    threads: Optional[int]
    by_backend: List[LoadEntry]


class CapacityEntry(TypedDict):
    backend: str
    threads: int
    budget: str
    budget_ms: float
    rows: int
    how: str


class NotRunEntry(TypedDict):
    """A size skipped because its call was predicted (the marginal cost per row between the
    two sizes before, ``run.predict_ms``) to take longer than ``max-call-s``: too slow for
    either budget by construction."""

    N: int
    backend: str
    threads: int
    predicted_ms: float
    budget: str
    reason: str


class ModelBench(TypedDict):
    title: str
    cost: Optional[CostEntry]
    load: LoadSummary
    inference: List[InferenceEntry]
    not_run: List[NotRunEntry]
    capacity: List[CapacityEntry]


class BackendEntry(TypedDict):
    status: str  # "ran" or "skipped"
    reason: Optional[str]
    versions: Dict[str, str]
    init_ms: Optional[float]


class BenchResults(TypedDict):
    schema: int
    timestamp: str
    tool: str
    command: List[str]
    wall_s: float
    sizes: List[int]
    budgets_ms: Dict[str, float]
    threads: List[int]
    method: Dict[str, float]
    host: HostEntry
    machine: Optional[MachineEntry]
    backends: Dict[str, BackendEntry]
    benchmarks: Dict[str, ModelBench]


def inference_entry(
    backend: str, threads: int, raw: RawPoint, stats: Stats, budget: str, floor: Optional[Floor]
) -> InferenceEntry:
    return InferenceEntry(
        N=raw.rows,
        iterations=stats.iterations,
        median_ms=stats.median_ms,
        mean_ms=stats.mean_ms,
        min_ms=stats.min_ms,
        max_ms=stats.max_ms,
        budget=budget,
        backend=backend,
        threads=threads,
        p95_ms=stats.p95_ms,
        q25_ms=stats.q25_ms,
        q75_ms=stats.q75_ms,
        iqr_ms=stats.iqr_ms,
        first_call_ms=raw.first_call_ms,
        warmup_calls=raw.warmup_calls,
        copy_ms=raw.copy_ms,
        chunks=raw.chunks,
        rss_before_mb=raw.rss_before_mb,
        peak_rss_mb=raw.peak_rss_mb,
        ns_per_row=ns_per_row(stats.median_ms, raw.rows),
        floor_ns_per_row=floor.ns_per_row if floor else None,
        bound=floor.bound if floor else None,
        fraction_of_limit=fraction_of_limit(floor.ns_per_row, stats.median_ms, raw.rows) if floor else None,
    )


def capacity_entry(backend: str, threads: int, budget: str, budget_ms: float, cap: Capacity) -> CapacityEntry:
    return CapacityEntry(
        backend=backend, threads=threads, budget=budget, budget_ms=budget_ms, rows=cap.rows, how=cap.how
    )


def seed_load(entries: List[LoadEntry]) -> LoadSummary:
    """The seed's two load numbers: onnxruntime-node at one thread if it ran, else the first."""
    timed = [e for e in entries if e["cold_ms"] is not None]
    pick = next((e for e in timed if e["backend"] == "ort-node" and e["threads"] == 1), timed[0] if timed else None)
    return LoadSummary(
        cold_ms=pick["cold_ms"] if pick else None,
        warm_ms=pick["warm_ms"] if pick else None,
        backend=pick["backend"] if pick else None,
        threads=pick["threads"] if pick else None,
        by_backend=entries,
    )


def write_results(results: BenchResults, out_dir: Path) -> Path:
    path = out_dir / RESULTS_NAME
    atomic_write(path, (json.dumps(results, indent=1) + "\n").encode())
    return path


def read_results(path: Path) -> BenchResults:
    """A results file (or the folder holding one); one-line ConfigError when it isn't one."""
    path = path / RESULTS_NAME if path.is_dir() else path
    data = read_json(path, str(path), f"run `python -m harness.bench --out {path.parent}`", ConfigError)
    for key in ("timestamp", "benchmarks"):
        if not isinstance(data, dict) or key not in data:
            raise ConfigError(f"{path}: key {key!r} missing")
    for model, bench in data["benchmarks"].items():
        if not isinstance(bench, dict) or not isinstance(bench.get("inference"), list):
            raise ConfigError(f"{path}: key 'benchmarks.{model}.inference' missing or not a list")
    return data  # type: ignore[return-value]
