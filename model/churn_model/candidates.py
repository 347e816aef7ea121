"""Offline comparison of model candidates by repeated CV on the training part only.

Returns: prints one JSON line per candidate (CV mean/std, paired difference to the baseline,
its standard error, adopted or not) and the decision. Round 2 (model families) was
pre-registered in model/README.md ("How the hyperparameters were chosen" -> "Second
round"); round 3 (a price-change feature, no class weighting, seed bagging) is the
exploration recorded under "Third round". Never touches the test split; not part of a
training run:
    PYTHONPATH=model model/.venv/bin/python -m churn_model.candidates --data <csv> [--round 3]

Each fold mirrors the pipeline: a stratified validation slice of the fold's training rows
early-stops the model, the model is refit on the fold's training rows with that round count
(when `refit_on_training_part`), and the held-out fold is scored by ROC AUC.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from churn_model import entry, features, train
from churn_model.config import DEFAULT_CONFIG_PATH, TrainingConfig
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
    # Round 3. price_change: one more feature, MonthlyCharges - TotalCharges/tenure (0 at
    # tenure 0): this month's bill against the average so far. weighted=False: no
    # scale_pos_weight. bag: log-odds averaged over `bag` boosters with seeds seed..seed+bag-1.
    price_change: bool = False
    weighted: bool = True
    bag: int = 1


CANDIDATES = (
    Candidate("a_baseline"),
    Candidate("b_monotone", monotone=MONOTONE),
    Candidate("c_depth1_additive", overrides={"max_depth": 1, "learning_rate": 0.05, "n_estimators": 5000}),
    Candidate("d_depth3_bynode", overrides={"max_depth": 3, "min_child_weight": 10, "colsample_bytree": 1.0,
                                             "colsample_bynode": 0.5, "learning_rate": 0.02}),
    Candidate("e_drop_gender_phoneservice", drop_columns=DROPPED_COLUMNS),
)

THIRD_ROUND = (
    Candidate("a_baseline"),
    Candidate("f_price_change", price_change=True),
    Candidate("g_unweighted", weighted=False),
    Candidate("h_bag3", bag=3),
    Candidate("i_bag5", bag=5),
)
ROUNDS = {2: CANDIDATES, 3: THIRD_ROUND}
# Rounds whose candidates and rule were written down before any result: only these may adopt.
PRE_REGISTERED = {2}


def price_change(x: np.ndarray, names: list[str]) -> np.ndarray:
    """MonthlyCharges - TotalCharges/tenure per row; 0 where tenure is 0."""
    monthly, tenure = x[:, names.index("MonthlyCharges")], x[:, names.index("tenure")]
    average = x[:, names.index("TotalCharges/tenure")]
    return np.where(tenure > 0, monthly - average, 0.0).astype(x.dtype)


def candidate_inputs(cand: Candidate, x: np.ndarray, spec: features.FeatureSpec, base: dict[str, Any],
                     base_monotone: dict[str, int]) -> tuple[np.ndarray, dict[str, Any]]:
    """The candidate's feature matrix (columns kept) and xgboost hyperparameters."""
    feats = spec["features"]
    keep = [i for i, f in enumerate(feats) if f.get("column") not in cand.drop_columns]
    names = [feats[i]["name"] for i in keep]
    xc = x[:, keep]
    if cand.price_change:
        xc = np.column_stack([xc, price_change(x, features.feature_names(spec))])
        names.append("price_change")
    hyper = dict(base)
    hyper.update(cand.overrides)
    monotone = cand.monotone if cand.monotone is not None else base_monotone
    if monotone:
        hyper["monotone_constraints"] = train.monotone_tuple(names, monotone)
    return xc, hyper


def fold_scores(x: np.ndarray, y: np.ndarray, hyper: dict[str, Any], cfg: TrainingConfig,
                weighted: bool = True, bag: int = 1) -> tuple[list[float], list[int]]:
    """ROC AUC of each of the len(REPEAT_SEEDS) x cv_folds held-out folds, and round counts.

    With bag > 1 each fold's score is that of the boosters' mean log-odds (seeds seed.. ),
    each booster early-stopped and refit on its own; the round count is their mean.
    """
    seed = cfg.split.random_state
    scores, rounds = [], []
    for repeat_seed in REPEAT_SEEDS:
        folds = StratifiedKFold(cfg.split.cv_folds, shuffle=True, random_state=repeat_seed)
        for fold_train, fold_test in folds.split(x, y):
            fit, val = train_test_split(fold_train, test_size=cfg.split.validation_size,
                                        stratify=y[fold_train], random_state=seed)
            margins, fold_rounds = [], []
            for model_seed in range(seed, seed + bag):
                model = train.fit_model(x[fit], y[fit], x[val], y[val],
                                        train.model_params(hyper, y[fit], model_seed, weighted),
                                        cfg.early_stopping_rounds, cfg.eval_metric)
                n_rounds = model.best_iteration + 1
                if cfg.refit_on_training_part:
                    model = train.refit_model(x[fold_train], y[fold_train], hyper, n_rounds, model_seed, weighted)
                margins.append(model.predict(x[fold_test], output_margin=True))
                fold_rounds.append(n_rounds)
            scores.append(float(roc_auc_score(y[fold_test], np.mean(margins, axis=0))))
            rounds.append(int(round(np.mean(fold_rounds))))
    return scores, rounds


def compare(x: np.ndarray, y: np.ndarray, spec: features.FeatureSpec, cfg: TrainingConfig,
            candidates: tuple[Candidate, ...] = CANDIDATES, base_monotone: dict[str, int] | None = None
            ) -> dict[str, Any]:
    """Score every candidate on the same folds; apply the pre-registered selection rule.

    The baseline is the configured model with `base_monotone` as its constraints (none in
    round 2, whose baseline predates them; the configured ones in round 3).
    """
    results: list[dict[str, Any]] = []
    base_scores: np.ndarray | None = None
    for cand in candidates:
        xc, hyper = candidate_inputs(cand, x, spec, cfg.xgboost, base_monotone or {})
        scores, rounds = fold_scores(xc, y, hyper, cfg, cand.weighted, cand.bag)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="candidates", description="Compare model candidates by repeated CV on the training part.")
    parser.add_argument("--data", required=True, help="training CSV")
    parser.add_argument("--round", type=int, choices=sorted(ROUNDS), default=2)
    args = parser.parse_args(argv)
    data = entry.data_file(args.data)
    cfg = entry.training_config(DEFAULT_CONFIG_PATH)
    x, y, spec = training_part(entry.dataset(data), cfg)
    # Round 2's baseline predates the monotone constraints it adopted; round 3 starts from them.
    base_monotone = dict(cfg.monotone_constraints) if args.round >= 3 else {}
    outcome = compare(x, y, spec, cfg, ROUNDS[args.round], base_monotone)
    if args.round in PRE_REGISTERED:
        print("CHOSEN", outcome["chosen"])
    else:
        print("EXPLORATION: not pre-registered, so nothing is adopted (rule's pick would be", outcome["chosen"] + ")")


if __name__ == "__main__":
    main()
