"""One benchmark run: every asked backend x model x thread count x size, then capacities."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from ..artifacts import Artifacts
from ..errors import BackendUnavailable, HarnessError
from ..registry import model as model_spec
from .capacity import capacity
from .config import BenchConfig
from .costmodel import floor, row_cost
from .machine import MachineEntry, host, load_average, measure_machine
from .methodology import classify, summarize
from .results import (
    BackendEntry,
    BenchResults,
    InferenceEntry,
    LoadEntry,
    ModelBench,
    NotRunEntry,
    capacity_entry,
    inference_entry,
    seed_load,
)
from .runner import Runner, make_runner


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _start(
    names: Sequence[str], artifacts: Artifacts, config: BenchConfig, models: Tuple[str, ...]
) -> Tuple[List[Runner], Dict[str, BackendEntry]]:
    runners: List[Runner] = []
    entries: Dict[str, BackendEntry] = {}
    for name in names:
        t0 = time.monotonic()
        try:
            runner = make_runner(name, artifacts, config, models)
        except (BackendUnavailable, ImportError) as exc:
            reason = exc.one_line() if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {exc}"
            entries[name] = BackendEntry(status="skipped", reason=reason, versions={}, init_ms=None)
            log(f"bench: {name} skipped: {reason}")
            continue
        runners.append(runner)
        entries[name] = BackendEntry(
            status="ran", reason=None, versions=dict(runner.versions()), init_ms=runner.init_ms
        )
        log(f"bench: {name} ready in {time.monotonic() - t0:.1f} s ({entries[name]['versions']})")
    return runners, entries


def _chase(runners: Sequence[Runner]) -> Tuple[Optional[float], str]:
    for runner in runners:
        probe = getattr(runner, "probe", None)
        if probe is not None:
            return float(probe()["chase_ns"]), f"{runner.name} (Int32Array pointer chase, 4 KiB)"
    return None, "not measured (no JavaScript backend ran): forests get no latency floor"


def run_bench(
    config: BenchConfig,
    artifacts: Artifacts,
    backends: Sequence[str],
    models: Tuple[str, ...],
    full: bool,
    command: List[str],
) -> BenchResults:
    started = time.monotonic()
    timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sizes = config.sweep(full)
    where = host()
    runners, backend_entries = _start(backends, artifacts, config, models)
    chase_ns, chase_source = _chase(runners)
    machine = measure_machine(config.threads, chase_ns, chase_source)
    log(
        f"bench: machine {machine['bandwidth_gb_s']:.1f} GB/s copy, GEMM GFLOP/s {machine['gflops_by_threads']}, "
        f"chase {chase_ns and round(chase_ns, 2)} ns"
    )
    loads: Dict[str, List[LoadEntry]] = {m: [] for m in models}
    points: Dict[str, List[InferenceEntry]] = {m: [] for m in models}
    not_run: Dict[str, List[NotRunEntry]] = {m: [] for m in models}
    for runner in runners:
        try:
            for name in models:
                for threads in config.threads:
                    lt = runner.load(name, threads)
                    loads[name].append(
                        LoadEntry(
                            backend=runner.name, threads=threads, cold_ms=lt.cold_ms, warm_ms=lt.warm_ms, what=lt.what
                        )
                    )
                    series = _series(runner, name, threads, sizes, config, machine, config.max_call_ms(full))
                    points[name] += series[0]
                    not_run[name] += series[1]
        except HarnessError as exc:
            backend_entries[runner.name] = BackendEntry(
                status="failed", reason=exc.one_line(), versions=backend_entries[runner.name]["versions"], init_ms=None
            )
            log(f"bench: {runner.name} failed: {exc.one_line()}")
        finally:
            runner.close()
    where["load_average_end"] = load_average()
    benchmarks: Dict[str, ModelBench] = {}
    for name in models:
        spec = model_spec(name)
        benchmarks[name] = ModelBench(
            title=spec.title,
            cost=row_cost(spec).entry(),
            load=seed_load(loads[name]),
            inference=points[name],
            not_run=not_run[name],
            capacity=capacities(points[name], not_run[name], config),
        )
    return BenchResults(
        schema=1,
        timestamp=timestamp,
        tool="python -m harness.bench",
        command=command,
        wall_s=round(time.monotonic() - started, 1),
        sizes=list(sizes),
        budgets_ms=dict(config.budgets_ms),
        threads=list(config.threads),
        method={k: float(v) for k, v in config.method.to_node().items()},
        host=where,
        machine=machine,
        backends=backend_entries,
        benchmarks=benchmarks,
    )


def _series(
    runner: Runner,
    name: str,
    threads: int,
    sizes: Sequence[int],
    config: BenchConfig,
    machine: MachineEntry,
    max_call_ms: float,
) -> Tuple[List[InferenceEntry], List[NotRunEntry]]:
    """One (backend, model, threads) sweep, smallest size first."""
    cost = row_cost(model_spec(name))
    done: List[InferenceEntry] = []
    skipped: List[NotRunEntry] = []
    for rows in sizes:
        if len(done) >= 2:
            predicted = predict_ms([(e["N"], e["median_ms"]) for e in done[-2:]], rows)
            if predicted > max_call_ms:
                reason = f"predicted {predicted / 1000:.1f} s a call > max-call-s {max_call_ms / 1000:g} s"
                skipped.append(
                    NotRunEntry(
                        N=rows,
                        backend=runner.name,
                        threads=threads,
                        predicted_ms=predicted,
                        budget="too slow",
                        reason=reason,
                    )
                )
                log(f"bench: {runner.name:<11} {name:<14} t={threads} N={rows:>8}: not run, {reason}")
                continue
        raw = runner.time(name, rows, threads)
        stats = summarize(raw.samples_ms)
        budget = classify(stats.median_ms, config.budgets_ms)
        done.append(inference_entry(runner.name, threads, raw, stats, budget, floor(cost, machine, threads)))
        log(
            f"bench: {runner.name:<11} {name:<14} t={threads} N={rows:>8}: "
            f"median {stats.median_ms:10.4f} ms  IQR {stats.iqr_ms:8.4f}  x{stats.iterations:<4} {budget}"
        )
    return done, skipped


def predict_ms(last_two: Sequence[Tuple[int, float]], rows: int) -> float:
    """A call's time at ``rows``, from the marginal cost per row between the last two sizes
    (so a fixed per-call overhead, e.g. a thread pool's, is not scaled with the rows)."""
    (n1, t1), (n2, t2) = last_two
    per_row = max(0.0, (t2 - t1) / (n2 - n1))
    return t2 + per_row * (rows - n2)


def capacities(entries: Sequence[InferenceEntry], not_run: Sequence[NotRunEntry], config: BenchConfig) -> list:
    """Per (backend, threads, budget); a size not run counts at its predicted time."""
    series: Dict[Tuple[str, int], List[Tuple[int, float]]] = {}
    for e in entries:
        series.setdefault((e["backend"], e["threads"]), []).append((e["N"], e["median_ms"]))
    for n in not_run:
        series.setdefault((n["backend"], n["threads"]), []).append((n["N"], n["predicted_ms"]))
    out = []
    for (backend, threads), pts in series.items():
        for tier, limit in config.budgets_ms:
            out.append(capacity_entry(backend, threads, tier, limit, capacity(pts, limit)))
    return out
