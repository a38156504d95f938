"""The ``[bench]`` table of matrix.toml: sizes, budgets, thread settings and the timing method.

Sizes and budgets live only there. Every fault is one line naming the key
(``matrix.toml: key 'bench.time-cap-s' must be a positive number, got -1``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from ..config import MATRIX_FILE, load_matrix
from ..errors import ConfigError

_KEYS = (
    "sizes",
    "full-sizes",
    "budgets-ms",
    "threads",
    "time-cap-s",
    "min-repeats",
    "slow-call-s",
    "slow-repeats",
    "max-repeats",
    "warmup-calls",
    "warmup-s",
    "load-repeats",
    "chunk-rows",
    "max-call-s",
    "full-max-call-s",
    "seed",
)
BUDGET_TIERS = ("interactive", "batch")


@dataclass(frozen=True)
class Method:
    """How one point is timed; the same fields drive the Python and the Node loop."""

    time_cap_s: float
    min_repeats: int
    max_repeats: int
    warmup_calls: int
    warmup_s: float
    slow_call_s: float
    slow_repeats: int

    def to_node(self) -> Dict[str, Any]:
        """The ``method`` object of node/bench_core.mjs."""
        return {
            "timeCapS": self.time_cap_s,
            "minRepeats": self.min_repeats,
            "maxRepeats": self.max_repeats,
            "warmupCalls": self.warmup_calls,
            "warmupS": self.warmup_s,
            "slowCallS": self.slow_call_s,
            "slowRepeats": self.slow_repeats,
        }


@dataclass(frozen=True)
class BenchConfig:
    sizes: Tuple[int, ...]
    full_sizes: Tuple[int, ...]
    budgets_ms: Tuple[Tuple[str, float], ...]  # (tier, ms), ascending
    threads: Tuple[int, ...]  # resolved: "all" is os.cpu_count()
    threads_spec: Tuple[str, ...]  # as written ("1", "all")
    method: Method
    load_repeats: int
    chunk_rows: int
    max_call_s: float
    full_max_call_s: float
    seed: int

    def sweep(self, full: bool) -> Tuple[int, ...]:
        return tuple(sorted(set(self.sizes + (self.full_sizes if full else ()))))

    def max_call_ms(self, full: bool) -> float:
        """Sizes whose call is predicted slower than this are recorded as not run."""
        return 1000.0 * (self.full_max_call_s if full else self.max_call_s)

    def budget(self, tier: str) -> float:
        return dict(self.budgets_ms)[tier]


def _fail(name: str, key: str, what: str, value: Any) -> ConfigError:
    return ConfigError(f"{name}: key 'bench.{key}' {what}, got {value!r}")


def _positive_int(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(name, key, "must be a positive integer", value)
    return value


def _positive_number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise _fail(name, key, "must be a positive number", value)
    return float(value)


def _sizes(name: str, key: str, value: Any) -> Tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(name, key, "must be a non-empty list of row counts", value)
    sizes = tuple(_positive_int(name, key, v) for v in value)
    if list(sizes) != sorted(set(sizes)):
        raise _fail(name, key, "must be strictly increasing", value)
    return sizes


def _threads(name: str, value: Any) -> Tuple[Tuple[int, ...], Tuple[str, ...]]:
    if not isinstance(value, list) or not value:
        raise _fail(name, "threads", 'must be a non-empty list of thread counts or "all"', value)
    cores = os.cpu_count() or 1
    resolved, spec = [], []
    for v in value:
        if v == "all":
            resolved.append(cores)
        else:
            resolved.append(_positive_int(name, "threads", v))
        spec.append(str(v))
    # "all" on a one-core machine is 1: measure each distinct count once
    unique = tuple(dict.fromkeys(resolved))
    return unique, tuple(spec)


def bench_config(data: Mapping[str, Any], name: str = MATRIX_FILE.name) -> BenchConfig:
    """Validate a parsed matrix.toml's ``[bench]`` table."""
    table = data.get("bench")
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: section [bench] missing")
    for key in table:
        if key not in _KEYS:
            raise ConfigError(f"{name}: unknown key 'bench.{key}'")
    for key in _KEYS:
        if key not in table:
            raise ConfigError(f"{name}: key 'bench.{key}' missing")
    budgets = table["budgets-ms"]
    if not isinstance(budgets, dict) or set(budgets) != set(BUDGET_TIERS):
        raise _fail(name, "budgets-ms", f"must be a table with exactly {', '.join(BUDGET_TIERS)}", budgets)
    tiers = tuple((tier, _positive_number(name, f"budgets-ms.{tier}", budgets[tier])) for tier in BUDGET_TIERS)
    if tiers[0][1] >= tiers[1][1]:
        raise _fail(name, "budgets-ms", "must have interactive < batch", budgets)
    threads, spec = _threads(name, table["threads"])
    method = Method(
        time_cap_s=_positive_number(name, "time-cap-s", table["time-cap-s"]),
        min_repeats=_positive_int(name, "min-repeats", table["min-repeats"]),
        max_repeats=_positive_int(name, "max-repeats", table["max-repeats"]),
        warmup_calls=_positive_int(name, "warmup-calls", table["warmup-calls"]),
        warmup_s=_positive_number(name, "warmup-s", table["warmup-s"]),
        slow_call_s=_positive_number(name, "slow-call-s", table["slow-call-s"]),
        slow_repeats=_positive_int(name, "slow-repeats", table["slow-repeats"]),
    )
    if method.max_repeats < method.min_repeats:
        raise _fail(name, "max-repeats", f"must be >= min-repeats ({method.min_repeats})", method.max_repeats)
    if method.slow_repeats > method.min_repeats:
        raise _fail(name, "slow-repeats", f"must be <= min-repeats ({method.min_repeats})", method.slow_repeats)
    seed = table["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise _fail(name, "seed", "must be an integer in [0, 2**32)", seed)
    return BenchConfig(
        sizes=_sizes(name, "sizes", table["sizes"]),
        full_sizes=_sizes(name, "full-sizes", table["full-sizes"]),
        budgets_ms=tiers,
        threads=threads,
        threads_spec=spec,
        method=method,
        load_repeats=_positive_int(name, "load-repeats", table["load-repeats"]),
        chunk_rows=_positive_int(name, "chunk-rows", table["chunk-rows"]),
        max_call_s=_positive_number(name, "max-call-s", table["max-call-s"]),
        full_max_call_s=_positive_number(name, "full-max-call-s", table["full-max-call-s"]),
        seed=seed,
    )


def load_bench_config(path: Path = MATRIX_FILE) -> BenchConfig:
    return bench_config(load_matrix(path), path.name)
