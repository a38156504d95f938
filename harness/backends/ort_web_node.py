"""onnxruntime-web's WASM backend under Node, served by one long-lived ``node/web_worker.mjs``."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from ..artifacts import ROOT, Artifacts
from .node_worker_backend import DEFAULT_TIMEOUT_S, NodeWorkerBackend, find_node, prefix_from, require_npm_package

WORKER = ROOT / "node" / "web_worker.mjs"
PACKAGE = "onnxruntime-web"


def web_prefix(explicit: Optional[Path] = None) -> Path:
    """The folder whose node_modules holds onnxruntime-web: ``explicit``, else
    $ONNX_INV_WEB_PREFIX, else $ONNX_INV_NODE_PREFIX (a matrix cell's one prefix), else the repo."""
    return prefix_from(explicit, "ONNX_INV_WEB_PREFIX", "ONNX_INV_NODE_PREFIX")


def require_package(prefix: Path) -> Path:
    """The installed onnxruntime-web folder under ``prefix``, or BackendUnavailable saying how."""
    return require_npm_package(prefix, PACKAGE)


class OrtWebNode(NodeWorkerBackend):
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
        self.threads_requested = threads
        self._start(argv, "onnxruntime-web node worker", timeout)

    @property
    def threads(self) -> int:
        """WASM threads in effect (known for certain once a model is loaded)."""
        loaded = self._loaded_threads()
        return int(self.hello["threads"]) if loaded is None else loaded

    def versions(self) -> Mapping[str, str]:
        return {
            "node": self.hello["node"],
            "onnxruntime-web": self.hello["package_version"],
            "onnxruntime-common": self._common_version(),
            "wasm-threads": str(self.threads),
        }
