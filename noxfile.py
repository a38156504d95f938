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
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness import __version__ as HARNESS_VERSION  # noqa: E402
from harness import environments, results  # noqa: E402
from harness.cells import load_cells  # noqa: E402
from harness.config import ARTIFACT_ROOT, load_matrix  # noqa: E402
from harness.errors import HarnessError  # noqa: E402

MATRIX_PATH = Path(os.environ.get("ONNX_INV_MATRIX") or ROOT / "matrix.toml").resolve()
try:
    MATRIX = load_matrix(MATRIX_PATH)
except HarnessError as _exc:  # one line naming the file and key, not a traceback
    print(_exc.one_line(), file=sys.stderr)
    sys.exit(_exc.exit_code)
GENERATE = MATRIX["generate"]
DEFAULT = MATRIX["default-cell"]
TEST_DEPS = ("pytest>=7", "tomli>=1.1; python_version < '3.11'", "packaging>=21", "nox[uv]>=2025.2.9")


def interpreter(version: str) -> str:
    """A CPython ``version`` ("3.12" or "3.12.1"): the newest matching pyenv build when pyenv
    has one (its shims hide versions not named in PYENV_VERSION), else nox's own search."""
    minor = ".".join(version.split(".")[:2])
    for root in filter(None, [os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~/.pyenv")]):
        found = []
        for path in glob.glob(os.path.join(root, "versions", "3.*", "bin", f"python{minor}")):
            name = path.split(os.sep)[-3]
            if name.replace(".", "").isdigit() and (name == version or name.startswith(version + ".")):
                found.append((tuple(int(x) for x in name.split(".")), path))
        if found:
            return max(found)[1]
    return minor  # e.g. actions/setup-python: nox finds python3.12 on PATH


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


def install_default_cell(session: nox.Session) -> None:
    """Everything the default cell's backends need: Python packages, npm packages, Chromium."""
    install_runtime(session, DEFAULT)
    install_node_packages(session)
    install_browser(session)


@nox.session(python=interpreter(GENERATE["python"]), default=False, tags=["artifacts"])
def generate(session: nox.Session) -> None:
    """Train, export at opset 17 and write models/ + reference_data/ (pins: matrix.toml [generate])."""
    pins = [f"{name}=={version}" for name, version in GENERATE.items() if name != "python"]
    session.install(*pins, "threadpoolctl")
    session.run("python", "-m", "harness.generate", *session.posargs, env={"PYTHONHASHSEED": "0"})


@nox.session(python=interpreter(DEFAULT["python"]), tags=["invariance"])
def invariance(session: nox.Session) -> None:
    """scikit-learn <-> onnxruntime <-> onnxruntime-node <-> onnxruntime-web (Node, Chromium), default cell."""
    install_default_cell(session)
    session.run("pytest", "-m", "invariance", *session.posargs)


@nox.session(python=interpreter(DEFAULT["python"]), tags=["tests"])
def tests(session: nox.Session) -> None:
    """Unit tests and the invariance suite (benchmarks deselected)."""
    install_default_cell(session)
    session.run("pytest", "-m", "not bench", *session.posargs)


@nox.session(python=interpreter(DEFAULT["python"]), default=False, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Benchmarks of every backend on every size, against the 75 ms / 1 s budgets."""
    install_runtime(session, DEFAULT)
    # scikit-learn as the generator pins it (the bench trains its estimators in-process from the
    # committed training data); matplotlib for the plots; threadpoolctl to limit BLAS threads.
    sklearn = [f"{name}=={GENERATE[name]}" for name in ("scikit-learn", "scipy")]
    session.install(*sklearn, "threadpoolctl>=3", "matplotlib>=3.5")
    install_node_packages(session)
    session.run("python", "-m", "harness.bench", *session.posargs)


@nox.session(python=interpreter(DEFAULT["python"]), tags=["lint"])
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=False, default=False, tags=["matrix"])
def lock(session: nox.Session) -> None:
    """Expand matrix.toml's axes against the registries and write matrix.lock.json."""
    session.run(sys.executable, "-m", "harness.lock", "--matrix", str(MATRIX_PATH), *session.posargs, external=True)


@nox.session(python=False, default=False, tags=["matrix"])
def matrix(session: nox.Session) -> None:
    """Every cell in its own environment, resumable, then the collated compatibility report."""
    session.run(sys.executable, "-m", "harness.matrix", "--matrix", str(MATRIX_PATH), *session.posargs, external=True)


def _cell_args(posargs: list) -> tuple:
    out, models = ROOT / "matrix_results", ""
    args = list(posargs)
    while args:
        flag = args.pop(0)
        if flag == "--out" and args:
            out = Path(args.pop(0)).resolve()
        elif flag == "--models" and args:
            models = args.pop(0)
        else:
            raise SystemExit(f"cell session: unknown argument {flag!r} (takes --out DIR --models a,b)")
    return out, models


def _make_cell_session(cell: results.CellSpec) -> None:
    def run_cell(session: nox.Session) -> None:
        out, models = _cell_args(session.posargs)
        key = results.inputs_key(cell, ARTIFACT_ROOT / "reference_data" / "manifest.json", HARNESS_VERSION)
        with environments.cell_lock(cell["id"]):
            reusable, why = results.is_reusable(results.result_path(out, cell["id"]), key)
            if reusable and not models and os.environ.get("ONNX_INV_FORCE") != "1":
                session.log(f"{cell['id']}: {why}: finished by another run meanwhile")
                return
            _run_cell(session, cell, out, models, key)

    run_cell.__doc__ = f"{cell['kind']} cell: {cell['label']}"
    nox.session(name=f"cell-{cell['id']}", python=interpreter(cell["versions"]["python"]), default=False,
                tags=["cell", cell["kind"]])(run_cell)  # fmt: skip


def _run_cell(session: nox.Session, cell: results.CellSpec, out: Path, models: str, key: str) -> None:
    """Install the cell's packages (the resolver's refusal is `unsupported`), then run its suite."""
    result = results.new_result(cell, key, HARNESS_VERSION)
    result["log"] = os.environ.get("ONNX_INV_CELL_LOG")
    start = time.monotonic()
    versions = cell["versions"]
    env = {"PYTHONPATH": str(ROOT), "ONNX_INV_WORKER_TIMEOUT": os.environ.get("ONNX_INV_WORKER_TIMEOUT", "120")}
    try:
        if cell["kind"] == "converter":
            reqs = [f"skl2onnx=={versions['skl2onnx']}", f"onnxruntime=={versions['onnxruntime']}", "scikit-learn"]
            reqs += ["onnx", "threadpoolctl", "packaging"]
        else:
            reqs = [f"onnxruntime=={versions['onnxruntime']}", "packaging"]
            env["ONNX_INV_NODE"] = environments.node_binary(versions["node"])
            env["ONNX_INV_NODE_PREFIX"] = str(environments.onnxruntime_node_prefix(versions["onnxruntime-node"]))
        if "onnxruntime-web" in versions:
            env["ONNX_INV_WEB_PREFIX"] = str(environments.onnxruntime_web_prefix(versions["onnxruntime-web"]))
            # the browser driver (playwright-core) needs Node >= 20; the page runs in Chromium's engine
            env["ONNX_INV_BROWSER_NODE"] = shutil.which("node") or env["ONNX_INV_NODE"]
        reqs += [*cell["companions"], "tomli>=1.1; python_version < '3.11'"]
        environments.uv_install(str(Path(session.virtualenv.bin) / "python"), reqs)
    except environments.EnvironmentFailure as exc:
        result.update(status="unsupported" if exc.unsupported else "error", reason=exc.reason, complete=True)
        result["timings"]["install_s"] = round(time.monotonic() - start, 2)
        session.log(f"{cell['id']}: {result['status']}: {exc.reason}")
        results.write_result(out, result)
        return
    result["timings"]["install_s"] = round(time.monotonic() - start, 2)
    pending = out / "pending" / f"{cell['id']}.json"
    pending.parent.mkdir(parents=True, exist_ok=True)
    pending.write_text(json.dumps(result))
    session.run("python", "-m", "harness.cell_suite", "--pending", str(pending), "--out", str(out),
                "--models", models, env=env)  # fmt: skip
    pending.unlink(missing_ok=True)


try:
    for _cell in load_cells(MATRIX_PATH, full=os.environ.get("ONNX_INV_FULL") == "1"):
        _make_cell_session(_cell)
except HarnessError as _exc:  # no lock yet: `nox -s lock` still works
    print(f"noxfile: no cell sessions: {_exc.one_line()}", file=sys.stderr)
