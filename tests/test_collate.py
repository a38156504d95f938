"""Collation of per-cell results into compat.json / compat.md / compat.html (harness.collate)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from harness import collate as collate_mod
from harness.collate import OUTPUTS, collate, gather
from harness.errors import ConfigError
from harness.registry import MODELS
from harness.results import CellResult, CellSpec, CheckRecord, new_result, write_result

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
RIDGE_BUDGET = "atol=1e-06 rtol=1e-06 ulp<=128"
HOST = {"cpu": "test cpu", "cores": 2, "memory_gib": 24.0, "platform": "Linux-test"}


def spec(cell_id: str, kind: str = "runtime", label: str = "", **versions: str) -> CellSpec:
    return CellSpec(id=cell_id, kind=kind, versions=dict(versions), companions=[], label=label or cell_id)


def check(
    model: str,
    status: str = "passed",
    *,
    pair=("sklearn", "ort-python"),
    input_set: str = "nominal",
    output: str = "variable",
    used: Optional[float] = 0.28,
    max_abs: Optional[float] = 2.8e-7,
    max_ulp: Optional[int] = 12,
    budget: Optional[str] = RIDGE_BUDGET,
    reason: str = "",
) -> CheckRecord:
    return CheckRecord(
        model=model,
        input_set=input_set,
        pair=list(pair),
        output=output,
        status=status,
        rows=20000,
        max_abs=max_abs,
        max_rel=1e-6,
        max_ulp=max_ulp,
        budget=budget,
        budget_used=used,
        reason=reason,
    )


def result(cell: CellSpec, status: str, reason: str = "", checks: Optional[List[CheckRecord]] = None) -> CellResult:
    r = new_result(cell, key="k" * 64, harness_version="0.1.0")
    r.update(status=status, reason=reason, checks=checks or [], complete=True, host=HOST, timings={"total": 12.5})
    r["installed"] = {"python": {"onnxruntime": cell["versions"].get("onnxruntime", "1.32.0")}, "npm": {}}
    return r


def passing(model_used: Dict[str, float]) -> List[CheckRecord]:
    return [check(m.name, used=model_used.get(m.name, 0.1)) for m in MODELS]


def drift(backend: str, identical: bool, max_ulp: Optional[int], model: str = "ridge") -> dict:
    return dict(
        backend=backend,
        model=model,
        input_set="nominal",
        output="variable",
        reference_version="1.32.0",
        identical=identical,
        max_ulp=max_ulp,
        nonfinite_mismatches=0,
    )


def converter(model: str, converted: bool = True, differs: Optional[List[str]] = None, reason: str = "") -> dict:
    return dict(
        model=model,
        converted=converted,
        reason=reason,
        ir_version=8 if converted else None,
        opsets={"": 17, "ai.onnx.ml": 3},
        op_types=["TreeEnsembleRegressor"] if converted else [],
        bytes=6123 if converted else None,
        differs_from_committed=differs or [],
    )


def write_cells(out: Path) -> None:
    """Five cells, one per status, with drift and converter records, plus two bad files."""
    ok = result(
        spec(
            "rt-min",
            label="all-minimum",
            python="3.9.18",
            onnxruntime="1.17.3",
            node="18.20.8",
            **{"onnxruntime-node": "1.17.3"},
        ),
        "passed",
        checks=passing({"ridge": 0.283}),
    )
    ok["drift"] = [drift("ort-python", False, 3), drift("ort-node", True, 0)]
    ok["backends"] = {"ort-node": {"version": "1.17.3"}}
    bad_checks = passing({})
    bad_checks[2] = check(
        "rf_reg_50_d5",
        "failed",
        pair=("sklearn", "ort-node"),
        input_set="boundary",
        used=31.0,
        max_abs=3.1e-5,
        max_ulp=40,
        reason="n=900 max_abs=3.1e-05 over_budget=2; first bad row 17",
    )
    bad = result(
        spec("rt-ort1.20", label="onnxruntime=1.20.1", python="3.12.1", onnxruntime="1.20.1"),
        "failed",
        "rf_reg_50_d5/boundary/sklearn~ort-node/variable: over budget",
        bad_checks,
    )
    bad["drift"] = [drift("ort-python", True, 0)]
    unsup = result(
        spec("rt-py3.13-ort1.17", label="python=3.13", python="3.13.0", onnxruntime="1.17.3"),
        "unsupported",
        "resolver: no wheels for onnxruntime (v1.17.3) with cp313",
    )
    err = result(
        spec("rt-node24", label="node=24.22.3", python="3.12.1", node="24.22.3"), "error", "npm install failed (exit 1)"
    )
    err["log"] = "matrix_results/logs/rt-node24.log"
    skip = result(
        spec("rt-web", label="onnxruntime-web=1.30.0", python="3.12.1", **{"onnxruntime-web": "1.30.0"}),
        "skipped",
        "no browser here",
    )
    conv = result(
        spec("cv-skl1.16", kind="converter", label="skl2onnx=1.16.0", python="3.12.1", skl2onnx="1.16.0"),
        "failed",
        "logreg: not converted",
        checks=[check("ridge", used=0.05), check("rf_reg_10_d3", used=0.5)],
    )
    conv["converter"] = [
        converter("ridge"),
        converter("rf_reg_10_d3", differs=["bytes", "opsets"]),
        converter("logreg", converted=False, reason="KeyError: 'zipmap'"),
    ]
    for r in (ok, bad, unsup, err, skip, conv):
        write_result(out, r)
    (out / "cells" / "broken.json").write_text('{"schema": 1, "cell": ')
    (out / "cells" / "old.json").write_text(json.dumps({"schema": 0, "cell": {"id": "old"}}))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    write_cells(tmp_path / "local")
    return tmp_path / "local"


def row(md: str, cell_id: str) -> List[str]:
    line = next(line for line in md.splitlines() if line.startswith(f"| `{cell_id}` |"))
    return [c.strip() for c in line.strip("|").split(" | ")]


def test_every_cell_in_grid_with_marks_in_the_right_columns(out: Path) -> None:
    compat = collate(out)
    md = (out / "compat.md").read_text()
    assert [c["id"] for c in compat["cells"]] == [
        "rt-min",
        "rt-node24",
        "rt-ort1.20",
        "rt-py3.13-ort1.17",
        "rt-web",
        "cv-skl1.16",
    ]
    head = [c.strip() for c in next(x for x in md.splitlines() if x.startswith("| cell |")).strip("|").split(" | ")]
    axes = ["python", "onnxruntime", "node", "onnxruntime-node", "onnxruntime-web", "skl2onnx"]
    assert head == ["cell", "label", *axes, "status", *(m.name for m in MODELS)]
    col = {name: i for i, name in enumerate(head)}
    assert row(md, "rt-min")[col["ridge"]] == "✓ 28%"
    assert row(md, "rt-min")[col["python"]] == "3.9.18"
    assert row(md, "rt-ort1.20")[col["rf_reg_50_d5"]] == "✗ 3.1e-5 > 1e-6"
    assert row(md, "rt-ort1.20")[col["ridge"]] == "✓ 10%"
    for cell_id in ("rt-py3.13-ort1.17", "rt-node24", "rt-web"):
        assert {row(md, cell_id)[col[m.name]] for m in MODELS} == {"–"}
    conv = row(md, "cv-skl1.16")
    assert (conv[col["ridge"]], conv[col["logreg"]], conv[col["mlp_reg_100_50"]]) == ("✓ 5%", "✗ not converted", "–")
    assert conv[col["skl2onnx"]] == "1.16.0" and conv[col["node"]] == ""
    assert compat["counts"] == {"passed": 1, "failed": 2, "unsupported": 1, "error": 1, "skipped": 1}


def test_not_passed_cells_explained_with_rerun_commands(out: Path) -> None:
    collate(out)
    md, page = (out / "compat.md").read_text(), (out / "compat.html").read_text()
    failure = "rf_reg_50_d5 · backend sklearn~ort-node · input set boundary · output variable"
    assert failure in md and "max_abs=3.1e-5" in md and f"vs budget {RIDGE_BUDGET}" in md
    rerun = "nox -s matrix -- --only cell=rt-ort1.20 --models rf_reg_50_d5 --force"
    assert f"`{rerun}`" in md and f"<code>{rerun}</code>" in page
    assert "unsupported: resolver: no wheels for onnxruntime (v1.17.3) with cp313" in md
    assert "error: npm install failed (exit 1); log: matrix_results/logs/rt-node24.log" in md
    assert "skipped: no browser here" in md
    assert "logreg: skl2onnx did not convert it: KeyError: 'zipmap'" in md
    # the failing grid entry opens its details, with the rerun command, in the page
    entry = page[page.index("✗ 3.1e-5 &gt; 1e-6") - 40 :]
    assert entry.startswith('<td class="fail"><details><summary>') or "<details><summary>✗ 3.1e-5" in entry
    assert "</details>" in entry and rerun in entry[: entry.index("</details>")]
    assert "sklearn~ort-node" in entry[: entry.index("</details>")]


def test_drift_and_converter_sections(out: Path) -> None:
    compat = collate(out)
    drift = {(d["backend"], d["version"]): d for d in compat["drift"]}
    assert drift[("ort-python", "1.17.3")]["max_ulp"] == 3 and not drift[("ort-python", "1.17.3")]["identical"]
    assert drift[("ort-python", "1.20.1")]["identical"] and drift[("ort-node", "1.17.3")]["identical"]
    md = (out / "compat.md").read_text()
    assert "| ort-python | 1.17.3 | 1.32.0 | max 3 ULP | ridge/nominal/variable | `rt-min` |" in md
    assert "| ort-python | 1.20.1 | 1.32.0 | bit-identical |  | `rt-ort1.20` |" in md
    assert (
        "| 1.16.0 | `cv-skl1.16` | rf_reg_10_d3 | ✓ | ✓ 50% | differs: 6,123 B; opsets ai.onnx=17, ai.onnx.ml=3 |" in md
    )
    assert "| 1.16.0 | `cv-skl1.16` | ridge | ✓ | ✓ 5% | same as committed |" in md
    assert "| 1.16.0 | `cv-skl1.16` | logreg | ✗ KeyError: 'zipmap' | – | – |" in md


def test_bad_files_are_problems_not_crashes(out: Path) -> None:
    (out / "cells" / "keys.json").write_text(json.dumps({"schema": 1}))
    incomplete = result(spec("rt-half"), "error", "not finished")
    incomplete["complete"] = False
    write_result(out, incomplete)
    malformed = result(spec("rt-malformed"), "failed", checks=[{"model": "ridge"}])  # type: ignore[list-item]
    write_result(out, malformed)
    compat = collate(out)
    problems = "\n".join(compat["problems"])
    assert "cells/broken.json: unreadable" in problems
    assert "cells/old.json: schema 0, expected 1" in problems
    assert "cells/keys.json: keys missing" in problems
    assert "cells/rt-half.json: incomplete" in problems
    assert "cells/rt-malformed.json: malformed cell result (KeyError" in problems
    assert "rt-malformed" not in [c["id"] for c in compat["cells"]]
    md = (out / "compat.md").read_text()
    assert "- cells/broken.json: unreadable" in md and "cells/old.json: schema 0" in (out / "compat.html").read_text()


def test_expected_cells_without_results_are_problems(out: Path, tmp_path: Path) -> None:
    listing = tmp_path / "cells.json"
    listing.write_text(
        json.dumps([{"id": "rt-min", "kind": "runtime", "label": "", "versions": {}}, {"id": "rt-gone"}])
    )
    compat = collate(out, expect=listing)
    assert (
        compat["problems"]
        and "cell rt-gone: no result (cells/rt-gone.json missing or unreadable)" in compat["problems"]
    )
    assert not any("rt-min" in p for p in compat["problems"])


def test_step_summary_gets_the_markdown(out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    collate(out)
    assert summary.read_text() == "earlier step\n" + (out / "compat.md").read_text()


def test_html_is_self_contained(out: Path) -> None:
    collate(out)
    page = (out / "compat.html").read_text()
    assert "<style>" in page and "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page and " src=" not in page and "<link" not in page


def test_ci_layout_gives_byte_identical_reports(out: Path, tmp_path: Path) -> None:
    """CI: each cell job uploads its JSON (and log) as its own artifact; download-artifact puts
    each in its own folder; the collate job gathers them into cells/. Same bytes out."""
    collate(out)
    downloaded = tmp_path / "downloaded"
    for i, path in enumerate(sorted((out / "cells").glob("*.json"), reverse=True)):
        nested = downloaded / f"cell-{path.stem}" / ("cells" if i % 2 else "")  # both upload layouts
        nested.mkdir(parents=True)
        shutil.copy(path, nested / path.name)
        (nested / f"{path.stem}.log").write_text("log\n")
    ci_out = tmp_path / "elsewhere" / "matrix_results"
    assert len(gather(downloaded, ci_out)) == 8
    collate(ci_out)
    for name in OUTPUTS:
        assert (ci_out / name).read_bytes() == (out / name).read_bytes(), name


def test_gather_refuses_two_different_results_for_one_cell(out: Path, tmp_path: Path) -> None:
    src = tmp_path / "dl"
    for sub, text in (("a", "{}"), ("b", "[]")):
        (src / sub).mkdir(parents=True)
        (src / sub / "rt-min.json").write_text(text)
    with pytest.raises(ConfigError, match=r"rt-min\.json: differs from"):
        gather(src, tmp_path / "o")


def test_cli(out: Path, tmp_path: Path) -> None:
    run = [sys.executable, "-m", "harness.collate", "--out"]
    done = subprocess.run([*run, str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "6 cells (1 passed, 2 failed, 1 unsupported, 1 error, 1 skipped)" in done.stdout
    assert "problem: cells/broken.json: unreadable" in done.stdout
    (tmp_path / "empty" / "cells").mkdir(parents=True)
    for folder in (tmp_path / "empty", tmp_path / "nothing"):
        done = subprocess.run([*run, str(folder)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"ConfigError: {folder / 'cells'}")


def test_collate_module_stays_standard_library() -> None:
    code = "import sys, harness.collate; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    assert collate_mod.__name__ == "harness.collate"
