"""Offline second-round comparison of model families by repeated CV on the training part only.

Returns: prints one JSON line per candidate (CV mean/std, paired difference to the baseline,
its standard error, adopted or not) and the decision. Pre-registered in model/README.md
("How the hyperparameters were chosen" -> "Second round"). Never touches the test split;
not part of a training run:
    PYTHONPATH=model model/.venv/bin/python -m churn_model.candidates --data <csv>

Each fold mirrors the pipeline: a stratified validation slice of the fold's training rows
early-stops the model, the model is refit on the fold's training rows with that round count
(when `refit_on_training_part`), and the held-out fold is scored by ROC AUC.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from churn_model import features, train
from churn_model.config import DEFAULT_CONFIG_PATH, TrainingConfig, load_config
from churn_model.tuning import training_part

REPEAT_SEEDS = (42, 43, 44)

# Candidate b: domain-knowledge directions (+1 raises churn probability, -1 lowers it).
MONOTONE = {
    "tenure": -1,
    "Contract=Month-to-month": 1,
    "Contract=One year": -1,
    "Contract=Two year": -1,
    "MonthlyCharges": 1,
    "TotalCharges/tenure": 1,
}
# Candidate e: one-hots left out of the features (columns stay in the spec).
DROPPED_COLUMNS = ("gender", "PhoneService")


@dataclass(frozen=True)
class Candidate:
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    monotone: dict[str, int] | None = None
    drop_columns: tuple[str, ...] = ()


CANDIDATES = (
    Candidate("a_baseline"),
    Candidate("b_monotone", monotone=MONOTONE),
    Candidate("c_depth1_additive", overrides={"max_depth": 1, "learning_rate": 0.05, "n_estimators": 5000}),
    Candidate("d_depth3_bynode", overrides={"max_depth": 3, "min_child_weight": 10, "colsample_bytree": 1.0,
                                             "colsample_bynode": 0.5, "learning_rate": 0.02}),
    Candidate("e_drop_gender_phoneservice", drop_columns=DROPPED_COLUMNS),
)


def candidate_inputs(cand: Candidate, x: np.ndarray, spec: features.FeatureSpec,
                     base: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """The candidate's feature matrix (columns kept) and xgboost hyperparameters."""
    feats = spec["features"]
    keep = [i for i, f in enumerate(feats) if f.get("column") not in cand.drop_columns]
    names = [feats[i]["name"] for i in keep]
    hyper = dict(base)
    hyper.update(cand.overrides)
    if cand.monotone:
        hyper["monotone_constraints"] = train.monotone_tuple(names, cand.monotone)
    return x[:, keep], hyper


def fold_scores(x: np.ndarray, y: np.ndarray, hyper: dict[str, Any], cfg: TrainingConfig
                ) -> tuple[list[float], list[int]]:
    """ROC AUC of each of the len(REPEAT_SEEDS) x cv_folds held-out folds, and round counts."""
    seed = cfg.split.random_state
    scores, rounds = [], []
    for repeat_seed in REPEAT_SEEDS:
        folds = StratifiedKFold(cfg.split.cv_folds, shuffle=True, random_state=repeat_seed)
        for fold_train, fold_test in folds.split(x, y):
            fit, val = train_test_split(fold_train, test_size=cfg.split.validation_size,
                                        stratify=y[fold_train], random_state=seed)
            params = train.model_params(hyper, y[fit], seed)
            model = train.fit_model(x[fit], y[fit], x[val], y[val], params,
                                    cfg.early_stopping_rounds, cfg.eval_metric)
            n_rounds = model.best_iteration + 1
            if cfg.refit_on_training_part:
                model = train.refit_model(x[fold_train], y[fold_train], hyper, n_rounds, seed)
            scores.append(float(roc_auc_score(y[fold_test], model.predict_proba(x[fold_test])[:, 1])))
            rounds.append(n_rounds)
    return scores, rounds


def compare(x: np.ndarray, y: np.ndarray, spec: features.FeatureSpec, cfg: TrainingConfig,
            candidates: tuple[Candidate, ...] = CANDIDATES) -> dict[str, Any]:
    """Score every candidate on the same folds; apply the pre-registered selection rule."""
    results: list[dict[str, Any]] = []
    base_scores: np.ndarray | None = None
    for cand in candidates:
        xc, hyper = candidate_inputs(cand, x, spec, cfg.xgboost)
        scores, rounds = fold_scores(xc, y, hyper, cfg)
        s = np.asarray(scores)
        row: dict[str, Any] = {"candidate": cand.name, "cv_auc_mean": float(s.mean()),
                               "cv_auc_std": float(s.std(ddof=1)), "mean_rounds": float(np.mean(rounds)),
                               "n_features": int(xc.shape[1])}
        if base_scores is None:
            base_scores = s
        else:
            d = s - base_scores
            se = float(d.std(ddof=1) / np.sqrt(len(d)))
            row.update(diff_mean=float(d.mean()), diff_se=se, passes=bool(d.mean() > se))
        results.append(row)
        print(json.dumps(row), flush=True)
    passing = [r for r in results[1:] if r["passes"]]
    chosen = max(passing, key=lambda r: r["diff_mean"])["candidate"] if passing else results[0]["candidate"]
    return {"results": results, "chosen": chosen}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    cfg = load_config(DEFAULT_CONFIG_PATH)
    x, y, spec = training_part(Path(args.data), cfg)
    outcome = compare(x, y, spec, cfg)
    print("CHOSEN", outcome["chosen"])


if __name__ == "__main__":
    main()
