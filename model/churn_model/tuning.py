"""Offline hyperparameter search by stratified CV on the training part only (never the test split).

Returns: prints one JSON line per candidate ({"cv_auc_mean", "cv_auc_std", "rounds", "params"})
and the best candidates at the end. Each fold mirrors the pipeline: a stratified validation
slice of the fold's training rows drives early stopping, the fold's held-out rows are scored.
Not part of a training run; used to choose the values in config.toml:
    PYTHONPATH=model model/.venv/bin/python -m churn_model.tuning --data <csv> --trials 60
"""
from __future__ import annotations

import argparse
import json
from typing import Any, TypedDict

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from churn_model import entry, features, train
from churn_model.config import DEFAULT_CONFIG_PATH, SEED_MAX, TrainingConfig
from churn_model.data import Dataset


class TrialResult(TypedDict):
    """One candidate's printed JSON line."""
    cv_auc_mean: float
    cv_auc_std: float
    rounds: int
    params: dict[str, Any]


def sample_params(rng: np.random.Generator, base: dict[str, Any]) -> dict[str, Any]:
    """One random candidate around the search space."""
    params = dict(base)
    params.update(
        max_depth=int(rng.choice([1, 2, 3, 4])),
        learning_rate=float(rng.choice([0.01, 0.02, 0.03, 0.05])),
        min_child_weight=float(rng.choice([1, 3, 5, 10, 20, 40])),
        subsample=float(rng.choice([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])),
        colsample_bytree=float(rng.choice([0.3, 0.4, 0.5, 0.6, 0.8, 1.0])),
        reg_lambda=float(rng.choice([0.0, 1.0, 5.0, 10.0, 20.0, 50.0])),
        reg_alpha=float(rng.choice([0.0, 0.1, 1.0, 5.0])),
        gamma=float(rng.choice([0.0, 0.1, 0.5, 1.0, 2.0])),
    )
    return params


def nested_cv_auc(x: np.ndarray, y: np.ndarray, hyper: dict[str, Any], cfg: TrainingConfig) -> tuple[float, float, int]:
    """Mean and population std (ddof=0, as train.cross_validate_auc) of the fold ROC AUCs, and the mean
    early-stopped round count."""
    folds = StratifiedKFold(cfg.split.cv_folds, shuffle=True, random_state=cfg.split.random_state)
    scores, rounds = [], []
    for fold_train, fold_test in folds.split(x, y):
        fit, val = train_test_split(fold_train, test_size=cfg.split.validation_size,
                                    stratify=y[fold_train], random_state=cfg.split.random_state)
        params = train.model_params(hyper, y[fit], cfg.split.random_state)
        model = train.fit_model(x[fit], y[fit], x[val], y[val], params, cfg.early_stopping_rounds, cfg.eval_metric)
        scores.append(roc_auc_score(y[fold_test], model.predict_proba(x[fold_test])[:, 1]))
        rounds.append(model.best_iteration + 1)
    return float(np.mean(scores)), float(np.std(scores, ddof=0)), int(np.mean(rounds))


def training_part(dataset: Dataset, cfg: TrainingConfig) -> tuple[np.ndarray, np.ndarray, features.FeatureSpec]:
    """Encoded rows and labels of the training part only (the test split is never touched here)."""
    spec = features.build_feature_spec(dataset.records, cfg.ratio_features)
    x, y = features.encode_records(dataset.records, spec), np.asarray(dataset.labels)
    train_rows = train.split_indices(y, cfg.split).train
    return x[train_rows], y[train_rows], spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tuning", description="Random hyperparameter search by CV on the training part.")
    parser.add_argument("--data", required=True, help="training CSV")
    parser.add_argument("--trials", type=entry.whole_number(0), default=60, help="random candidates besides the configured one")
    parser.add_argument("--seed", type=entry.whole_number(0, SEED_MAX), default=0, help="seed of the random search")
    args = parser.parse_args(argv)
    data = entry.data_file(args.data)
    cfg = entry.training_config(DEFAULT_CONFIG_PATH)
    x, y, spec = training_part(entry.dataset(data), cfg)
    rng = np.random.default_rng(args.seed)
    base = train.hyperparameters(cfg.xgboost, cfg.monotone_constraints, features.feature_names(spec))
    candidates = [base] + [sample_params(rng, base) for _ in range(args.trials)]
    results: list[TrialResult] = []
    for hyper in candidates:
        mean, std, rounds = nested_cv_auc(x, y, hyper, cfg)
        results.append({"cv_auc_mean": mean, "cv_auc_std": std, "rounds": rounds, "params": hyper})
        print(json.dumps(results[-1]), flush=True)
    for r in sorted(results, key=lambda r: -r["cv_auc_mean"])[:5]:
        print("BEST", json.dumps(r))


if __name__ == "__main__":
    main()
