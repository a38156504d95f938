"""Sessions of the onnx-invariance harness. Every version comes from matrix.toml.

nox -s tests              unit tests + invariance suite on the default cell (the CI command)
nox -s invariance         the three-way invariance suite on the default cell
nox -s generate           retrain and export the reference models (pinned env; rarely)
nox -s generate -- --check   verify the committed artifacts, write nothing
nox -s bench              benchmarks on the default cell
nox -s lint               ruff
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.config import load_matrix  # noqa: E402

MATRIX = load_matrix()
GENERATE = MATRIX["generate"]
DEFAULT = MATRIX["default-cell"]
TEST_DEPS = ("pytest>=7", "tomli>=1.1; python_version < '3.11'", "packaging>=21")


def interpreter(version: str) -> str:
    """A CPython ``version`` ("3.12"): the newest pyenv build of it when pyenv has one (its
    shims hide versions not named in PYENV_VERSION), else whatever nox finds on PATH."""
    roots = [os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~/.pyenv")]
    for root in filter(None, roots):
        found = glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}"))
        found = [f for f in found if f.split(os.sep)[-3].replace(".", "").isdigit()]
        if found:
            return max(found, key=lambda p: [int(x) for x in p.split(os.sep)[-3].split(".")])
    return version


def install_runtime(session: nox.Session, cell: dict) -> None:
    """The Python side of a runtime cell: onnxruntime and its companions, nothing to train."""
    session.install(f"onnxruntime=={cell['onnxruntime']}", f"numpy=={cell['numpy']}", *TEST_DEPS)


def install_node_packages(session: nox.Session, prefix: Path = ROOT) -> None:
    """npm packages exactly as locked; install scripts never run (onnxruntime-node's would
    download CUDA binaries from outside the registry)."""
    if shutil.which("npm") is None:
        session.error("npm not found: install Node.js >= 18 (it brings npm)")
    stamp = prefix / "node_modules" / ".package-lock.json"
    lock = prefix / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        session.log("node_modules up to date with package-lock.json (reused)")
        return
    env = {"npm_config_onnxruntime_node_install_cuda": "skip", "ONNXRUNTIME_NODE_INSTALL": "skip"}
    session.run(
        "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", str(prefix), external=True, env=env
    )


def install_browser(session: nox.Session) -> None:
    """Debian's Chromium for the ort-web-browser backend (FACTS.md): apt-get installs it when it
    is missing and this runs as root; otherwise the backend reports itself skipped with the reason
    (an error under CI=true). Never a browser download: playwright-core brings none."""
    chromium = os.environ.get("ONNX_INV_CHROMIUM") or "/usr/bin/chromium"
    if Path(chromium).exists():
        session.log(f"chromium: {chromium}")
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        session.warn(f"{chromium} missing and apt-get as root is not available: ort-web-browser will be skipped")
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        session.run("apt-get", "update", "-q", external=True, env=env)
        session.run("apt-get", "install", "-y", "-q", "chromium", external=True, env=env)
    except nox.command.CommandFailed:
        session.warn("apt-get could not install chromium: ort-web-browser will be skipped")


@nox.session(python=interpreter(GENERATE["python"]), default=False, tags=["artifacts"])
def generate(session: nox.Session) -> None:
    """Train, export at opset 17 and write models/ + reference_data/ (pins: matrix.toml [generate])."""
    pins = [f"{name}=={version}" for name, version in GENERATE.items() if name != "python"]
    session.install(*pins, "threadpoolctl")
    session.run("python", "-m", "harness.generate", *session.posargs, env={"PYTHONHASHSEED": "0"})


@nox.session(python=interpreter(DEFAULT["python"]), tags=["invariance"])
def invariance(session: nox.Session) -> None:
    """scikit-learn <-> onnxruntime <-> onnxruntime-node <-> onnxruntime-web (Node, Chromium), default cell."""
    install_runtime(session, DEFAULT)
    install_node_packages(session)
    install_browser(session)
    session.run("pytest", "-m", "invariance", *session.posargs)


@nox.session(python=interpreter(DEFAULT["python"]), tags=["tests"])
def tests(session: nox.Session) -> None:
    """Unit tests and the invariance suite (benchmarks deselected)."""
    install_runtime(session, DEFAULT)
    install_node_packages(session)
    install_browser(session)
    session.run("pytest", "-m", "not bench", *session.posargs)


@nox.session(python=interpreter(DEFAULT["python"]), default=False, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Benchmarks of every backend on every size, against the 75 ms / 1 s budgets."""
    install_runtime(session, DEFAULT)
    install_node_packages(session)
    session.run("python", "-m", "harness.bench", *session.posargs)


@nox.session(python=interpreter(DEFAULT["python"]), tags=["lint"])
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
