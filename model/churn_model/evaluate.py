"""Step 4: score predicted probabilities against labels and draw the report plots.

Returns: `test_metrics(...)` -> dict of floats (ROC AUC with its DeLong standard error and
95% interval, PR AUC (average precision: step-wise, not the trapezoidal area under the PR curve), F1,
precision, recall, accuracy at the threshold, log loss, Brier, the mean probability and the positive rate,
and tn/fp/fn/tp); `roc_auc_delong(...)` -> (AUC,
standard error); `normal_interval(...)` -> its CI_LEVEL interval; `write_plots(...)` -> paths of the ROC, calibration and confusion-matrix
PNGs plus the confusion matrix JSON.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import norm, rankdata  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    accuracy_score, average_precision_score, brier_score_loss, confusion_matrix, f1_score,
    log_loss, precision_score, recall_score, roc_auc_score, roc_curve,
)


def confusion(y: np.ndarray, predicted: np.ndarray) -> dict[str, int]:
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    return {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}


CI_LEVEL = 0.95
# The normal quantile of a two-sided CI_LEVEL interval (1.96).
Z_CI = float(norm.ppf(0.5 + CI_LEVEL / 2))


def normal_interval(value: float, se: float) -> list[float]:
    """The CI_LEVEL interval value ± Z_CI·se, clipped to [0, 1] (for a proportion or an AUC)."""
    return [max(0.0, value - Z_CI * se), min(1.0, value + Z_CI * se)]


def roc_auc_delong(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """ROC AUC and its standard error by DeLong's method (DeLong et al. 1988), computed with
    midranks (Sun & Xu 2014): each positive's share of negatives scored below it (ties count
    half) and each negative's share of positives scored above it; the AUC's variance is the
    sum of their variances over their counts. Needs both classes."""
    pos, neg = p[y == 1], p[y == 0]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 positives and 2 negatives (got {m} and {n})")
    ranks = rankdata(np.concatenate([pos, neg]))
    below = (ranks[:m] - rankdata(pos)) / n        # per positive: share of negatives below it
    above = 1.0 - (ranks[m:] - rankdata(neg)) / m  # per negative: share of positives above it
    auc = float(below.mean())
    se = float(np.sqrt(below.var(ddof=1) / m + above.var(ddof=1) / n))
    return auc, se


def test_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """All held-out metrics, prefixed `test_`; predictions are p >= threshold."""
    predicted = (p >= threshold).astype(int)
    auc, se = roc_auc_delong(y, p)
    low, high = normal_interval(auc, se)
    metrics = {
        "roc_auc": roc_auc_score(y, p),
        # How far this one split's AUC can sit from the model's true AUC: DeLong's standard
        # error and the normal 95% interval around it (clipped to [0, 1]).
        "roc_auc_se": se,
        "roc_auc_ci95_low": low,
        "roc_auc_ci95_high": high,
        # "PR AUC" is the average precision: the step-wise sum of precision at each threshold times
        # the recall it adds, not the trapezoidal area under the PR curve (sklearn.metrics.auc of
        # precision_recall_curve), which interpolates between the points and reads a little differently.
        "pr_auc": average_precision_score(y, p),
        "f1": f1_score(y, predicted, zero_division=0),
        "precision": precision_score(y, predicted, zero_division=0),
        "recall": recall_score(y, predicted, zero_division=0),
        "accuracy": accuracy_score(y, predicted),
        "log_loss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]),
        "brier": brier_score_loss(y, p),
        # Calibration in the large: the mean predicted probability against the observed rate.
        "mean_probability": float(np.mean(p)),
        "positive_rate": float(np.mean(y)),
    }
    metrics.update({k: float(v) for k, v in confusion(y, predicted).items()})
    return {f"test_{k}": float(v) for k, v in metrics.items()}


def _roc_plot(y: np.ndarray, p: np.ndarray, path: Path) -> Path:
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"ROC AUC = {roc_auc_score(y, p):.4f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC (test split)")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _calibration_plot(y: np.ndarray, p: np.ndarray, path: Path) -> Path:
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(predicted, observed, marker="o", label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.set(xlabel="Mean predicted probability", ylabel="Observed churn rate",
           title="Calibration (test split)")
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _confusion_plot(cm: dict[str, int], path: Path) -> Path:
    grid = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]])
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(grid, cmap="Blues")
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, str(v), ha="center", va="center")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["No", "Yes"], yticklabels=["No", "Yes"],
           xlabel="Predicted churn", ylabel="Actual churn", title="Confusion matrix (test)")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def write_plots(y: np.ndarray, p: np.ndarray, threshold: float, out_dir: Path) -> list[Path]:
    """ROC, calibration and confusion PNGs plus confusion_matrix.json in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cm = confusion(y, (p >= threshold).astype(int))
    cm_json = out_dir / "confusion_matrix.json"
    cm_json.write_text(json.dumps({**cm, "threshold": threshold}, sort_keys=True, indent=2) + "\n")
    return [
        _roc_plot(y, p, out_dir / "roc_curve.png"),
        _calibration_plot(y, p, out_dir / "calibration.png"),
        _confusion_plot(cm, out_dir / "confusion_matrix.png"),
        cm_json,
    ]
