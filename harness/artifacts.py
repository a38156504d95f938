"""The committed artifacts: a portable binary layout plus a JSON manifest that pins them.

Arrays are raw little-endian C-order bytes (``.bin``); the manifest gives each one's dtype,
shape and sha256, so Node (``node/reference.mjs``) reads them with nothing but ``fs`` and
typed arrays. Nothing here is pickled or executable. Every read is checked against the
manifest: a missing, truncated or altered file is an ArtifactError naming the file and the
expected vs found sha256; nothing is ever regenerated behind the user's back.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, TypedDict

import numpy as np

from .atomic import atomic_write  # noqa: F401  (re-exported)
from .config import ARTIFACT_ROOT, ROOT  # noqa: F401  (ROOT is re-exported)
from .errors import ArtifactError, read_json

MODELS_DIR = "models"
REFERENCE_DIR = "reference_data"
MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = 1

DTYPES = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "uint8": "|u1"}


class ArrayEntry(TypedDict):
    dtype: str
    shape: List[int]
    sha256: str
    bytes: int


class ModelEntry(TypedDict):
    file: str
    sha256: str
    bytes: int
    ir_version: int
    opsets: Dict[str, int]
    outputs: List[str]
    op_types: List[str]
    flushed_denormals: int  # float32 denormal weights set to zero after training (harness/training.py)


class InputSetEntry(TypedDict):
    inputs: str
    row_kinds: Optional[str]
    kind_names: List[str]
    models: List[str]
    description: str
    relation: str


class OutputEntry(TypedDict):
    f32: str
    f64: Optional[str]


class ReferenceEntry(TypedDict):
    outputs: Dict[str, OutputEntry]
    sklearn_defined: str


class Manifest(TypedDict):
    schema: int
    generator: Dict[str, Any]
    training: Dict[str, str]
    models: Dict[str, ModelEntry]
    arrays: Dict[str, ArrayEntry]
    input_sets: Dict[str, InputSetEntry]
    reference: Dict[str, Dict[str, ReferenceEntry]]
    #: the generator's onnxruntime outputs (one thread): the origin that matrix cells measure
    #: each backend version's drift from. {"version": ..., "outputs": {model: {set: {output: rel}}}}
    runtime_reference: Dict[str, Any]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def array_bytes(array: np.ndarray, dtype: str) -> bytes:
    return np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()


def array_entry(array: np.ndarray, dtype: str) -> ArrayEntry:
    data = array_bytes(array, dtype)
    return ArrayEntry(dtype=dtype, shape=list(array.shape), sha256=sha256_bytes(data), bytes=len(data))


class Artifacts:
    """Read access to ``models/`` and ``reference_data/``, every byte checked."""

    def __init__(self, root: Path = ARTIFACT_ROOT) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / REFERENCE_DIR / MANIFEST_NAME
        self.manifest = load_manifest(self.manifest_path)

    def _verified_bytes(self, rel: str, sha256: str, size: int) -> bytes:
        path = self.root / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactError(
                f"{rel}: missing (expected sha256 {sha256}); restore it from git or run `nox -s generate`"
            ) from None
        found = sha256_bytes(data)
        if found != sha256:
            what = "truncated" if len(data) < size else "altered"
            raise ArtifactError(f"{rel}: {what} ({len(data)} of {size} bytes); expected sha256 {sha256}, found {found}")
        return data

    def array(self, rel: str) -> np.ndarray:
        try:
            entry = self.manifest["arrays"][rel]
        except KeyError:
            raise ArtifactError(f"{rel}: not listed in {self.manifest_path.name}") from None
        data = self._verified_bytes(rel, entry["sha256"], entry["bytes"])
        return np.frombuffer(data, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])

    def model_path(self, name: str) -> Path:
        return self.root / self.model_entry(name)["file"]

    def model_entry(self, name: str) -> ModelEntry:
        try:
            return self.manifest["models"][name]
        except KeyError:
            raise ArtifactError(f"model {name!r}: not listed in {self.manifest_path}") from None

    def model_bytes(self, name: str) -> bytes:
        entry = self.model_entry(name)
        return self._verified_bytes(entry["file"], entry["sha256"], entry["bytes"])

    def inputs(self, input_set: str) -> np.ndarray:
        return self.array(self.manifest["input_sets"][input_set]["inputs"])

    def cases(self) -> List[tuple]:
        """Every (model, input set) the manifest has reference outputs for."""
        return [(m, s) for m, sets in self.manifest["reference"].items() for s in sets]

    def verify_all(self) -> List[str]:
        """Check every listed file; return the one-line problems (empty when all is well)."""
        problems: List[str] = []
        for entry in self.manifest["models"].values():
            try:
                self._verified_bytes(entry["file"], entry["sha256"], entry["bytes"])
            except ArtifactError as exc:
                problems.append(str(exc))
        for rel in self.manifest["arrays"]:
            try:
                self.array(rel)
            except ArtifactError as exc:
                problems.append(str(exc))
        listed = set(self.manifest["arrays"])
        for where, rel in _references(self.manifest):
            if rel not in listed:
                problems.append(f"{rel}: used by {where} but not listed in {self.manifest_path.name} arrays")
        return problems


def _references(manifest: Manifest) -> List[tuple]:
    """Every (where, array path) the manifest refers to outside its `arrays` table."""
    refs = [(f"training.{k}", rel) for k, rel in manifest["training"].items()]
    for name, entry in manifest["input_sets"].items():
        refs.append((f"input_sets.{name}", entry["inputs"]))
        if entry["row_kinds"]:
            refs.append((f"input_sets.{name}.row_kinds", entry["row_kinds"]))
    for model, sets in manifest["reference"].items():
        for set_name, ref in sets.items():
            refs.append((f"reference.{model}.{set_name}", ref["sklearn_defined"]))
            for output, paths in ref["outputs"].items():
                refs += [(f"reference.{model}.{set_name}.{output}", p) for p in paths.values() if p]
    for model, sets in manifest["runtime_reference"].get("outputs", {}).items():
        for set_name, outputs in sets.items():
            refs += [(f"runtime_reference.{model}.{set_name}.{o}", p) for o, p in outputs.items()]
    return refs


def load_manifest(path: Path) -> Manifest:
    manifest = read_json(path, str(path), "run `nox -s generate` to create it", ArtifactError)
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        raise ArtifactError(
            f"{path}: schema {manifest.get('schema') if isinstance(manifest, dict) else '?'}"
            f" is not the supported schema {MANIFEST_SCHEMA}"
        )
    for key in Manifest.__annotations__:
        if key not in manifest:
            raise ArtifactError(f"{path}: key {key!r} missing")
    return manifest  # type: ignore[return-value]


def manifest_text(manifest: Manifest) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"
