"""Metric targets of issue 2 and the regression floor used while the ROC AUC target is unmet."""
from __future__ import annotations

import pytest

from churn_model.targets import F1_TARGET, ROC_AUC_TARGET

__all__ = ["F1_TARGET", "ROC_AUC_FLOOR", "ROC_AUC_TARGET", "roc_auc_target_unmet"]

# The CV-tuned model reaches test ROC AUC 0.846 on the full data (README.md, "Training";
# model/README.md, "How the hyperparameters were chosen").
# The floor catches regressions; the target test below is a strict xfail, so it turns red
# (XPASS) the day the target is met and the marker must be removed.
ROC_AUC_FLOOR = 0.844
# raises=AssertionError: only the metric falling short is the known gap; a KeyError (a metric
# renamed, a manifest without it) or any other error fails the run.
roc_auc_target_unmet = pytest.mark.xfail(
    strict=True, raises=AssertionError, reason="known gap: test ROC AUC 0.846 < 0.85 (CV-tuned; see model/README.md)")
