"""The offline candidate comparison (churn_model.candidates): round-3 inputs and bagged CV scores."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from churn_model import candidates, features, train
from churn_model.config import TrainingConfig
from churn_model.data import load_dataset
from churn_model.tuning import training_part


def test_price_change_is_this_month_against_the_average_and_zero_at_tenure_0() -> None:
    names = ["tenure", "MonthlyCharges", "TotalCharges/tenure"]
    x = np.array([[0, 50.0, 0.0], [10, 80.0, 70.0], [3, 20.0, 25.0]], dtype=np.float32)
    assert candidates.price_change(x, names).tolist() == [0.0, 10.0, -5.0]


def test_candidate_inputs_keep_the_baseline_constraints_by_name(cfg: TrainingConfig, small_csv: Path) -> None:
    x, _, spec = training_part(load_dataset(small_csv), cfg)
    names = features.feature_names(spec)
    base = dict(cfg.monotone_constraints)

    xb, hb = candidates.candidate_inputs(candidates.Candidate("a"), x, spec, cfg.xgboost, base)
    assert xb.shape == x.shape
    assert hb["monotone_constraints"] == train.monotone_tuple(names, base)

    xf, hf = candidates.candidate_inputs(candidates.Candidate("f", price_change=True), x, spec, cfg.xgboost, base)
    assert xf.shape == (x.shape[0], x.shape[1] + 1)
    assert hf["monotone_constraints"] == train.monotone_tuple(names, base) + (0,)

    xe, he = candidates.candidate_inputs(candidates.Candidate("e", drop_columns=("gender",)), x, spec, cfg.xgboost, {})
    assert xe.shape[1] == x.shape[1] - sum(f.get("column") == "gender" for f in spec["features"])
    assert "monotone_constraints" not in he


def test_fold_scores_cover_every_repeat_and_fold_and_bagging_changes_them(cfg: TrainingConfig, small_csv: Path) -> None:
    x, y, spec = training_part(load_dataset(small_csv), cfg)
    hyper = dict(cfg.xgboost, n_estimators=60)
    one, rounds = candidates.fold_scores(x, y, hyper, cfg)
    two, _ = candidates.fold_scores(x, y, hyper, cfg, bag=2)
    unweighted, _ = candidates.fold_scores(x, y, hyper, cfg, weighted=False)
    folds = len(candidates.REPEAT_SEEDS) * cfg.split.cv_folds
    assert len(one) == len(two) == len(unweighted) == len(rounds) == folds
    assert all(0.5 < s <= 1.0 for s in one)  # the generated data carry a learnable signal
    assert one != two and one != unweighted
