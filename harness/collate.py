"""Collate per-cell results into the compatibility matrix: ``compat.json``, ``compat.md`` and a
self-contained ``compat.html`` beside ``cells/``.

    python -m harness.collate --out matrix_results
    python -m harness.collate --out matrix_results --gather downloaded --expect cells.json   (CI)

Every ``cells/*.json`` is read with ``harness.results.read_result``; a file that cannot be
trusted (unreadable, another schema, malformed, incomplete, named for another cell) becomes a
problem line naming the file, never a crash and never a silent gap. The outputs depend only on
the cell files' contents (no clock, no paths, everything sorted), so a local run and CI's
collate job give byte-identical files from the same cells. When ``GITHUB_STEP_SUMMARY`` is set,
compat.md is appended to it. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from . import report_html, report_md
from .atomic import atomic_write
from .compat import Compat, build, compat_cell, converter_entries, drift_entries
from .errors import ConfigError, run_cli
from .results import CellResult, read_result

OUTPUTS = ("compat.json", "compat.md", "compat.html")


def _well_formed(result: CellResult) -> None:
    """Raise (KeyError/TypeError/...) if the summaries below would trip over this result."""
    compat_cell(result, ["?"])
    drift_entries([result])
    converter_entries([result])


def load_cells(out_dir: Path) -> Tuple[List[CellResult], List[str]]:
    """The trusted results in ``out_dir/cells`` and one problem line per file that is not."""
    cells_dir = out_dir / "cells"
    if not cells_dir.is_dir():
        raise ConfigError(f"{cells_dir}: no such folder; run `nox -s matrix` first (or pass --gather DIR)")
    files = sorted(p for p in cells_dir.glob("*.json") if not p.name.startswith("."))
    if not files:
        raise ConfigError(f"{cells_dir}: no cell results (*.json) to collate")
    results: List[CellResult] = []
    problems: List[str] = []
    ids: Dict[str, str] = {}
    for path in files:
        name = f"cells/{path.name}"
        try:
            result, why = read_result(path)
        except OSError as exc:
            result, why = None, f"unreadable ({exc.strerror})"
        if result is None:
            problems.append(f"{name}: {why.split(': ', 1)[1] if why.startswith(path.name + ':') else why}")
            continue
        try:
            _well_formed(result)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(f"{name}: malformed cell result ({type(exc).__name__}: {exc})")
            continue
        cell_id = result["cell"]["id"]
        if cell_id in ids:
            problems.append(f"{name}: cell {cell_id!r} already read from {ids[cell_id]}; this copy is left out")
            continue
        ids[cell_id] = name
        if path.stem != cell_id:
            problems.append(f"{name}: holds cell {cell_id!r}, not {path.stem!r}")
        if not result["complete"]:
            problems.append(
                f"{name}: incomplete (the run was interrupted); rerun: nox -s matrix -- --only cell={cell_id}"
            )
        results.append(result)
    return results, problems


def expected_ids(path: Path) -> Set[str]:
    """Cell ids from a ``python -m harness.cells --json`` listing (objects with ``id``, or strings)."""
    try:
        data = json.loads(path.read_text())
        return {item["id"] if isinstance(item, dict) else str(item) for item in data}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a cell list ({type(exc).__name__}: {exc})") from None


def gather(src: Path, out_dir: Path) -> List[Path]:
    """Copy every ``*.json`` under ``src`` (any layout, e.g. download-artifact's one folder per
    artifact) into ``out_dir/cells/``. Two different files with one name are an error."""
    if not src.is_dir():
        raise ConfigError(f"{src}: no such folder to gather cell results from")
    seen: Dict[str, Path] = {}
    copied: List[Path] = []
    for path in sorted(src.rglob("*.json")):
        if path.name.startswith(".") or not path.is_file():
            continue
        data = path.read_bytes()
        if path.name in seen:
            if seen[path.name].read_bytes() != data:
                raise ConfigError(f"{path}: differs from {seen[path.name]} (two results for one cell)")
            continue
        seen[path.name] = path
        dest = out_dir / "cells" / path.name
        atomic_write(dest, data)
        copied.append(dest)
    return copied


def render_json(compat: Compat) -> str:
    return json.dumps(compat, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def collate(out_dir: Path, expect: Optional[Path] = None) -> Compat:
    """Read ``out_dir/cells``, write compat.json/md/html atomically, return the document."""
    results, problems = load_cells(out_dir)
    if expect is not None:
        have = {r["cell"]["id"] for r in results}
        for cell_id in sorted(expected_ids(expect) - have):
            problems.append(f"cell {cell_id}: no result (cells/{cell_id}.json missing or unreadable)")
    compat = build(results, problems)
    markdown = report_md.render(compat)
    atomic_write(out_dir / "compat.json", render_json(compat).encode())
    atomic_write(out_dir / "compat.md", markdown.encode())
    atomic_write(out_dir / "compat.html", report_html.render(compat).encode())
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown)
    return compat


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.collate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("matrix_results"), help="results folder (holds cells/)")
    parser.add_argument("--gather", type=Path, help="first copy every *.json under this folder into OUT/cells")
    parser.add_argument("--expect", type=Path, help="JSON cell list (harness.cells --json): report missing cells")
    args = parser.parse_args(argv)
    if args.gather is not None:
        gather(args.gather, args.out)
    compat = collate(args.out, args.expect)
    counts = ", ".join(f"{n} {status}" for status, n in compat["counts"].items() if n)
    print(f"collate: {len(compat['cells'])} cells ({counts or 'none'}) -> {args.out}/{{{','.join(OUTPUTS)}}}")
    for line in compat["problems"]:
        print(f"problem: {line}")
    return 0


if __name__ == "__main__":
    run_cli(main)
