"""The Node worker: one process, binary frames, and faults that fail fast with stderr."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from harness.artifacts import Artifacts
from harness.backends.ort_node import OrtNode, find_node
from harness.backends.worker_protocol import WorkerProcess
from harness.errors import BackendUnavailable, WorkerError

from .helpers import gone

pytestmark = pytest.mark.unit

node = shutil.which("node")
needs_node = pytest.mark.skipif(node is None, reason="no node on PATH")


@needs_node
def test_worker_reports_versions_and_serves_many_models(artifacts: Artifacts) -> None:
    backend = OrtNode(artifacts)
    try:
        versions = backend.versions()
        assert versions["onnxruntime-node"] == backend.hello["versions"]["node"]
        x = artifacts.inputs("edge")
        for model in artifacts.manifest["models"]:
            outputs = backend.run(model, x)
            assert set(outputs) == set(artifacts.manifest["models"][model]["outputs"])
        assert backend.worker.proc.poll() is None  # still the same process
    finally:
        backend.close()
    assert gone(backend.pid)


@needs_node
def test_worker_killed_mid_run_fails_with_its_state(artifacts: Artifacts) -> None:
    backend = OrtNode(artifacts, timeout=10)
    backend.run("ridge", artifacts.inputs("edge"))
    os.kill(backend.pid, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"node worker \(pid \d+\) (died|did not)") as info:
        backend.run("rf_reg_50_d5", artifacts.inputs("nominal"))
    assert time.monotonic() - start < 10
    assert "exited with -9" in str(info.value)
    backend.close()


@needs_node
def test_hung_worker_times_out_and_is_killed() -> None:
    proc = WorkerProcess(
        [node, "-e", "process.stderr.write('stuck here\\n'); setInterval(() => {}, 1000)"],
        name="hung worker",
        timeout=1.0,
    )
    start = time.monotonic()
    with pytest.raises(
        WorkerError,
        match=r"hung worker .* did not answer 'hello' within 1 s; killed by the harness; stderr: stuck here",
    ):
        proc.request({"op": "hello"})
    assert time.monotonic() - start < 5
    assert gone(proc.proc.pid)


@needs_node
def test_worker_dying_at_start_reports_stderr_and_code() -> None:
    proc = WorkerProcess([node, "-e", "process.stderr.write('boom\\n'); process.exit(7)"], name="bad worker", timeout=5)
    with pytest.raises(WorkerError, match=r"exited with 7; stderr: boom"):
        proc.request({"op": "hello"}, [b"x" * 10])


@needs_node
def test_worker_error_answer_keeps_worker_alive(artifacts: Artifacts) -> None:
    backend = OrtNode(artifacts)
    try:
        with pytest.raises(WorkerError, match="no session loaded under key nope"):
            backend.worker.request({"op": "run", "key": "nope", "inputs": []})
        assert backend.run("ridge", np.zeros((3, 4), dtype=np.float32))["variable"].shape == (3, 1)
    finally:
        backend.close()


def test_missing_node_binary_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONNX_INV_NODE", "/nonexistent/node")
    with pytest.raises(BackendUnavailable, match=r"Node.js not found \(/nonexistent/node\); install Node >= 18"):
        find_node()


@needs_node
def test_missing_onnxruntime_node_says_how_to_install(artifacts: Artifacts, tmp_path: Path) -> None:
    with pytest.raises(
        BackendUnavailable, match=r"onnxruntime-node is not installed in .*npm install --ignore-scripts"
    ):
        OrtNode(artifacts, prefix=tmp_path)
