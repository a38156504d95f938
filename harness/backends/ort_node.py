"""onnxruntime-node, served by one long-lived ``node/worker.mjs`` process per run."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from ..artifacts import ROOT, Artifacts
from .node_worker_backend import (  # noqa: F401 (MIN_NODE_MAJOR: public here as before)
    DEFAULT_TIMEOUT_S,
    MIN_NODE_MAJOR,
    NodeWorkerBackend,
    find_node,
    prefix_from,
    require_npm_package,
)

WORKER = ROOT / "node" / "worker.mjs"


def node_prefix(explicit: Optional[Path] = None) -> Path:
    return prefix_from(explicit, "ONNX_INV_NODE_PREFIX")


class OrtNode(NodeWorkerBackend):
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
        require_npm_package(self.prefix, "onnxruntime-node")
        argv = [self.node, str(WORKER), "--prefix", str(self.prefix)]
        self._start(argv, "node worker", timeout, load_fields={"threads": threads})

    def versions(self) -> Mapping[str, str]:
        return {
            "node": self.hello["node"],
            "onnxruntime-node": self.hello["package_version"],
            "onnxruntime-common": self._common_version(),
        }
