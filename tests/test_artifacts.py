"""Committed artifacts: verified on every read; a bad file is one line naming it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.artifacts import ROOT, Artifacts
from harness.errors import ArtifactError

pytestmark = pytest.mark.unit


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    for folder in ("models", "reference_data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def check_cli(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.generate", "--check", "--root", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_committed_artifacts_verify(artifacts: Artifacts) -> None:
    assert artifacts.verify_all() == []


def test_check_cli_passes_on_committed_copy(copy: Path) -> None:
    result = check_cli(copy)
    assert result.returncode == 0, result.stderr
    assert "all match" in result.stdout


def test_flipped_byte_in_model_is_named_with_both_hashes(copy: Path) -> None:
    path = copy / "models" / "rf_reg_10_d3.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(
        ArtifactError, match=r"models/rf_reg_10_d3.onnx: altered .* expected sha256 \w{64}, found \w{64}"
    ):
        Artifacts(copy).model_bytes("rf_reg_10_d3")
    result = check_cli(copy)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "models/rf_reg_10_d3.onnx: altered" in line
    ]
    assert "Traceback" not in result.stderr


def test_truncated_reference_array(copy: Path) -> None:
    path = copy / "reference_data" / "inputs" / "nominal.f32.bin"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match=r"nominal.f32.bin: truncated \(1000 of 320000 bytes\)"):
        Artifacts(copy).inputs("nominal")


def test_missing_model(copy: Path) -> None:
    (copy / "models" / "ridge.onnx").unlink()
    with pytest.raises(ArtifactError, match=r"models/ridge.onnx: missing"):
        Artifacts(copy).model_bytes("ridge")
    assert check_cli(copy).returncode == 3


def test_manifest_not_json(copy: Path) -> None:
    (copy / "reference_data" / "manifest.json").write_text("{ not json")
    with pytest.raises(ArtifactError, match=r"manifest.json: not valid JSON"):
        Artifacts(copy)
    result = check_cli(copy)
    assert result.returncode == 3 and "not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_array_not_in_manifest(copy: Path) -> None:
    manifest_path = copy / "reference_data" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["arrays"]["reference_data/inputs/edge.f32.bin"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=r"edge.f32.bin: not listed in manifest.json"):
        Artifacts(copy).inputs("edge")


def test_node_reads_the_same_arrays(artifacts: Artifacts) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH")
    for rel in ("reference_data/inputs/edge.f32.bin", "reference_data/sklearn/logreg/nominal.label.i64.bin"):
        out = subprocess.run([node, str(ROOT / "node" / "reference.mjs"), rel], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        array = artifacts.array(rel)
        assert got["shape"] == list(array.shape)
        assert got["dtype"] == artifacts.manifest["arrays"][rel]["dtype"]
        expected = float(np.nansum(array.astype(np.float64))) if not np.isnan(array).any() else None
        if expected is not None:
            assert got["sum"] == pytest.approx(expected, rel=1e-12)
