"""The model registry: the one place that names the reference models, their parameters,
their outputs and their precision budgets.

Everything else (generation, the invariance suite, the Node worker's requests, the README's
budget table) reads this module; nothing copies it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

#: Backends the invariance suite knows. ``sklearn`` is the committed scikit-learn output:
#: tests never retrain, so scikit-learn is represented by what the generator recorded.
BACKENDS: Tuple[str, ...] = ("sklearn", "ort-python", "ort-node", "ort-web-node", "ort-web-browser")

#: Backend pairs compared by the invariance suite, (reference side, candidate side).
PAIRS: Tuple[Tuple[str, str], ...] = (
    ("sklearn", "ort-python"),
    ("ort-python", "ort-node"),
    ("sklearn", "ort-node"),
    ("ort-node", "ort-web-node"),
    ("ort-web-node", "ort-web-browser"),
    ("sklearn", "ort-web-node"),
    ("sklearn", "ort-web-browser"),
)

#: The float32 kernels each live backend computes with: onnxruntime's native CPU build or its
#: WebAssembly build (onnxruntime-web, the same .wasm under Node and in Chromium). Two kernels
#: sum dot products in different orders, so where a row overflows float32 part-way through a
#: linear or MLP model (|x| >= dataset.OVERFLOW_REGIME) their results are not comparable: such
#: rows are left out of cross-kernel pairs, as they are of scikit-learn pairs.
KERNELS: Mapping[str, str] = {
    "ort-python": "native",
    "ort-node": "native",
    "ort-web-node": "wasm",
    "ort-web-browser": "wasm",
}

N_FEATURES = 4
FEATURE_NAMES: Tuple[str, ...] = ("A", "B", "C", "D")
INPUT_NAME = "input"


@dataclass(frozen=True)
class Budget:
    """How far two backends may be apart on one output.

    An element passes when ``|a - b| <= atol + rtol * |b|`` and, where ``|b| >= ulp_floor``,
    its float32 ULP distance is at most ``max_ulp``. Below ``ulp_floor`` a ULP count measures
    cancellation, not the runtime, so only the absolute/relative tolerance applies there.
    Non-finite values must match exactly (NaN matches NaN, inf matches the same inf).
    """

    atol: float
    rtol: float
    max_ulp: int
    ulp_floor: float = 1e-2

    def describe(self) -> str:
        return f"atol={self.atol:.0e} rtol={self.rtol:.0e} ulp<={self.max_ulp}"


#: Two runtimes of the same onnxruntime family, same thread count: must agree bit for bit.
BITWISE = Budget(atol=0.0, rtol=0.0, max_ulp=0, ulp_floor=0.0)


@dataclass(frozen=True)
class ModelSpec:
    """One reference model: how to build it, what it outputs, and its budgets per pair."""

    name: str
    title: str
    task: str  # "regression" or "classification"
    estimator: str  # "module:Class"
    params: Mapping[str, Any]
    expected_onnx_bytes: int  # the seed's expected size; generate checks +-50 %
    budgets: Mapping[Tuple[str, str], Budget] = field(default_factory=dict)

    @property
    def is_classifier(self) -> bool:
        return self.task == "classification"

    @property
    def is_tree(self) -> bool:
        return "ensemble" in self.estimator

    @property
    def outputs(self) -> Tuple[str, ...]:
        """Names of the compared outputs, in the ONNX graph's output order."""
        return ("label", "probabilities") if self.is_classifier else ("variable",)

    def budget(self, pair: Tuple[str, str], output: str) -> Optional[Budget]:
        """The budget for one pair and output; ``None`` means exact equality (labels)."""
        if output == "label":
            return None
        return self.budgets[pair]

    def build(self) -> Any:
        module, cls = self.estimator.split(":")
        return getattr(importlib.import_module(module), cls)(**self.params)


def _budgets(
    sklearn_side: Budget, native_wasm: Budget = BITWISE, sklearn_wasm: Optional[Budget] = None
) -> Dict[Tuple[str, str], Budget]:
    """scikit-learn against any onnxruntime gets ``sklearn_side`` (``sklearn_wasm`` for the WASM
    build where that is measured further off); one build in two hosts (Python/Node, Node/Chromium)
    agrees exactly; the native and WASM builds get ``native_wasm`` (measured bit-identical on
    the tree ensembles, not on dot products)."""
    wasm_side = sklearn_wasm or sklearn_side
    return {
        ("sklearn", "ort-python"): sklearn_side,
        ("ort-python", "ort-node"): BITWISE,
        ("sklearn", "ort-node"): sklearn_side,
        ("ort-node", "ort-web-node"): native_wasm,
        ("ort-web-node", "ort-web-browser"): BITWISE,
        ("sklearn", "ort-web-node"): wasm_side,
        ("sklearn", "ort-web-browser"): wasm_side,
    }


