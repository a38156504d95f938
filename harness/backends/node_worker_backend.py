"""What the backends served by one long-lived Node worker share (``ort_node``, ``ort_web_node``,
``ort_web_browser``): finding Node and the npm prefix, starting the worker and greeting it,
loading each model once, running it by name, and closing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

from ..artifacts import ROOT, Artifacts
from ..errors import BackendUnavailable
from ..registry import INPUT_NAME
from .worker_protocol import WorkerProcess, pack_tensors, unpack_tensors

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
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise BackendUnavailable(f"{node} --version did not answer within 30 s") from None
    except OSError as exc:
        raise BackendUnavailable(f"{node} cannot run: {exc.strerror}") from None
    match = re.match(r"v(\d+)\.", out.stdout.strip())
    if out.returncode != 0 or not match:
        raise BackendUnavailable(f"{node} --version failed: {out.stderr.strip() or out.stdout.strip()}")
    if int(match.group(1)) < MIN_NODE_MAJOR:
        raise BackendUnavailable(f"{node} is Node {out.stdout.strip()}; Node >= {MIN_NODE_MAJOR} is needed")
    return node


def prefix_from(explicit: Optional[Path], *variables: str) -> Path:
    """``explicit``, else the first of the environment ``variables`` that is set, else the repo."""
    chosen = explicit
    for variable in variables:
        chosen = chosen or os.environ.get(variable)
    return Path(chosen or ROOT)


def require_npm_package(prefix: Path, package: str) -> Path:
    """The installed ``package`` folder under ``prefix``, or BackendUnavailable saying how."""
    folder = prefix / "node_modules" / package
    if not (folder / "package.json").exists():
        raise BackendUnavailable(
            f"{package} is not installed in {prefix}/node_modules; run `npm install --ignore-scripts` "
            "there (or `nox -s invariance`)"
        )
    return folder


class NodeWorkerBackend:
    """A backend whose models run in one long-lived worker speaking node/protocol.mjs: the
    subclass builds the worker's command line and calls ``_start``; ``load`` sends each model's
    bytes once and ``run`` runs a loaded model by name."""

    name = ""
    artifacts: Artifacts
    worker: WorkerProcess
    hello: Dict[str, Any]

    def _start(
        self, argv: Sequence[str], worker_name: str, timeout: float, load_fields: Optional[Mapping[str, Any]] = None
    ) -> None:
        """Start the worker and ask its hello (a worker that fails it is closed); ``load_fields``
        go into every ``load`` request."""
        self._loaded: Dict[str, Dict[str, Any]] = {}
        self._load_fields = dict(load_fields or {})
        self.worker = WorkerProcess(argv, name=worker_name, timeout=timeout)
        try:
            self.hello, _ = self.worker.request({"op": "hello"})
        except BaseException:
            self.close()
            raise

    def _common_version(self) -> str:
        return (self.hello.get("versions") or {}).get("common") or "unknown"

    def _loaded_threads(self) -> Optional[int]:
        """The thread count a load answered (known for certain once a model is loaded)."""
        for answer in self._loaded.values():
            return int(answer["threads"])
        return None

    def load(self, model: str) -> None:
        if model not in self._loaded:
            header = {"op": "load", "key": model, **self._load_fields}
            answer, _ = self.worker.request(header, [self.artifacts.model_bytes(model)])
            self._loaded[model] = answer

    def _run(self, model: str, inputs: np.ndarray, **fields: Any) -> Dict[str, np.ndarray]:
        self.load(model)
        specs, chunks = pack_tensors({INPUT_NAME: np.ascontiguousarray(inputs, dtype=np.float32)})
        answer, payload = self.worker.request({"op": "run", "key": model, "inputs": specs, **fields}, chunks)
        return unpack_tensors(answer["outputs"], payload)

    def run(self, model: str, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        return self._run(model, inputs)

    @property
    def pid(self) -> int:
        return self.worker.proc.pid

    def close(self) -> None:
        self.worker.close()
