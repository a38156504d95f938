"""onnxruntime-web's WASM backend under Node, served by one long-lived ``node/web_worker.mjs``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import numpy as np

from ..artifacts import ROOT, Artifacts
from ..errors import BackendUnavailable
from ..registry import INPUT_NAME
from .ort_node import DEFAULT_TIMEOUT_S, find_node
from .worker_protocol import WorkerProcess, pack_tensors, unpack_tensors

WORKER = ROOT / "node" / "web_worker.mjs"
PACKAGE = "onnxruntime-web"


def web_prefix(explicit: Optional[Path] = None) -> Path:
    """The folder whose node_modules holds onnxruntime-web: ``explicit``, else
    $ONNX_INV_WEB_PREFIX, else $ONNX_INV_NODE_PREFIX (a matrix cell's one prefix), else the repo."""
    chosen = explicit or os.environ.get("ONNX_INV_WEB_PREFIX") or os.environ.get("ONNX_INV_NODE_PREFIX") or ROOT
    return Path(chosen)


def require_package(prefix: Path) -> Path:
    """The installed onnxruntime-web folder under ``prefix``, or BackendUnavailable saying how."""
    folder = prefix / "node_modules" / PACKAGE
    if not (folder / "package.json").exists():
        raise BackendUnavailable(
            f"{PACKAGE} is not installed in {prefix}/node_modules; run `npm install --ignore-scripts` "
            "there (or `nox -s invariance`)"
        )
    return folder


class OrtWebNode:
    name = "ort-web-node"

    def __init__(
        self,
        artifacts: Artifacts,
        threads: int = 1,
        node: Optional[str] = None,
        prefix: Optional[Path] = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.artifacts = artifacts
        self.node = find_node(node)
        self.prefix = web_prefix(prefix)
        require_package(self.prefix)
        argv = [self.node, str(WORKER), "--prefix", str(self.prefix), "--threads", str(threads)]
        self.worker = WorkerProcess(argv, name="onnxruntime-web node worker", timeout=timeout)
        self.hello, _ = self.worker.request({"op": "hello"})
        self.threads_requested = threads
        self._loaded: Dict[str, Dict[str, Any]] = {}

    @property
    def threads(self) -> int:
        """WASM threads in effect (known for certain once a model is loaded)."""
        for answer in self._loaded.values():
            return int(answer["threads"])
        return int(self.hello["threads"])

    def versions(self) -> Mapping[str, str]:
        common = (self.hello.get("versions") or {}).get("common")
        return {
            "node": self.hello["node"],
            "onnxruntime-web": self.hello["package_version"],
            "onnxruntime-common": common or "unknown",
            "wasm-threads": str(self.threads),
        }

    def load(self, model: str) -> None:
        if model not in self._loaded:
            answer, _ = self.worker.request({"op": "load", "key": model}, [self.artifacts.model_bytes(model)])
            self._loaded[model] = answer

    def run(self, model: str, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        self.load(model)
        specs, chunks = pack_tensors({INPUT_NAME: np.ascontiguousarray(inputs, dtype=np.float32)})
        answer, payload = self.worker.request({"op": "run", "key": model, "inputs": specs}, chunks)
        return unpack_tensors(answer["outputs"], payload)

    @property
    def pid(self) -> int:
        return self.worker.proc.pid

    def close(self) -> None:
        self.worker.close()
