"""The registry is the one source of truth: complete, consistent and matching the artifacts."""

from __future__ import annotations

import pytest

from harness.registry import BITWISE, MODELS, MODELS_BY_NAME, PAIRS, model

pytestmark = pytest.mark.unit


def test_seven_models_with_unique_names() -> None:
    assert len(MODELS) == 7
    assert len(MODELS_BY_NAME) == 7


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: s.name)
def test_every_pair_has_a_budget(spec) -> None:
    for pair in PAIRS:
        for output in spec.outputs:
            budget = spec.budget(pair, output)
            if output == "label":
                assert budget is None  # labels match exactly
            else:
                assert budget is not None and budget.atol >= 0 and budget.max_ulp >= 0


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: s.name)
def test_runtime_pair_is_bitwise(spec) -> None:
    assert spec.budgets[("ort-python", "ort-node")] == BITWISE


def test_classifier_outputs_are_tensors_only() -> None:
    for spec in MODELS:
        expected = ("label", "probabilities") if spec.is_classifier else ("variable",)
        assert spec.outputs == expected


def test_seeded_models_are_deterministic() -> None:
    for spec in MODELS:
        if "random_state" in spec.estimator or spec.is_tree or "neural" in spec.estimator:
            assert spec.params.get("random_state") == 42, spec.name


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="ridge"):
        model("no-such-model")


def test_manifest_lists_exactly_the_registry(artifacts) -> None:
    assert set(artifacts.manifest["models"]) == set(MODELS_BY_NAME)
    for name, entry in artifacts.manifest["models"].items():
        spec = MODELS_BY_NAME[name]
        assert tuple(entry["outputs"]) == spec.outputs
        assert 0.5 * spec.expected_onnx_bytes <= entry["bytes"] <= 1.5 * spec.expected_onnx_bytes
        assert entry["ir_version"] <= 9  # loadable by onnxruntime 1.17
        assert entry["opsets"][""] == 17
