"""onnxruntime-web's WASM build under Node: one worker, its thread setting, and its faults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.artifacts import Artifacts
from harness.backends.ort_web_node import OrtWebNode
from harness.errors import BackendUnavailable, WorkerError
from harness.registry import BITWISE, KERNELS, MODELS, PAIRS

from .helpers import gone

pytestmark = pytest.mark.unit

needs_web = pytest.mark.skipif(
    shutil.which("node") is None or not (Path("node_modules") / "onnxruntime-web" / "package.json").exists(),
    reason="node or node_modules/onnxruntime-web missing (npm ci --ignore-scripts)",
)


def test_web_pairs_are_registered_with_budgets() -> None:
    for pair in [("ort-node", "ort-web-node"), ("ort-web-node", "ort-web-browser")]:
        assert pair in PAIRS
    assert {b for pair in PAIRS for b in pair} - {"sklearn"} == set(KERNELS)
    for spec in MODELS:
        # the same .wasm under Node and in Chromium: bit for bit
        assert spec.budgets[("ort-web-node", "ort-web-browser")] == BITWISE
        if spec.is_tree:  # measured bit-identical to the native build on every input set
            assert spec.budgets[("ort-node", "ort-web-node")] == BITWISE


@needs_web
def test_one_worker_serves_every_model_with_one_thread(artifacts: Artifacts) -> None:
    backend = OrtWebNode(artifacts, threads=1)
    try:
        versions = backend.versions()
        package = json.loads(Path("node_modules/onnxruntime-web/package.json").read_text())
        assert versions["onnxruntime-web"] == package["version"] == backend.hello["versions"]["web"]
        x = artifacts.inputs("edge")
        for model in artifacts.manifest["models"]:
            outputs = backend.run(model, x)
            assert list(outputs) == artifacts.manifest["models"][model]["outputs"]
            assert all(len(v) == len(x) for v in outputs.values())
        assert backend.threads == 1
        assert backend.worker.proc.poll() is None
    finally:
        backend.close()
    assert gone(backend.pid)


@needs_web
def test_two_threads_are_honoured_under_node(artifacts: Artifacts) -> None:
    """onnxruntime-web 1.30 runs multi-threaded WASM under Node (worker_threads): the thread
    count in effect is the one asked for, and the results stay within float32 rounding."""
    one = OrtWebNode(artifacts, threads=1)
    two = OrtWebNode(artifacts, threads=2)
    try:
        x = artifacts.inputs("nominal")
        a = one.run("rf_reg_50_d5", x)["variable"]
        b = two.run("rf_reg_50_d5", x)["variable"]
        assert (one.threads, two.threads) == (1, 2)
        assert two.versions()["wasm-threads"] == "2"
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
    finally:
        one.close()
        two.close()


@needs_web
def test_missing_package_is_unavailable_naming_the_prefix(artifacts: Artifacts, tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match=rf"onnxruntime-web is not installed in {tmp_path}/node_modules"):
        OrtWebNode(artifacts, prefix=tmp_path)


@needs_web
def test_bad_model_bytes_fail_in_one_line_and_the_worker_keeps_serving(artifacts: Artifacts) -> None:
    backend = OrtWebNode(artifacts)
    try:
        with pytest.raises(WorkerError, match=r"onnxruntime-web node worker: load failed: .+") as info:
            backend.worker.request({"op": "load", "key": "junk"}, [b"not an onnx model"])
        assert "\n" not in str(info.value)
        assert backend.run("ridge", artifacts.inputs("edge"))["variable"].shape == (80, 1)
    finally:
        backend.close()
