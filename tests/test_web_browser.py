"""onnxruntime-web in headless Chromium: what the page reports, its faults in one line, and
no browser process outliving a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.artifacts import Artifacts
from harness.backends.ort_web_browser import OrtWebBrowser, find_chromium
from harness.errors import BackendUnavailable, WorkerError
from harness.invariance import BackendSkipped

from .conftest import IN_CI

pytestmark = pytest.mark.unit


def _chromium_missing() -> str:
    try:
        find_chromium()
    except BackendUnavailable as exc:
        return str(exc)
    return ""


@pytest.fixture
def browser_ok() -> None:
    missing = _chromium_missing()
    if missing and IN_CI:
        pytest.fail(f"CI=true requires ort-web-browser: {missing}", pytrace=False)
    if missing:
        pytest.skip(missing)


def no_browser_left(backend: OrtWebBrowser) -> bool:
    """Nothing runs with this backend's profile folder, by /proc and by `pgrep -f`."""
    found = subprocess.run(["pgrep", "-f", backend.profile], capture_output=True, text=True)
    return not backend.browser_pids() and found.returncode == 1 and not Path(backend.profile).exists()


def fake_prefix(root: Path, ort_min_js: str) -> Path:
    """A node_modules with an 'onnxruntime-web' whose dist/ort.min.js is ``ort_min_js``."""
    package = root / "node_modules" / "onnxruntime-web"
    (package / "dist").mkdir(parents=True)
    manifest = {"name": "onnxruntime-web", "version": "0.0.0-fake", "main": "dist/ort.min.js"}
    (package / "package.json").write_text(json.dumps(manifest))
    (package / "dist" / "ort.min.js").write_text(ort_min_js)
    return root


def test_page_runs_models_in_binary_and_reports_faults_in_one_line(browser_ok, runs) -> None:
    """The suite's own browser (shared with the invariance checks, closed at the end of the run)."""
    try:
        backend = runs.backend("ort-web-browser")
    except BackendSkipped as exc:
        pytest.fail(str(exc), pytrace=False)
    artifacts = runs.artifacts
    assert backend.browser_pids(), "Chromium should be running with the backend's own profile"
    versions = backend.versions()
    assert versions["onnxruntime-web"] == backend.hello["versions"]["web"]
    assert versions["browser"].startswith("Chromium ")
    assert backend.hello["origin"].startswith("http://127.0.0.1:")
    outputs = backend.run("logreg", artifacts.inputs("edge"), label="edge")
    assert outputs["label"].dtype.name == "int64" and outputs["probabilities"].shape == (80, 2)
    with pytest.raises(WorkerError, match=r"browser worker: load failed: loading model junk: .+") as info:
        backend.worker.request({"op": "load", "key": "junk"}, [b"not an onnx model"])
    assert "\n" not in str(info.value)
    assert backend.run("ridge", artifacts.inputs("edge"))["variable"].shape == (80, 1)  # still serving
    assert backend.screenshot().startswith(b"\x89PNG\r\n\x1a\n")


def test_page_that_cannot_load_onnxruntime_web_reports_the_console_error(
    browser_ok, artifacts: Artifacts, tmp_path: Path
) -> None:
    prefix = fake_prefix(tmp_path, "throw new Error('ort bundle exploded');")
    start = time.monotonic()
    with pytest.raises(WorkerError) as info:
        OrtWebBrowser(artifacts, prefix=prefix, timeout=30)
    message = str(info.value)
    assert "\n" not in message
    assert "window.ort is undefined" in message
    assert "browser console: Error: ort bundle exploded" in message
    assert time.monotonic() - start < 30
    assert not subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True).stdout


def test_hung_page_times_out_and_the_browser_is_closed(browser_ok, artifacts: Artifacts, tmp_path: Path) -> None:
    never = (
        "window.ort = {env: {wasm: {}, versions: {web: 'hang'}},"
        " InferenceSession: {create: () => new Promise(() => {})}};"
    )
    backend = OrtWebBrowser(artifacts, prefix=fake_prefix(tmp_path, never), timeout=30, page_timeout=1.0)
    try:
        start = time.monotonic()
        with pytest.raises(
            WorkerError, match=r"loading model ridge: page did not finish loading model ridge within 1 s"
        ):
            backend.run("ridge", artifacts.inputs("edge"))
        assert time.monotonic() - start < 10
    finally:
        backend.close()
    assert no_browser_left(backend)


def test_killed_driver_leaves_no_chromium(browser_ok, artifacts: Artifacts) -> None:
    backend = OrtWebBrowser(artifacts)
    assert backend.browser_pids()
    os.kill(backend.pid, signal.SIGKILL)
    backend.close()
    assert no_browser_left(backend)
