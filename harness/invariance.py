"""The invariance checks: one model, one input set, one backend pair, one output at a time.

Each check returns an ``Outcome`` record with a status from a fixed vocabulary and the
measured errors beside the budget, so the pytest suite and the matrix cells report alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .artifacts import Artifacts
from .compare import ErrorStats, compare
from .dataset import OVERFLOW_REGIME, row_scale
from .errors import BackendUnavailable, WorkerError
from .registry import KERNELS, MODELS_BY_NAME, PAIRS, Budget

STATUSES = ("passed", "failed", "skipped", "xfail")
SKLEARN = "sklearn"
DEFINED = 0  # row status written by harness.generate: scikit-learn defined the row

Pair = Tuple[str, str]


@dataclass(frozen=True)
class Outcome:
    """The result of one check. ``reason`` says why for anything but a plain pass."""

    model: str
    input_set: str
    pair: Pair
    output: str
    status: str
    rows: int = 0
    rows_excluded: int = 0
    stats: Optional[ErrorStats] = None
    budget: Optional[Budget] = None
    reason: str = ""

    @property
    def pair_name(self) -> str:
        return f"{self.pair[0]}~{self.pair[1]}"

    @property
    def case_id(self) -> str:
        return f"{self.model}/{self.input_set}/{self.pair_name}/{self.output}"


def reference_outputs(artifacts: Artifacts, model: str, input_set: str) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """scikit-learn's committed outputs (float32 as compared, int64 labels) and row status."""
    entry = artifacts.manifest["reference"][model][input_set]
    outputs = {name: artifacts.array(paths["f32"]) for name, paths in entry["outputs"].items()}
    return outputs, artifacts.array(entry["sklearn_defined"])


class BackendRuns:
    """Runs each live backend at most once per (model, input set) and remembers the outputs
    (or the reason it could not run)."""

    def __init__(self, artifacts: Artifacts, backends: Dict[str, Callable[[], object]]) -> None:
        self.artifacts = artifacts
        self._factories = backends
        self._backends: Dict[str, object] = {}
        self._unavailable: Dict[str, str] = {}
        self._broken: Dict[str, str] = {}
        self._cache: Dict[Tuple[str, str, str], Dict[str, np.ndarray]] = {}

    def backend(self, name: str) -> object:
        if name in self._unavailable:
            raise BackendSkipped(self._unavailable[name])
        if name in self._broken:
            raise BackendBroken(self._broken[name])
        if name not in self._backends:
            try:
                self._backends[name] = self._factories[name]()
            except BackendUnavailable as exc:  # not installed here: a skip (an error under CI)
                self._unavailable[name] = str(exc)
                raise BackendSkipped(str(exc)) from None
            except WorkerError as exc:  # installed but died or hung at start: a failure
                self._broken[name] = exc.one_line()
                raise BackendBroken(self._broken[name]) from None
        return self._backends[name]

    def outputs(self, backend: str, model: str, input_set: str) -> Dict[str, np.ndarray]:
        key = (backend, model, input_set)
        if key not in self._cache:
            if backend == SKLEARN:
                self._cache[key] = reference_outputs(self.artifacts, model, input_set)[0]
            else:
                if backend in self._broken:
                    raise BackendBroken(self._broken[backend])
                inputs = self.artifacts.inputs(input_set)
                try:
                    self._cache[key] = self.backend(backend).run(model, inputs)  # type: ignore[attr-defined]
                except WorkerError as exc:  # died or hung: every later check of it fails fast
                    self._broken[backend] = exc.one_line()
                    raise BackendBroken(self._broken[backend]) from None
        return self._cache[key]

    def versions(self) -> Dict[str, Dict[str, str]]:
        return {name: dict(b.versions()) for name, b in self._backends.items()}  # type: ignore[attr-defined]

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()  # type: ignore[attr-defined]
        self._backends.clear()


class BackendSkipped(Exception):
    """A backend cannot run here; the reason is the backend's own one-line error."""


