"""Shared fixtures: one verified artifact set, one set of backends (one Node worker) per run,
and the margin table printed at the end of every run."""

from __future__ import annotations

import os
from typing import Dict, List

import pytest

from harness.artifacts import Artifacts
from harness.backends.ort_node import OrtNode
from harness.backends.ort_python import OrtPython
from harness.backends.ort_web_browser import OrtWebBrowser, processes_naming
from harness.backends.ort_web_node import OrtWebNode
from harness.errors import ArtifactError
from harness.invariance import BackendRuns, Outcome, cases, format_table

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: Backends that must run under CI=true: a missing one is an error there, not a skip.
REQUIRED_IN_CI = ("ort-python", "ort-node", "ort-web-node", "ort-web-browser")

OUTCOMES: List[Outcome] = []
NODE_WORKERS_STARTED: List[int] = []
BROWSER_PROFILES: List[str] = []  # one fresh Chromium profile per browser backend started


_VERIFIED: List[Artifacts] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """Verify every committed artifact before anything is collected: a bad file stops the run
    with one line per problem (file, expected vs found sha256) and exit code 3."""
    try:
        artifacts = Artifacts()
    except ArtifactError as exc:
        pytest.exit(str(exc), returncode=ArtifactError.exit_code)
    problems = artifacts.verify_all()
    if problems:
        pytest.exit("\n".join(problems), returncode=ArtifactError.exit_code)
    _VERIFIED.append(artifacts)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "invariance_case" in metafunc.fixturenames:
        params = list(cases(_VERIFIED[0]))
        metafunc.parametrize(
            "invariance_case",
            params,
            ids=[f"{m}-{s}-{a}~{b}-{o}" for m, s, (a, b), o in params],
        )


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    return _VERIFIED[0]


def _node_backend(artifacts: Artifacts) -> OrtNode:
    backend = OrtNode(artifacts, threads=1)
    NODE_WORKERS_STARTED.append(backend.pid)
    return backend


def _browser_backend(artifacts: Artifacts) -> OrtWebBrowser:
    backend = OrtWebBrowser(artifacts, threads=1)
    BROWSER_PROFILES.append(backend.profile)
    return backend


@pytest.fixture(scope="session")
def runs(artifacts: Artifacts):
    factories = {
        "ort-python": lambda: OrtPython(artifacts, threads=1),
        "ort-node": lambda: _node_backend(artifacts),
        "ort-web-node": lambda: OrtWebNode(artifacts, threads=1),
        "ort-web-browser": lambda: _browser_backend(artifacts),
    }
    runs = BackendRuns(artifacts, factories)
    yield runs
    runs.close()


def record(outcome: Outcome) -> None:
    """Keep the outcome for the table; turn skips and failures into pytest's verdicts."""
    OUTCOMES.append(outcome)
    if outcome.status == "skipped":
        required = [b for b in outcome.pair if b in REQUIRED_IN_CI]
        if IN_CI and required:
            pytest.fail(f"CI=true requires {'/'.join(required)}: {outcome.reason}", pytrace=False)
        pytest.skip(outcome.reason)
    if outcome.status == "failed":
        pytest.fail(f"{outcome.case_id}: {outcome.reason}", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not OUTCOMES:
        return
    tr = terminalreporter
    tr.section("invariance: measured error vs budget")
    for line in format_table(OUTCOMES):
        tr.write_line(line)
    measured = [o for o in OUTCOMES if o.stats is not None and o.budget is not None and o.budget.max_ulp > 0]
    if measured:
        worst = max(measured, key=lambda o: o.stats.budget_used)
        tr.write_line(
            f"smallest budget margin: {1 - worst.stats.budget_used:.1%} left ({worst.case_id}, "
            f"{worst.stats.budget_used:.1%} of budget used)"
        )
    counts: Dict[str, int] = {}
    for o in OUTCOMES:
        counts[o.status] = counts.get(o.status, 0) + 1
    rows = sum(o.rows for o in OUTCOMES)
    tr.write_line(
        f"checks: {counts}; rows compared: {rows:,}; node worker processes started: {len(NODE_WORKERS_STARTED)}"
    )
    if BROWSER_PROFILES:
        left = [pid for profile in BROWSER_PROFILES for pid in processes_naming(profile)]
        tr.write_line(f"browsers started: {len(BROWSER_PROFILES)}; browser processes left after the run: {len(left)}")
