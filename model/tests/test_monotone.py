"""Monotone constraints from config.toml become xgboost's per-feature tuple in feature-spec order."""
from __future__ import annotations

import pytest

from churn_model import train
from churn_model.config import TrainingConfig


def test_config_constraints_map_to_spec_order(cfg: TrainingConfig) -> None:
    names = ["tenure", "gender=Male", "Contract=Two year", "MonthlyCharges"]
    directions = {k: v for k, v in cfg.monotone_constraints.items() if k in names}
    params = train.hyperparameters(cfg.xgboost, directions, names)
    assert params["monotone_constraints"] == (-1, 0, -1, 1)


def test_unknown_feature_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown features"):
        train.monotone_tuple(["tenure"], {"tenur": -1})


def test_no_constraints_leave_params_unchanged() -> None:
    assert "monotone_constraints" not in train.hyperparameters({"max_depth": 2}, {}, ["tenure"])
