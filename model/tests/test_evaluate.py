"""The test AUC's uncertainty (evaluate.roc_auc_delong): DeLong's standard error checked
against its definition and against an independent bootstrap, and the interval that
test_metrics reports."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from churn_model import evaluate
from churn_model.evaluate import roc_auc_delong


def scored(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels at a churn-like 27% rate and overlapping scores, rounded so that ties occur."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.27).astype(int)
    p = np.clip(np.round(0.35 + 0.2 * y + rng.normal(0, 0.2, n), 2), 0, 1)
    return y, p


def delong_by_definition(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """O(m·n): psi = 1 when a positive outranks a negative, 1/2 on a tie."""
    pos, neg = p[y == 1], p[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)))


def test_auc_matches_sklearn_and_the_standard_error_its_definition() -> None:
    y, p = scored(600, seed=1)
    auc, se = roc_auc_delong(y, p)
    assert len(np.unique(p)) < len(p)  # ties are exercised
    assert auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert (auc, se) == pytest.approx(delong_by_definition(y, p), abs=1e-12)


def test_standard_error_agrees_with_a_stratified_bootstrap() -> None:
    # The size of the real test split (1,409 rows): an independent estimate of the same spread.
    y, p = scored(1409, seed=2)
    _, se = roc_auc_delong(y, p)
    rng = np.random.default_rng(3)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    boots = []
    for _ in range(600):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boots.append(roc_auc_score(y[idx], p[idx]))
    assert se == pytest.approx(float(np.std(boots, ddof=1)), rel=0.15)


def test_metrics_report_the_interval_around_the_auc() -> None:
    y, p = scored(800, seed=4)
    m = evaluate.test_metrics(y, p, threshold=0.5)
    assert m["test_roc_auc_ci95_low"] < m["test_roc_auc"] < m["test_roc_auc_ci95_high"]
    assert m["test_roc_auc_ci95_high"] - m["test_roc_auc_ci95_low"] == pytest.approx(2 * 1.959964 * m["test_roc_auc_se"], rel=1e-6)


def test_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="at least 2 positives and 2 negatives"):
        roc_auc_delong(np.array([0, 0, 0, 1]), np.array([0.1, 0.2, 0.3, 0.4]))
