"""Train the reference models once, export them at opset 17, and write the committed artifacts.

    python -m harness.generate            # write models/ and reference_data/
    python -m harness.generate --check    # verify the committed files, write nothing
    python -m harness.generate --reproduce  # regenerate in a scratch folder, compare bytes

Run it through ``nox -s generate``, which builds the pinned environment from matrix.toml.
Deterministic: fixed seeds, one BLAS/OpenMP thread, byte-identical output for the same pins.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, List, Tuple  # noqa: E402

import numpy as np  # noqa: E402

from . import dataset  # noqa: E402
from .artifacts import (  # noqa: E402
    MANIFEST_NAME,
    MANIFEST_SCHEMA,
    MODELS_DIR,
    REFERENCE_DIR,
    ROOT,
    Artifacts,
    Manifest,
    ReferenceEntry,
    array_bytes,
    array_entry,
    atomic_write,
    manifest_text,
    sha256_bytes,
)
from .config import load_matrix  # noqa: E402
from .errors import GenerationError, run_cli  # noqa: E402
from .registry import INPUT_NAME, MODELS, N_FEATURES, ModelSpec  # noqa: E402
from .training import fit  # noqa: E402

# sklearn status of a reference row (reference_data/.../sklearn_defined.u8.bin)
DEFINED, REFUSED, DIVERGES_BY_DESIGN = 0, 1, 2
_PINNED = ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy", "protobuf", "scipy")


class _Writer:
    """Collects files for one generation run, then writes them all under ``root``."""

    def __init__(self) -> None:
        self.files: Dict[str, bytes] = {}
        self.manifest: Manifest = Manifest(
            schema=MANIFEST_SCHEMA,
            generator={},
            training={},
            models={},
            arrays={},
            input_sets={},
            reference={},
            runtime_reference={},
        )

    def array(self, rel: str, values: np.ndarray, dtype: str) -> str:
        self.files[rel] = array_bytes(values, dtype)
        self.manifest["arrays"][rel] = array_entry(values, dtype)
        return rel


def export(spec: ModelSpec, estimator: Any, limits: Dict[str, Any]) -> Tuple[bytes, Dict]:
    """Convert with skl2onnx at the pinned opsets; refuse what the oldest runtime can't load."""
    import onnx
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    options = {id(estimator): {"zipmap": False}} if spec.is_classifier else None
    onx = to_onnx(
        estimator,
        initial_types=[(INPUT_NAME, FloatTensorType([None, N_FEATURES]))],
        target_opset=dict(limits["target-opset"]),
        options=options,
    )
    onnx.checker.check_model(onx, full_check=True)
    opsets: Dict[str, int] = {}
    for entry in onx.opset_import:
        opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
    oldest = limits["oldest-runtime"]
    if onx.ir_version > limits["max-ir-version"]:
        raise GenerationError(
            f"{spec.name}: IR version {onx.ir_version} > {limits['max-ir-version']}, "
            f"which onnxruntime {oldest} cannot load"
        )
    for domain, version in opsets.items():
        ceiling = limits["max-opset"].get(domain)
        if ceiling is None or version > ceiling:
            raise GenerationError(
                f"{spec.name}: opset {domain or 'ai.onnx'} {version} exceeds what onnxruntime "
                f"{oldest} loads ({ceiling})"
            )
    outputs = [o.name for o in onx.graph.output]
    if tuple(outputs) != spec.outputs:
        raise GenerationError(f"{spec.name}: outputs {outputs}, registry expects {spec.outputs}")
    data = onx.SerializeToString()
    if not 0.5 * spec.expected_onnx_bytes <= len(data) <= 1.5 * spec.expected_onnx_bytes:
        raise GenerationError(f"{spec.name}: {len(data)} bytes, the seed expects ~{spec.expected_onnx_bytes}")
    info = {
        "ir_version": int(onx.ir_version),
        "opsets": opsets,
        "outputs": outputs,
        "op_types": sorted({node.op_type for node in onx.graph.node}),
    }
    return data, info


