"""Run the matrix: every selected cell in its own nox session, resumable, then collate.

    python -m harness.matrix [--matrix FILE] [--only KEY=VALUE ...] [--out DIR] [--jobs N]
                             [--force] [--full] [--models a,b] [--no-collate] [--collate-only]

(``nox -s matrix -- ...`` runs this.) A cell whose result is complete and whose inputs (lock
entry, artifact hashes, harness version) are unchanged is kept, not rerun. Every result is
written atomically by the cell itself; a cell that crashes, hangs past ``--cell-timeout`` or
is interrupted leaves no trusted result and gets an ``error`` record naming its log. One
broken cell never stops the others. Ctrl-C stops the running cells and keeps every finished
one; run the same command again to resume.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Dict, List, Optional

from . import __version__
from .cells import load_cells
from .config import ARTIFACT_ROOT, MATRIX_FILE, ROOT
from .errors import ConfigError, run_cli
from .processes import die_with_parent
from .results import CellSpec, inputs_key, is_reusable, new_result, read_result, result_path, write_result

MANIFEST = ARTIFACT_ROOT / "reference_data" / "manifest.json"


class Progress:
    """`[done/total] cell: status (seconds) ... ETA` lines, safe from several threads."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.lock = threading.Lock()

    def report(self, cell_id: str, status: str, seconds: Optional[float], ran: bool) -> None:
        with self.lock:
            self.done += 1
            elapsed = time.monotonic() - self.start
            left = self.total - self.done
            eta = f"~{elapsed / self.done * left:.0f} s left" if ran and left else ""
            took = f" ({seconds:.1f} s)" if seconds is not None else ""
            print(f"[{self.done}/{self.total}] {cell_id}: {status}{took} {eta}".rstrip(), flush=True)


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out.resolve()
        self.procs: Dict[str, subprocess.Popen] = {}
        self.stopping = False

    def run_cell(self, cell: CellSpec, key: str) -> str:
        """One cell as a nox session in its own process group; returns its status."""
        log = self.out / "logs" / f"{cell['id']}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ONNX_INV_CELL_LOG": str(log), "ONNX_INV_MATRIX": str(self.args.matrix.resolve())}
        if self.args.full:
            env["ONNX_INV_FULL"] = "1"
        if self.args.force or self.args.models:
            env["ONNX_INV_FORCE"] = "1"
        argv = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-r", "-s", f"cell-{cell['id']}"]
        argv += ["--", "--out", str(self.out)] + (["--models", self.args.models] if self.args.models else [])
        path = result_path(self.out, cell["id"])
        with open(log, "w") as f:
            proc = subprocess.Popen(
                argv, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT, preexec_fn=die_with_parent
            )
            self.procs[cell["id"]] = proc
            try:
                code = proc.wait(timeout=self.args.cell_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
                f.write(f"\nharness: cell killed after {self.args.cell_timeout:.0f} s\n")
            finally:
                self.procs.pop(cell["id"], None)
        result, _ = read_result(path)
        if result is not None and result["complete"] and result["inputs_key"] == key:
            return result["status"]
        if self.stopping:
            return "interrupted"
        broken = new_result(cell, key, __version__)
        broken.update(status="error", log=str(log), complete=True)
        broken["reason"] = f"nox session exited with {code} and wrote no result; see {log}"
        write_result(self.out, broken)
        return "error"

    def stop(self) -> None:
        """End every running cell: SIGTERM to its process group, SIGKILL after a grace."""
        self.stopping = True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for proc in list(self.procs.values()):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 3
            while self.procs and time.monotonic() < deadline:
                time.sleep(0.1)


def run(args: argparse.Namespace) -> int:
    cells = load_cells(args.matrix, args.full, args.only)
    if not cells:
        raise ConfigError(f"--only {' '.join(args.only)}: no cell of {args.matrix.name} matches")
    runner = Runner(args)
    progress = Progress(len(cells))
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored (nohup, `&`)
        signal.signal(sig, _interrupt)
    todo = []
    for cell in cells:
        key = inputs_key(cell, MANIFEST, __version__)
        keep, why = (False, "--force") if args.force else is_reusable(result_path(runner.out, cell["id"]), key)
        if keep and not args.models:
            progress.report(cell["id"], why, None, ran=False)
        else:
            todo.append((cell, key))
    print(
        f"matrix: {len(cells)} cells, {len(cells) - len(todo)} kept, {len(todo)} to run, {args.jobs} at a time",
        flush=True,
    )
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = {}
        for cell, key in todo:
            futures[pool.submit(_timed, runner.run_cell, cell, key)] = cell
        for future in as_completed(futures):
            status, seconds = future.result()
            progress.report(futures[future]["id"], status, seconds, ran=True)
    except KeyboardInterrupt:
        runner.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        print("matrix: interrupted; finished cells are kept, run the same command to resume", file=sys.stderr)
        return 130
    pool.shutdown(wait=True)
    if not args.no_collate:
        collate(runner.out)
    statuses = {
        c["id"]: (read_result(result_path(runner.out, c["id"]))[0] or {}).get("status", "missing") for c in cells
    }
    counts = {s: list(statuses.values()).count(s) for s in sorted(set(statuses.values()))}
    print("matrix: " + ", ".join(f"{n} {s}" for s, n in counts.items()), flush=True)
    if args.strict and set(statuses.values()) != {"passed"}:
        bad = [f"{cid} ({s})" for cid, s in statuses.items() if s != "passed"]
        print(f"matrix: --strict: not passed: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    return fn(*args), time.monotonic() - start


def collate(out: Path) -> None:
    from .collate import collate as collate_results

    collate_results(out)
    print(f"matrix: collated {out / 'compat.md'}, {out / 'compat.html'}, {out / 'compat.json'}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s matrix --", description=__doc__.split("\n")[0])
    parser.add_argument("--matrix", type=Path, default=MATRIX_FILE, help="matrix file (default: matrix.toml)")
    only_help = "cell=ID, kind=runtime|converter or AXIS=VERSION; commas mean or, repeats mean and"
    parser.add_argument("--only", action="append", default=[], metavar="KEY=VALUE", help=only_help)
    parser.add_argument("--out", type=Path, default=ROOT / "matrix_results", help="results folder")
    parser.add_argument("--jobs", type=int, default=1, help="cells run in parallel")
    parser.add_argument("--force", action="store_true", help="rerun cells even when their result is current")
    parser.add_argument("--full", action="store_true", help="the full product of the runtime axes")
    parser.add_argument("--models", default="", help="only these models (comma-separated); implies a rerun")
    parser.add_argument("--cell-timeout", type=float, default=1800, help="seconds before a cell is killed")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless every selected cell passed")
    parser.add_argument("--no-collate", action="store_true", help="run cells only (CI matrix jobs)")
    parser.add_argument("--collate-only", action="store_true", help="collate existing results only")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: must be at least 1")
    if args.collate_only:
        collate(args.out.resolve())
        return 0
    return run(args)


if __name__ == "__main__":
    run_cli(main)
