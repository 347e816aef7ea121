"""Prior correction: the scale_pos_weight inflation is taken out of the served probabilities,
and nothing that ranks customers changes."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from scipy.special import logit
from sklearn.metrics import roc_auc_score

from churn_model import export, pipeline, train
from churn_model.config import TrainingConfig


def _weighted_model(seed: int = 0) -> tuple[xgb.XGBClassifier, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=2000) > 1.2).astype(int)  # ~18% positives
    weight = float((y == 0).sum() / (y == 1).sum())
    model = xgb.XGBClassifier(n_estimators=60, max_depth=2, learning_rate=0.1, scale_pos_weight=weight,
                              objective="binary:logistic", random_state=seed).fit(x, y)
    return model, x, y


def _margins(model: xgb.XGBClassifier, x: np.ndarray) -> np.ndarray:
    return model.get_booster().predict(xgb.DMatrix(x), output_margin=True)


def test_shifts_every_log_odds_by_minus_log_weight_and_keeps_the_ranking() -> None:
    model, x, y = _weighted_model()
    before, p_before = _margins(model, x), export.xgboost_probabilities(model, x)
    shift = train.prior_correct(model)
    weight = float(model.get_params()["scale_pos_weight"])
    assert shift == pytest.approx(-math.log(weight))
    assert np.allclose(_margins(model, x) - before, shift, atol=1e-5)
    p_after = export.xgboost_probabilities(model, x)
    assert roc_auc_score(y, p_after) == pytest.approx(roc_auc_score(y, p_before), abs=1e-9)
    # The weighting inflates the mean probability far above the positive rate; corrected, it is close.
    assert p_before.mean() - y.mean() > 0.1
    assert abs(p_after.mean() - y.mean()) < 0.03


def test_the_onnx_export_carries_the_correction() -> None:
    model, x, _ = _weighted_model(1)
    train.prior_correct(model)
    onnx_export = export.to_onnx(model, x.shape[1], opset=15)
    assert export.check_parity(onnx_export, model, x, tolerance=1e-5) <= 1e-5


def test_pipeline_serves_corrected_probabilities_with_the_same_auc(cfg: TrainingConfig, small_csv: Path) -> None:
    assert cfg.prior_correction, "config.toml turns the prior correction on"
    corrected = pipeline.train_and_export(cfg, small_csv, log=lambda _m: None)
    raw = pipeline.train_and_export(dataclasses.replace(cfg, prior_correction=False), small_csv, log=lambda _m: None)
    shift = float(corrected.params["prior_correction_logit_shift"])
    assert shift == pytest.approx(-math.log(float(corrected.params["scale_pos_weight"])))
    assert "prior_correction_logit_shift" not in raw.params
    assert corrected.metrics["test_roc_auc"] == pytest.approx(raw.metrics["test_roc_auc"], abs=1e-6)
    assert np.allclose(logit(corrected.p_test.astype(np.float64)) - logit(raw.p_test.astype(np.float64)), shift, atol=1e-4)
    assert corrected.metrics["test_log_loss"] < raw.metrics["test_log_loss"]
    assert abs(corrected.metrics["test_mean_probability"] - corrected.metrics["test_positive_rate"]) < \
        abs(raw.metrics["test_mean_probability"] - raw.metrics["test_positive_rate"])
    # The threshold is chosen on the corrected (served) validation probabilities.
    assert corrected.threshold < raw.threshold
    # The parity vectors the gateway replays hold the corrected probabilities.
    probabilities = [np.array([c["probability"] for c in json.loads(r.parity_text)["cases"]], dtype=np.float64)
                     for r in (corrected, raw)]
    assert np.allclose(logit(np.clip(probabilities[0], 1e-7, 1 - 1e-7)) - logit(np.clip(probabilities[1], 1e-7, 1 - 1e-7)),
                       shift, atol=1e-3)
