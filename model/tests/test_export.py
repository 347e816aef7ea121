"""ONNX export of a small model trained here matches xgboost, and a wrong model fails the check."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import xgboost as xgb

from churn_model import features, synthetic, train
from churn_model.config import TrainingConfig
from churn_model.data import to_record
from churn_model.export import ParityError, check_parity, onnx_probabilities, to_onnx


def small_model(cfg: TrainingConfig, seed: int, rounds: int = 60) -> tuple[xgb.XGBClassifier, features.FeatureSpec]:
    frame = synthetic.churn_frame(500, seed=seed)
    records = [to_record({str(k): str(v) for k, v in r.items()}) for r in frame.to_dict(orient="records")]
    spec = features.build_feature_spec(records, cfg.ratio_features)
    x = features.encode_records(records, spec)
    y = (frame["Churn"] == "Yes").to_numpy(dtype=np.int64)
    params = train.model_params(cfg.xgboost, y, cfg.split.random_state)
    params["n_estimators"] = rounds
    return xgb.XGBClassifier(**params).fit(x, y), spec


def test_onnx_matches_xgboost_on_data_and_edge_cases(cfg: TrainingConfig) -> None:
    model, spec = small_model(cfg, seed=21)
    cases = features.encode_records(synthetic.parity_customers(2400, seed=4), spec)
    exported = to_onnx(model, cases.shape[1], cfg.export.opset)
    assert check_parity(exported, model, cases, cfg.export.tolerance) <= cfg.export.tolerance
    probs = onnx_probabilities(exported, cases)
    assert probs.min() >= 0 and probs.max() <= 1 and probs.std() > 0


def test_onnx_graph_shape_and_names(cfg: TrainingConfig) -> None:
    model, spec = small_model(cfg, seed=21, rounds=10)
    exported = to_onnx(model, len(spec["features"]), cfg.export.opset)
    graph = onnx.load_from_string(exported.model_bytes).graph
    assert [i.name for i in graph.input] == ["features"]
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert "probabilities" in [o.name for o in graph.output]
    assert all(o.type.HasField("tensor_type") for o in graph.output)  # no ZipMap (sequence/map)
    assert not any(n.op_type == "ZipMap" for n in graph.node)


def test_parity_check_fails_for_a_different_model(cfg: TrainingConfig) -> None:
    model, spec = small_model(cfg, seed=21)
    other, _ = small_model(cfg, seed=22)
    cases = features.encode_records(synthetic.parity_customers(200, seed=4), spec)
    exported = to_onnx(other, cases.shape[1], cfg.export.opset)
    with pytest.raises(ParityError):
        check_parity(exported, model, cases, cfg.export.tolerance)


def test_parity_check_fails_just_above_its_tolerance_and_passes_at_it(cfg: TrainingConfig) -> None:
    """The tolerance is the bound itself: a delta above it fails the export, one equal to it passes."""
    model, spec = small_model(cfg, seed=21, rounds=20)
    cases = features.encode_records(synthetic.parity_customers(200, seed=4), spec)
    exported = to_onnx(model, cases.shape[1], cfg.export.opset)
    delta = check_parity(exported, model, cases, 1.0)
    assert 0 < delta <= cfg.export.tolerance  # float32 trees against xgboost's own sums: close, never bit-equal here
    assert check_parity(exported, model, cases, delta) == delta
    with pytest.raises(ParityError, match=r"max \|dp\| = .* > "):
        check_parity(exported, model, cases, delta / 2)
