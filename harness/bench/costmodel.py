"""A cost model per row for each reference model, and the hardware floor it implies.

Per row (from the registry's parameters, so it follows the models):
  bytes        float32 features read + outputs written (ONNX shapes: a float32 value for a
               regressor; an int64 label and float32 probabilities per class for a classifier)
  flops        2 per multiply-add of every dense layer, plus bias adds and one per activation
               (linear and MLP models; 0 for forests)
  node_visits  trees x max depth, the most comparisons a row can take (forests; 0 otherwise)

The floor for ``threads`` threads is the largest of
  bytes / measured copy bandwidth            (memory: one thread saturates little more)
  flops / measured GEMM rate at ``threads``  (compute: a dense-kernel ceiling)
  node_visits x chase latency / threads      (dependent loads: each visit waits for the last)
and ``fraction`` = floor / measured ns per row (1.0 = at the hardware's limit). The tree floor
is a latency bound: a runtime that overlaps independent rows or trees can beat it (> 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, TypedDict

from ..registry import N_FEATURES, ModelSpec
from .machine import MachineEntry

FLOAT32, INT64 = 4, 8
N_CLASSES = 2  # the reference data's binary class


class CostEntry(TypedDict):
    bytes: int
    flops: int
    node_visits: int


@dataclass(frozen=True)
class RowCost:
    bytes: int
    flops: int
    node_visits: int

    def entry(self) -> CostEntry:
        return CostEntry(bytes=self.bytes, flops=self.flops, node_visits=self.node_visits)


def _layers(spec: ModelSpec) -> Sequence[int]:
    """Dense layer widths from input to output (linear models: one layer)."""
    hidden: Tuple[int, ...] = tuple(spec.params.get("hidden_layer_sizes", ()))
    return (N_FEATURES, *hidden, 1)  # binary classifiers have one logit, as regressors one value


def row_cost(spec: ModelSpec) -> RowCost:
    out_bytes = INT64 + N_CLASSES * FLOAT32 if spec.is_classifier else FLOAT32
    read_write = N_FEATURES * FLOAT32 + out_bytes
    if spec.is_tree:
        visits = int(spec.params["n_estimators"]) * int(spec.params["max_depth"])
        return RowCost(bytes=read_write, flops=0, node_visits=visits)
    widths = _layers(spec)
    flops = 0
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        flops += 2 * fan_in * fan_out + fan_out  # multiply-adds and the bias
    flops += sum(widths[1:-1])  # one per hidden activation
    if spec.is_classifier:
        flops += 2 * N_CLASSES  # the logistic and the two probabilities
    return RowCost(bytes=read_write, flops=flops, node_visits=0)


@dataclass(frozen=True)
class Floor:
    ns_per_row: float
    bound: str  # "memory", "compute" or "latency"


def floor(cost: RowCost, machine: MachineEntry, threads: int) -> Floor:
    candidates = [(cost.bytes / machine["bandwidth_gb_s"], "memory")]  # bytes / (GB/s) = ns
    if cost.flops:
        rate = machine["gflops_by_threads"].get(str(threads))
        if rate:
            candidates.append((cost.flops / rate, "compute"))
    if cost.node_visits and machine["chase_ns"]:
        candidates.append((cost.node_visits * machine["chase_ns"] / threads, "latency"))
    ns, bound = max(candidates)
    return Floor(ns_per_row=ns, bound=bound)


def fraction_of_limit(floor_ns: float, median_ms: float, rows: int) -> Optional[float]:
    """floor / measured ns per row; None for a point too small to be about rows at all."""
    measured = ns_per_row(median_ms, rows)
    return floor_ns / measured if measured > 0 else None


def ns_per_row(median_ms: float, rows: int) -> float:
    return median_ms * 1e6 / rows
