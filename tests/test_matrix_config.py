"""matrix.toml → lock → cells: validation with one-line errors, selection, companion rules,
and the resume rule of the per-cell result files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cells import apply_only, companion_pins, select_cells
from harness.config import MATRIX_FILE, ROOT, load_matrix
from harness.errors import ConfigError
from harness.lock import LOCK_FILE, load_lock, select, validate_axes
from harness.results import is_reusable, new_result, result_path, write_result

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def matrix() -> dict:
    return load_matrix()


@pytest.fixture(scope="module")
def lock() -> dict:
    return load_lock()


def test_select_latest_patch_per_minor_skips_prereleases() -> None:
    versions = ["1.16.3", "1.17.0", "1.17.3", "1.18.0", "1.18.1", "1.19.0-dev.2024", "1.22.0-rev", "1.20.0rc1"]
    assert select(versions, ">=1.17", "latest-patch-per-minor") == ["1.17.3", "1.18.1"]
    assert select(["18.1.0", "18.20.8", "19.0.0", "20.1.0"], ">=18", "latest-per-major", ["==19.*"]) == [
        "18.20.8",
        "20.1.0",
    ]


def write_matrix(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(MATRIX_FILE.read_text() + extra)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[bogus]\nx = 1\n", r"m.toml: unknown key 'bogus'"),
        ("\n[axes.numpy]\nregistry = 'pypi'\nspecifier = '>=>1'\nselect = 'latest-per-major'\nkind = 'runtime'\n",
         r"axes.numpy.specifier: bad version specifier '>=>1'"),
        ("\n[axes.numpy]\nregistry = 'pypi'\nspecifier = '>=1'\nselect = 'every'\nkind = 'runtime'\n",
         r"axes.numpy.select 'every' is not one of"),
        ("\n[axes.numpy]\nregistry = 'pypi'\nspecifier = '>=1'\nselect = 'latest-per-major'\n"
         "kind = 'runtime'\ncolour = 1\n",
         r"axes.numpy: unknown key 'colour'"),
        ("\n[axes.numpy]\nregistry = 'conda'\nspecifier = '>=1'\nselect = 'latest-per-major'\nkind = 'runtime'\n",
         r"axes.numpy.registry 'conda' is not one of"),
    ],
)  # fmt: skip
def test_bad_matrix_is_one_line_naming_the_key(tmp_path: Path, extra: str, message: str) -> None:
    path = write_matrix(tmp_path, extra)
    with pytest.raises(ConfigError, match=message) as info:
        validate_axes(load_matrix(path), path.name)
    assert "\n" not in str(info.value)


def test_duplicate_axis_is_a_toml_error(tmp_path: Path) -> None:
    path = write_matrix(tmp_path, "\n[axes.python]\nregistry = 'pypi'\n")
    with pytest.raises(ConfigError, match=r"m.toml: not valid TOML"):
        load_matrix(path)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(MATRIX_FILE.read_text().replace('onnxruntime-node = "1.30.0"', "onnxruntime-node = 1.30", 1))
    with pytest.raises(ConfigError, match=r"key 'default-cell.onnxruntime-node' must be str, got float"):
        load_matrix(path)


def test_lock_matches_matrix_and_every_axis_has_versions(lock: dict, matrix: dict) -> None:
    for axis in validate_axes(matrix):
        assert lock["axes"][axis]["versions"], axis


def test_default_selection_touches_every_locked_version(matrix: dict, lock: dict) -> None:
    cells = select_cells(matrix, lock)
    for axis, entry in lock["axes"].items():
        seen = {c["versions"].get(axis) for c in cells}
        assert set(entry["versions"]) <= seen, axis
    ids = [c["id"] for c in cells]
    assert len(ids) == len(set(ids))
    assert {"default", "all-minimum", "all-newest"} <= set(ids)
    assert len(cells) < len(select_cells(matrix, lock, full=True))


def test_all_minimum_cell_is_the_seed_minimums(matrix: dict, lock: dict) -> None:
    cell = next(c for c in select_cells(matrix, lock) if c["id"] == "all-minimum")
    assert cell["versions"]["python"].startswith("3.9.")
    assert cell["versions"]["onnxruntime"].startswith("1.17.")
    assert cell["versions"]["onnxruntime-node"].startswith("1.17.")
    assert cell["versions"]["node"].startswith("18.")
    assert "numpy<2" in cell["companions"]  # from the [[companion]] rule, not from code


def test_companion_rules_are_data(matrix: dict) -> None:
    assert companion_pins(matrix, {"onnxruntime": "1.18.1"}) == ["numpy<2"]
    assert companion_pins(matrix, {"onnxruntime": "1.19.2"}) == []
    assert "onnx<1.18" in companion_pins(matrix, {"skl2onnx": "1.16.0"})


def test_only_filters(matrix: dict, lock: dict) -> None:
    cells = select_cells(matrix, lock)
    assert [c["id"] for c in apply_only(cells, ["onnxruntime=1.20.1"])] == ["onnxruntime-1.20.1"]
    assert {c["kind"] for c in apply_only(cells, ["kind=converter"])} == {"converter"}
    with pytest.raises(ConfigError, match=r"--only 'colour=red': unknown key 'colour'"):
        apply_only(cells, ["colour=red"])


def test_lock_for_another_spec_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX_FILE.read_text().replace('specifier = ">=1.17"', 'specifier = ">=1.18"', 1))
    shutil.copy(LOCK_FILE, tmp_path / "matrix.lock.json")
    with pytest.raises(ConfigError, match=r"matrix.lock.json: axis 'onnxruntime' was locked for another spec"):
        load_lock(tmp_path / "matrix.lock.json", path)


def test_resume_rule(tmp_path: Path, matrix: dict, lock: dict) -> None:
    cell = select_cells(matrix, lock)[0]
    result = new_result(cell, "key-1", "0")
    path = result_path(tmp_path, cell["id"])
    assert is_reusable(path, "key-1") == (False, "no result yet")
    write_result(tmp_path, result)
    assert is_reusable(path, "key-1") == (False, f"{path.name}: incomplete")
    result.update(status="passed", complete=True)
    write_result(tmp_path, result)
    assert is_reusable(path, "key-1")[0]
    assert not is_reusable(path, "key-2")[0]  # lock entry, artifacts or harness changed
    path.write_text(path.read_text()[:50])  # a torn file is never trusted
    assert not is_reusable(path, "key-1")[0]
    old = json.loads(json.dumps(result))
    old["schema"] = 0
    path.write_text(json.dumps(old))
    assert is_reusable(path, "key-1") == (False, f"{path.name}: schema 0, expected 1")


def test_cells_cli_lists_json_for_ci() -> None:
    out = subprocess.run([sys.executable, "-m", "harness.cells", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    cells = json.loads(out.stdout)
    assert {"id", "kind", "label", "versions"} <= set(cells[0])
