"""The committed model/bundle is self-consistent and complete per docs/model-bundle.md."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from churn_model import explain, schema, synthetic
from churn_model.features import encode_records
from tests import treeshap
from tests.targets import F1_TARGET, ROC_AUC_FLOOR, ROC_AUC_TARGET, roc_auc_target_unmet

BUNDLE = Path(__file__).resolve().parents[1] / "bundle"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = json.loads((BUNDLE / "manifest.json").read_text())
    assert isinstance(loaded, dict), "manifest.json is not a JSON object"
    return loaded


def test_the_parity_cases_are_within_the_ranges_the_generator_states() -> None:
    """synthetic.py said charges reach 10000 / 1,000,000, but TotalCharges is also drawn as tenure ×
    MonthlyCharges × U(0.8, 1.2): the committed cases reach 12,022,807.25."""
    inputs = [c["input"] for c in json.loads((BUNDLE / "parity.json").read_text())["cases"]]
    top_total = synthetic.EXTREME_TENURE * synthetic.EXTREME_MONTHLY * 1.2  # _total's widest draw
    assert max(i["tenure"] for i in inputs) == synthetic.EXTREME_TENURE
    assert max(i["MonthlyCharges"] for i in inputs) == synthetic.EXTREME_MONTHLY
    assert synthetic.EXTREME_TOTAL < max(i["TotalCharges"] or 0 for i in inputs) <= top_total
    doc = " ".join((synthetic.__doc__ or "").split())
    assert (f"tenure up to {synthetic.EXTREME_TENURE}, MonthlyCharges 0 and up to {synthetic.EXTREME_MONTHLY:.0f}, "
            f"TotalCharges 0 and up to {top_total:,.0f}") in doc


def test_checksums_match_manifest(manifest: dict[str, Any]) -> None:
    assert hashlib.sha256((BUNDLE / "model.onnx").read_bytes()).hexdigest() == manifest["onnx"]["sha256"]
    assert hashlib.sha256((BUNDLE / "parity.json").read_bytes()).hexdigest() == manifest["parity"]["sha256"]
    assert hashlib.sha256((BUNDLE / "explainer.json").read_bytes()).hexdigest() == manifest["explainer"]["sha256"]


def test_the_explainer_is_the_served_model_as_the_manifest_describes_it(manifest: dict[str, Any]) -> None:
    """explainer.json's counts are the manifest's, its trees are the model's boosting rounds, its
    reference names parity cases that exist, and walking its trees gives parity.json's probabilities
    (the model.onnx the gateway serves, as the parity replay above shows)."""
    entry = manifest["explainer"]
    assert entry["file"] == "explainer.json" and entry["tolerance"] == explain.GATEWAY_TOLERANCE
    written = json.loads((BUNDLE / entry["file"]).read_text())
    assert (written["formatVersion"], written["method"]) == (1, explain.METHOD)
    assert entry["trees"] == len(written["trees"]) == int(manifest["params"]["n_rounds"])  # every boosting round
    assert written["featureCount"] == len(manifest["featureSpec"]["features"])
    cases = json.loads((BUNDLE / "parity.json").read_text())["cases"]
    indexes = written["reference"]["parityCases"]
    assert indexes == list(range(0, len(cases), 10)) and entry["referenceCount"] == len(indexes) == 240
    contributions = np.array(written["reference"]["contributions"])
    assert contributions.shape == (len(indexes), written["featureCount"] + 1)
    x = encode_records([c["input"] for c in cases], manifest["featureSpec"])
    trees = explain.Trees(written["baseMargin"], written["trees"], written["featureCount"])
    margins = explain.walk_margins(trees, x)  # float64, as the gateway adds
    probabilities = np.array([c["probability"] for c in cases])
    assert np.max(np.abs(1 / (1 + np.exp(-margins)) - probabilities)) <= manifest["parity"]["tolerance"]
    assert np.max(np.abs(contributions.sum(axis=1) - margins[indexes])) <= explain.REFERENCE_SUM_TOLERANCE
    for tree in written["trees"]:
        for values in (tree["threshold"], tree["leaf"], tree["cover"]):
            assert all(float(np.float32(v)) == v for v in values)  # float32s, written exactly


def test_treeshap_on_the_explainers_trees_gives_its_reference(manifest: dict[str, Any]) -> None:
    """What the gateway checks before serving the bundle: SHAP values recomputed from the trees and
    covers are the reference to within the manifest's tolerance, for every reference case."""
    written = json.loads((BUNDLE / "explainer.json").read_text())
    cases = json.loads((BUNDLE / "parity.json").read_text())["cases"]
    x = encode_records([cases[i]["input"] for i in written["reference"]["parityCases"]], manifest["featureSpec"])
    reference = np.array(written["reference"]["contributions"])
    assert np.max(np.abs(treeshap.contributions(written, x) - reference)) <= manifest["explainer"]["tolerance"]


