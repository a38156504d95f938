"""onnxruntime-web (WASM) in a real headless Chromium, driven by one long-lived
``node/browser_worker.mjs`` (playwright-core) per run.

The browser gets a fresh profile folder of its own; on close, any process still naming that
folder on its command line is killed by pid and the folder removed, so no Chromium outlives
a run even when the driver itself was killed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional

import numpy as np

from ..artifacts import ROOT, Artifacts, atomic_write
from ..errors import BackendUnavailable, run_cli
from .node_worker_backend import DEFAULT_TIMEOUT_S, NodeWorkerBackend, find_node
from .ort_web_node import require_package, web_prefix

WORKER = ROOT / "node" / "browser_worker.mjs"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
MIN_DRIVER_NODE_MAJOR = 20  # playwright-core's own requirement
PROFILE_PREFIX = "onnx-inv-chromium-"
#: How long a closed browser may take to exit before its processes are killed.
CLOSE_GRACE_S = 5.0


def find_chromium(explicit: Optional[str] = None) -> str:
    """Debian's Chromium: ``explicit``, else $ONNX_INV_CHROMIUM, else /usr/bin/chromium, else PATH."""
    chosen = explicit or os.environ.get("ONNX_INV_CHROMIUM")
    candidates = [chosen] if chosen else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    for candidate in filter(None, candidates):
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BackendUnavailable(
        f"Chromium not found ({chosen or DEFAULT_CHROMIUM}); install it with `apt-get install -y chromium` "
        "as root (`nox -s invariance` does when it can) or set ONNX_INV_CHROMIUM to its binary"
    )


def driver_node() -> str:
    """The Node that runs the driver: $ONNX_INV_BROWSER_NODE, else ``node`` on PATH. Not a
    matrix cell's Node: what is measured runs in Chromium, and playwright-core needs Node >= 20."""
    node = find_node(os.environ.get("ONNX_INV_BROWSER_NODE") or shutil.which("node"))
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < MIN_DRIVER_NODE_MAJOR:
        raise BackendUnavailable(
            f"{node} is Node {version}; the browser driver (playwright-core) needs Node >= {MIN_DRIVER_NODE_MAJOR}; "
            "set ONNX_INV_BROWSER_NODE"
        )
    return node


def processes_naming(marker: str) -> List[int]:
    """Pids of live processes whose command line contains ``marker`` (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            pids.append(int(entry.name))
    return pids


class OrtWebBrowser(NodeWorkerBackend):
    name = "ort-web-browser"

    def __init__(
        self,
        artifacts: Artifacts,
        threads: int = 1,
        prefix: Optional[Path] = None,
        chromium: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        page_timeout: Optional[float] = None,
    ) -> None:
        self.artifacts = artifacts
        self.chromium = find_chromium(chromium)
        self.prefix = web_prefix(prefix)
        require_package(self.prefix)
        # the driver loads playwright-core from the prefix (a matrix cell's) or else from this repo
        if not any(
            (base / "node_modules" / "playwright-core" / "package.json").exists() for base in (self.prefix, ROOT)
        ):
            raise BackendUnavailable(
                f"playwright-core is not installed in {self.prefix}/node_modules nor in {ROOT}/node_modules; "
                f"run `npm ci --ignore-scripts` in {ROOT}"
            )
        node = driver_node()
        self.profile = tempfile.mkdtemp(prefix=PROFILE_PREFIX)
        page_ms = int(1000 * (page_timeout if page_timeout is not None else 0.8 * timeout))
        argv = [
            node,
            str(WORKER),
            "--prefix",
            str(self.prefix),
            "--chromium",
            self.chromium,
            "--user-data-dir",
            self.profile,
            "--threads",
            str(threads),
            "--timeout-ms",
            str(page_ms),
        ]
        self.threads_requested = threads
        self._start(argv, "browser worker", timeout)

    @property
    def threads(self) -> int:
        loaded = self._loaded_threads()
        return self.threads_requested if loaded is None else loaded

    def versions(self) -> Mapping[str, str]:
        return {
            "browser": self.hello.get("browser") or self.hello.get("user_agent", "unknown"),
            "onnxruntime-web": self.hello["package_version"],
            "onnxruntime-common": self._common_version(),
            "wasm-threads": str(self.threads),
        }

    def run(self, model: str, inputs: np.ndarray, label: str = "") -> Dict[str, np.ndarray]:
        """Run in the page; ``label`` (an input set's name) is only shown on the page."""
        return self._run(model, inputs, label=label)

    def screenshot(self) -> bytes:
        """The page as a PNG: versions, models, row counts and session.run times so far."""
        return self.worker.request({"op": "screenshot"})[1]

    def browser_pids(self) -> List[int]:
        """Live processes of this run's Chromium (they all name its fresh profile folder)."""
        return processes_naming(self.profile)

    def close(self) -> None:
        """Close the driver (it closes the browser), then kill whatever still names the profile."""
        super().close()
        deadline = time.monotonic() + CLOSE_GRACE_S
        pids = self.browser_pids()
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = self.browser_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    """Run every committed model on every reference input set in Chromium; save the page."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.backends.ort_web_browser",
        description="Run the reference models in headless Chromium and save a PNG of the test page.",
    )
    parser.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "browser-page.png")
    args = parser.parse_args(argv)
    artifacts = Artifacts()
    backend = OrtWebBrowser(artifacts, threads=1)
    try:
        for model, input_set in artifacts.cases():
            backend.run(model, artifacts.inputs(input_set), label=input_set)
        png = backend.screenshot()
        versions = dict(backend.versions())
    finally:
        backend.close()
    atomic_write(args.screenshot, png)
    print(f"{args.screenshot}: {len(png):,} bytes; {versions}")
    return 0


if __name__ == "__main__":
    run_cli(main)