_SEED = {"random_state": 42}

MODELS: Tuple[ModelSpec, ...] = (
    ModelSpec(
        name="ridge",
        title="Ridge(alpha=0.1)",
        task="regression",
        estimator="sklearn.linear_model:Ridge",
        params={"alpha": 0.1},
        expected_onnx_bytes=300,
        budgets=_budgets(
            Budget(atol=1e-6, rtol=1e-6, max_ulp=128),
            native_wasm=Budget(atol=1e-6, rtol=1e-6, max_ulp=128),  # measured 31 ULP
        ),
    ),
    ModelSpec(
        name="rf_reg_10_d3",
        title="RandomForestRegressor(10 trees, depth 3)",
        task="regression",
        estimator="sklearn.ensemble:RandomForestRegressor",
        params={"n_estimators": 10, "max_depth": 3, **_SEED},
        expected_onnx_bytes=6_000,
        budgets=_budgets(Budget(atol=1e-6, rtol=1e-6, max_ulp=32)),
    ),
    ModelSpec(
        name="rf_reg_50_d5",
        title="RandomForestRegressor(50 trees, depth 5)",
        task="regression",
        estimator="sklearn.ensemble:RandomForestRegressor",
        params={"n_estimators": 50, "max_depth": 5, **_SEED},
        expected_onnx_bytes=116_000,
        budgets=_budgets(Budget(atol=1e-6, rtol=1e-6, max_ulp=32)),
    ),
    ModelSpec(
        name="mlp_reg_100_50",
        title="MLPRegressor(100, 50)",
        task="regression",
        estimator="sklearn.neural_network:MLPRegressor",
        params={"hidden_layer_sizes": (100, 50), "max_iter": 200, **_SEED},
        expected_onnx_bytes=23_000,
        budgets=_budgets(
            Budget(atol=2e-6, rtol=1e-5, max_ulp=256),
            native_wasm=Budget(atol=2e-6, rtol=1e-5, max_ulp=512),  # measured 112 ULP
            sklearn_wasm=Budget(atol=2e-6, rtol=1e-5, max_ulp=512),  # measured 112 ULP (native: 64)
        ),
    ),
    ModelSpec(
        name="logreg",
        title="LogisticRegression",
        task="classification",
        estimator="sklearn.linear_model:LogisticRegression",
        params={},
        expected_onnx_bytes=400,
        budgets=_budgets(
            Budget(atol=2e-6, rtol=1e-5, max_ulp=512),
            native_wasm=Budget(atol=2e-6, rtol=1e-5, max_ulp=512),  # measured 128 ULP
        ),
    ),
    ModelSpec(
        name="rf_clf_10_d3",
        title="RandomForestClassifier(10 trees, depth 3)",
        task="classification",
        estimator="sklearn.ensemble:RandomForestClassifier",
        params={"n_estimators": 10, "max_depth": 3, **_SEED},
        expected_onnx_bytes=6_000,
        budgets=_budgets(Budget(atol=1e-6, rtol=1e-6, max_ulp=64)),
    ),
    ModelSpec(
        name="mlp_clf_50_25",
        title="MLPClassifier(50, 25)",
        task="classification",
        estimator="sklearn.neural_network:MLPClassifier",
        params={"hidden_layer_sizes": (50, 25), "max_iter": 200, **_SEED},
        expected_onnx_bytes=8_000,
        budgets=_budgets(
            Budget(atol=2e-6, rtol=1e-5, max_ulp=512),
            native_wasm=Budget(atol=2e-6, rtol=1e-5, max_ulp=512),  # measured 128 ULP
        ),
    ),
)

MODELS_BY_NAME: Dict[str, ModelSpec] = {m.name: m for m in MODELS}


def model(name: str) -> ModelSpec:
    try:
        return MODELS_BY_NAME[name]
    except KeyError:
        known = ", ".join(MODELS_BY_NAME)
        raise KeyError(f"unknown model {name!r}; known models: {known}") from None