def sklearn_outputs(
    spec: ModelSpec, estimator: Any, x: np.ndarray, row_by_row: bool
) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """scikit-learn's outputs (float64 where it computes in float64) and each row's status."""
    status = np.zeros(len(x), dtype=np.uint8)
    if row_by_row:
        rows = []
        for i in range(len(x)):
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore", RuntimeWarning)  # overflow on 1e38 is the point
                    rows.append(_predict(spec, estimator, x[i : i + 1]))
            except ValueError:
                status[i] = REFUSED
                rows.append(_undefined(spec, estimator))
            if status[i] == DEFINED and dataset.sklearn_diverges_by_design(spec.is_tree, x[i]):
                status[i] = DIVERGES_BY_DESIGN
        outputs = {k: np.concatenate([r[k] for r in rows]) for k in spec.outputs}
    else:
        outputs = _predict(spec, estimator, x)
    return outputs, status


def _predict(spec: ModelSpec, estimator: Any, x: np.ndarray) -> Dict[str, np.ndarray]:
    if spec.is_classifier:
        return {
            "label": estimator.predict(x).astype(np.int64),
            "probabilities": estimator.predict_proba(x).astype(np.float64),
        }
    return {"variable": estimator.predict(x).astype(np.float64).reshape(-1, 1)}


def _undefined(spec: ModelSpec, estimator: Any) -> Dict[str, np.ndarray]:
    if spec.is_classifier:
        n_classes = len(estimator.classes_)
        return {
            "label": np.full(1, -1, dtype=np.int64),
            "probabilities": np.full((1, n_classes), np.nan),
        }
    return {"variable": np.full((1, 1), np.nan)}


def versions() -> Dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: metadata.version(name) for name in _PINNED},
        "threads": 1,
    }


def check_pins(pins: Dict[str, str]) -> None:
    found = versions()
    wanted_python = pins["python"]
    if not found["python"].startswith(wanted_python + ".") and found["python"] != wanted_python:
        raise GenerationError(f"matrix.toml generate.python is {wanted_python}, running {found['python']}")
    for name in _PINNED:
        if found["packages"][name] != pins[name]:
            raise GenerationError(
                f"matrix.toml generate.{name} is {pins[name]}, installed {found['packages'][name]}"
                " (run through `nox -s generate`)"
            )


def build(limits: Dict[str, Any]) -> _Writer:
    """Everything in memory: trained, exported, checked, with reference outputs."""
    from threadpoolctl import threadpool_limits

    out = _Writer()
    x, y, cls = dataset.training_data()
    out.manifest["training"] = {
        "x": out.array(f"{REFERENCE_DIR}/training/x.f32.bin", x, "float32"),
        "y": out.array(f"{REFERENCE_DIR}/training/y.f64.bin", y, "float64"),
        "class": out.array(f"{REFERENCE_DIR}/training/class.i64.bin", cls, "int64"),
    }
    edge_x, edge_kinds = dataset.edge_inputs()
    inputs: Dict[str, np.ndarray] = {"nominal": dataset.nominal_inputs(), "edge": edge_x}
    set_models: Dict[str, List[str]] = {"nominal": [m.name for m in MODELS], "edge": [m.name for m in MODELS]}
    kind_arrays = {"edge": out.array(f"{REFERENCE_DIR}/inputs/edge.kinds.u8.bin", edge_kinds, "uint8")}

    with threadpool_limits(1):
        fitted = {spec.name: fit(spec, x, y, cls) for spec in MODELS}
    for spec in MODELS:
        data, info = export(spec, fitted[spec.name], limits)
        rel = f"{MODELS_DIR}/{spec.name}.onnx"
        out.files[rel] = data
        out.manifest["models"][spec.name] = {
            "file": rel,
            "sha256": sha256_bytes(data),
            "bytes": len(data),
            "flushed_denormals": int(fitted[spec.name].flushed_denormals_),
            **info,
        }  # type: ignore[typeddict-item]
        if spec.is_tree:
            name = f"boundary-{spec.name}"
            inputs[name] = dataset.boundary_inputs(fitted[spec.name])
            set_models[name] = [spec.name]

    for set_name, values in inputs.items():
        family = dataset.INPUT_SETS_BY_NAME[set_name.split("-")[0]]
        out.manifest["input_sets"][set_name] = {
            "inputs": out.array(f"{REFERENCE_DIR}/inputs/{set_name}.f32.bin", values, "float32"),
            "row_kinds": kind_arrays.get(set_name),
            "kind_names": list(dataset.EDGE_KINDS) if set_name == "edge" else [],
            "models": set_models[set_name],
            "description": family.description,
            "relation": family.relation,
        }
        for model_name in set_models[set_name]:
            spec = next(m for m in MODELS if m.name == model_name)
            with threadpool_limits(1):
                outputs, status = sklearn_outputs(spec, fitted[model_name], values, set_name == "edge")
            base = f"{REFERENCE_DIR}/sklearn/{model_name}/{set_name}"
            entry = ReferenceEntry(
                outputs={},
                sklearn_defined=out.array(f"{base}.status.u8.bin", status, "uint8"),
            )
            for output, array in outputs.items():
                if output == "label":
                    entry["outputs"][output] = {"f32": out.array(f"{base}.label.i64.bin", array, "int64"), "f64": None}
                else:
                    entry["outputs"][output] = {
                        "f64": out.array(f"{base}.{output}.f64.bin", array, "float64"),
                        "f32": out.array(f"{base}.{output}.f32.bin", array.astype(np.float32), "float32"),
                    }
            out.manifest["reference"].setdefault(model_name, {})[set_name] = entry
    out.manifest["runtime_reference"] = runtime_reference(out, inputs, set_models)
    out.manifest["generator"] = versions()
    return out


