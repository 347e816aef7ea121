"""Step 3: split, fit the XGBoost classifier, pick the decision threshold, cross-validate.

Returns: `Split` (row indices of the fit / validation / test parts), a fitted
`xgboost.XGBClassifier` (early-stopped on the validation slice, optionally refit on the whole
training part with that round count), the threshold chosen on validation data with its rule
text, and 5-fold CV ROC AUC on the training part.

Imbalance: scale_pos_weight = negatives / positives of the rows the model is fit on; with
`prior_correct` the fitted log-odds are then shifted back by -log(scale_pos_weight), so the
probabilities are not inflated by the weighting (rankings unchanged).
Test rows are never used here except by `split_indices` to hold them out.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.special import expit, logit
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from churn_model.config import SplitConfig, ThresholdConfig


@dataclass(frozen=True)
class Split:
    fit: np.ndarray          # training part minus the validation slice
    validation: np.ndarray   # early stopping + threshold choice
    test: np.ndarray         # held out, evaluation only

    @property
    def train(self) -> np.ndarray:
        """The whole training part (fit + validation), used for CV."""
        return np.sort(np.concatenate([self.fit, self.validation]))


def _held_out(labels: np.ndarray, cfg: SplitConfig) -> tuple[np.ndarray, np.ndarray]:
    """The training part's and the test split's rows."""
    train, test = train_test_split(np.arange(len(labels)), test_size=cfg.test_size, stratify=labels,
                                   random_state=cfg.random_state)
    return train, test


def split_indices(labels: np.ndarray, cfg: SplitConfig) -> Split:
    """Stratified test split, then a stratified validation slice of the training part."""
    train, test = _held_out(labels, cfg)
    fit, validation = train_test_split(train, test_size=cfg.validation_size,
                                       stratify=labels[train], random_state=cfg.random_state)
    return Split(fit=fit, validation=validation, test=test)


class SplitSettingsError(ValueError):
    """The [split] settings cannot be applied to this data: found before the MLflow run starts."""


# Fewest rows of each class in each part: the fit part for both classes' weights, the validation
# slice for early stopping and the threshold, the test split for ROC AUC and its DeLong interval.
MIN_CLASS_ROWS_PER_PART = 2
CLASS_NAMES = ("non-churners", "churners")


def check_split_fits(labels: np.ndarray, cfg: SplitConfig, present: dict[str, np.ndarray] | None = None) -> None:
    """SplitSettingsError unless every part `split_indices` makes has enough of each class, and the
    training part enough for `cfg.cv_folds` stratified folds, and a value of each column in `present`
    (column -> whether each row has one: the feature spec's observed ranges come from the training
    part alone, while validation checks the whole file). The split itself is cheap, so this is the
    split the run will make, checked before anything is trained or logged."""
    settings = (f"[split] test_size = {cfg.test_size:g}, validation_size = {cfg.validation_size:g}, "
                f"cv_folds = {cfg.cv_folds}")
    counts = np.bincount(labels, minlength=2)[:2]

    def unfit(problem: str) -> SplitSettingsError:
        return SplitSettingsError(f"{settings} do not fit {len(labels)} rows ({counts[1]} churners): {problem}")

    try:  # scikit-learn refuses a part with fewer rows than classes, or a class with 1 row to split
        training_rows = _held_out(labels, cfg)[0]
    except ValueError as err:
        raise unfit(f"a stratified test split of {cfg.test_size:g} cannot be taken: {err}") from err
    try:
        split = split_indices(labels, cfg)
    except ValueError as err:
        held = np.bincount(labels[training_rows], minlength=2)[:2]
        raise unfit(f"a stratified validation slice of {cfg.validation_size:g} cannot be taken from a training "
                    f"part of {held[0]} non-churners and {held[1]} churners: {err}") from err
    parts = (("fit part", split.fit, MIN_CLASS_ROWS_PER_PART, "to fit the model"),
             ("validation slice", split.validation, MIN_CLASS_ROWS_PER_PART, "for early stopping and the threshold"),
             ("test split", split.test, MIN_CLASS_ROWS_PER_PART, "for ROC AUC"),
             ("training part", split.train, cfg.cv_folds, f"for {cfg.cv_folds}-fold CV"))
    problems = [f"the {part} gets {count} {CLASS_NAMES[label]}, at least {need} are needed {why}"
                for part, rows, need, why in parts
                for label, count in enumerate(np.bincount(labels[rows], minlength=2)[:2])
                if count < need]
    problems += [f"the training part gets no row with a {column} (each of the {int(has.sum())} that have one falls in "
                 f"the test split), at least 1 is needed for the feature spec's observed range"
                 for column, has in sorted((present or {}).items()) if not has[split.train].any()]
    if problems:
        raise unfit("; ".join(problems))


def imbalance_weight(labels: np.ndarray) -> float:
    """negatives / positives, the scale_pos_weight for these labels."""
    positives = int(labels.sum())
    return float(len(labels) - positives) / max(positives, 1)


def model_params(hyper: dict[str, Any], labels: np.ndarray, seed: int, weighted: bool = True) -> dict[str, Any]:
    """XGBClassifier keyword arguments: config hyperparameters + seed + imbalance weight
    (1 when not `weighted`: only the offline candidate comparison turns it off)."""
    params = dict(hyper)
    params.update(random_state=seed, scale_pos_weight=imbalance_weight(labels) if weighted else 1.0,
                  objective="binary:logistic")
    return params


def monotone_tuple(names: list[str], directions: dict[str, int]) -> tuple[int, ...]:
    """Per-feature constraint tuple in feature order; names not among the features are an error."""
    unknown = set(directions) - set(names)
    if unknown:
        raise ValueError(f"monotone constraints name unknown features: {sorted(unknown)}")
    return tuple(int(directions.get(n, 0)) for n in names)


def hyperparameters(hyper: dict[str, Any], monotone: dict[str, int], names: list[str]) -> dict[str, Any]:
    """Config hyperparameters plus `monotone_constraints` (as xgboost's tuple) when any are set."""
    params = dict(hyper)
    if monotone:
        params["monotone_constraints"] = monotone_tuple(names, monotone)
    return params


def fit_model(x_fit: np.ndarray, y_fit: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
              params: dict[str, Any], early_stopping_rounds: int,
              eval_metric: str) -> xgb.XGBClassifier:
    """Fit with early stopping on the validation slice, monitoring `eval_metric`."""
    model = xgb.XGBClassifier(**params, early_stopping_rounds=early_stopping_rounds,
                              eval_metric=eval_metric)
    model.fit(x_fit, y_fit, eval_set=[(x_val, y_val)], verbose=False)
    return model


def refit_model(x: np.ndarray, y: np.ndarray, hyper: dict[str, Any], n_rounds: int,
                seed: int, weighted: bool = True) -> xgb.XGBClassifier:
    """Refit on the whole training part with the early-stopped round count (no early stopping)."""
    params = model_params(hyper, y, seed, weighted)
    params["n_estimators"] = n_rounds
    return xgb.XGBClassifier(**params).fit(x, y)


def prior_correct(model: xgb.XGBClassifier) -> float:
    """Shift the model's log-odds by -log(scale_pos_weight), in place; returns the shift.

    Weighting the positives by w makes the fitted log-odds about log(w) too high, so the
    scores overstate P(positive). Moving the base score (xgboost's intercept, which the ONNX
    export carries as the tree ensemble's base value) by -log(w) corrects every prediction by
    the same amount: the probabilities estimate P(positive) at the data's class balance, and
    every ranking, hence ROC and PR AUC, stays as it was.
    """
    weight = float(model.get_params()["scale_pos_weight"])
    booster = model.get_booster()
    base_score = json.loads(booster.save_config())["learner"]["learner_model_param"]["base_score"]
    # xgboost 3 writes the intercept as an array ("[5.3E-1]"), older versions as a number.
    base_margin = logit(float(np.ravel(json.loads(base_score))[0]))
    shift = -math.log(weight)
    booster.set_param({"base_score": float(expit(base_margin + shift))})
    return shift


def threshold_rule_text(cfg: ThresholdConfig) -> str:
    return (f"maximize F1 on the validation slice over thresholds {cfg.grid_start:g}..{cfg.grid_stop:g} "
            f"step {cfg.grid_step:g} (willChurn = p >= threshold; ties -> lowest threshold)")


def threshold_grid(cfg: ThresholdConfig) -> list[float]:
    """grid_start, grid_start + grid_step, ... up to grid_stop, never past it: a step that does not
    divide the range ends at the last point inside it (rounding the count up made a point past
    grid_stop, which the rule's text excludes). The 1e-9 keeps a point float division puts a hair
    under a whole step (0.9 / 0.005 = 179.99999999999997)."""
    count = math.floor((cfg.grid_stop - cfg.grid_start) / cfg.grid_step + 1e-9) + 1
    return [round(cfg.grid_start + i * cfg.grid_step, 6) for i in range(count)]


class NoThresholdError(ValueError):
    """Validation F1 is 0 at every threshold of the grid: the model flags no churner of the validation
    slice, so the rule has nothing to choose (argmax of all zeros picked grid_start, and the run
    registered a model that finds no churner)."""


def choose_threshold(y_val: np.ndarray, p_val: np.ndarray, cfg: ThresholdConfig) -> float:
    """The grid threshold with the highest validation F1 (first, i.e. lowest, on ties); NoThresholdError
    when that F1 is 0."""
    if cfg.rule != "max_f1_validation":
        raise ValueError(f"unknown threshold rule {cfg.rule!r}")
    grid = threshold_grid(cfg)
    scores = [f1_score(y_val, (p_val >= t).astype(int), zero_division=0) for t in grid]
    if max(scores) == 0:  # no churner flagged at any threshold: each is below the lowest
        churners = p_val[y_val == 1]
        why = (f"each of the {len(churners)} churners among the {len(y_val)} rows of the validation slice gets a "
               f"probability below {grid[0]:g} (at most {float(churners.max()):.3g})" if len(churners)
               else f"the validation slice ({len(y_val)} rows) has no churner")
        raise NoThresholdError(
            f"validation F1 is 0 at every threshold from {grid[0]:g} to {grid[-1]:g}: {why}, so the model flags none "
            f"and no threshold can be chosen; the data holds too few churners or nothing that tells them apart")
    return float(grid[int(np.argmax(scores))])


def medium_from(threshold: float, cfg: ThresholdConfig) -> float:
    """Lower edge of the MEDIUM risk band: threshold * medium_from_fraction."""
    return round(threshold * cfg.medium_from_fraction, 6)


def cross_validate_auc(x: np.ndarray, y: np.ndarray, hyper: dict[str, Any], n_rounds: int,
                       cfg: SplitConfig) -> tuple[float, float]:
    """Stratified k-fold ROC AUC on the training part with the final model's round count: the mean over the
    folds and their population std (ddof=0), the run's cv_roc_auc_mean and cv_roc_auc_std. candidates.py and
    split_study.py report the sample std (ddof=1); this one stays ddof=0, as the committed manifest's was
    computed (the READMEs say which std each table prints)."""
    folds = StratifiedKFold(n_splits=cfg.cv_folds, shuffle=True, random_state=cfg.random_state)
    scores: list[float] = []
    for fit_rows, val_rows in folds.split(x, y):
        model = refit_model(x[fit_rows], y[fit_rows], hyper, n_rounds, cfg.random_state)
        scores.append(float(roc_auc_score(y[val_rows], model.predict_proba(x[val_rows])[:, 1])))
    return float(np.mean(scores)), float(np.std(scores, ddof=0))