class BackendBroken(Exception):
    """A backend's worker died or hung during this run: its checks fail with that one line."""


def cases(artifacts: Artifacts, pairs: Tuple[Pair, ...] = PAIRS) -> Iterator[Tuple[str, str, Pair, str]]:
    """Every (model, input set, pair, output) the committed artifacts support."""
    for model, input_set in artifacts.cases():
        for pair in pairs:
            for output in MODELS_BY_NAME[model].outputs:
                yield model, input_set, pair, output


def check(runs: BackendRuns, model: str, input_set: str, pair: Pair, output: str) -> Outcome:
    """Compare one output of one model on one input set between the two sides of ``pair``."""
    spec = MODELS_BY_NAME[model]
    budget = spec.budget(pair, output)
    try:
        reference = runs.outputs(pair[0], model, input_set)[output]
        candidate = runs.outputs(pair[1], model, input_set)[output]
    except BackendSkipped as exc:
        return Outcome(model=model, input_set=input_set, pair=pair, output=output, status="skipped", reason=str(exc))
    except BackendBroken as exc:
        return Outcome(model=model, input_set=input_set, pair=pair, output=output, status="failed", reason=str(exc))
    rows = np.ones(len(reference), dtype=bool)
    scale = row_scale(runs.artifacts.inputs(input_set))
    if SKLEARN in pair:
        status = reference_outputs(runs.artifacts, model, input_set)[1]
        rows = status == DEFINED
    elif KERNELS[pair[0]] != KERNELS[pair[1]] and not spec.is_tree:
        rows = scale < OVERFLOW_REGIME  # float32 overflow part-way: kernels differ by design
    if reference.shape != candidate.shape:
        return Outcome(
            model=model,
            input_set=input_set,
            pair=pair,
            output=output,
            status="failed",
            reason=f"shape {candidate.shape} from {pair[1]} vs {reference.shape} from {pair[0]}",
        )
    stats = compare(candidate[rows], reference[rows], budget, scale[rows])
    verdict = "passed" if stats.ok else "failed"
    reason = ""
    if not stats.ok:
        per_row = int(np.prod(reference.shape[1:], dtype=np.int64))
        index = int(np.flatnonzero(rows)[stats.worst_index // per_row]) if stats.worst_index is not None else -1
        reason = f"{stats.describe()} vs budget {budget.describe() if budget else 'exact'}; first bad row {index}"
    return Outcome(
        model=model,
        input_set=input_set,
        pair=pair,
        output=output,
        status=verdict,
        rows=int(rows.sum()),
        rows_excluded=int((~rows).sum()),
        stats=stats,
        budget=budget,
        reason=reason,
    )


_COLUMNS = (
    ("model", 15),
    ("input set", 22),
    ("pair", 22),
    ("output", 13),
    ("rows", 6),
    ("max abs", 9),
    ("max rel", 9),
    ("ulp", 5),
    ("budget", 31),
    ("used", 7),
    ("status", 0),
)


def format_table(outcomes: List[Outcome]) -> List[str]:
    """The margin table: measured errors beside each budget and the share of it used."""

    def line(cells: List[str]) -> str:
        return " ".join(f"{c:<{w}}" if w else c for c, (_, w) in zip(cells, _COLUMNS)).rstrip()

    lines = [line([name for name, _ in _COLUMNS])]
    lines.append("-" * len(lines[0]))
    for o in sorted(outcomes, key=lambda o: (o.model, o.input_set, o.pair, o.output)):
        head = [o.model, o.input_set, o.pair_name, o.output]
        if o.stats is None:
            lines.append(line([*head, "", "", "", "", "", "", f"{o.status}: {o.reason}"]))
            continue
        s = o.stats
        budget = o.budget.describe() if o.budget else "exact"
        numbers = [str(o.rows), f"{s.max_abs:.2e}", f"{s.max_rel:.2e}", str(s.max_ulp), budget, f"{s.budget_used:.1%}"]
        lines.append(line([*head, *numbers, o.status]))
    return lines
