"""onnxruntime-node, served by one long-lived ``node/worker.mjs`` process per run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Mapping, Optional

import numpy as np

from ..artifacts import ROOT, Artifacts
from ..errors import BackendUnavailable
from ..registry import INPUT_NAME
from .worker_protocol import WorkerProcess, pack_tensors, unpack_tensors

WORKER = ROOT / "node" / "worker.mjs"
MIN_NODE_MAJOR = 18
#: How long one request may take before the worker is declared hung (env overrides).
DEFAULT_TIMEOUT_S = float(os.environ.get("ONNX_INV_WORKER_TIMEOUT", "120"))


def find_node(explicit: Optional[str] = None) -> str:
    """The Node binary: ``explicit``, else $ONNX_INV_NODE, else ``node`` on PATH (>= 18)."""
    node = explicit or os.environ.get("ONNX_INV_NODE") or shutil.which("node")
    if not node or not Path(node).exists():
        raise BackendUnavailable(
            f"Node.js not found ({node or 'no `node` on PATH'}); install Node >= {MIN_NODE_MAJOR} "
            "or set ONNX_INV_NODE to its binary"
        )
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    match = re.match(r"v(\d+)\.", out.stdout.strip())
    if out.returncode != 0 or not match:
        raise BackendUnavailable(f"{node} --version failed: {out.stderr.strip() or out.stdout.strip()}")
    if int(match.group(1)) < MIN_NODE_MAJOR:
        raise BackendUnavailable(f"{node} is Node {out.stdout.strip()}; Node >= {MIN_NODE_MAJOR} is needed")
    return node


def node_prefix(explicit: Optional[Path] = None) -> Path:
    return Path(explicit or os.environ.get("ONNX_INV_NODE_PREFIX") or ROOT)


class OrtNode:
    name = "ort-node"

    def __init__(
        self,
        artifacts: Artifacts,
        threads: int = 1,
        node: Optional[str] = None,
        prefix: Optional[Path] = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.artifacts = artifacts
        self.threads = threads
        self.node = find_node(node)
        self.prefix = node_prefix(prefix)
        if not (self.prefix / "node_modules" / "onnxruntime-node" / "package.json").exists():
            raise BackendUnavailable(
                f"onnxruntime-node is not installed in {self.prefix}/node_modules; run "
                f"`npm install --ignore-scripts` there (or `nox -s invariance`)"
            )
        self.worker = WorkerProcess(
            [self.node, str(WORKER), "--prefix", str(self.prefix)], name="node worker", timeout=timeout
        )
        self.hello, _ = self.worker.request({"op": "hello"})
        self._loaded: Dict[str, bool] = {}

    def versions(self) -> Mapping[str, str]:
        common = (self.hello.get("versions") or {}).get("common")
        return {
            "node": self.hello["node"],
            "onnxruntime-node": self.hello["package_version"],
            "onnxruntime-common": common or "unknown",
        }

    def run(self, model: str, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        if model not in self._loaded:
            self.worker.request(
                {"op": "load", "key": model, "threads": self.threads}, [self.artifacts.model_bytes(model)]
            )
            self._loaded[model] = True
        specs, chunks = pack_tensors({INPUT_NAME: np.ascontiguousarray(inputs, dtype=np.float32)})
        answer, payload = self.worker.request({"op": "run", "key": model, "inputs": specs}, chunks)
        return unpack_tensors(answer["outputs"], payload)

    @property
    def pid(self) -> int:
        return self.worker.proc.pid

    def close(self) -> None:
        self.worker.close()