def test_parity_cases_replay_through_onnxruntime(manifest: dict[str, Any]) -> None:
    parity = json.loads((BUNDLE / "parity.json").read_text())
    cases = parity["cases"]
    assert len(cases) == manifest["parity"]["count"] >= 2000
    assert parity["tolerance"] == manifest["parity"]["tolerance"]
    x = encode_records([c["input"] for c in cases], manifest["featureSpec"])
    session = ort.InferenceSession(str(BUNDLE / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_cfg = manifest["onnx"]
    (probs,) = session.run([onnx_cfg["outputName"]], {onnx_cfg["inputName"]: x})
    assert probs.shape == (len(cases), 2) and probs.dtype == np.float32
    expected = np.array([c["probability"] for c in cases])
    assert np.max(np.abs(probs[:, onnx_cfg["positiveClassIndex"]] - expected)) <= parity["tolerance"]


def test_parity_cases_cover_values_and_extremes() -> None:
    inputs = [c["input"] for c in json.loads((BUNDLE / "parity.json").read_text())["cases"]]
    for column, domain in schema.CATEGORICAL_DOMAINS.items():
        assert {r[column] for r in inputs} == set(domain), column
    assert {r["SeniorCitizen"] for r in inputs} == {0, 1}
    assert any(r["tenure"] == 0 and r["TotalCharges"] is None for r in inputs)
    assert max(r["tenure"] for r in inputs) == 1200
    assert min(r["MonthlyCharges"] for r in inputs) == 0 and max(r["MonthlyCharges"] for r in inputs) >= 10000
    billed = [r["TotalCharges"] for r in inputs if r["TotalCharges"] is not None]
    assert min(billed) == 0 and max(billed) >= 100000
    for r in inputs:
        assert (r["PhoneService"] == "No") == (r["MultipleLines"] == "No phone service")
        for addon in schema.ADDON_COLUMNS:
            assert (r["InternetService"] == "No") == (r[addon] == "No internet service")


def test_feature_spec_is_complete(manifest: dict[str, Any]) -> None:
    spec = manifest["featureSpec"]
    columns = {c["name"]: c for c in spec["columns"]}
    assert [c["name"] for c in spec["columns"]] == list(schema.FEATURE_COLUMNS)
    for name, domain in schema.CATEGORICAL_DOMAINS.items():
        assert columns[name]["kind"] == "categorical" and columns[name]["allowedValues"] == list(domain)
    assert columns["SeniorCitizen"] == {"name": "SeniorCitizen", "kind": "integer", "allowedValues": ["0", "1"]}
    assert columns["tenure"]["kind"] == "integer" and columns["TotalCharges"]["nullable"] is True
    feats = spec["features"]
    assert {f["transform"] for f in feats} <= {"identity", "onehot", "ratio"}
    onehots = {(f["column"], f["value"]) for f in feats if f["transform"] == "onehot"}
    assert onehots == {(c, v) for c, d in schema.CATEGORICAL_DOMAINS.items() for v in d}
    identities = {f["column"]: f for f in feats if f["transform"] == "identity"}
    assert set(identities) == {"SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"}
    assert identities["TotalCharges"]["nullAs"] == 0
    ratios = [f for f in feats if f["transform"] == "ratio"]
    assert [(f["numerator"], f["denominator"]) for f in ratios] == [("TotalCharges", "tenure")]
    assert all({f["numerator"], f["denominator"]} <= set(columns) and "zeroDenominatorAs" in f for f in ratios)
    assert len({f["name"] for f in feats}) == len(feats)


def test_manifest_fields(manifest: dict[str, Any]) -> None:
    assert manifest["formatVersion"] == 1
    assert manifest["riskBands"]["highFrom"] == manifest["threshold"]
    assert 0 < manifest["riskBands"]["mediumFrom"] < manifest["threshold"] < 1
    assert manifest["thresholdRule"] and manifest["registeredModel"]["version"] is not None
    assert all(isinstance(v, str) for v in manifest["params"].values())
    assert all(isinstance(v, (int, float)) for v in manifest["metrics"].values())
    model = onnx.load(str(BUNDLE / "model.onnx"))
    n_features = len(manifest["featureSpec"]["features"])
    assert model.graph.input[0].name == manifest["onnx"]["inputName"]
    assert model.graph.input[0].type.tensor_type.shape.dim[1].dim_value == n_features
    assert {"opset": manifest["onnx"]["opset"]} == {"opset": next(o.version for o in model.opset_import if o.domain == "")}


def test_committed_bundle_f1_and_auc_floor(manifest: dict[str, Any]) -> None:
    assert manifest["metrics"]["test_f1"] >= F1_TARGET
    assert manifest["metrics"]["test_roc_auc"] >= ROC_AUC_FLOOR


@roc_auc_target_unmet
def test_committed_bundle_roc_auc_target(manifest: dict[str, Any]) -> None:
    assert manifest["metrics"]["test_roc_auc"] >= ROC_AUC_TARGET