def runtime_reference(out: _Writer, inputs: Dict[str, np.ndarray], set_models: Dict[str, List[str]]) -> Dict[str, Any]:
    """The pinned onnxruntime's outputs at one thread: what version drift is measured from."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    outputs: Dict[str, Dict[str, Dict[str, str]]] = {}
    for set_name, values in inputs.items():
        for model_name in set_models[set_name]:
            data = out.files[f"{MODELS_DIR}/{model_name}.onnx"]
            session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            names = [o.name for o in session.get_outputs()]
            base = f"{REFERENCE_DIR}/onnxruntime/{model_name}/{set_name}"
            for name, array in zip(names, session.run(names, {INPUT_NAME: values})):
                dtype, suffix = ("int64", "i64") if array.dtype == np.int64 else ("float32", "f32")
                rel = out.array(f"{base}.{name}.{suffix}.bin", array, dtype)
                outputs.setdefault(model_name, {}).setdefault(set_name, {})[name] = rel
    return {"backend": "ort-python", "version": onnxruntime.__version__, "threads": 1, "outputs": outputs}


def write(out: _Writer, root: Path) -> None:
    """Replace models/ and reference_data/ under ``root`` as a whole: no stale file survives."""
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=root, prefix=".generate."))
    try:
        for rel, data in out.files.items():
            atomic_write(stage / rel, data)
        atomic_write(stage / REFERENCE_DIR / MANIFEST_NAME, manifest_text(out.manifest).encode())
        for folder in (MODELS_DIR, REFERENCE_DIR):
            target = root / folder
            if target.exists():
                old = stage / f"{folder}.old"
                os.replace(target, old)
            os.replace(stage / folder, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def reproduce(out: _Writer, root: Path) -> List[str]:
    """Files that differ between a fresh generation and the committed artifacts."""
    diffs = []
    expected = {**out.files, f"{REFERENCE_DIR}/{MANIFEST_NAME}": manifest_text(out.manifest).encode()}
    for rel, data in sorted(expected.items()):
        path = root / rel
        if not path.exists() or path.read_bytes() != data:
            diffs.append(rel)
    return diffs


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify committed artifacts; write nothing")
    parser.add_argument("--reproduce", action="store_true", help="regenerate in memory and compare bytes")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root to write into")
    args = parser.parse_args(argv)

    if args.check:
        artifacts = Artifacts(args.root)
        problems = artifacts.verify_all()
        for line in problems:
            print(line, file=sys.stderr)
        n = len(artifacts.manifest["models"]) + len(artifacts.manifest["arrays"])
        print(f"checked {n} artifacts: {'all match' if not problems else f'{len(problems)} problems'}")
        return 3 if problems else 0

    matrix = load_matrix()
    check_pins(matrix["generate"])
    out = build(matrix["onnx-limits"])
    if args.reproduce:
        diffs = reproduce(out, args.root)
        for rel in diffs:
            print(f"{rel}: differs from a fresh generation", file=sys.stderr)
        print(f"reproduced {len(out.files) + 1} files: {len(diffs)} differ")
        return 6 if diffs else 0
    write(out, args.root)
    print(f"wrote {len(out.files) + 1} files under {args.root}")
    return 0


if __name__ == "__main__":
    run_cli(main)
