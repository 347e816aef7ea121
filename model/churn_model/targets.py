"""The metric targets of issue 2, on the held-out test split: read by the tests and the split study."""
from __future__ import annotations

ROC_AUC_TARGET = 0.85
F1_TARGET = 0.62
