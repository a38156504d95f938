"""Tables in README.md that are generated from the registry, never copied by hand.

python -m harness.docs           # rewrite the generated blocks in README.md
python -m harness.docs --check   # exit 1 if README.md is out of date (a unit test runs this)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List

from .dataset import INPUT_SETS
from .registry import MODELS, PAIRS

README = Path(__file__).resolve().parent.parent / "README.md"


def budget_table() -> str:
    pairs = [f"{a} ↔ {b}" for a, b in PAIRS]
    lines = ["| model | task | .onnx (seed) | " + " | ".join(pairs) + " |", "|---|---|---|" + "---|" * len(pairs)]
    for spec in MODELS:
        cells = []
        for pair in PAIRS:
            b = spec.budgets[pair]
            cells.append(
                "bit for bit" if b.max_ulp == 0 and b.atol == 0 else f"{b.atol:.0e} / {b.rtol:.0e} / {b.max_ulp}"
            )
        size = f"~{spec.expected_onnx_bytes:,} B"
        lines.append(f"| {spec.title} | {spec.task} | {size} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def input_set_table() -> str:
    lines = ["| input set | rows | expected relation |", "|---|---|---|"]
    for s in INPUT_SETS:
        name = f"`{s.name}`" + (" (per tree model)" if s.per_tree_model else "")
        cells = [name, s.description, s.relation]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


BLOCKS: Dict[str, Callable[[], str]] = {"budgets": budget_table, "input-sets": input_set_table}


def render(text: str) -> str:
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md: block <!-- {name}:start --> ... <!-- {name}:end --> missing")
        body = make() + "\n"
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.docs")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    current = README.read_text()
    wanted = render(current)
    if args.check:
        if current != wanted:
            print("README.md: generated tables are out of date; run `python -m harness.docs`", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
