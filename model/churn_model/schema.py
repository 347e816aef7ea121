"""The Telco CSV schema: column order, kinds and categorical domains (data set README).

Returns nothing; constants only. `data.py` validates against them and `features.py`
derives the feature spec from them, so each fact lives here once.
"""
from __future__ import annotations

from typing import Literal

ColumnKind = Literal["categorical", "integer", "number"]
ID_COLUMN = "customerID"
TARGET_COLUMN = "Churn"
YES_NO = ("No", "Yes")
ADDON_DOMAIN = ("No", "No internet service", "Yes")

CATEGORICAL_DOMAINS: dict[str, tuple[str, ...]] = {
    "gender": ("Female", "Male"),
    "Partner": YES_NO,
    "Dependents": YES_NO,
    "PhoneService": YES_NO,
    "MultipleLines": ("No", "No phone service", "Yes"),
    "InternetService": ("DSL", "Fiber optic", "No"),
    "OnlineSecurity": ADDON_DOMAIN,
    "OnlineBackup": ADDON_DOMAIN,
    "DeviceProtection": ADDON_DOMAIN,
    "TechSupport": ADDON_DOMAIN,
    "StreamingTV": ADDON_DOMAIN,
    "StreamingMovies": ADDON_DOMAIN,
    "Contract": ("Month-to-month", "One year", "Two year"),
    "PaperlessBilling": YES_NO,
    "PaymentMethod": (
        "Bank transfer (automatic)",
        "Credit card (automatic)",
        "Electronic check",
        "Mailed check",
    ),
}
INTEGER_DOMAINS: dict[str, tuple[str, ...] | None] = {"SeniorCitizen": ("0", "1"), "tenure": None}
NUMBER_COLUMNS: tuple[str, ...] = ("MonthlyCharges", "TotalCharges")
# The gateway's bounds (src/contract.ts MAX_TENURE_MONTHS and MAX_CHARGE; a test reads that
# file and compares): training data outside them could not be served.
MAX_TENURE_MONTHS = 1200
MAX_CHARGE = 3.4e38  # below float32's largest value: the ONNX input is float32
# Fewest rows of each class a training file may have: stratified 80/20 test split, a 20%
# validation slice and 5-fold CV each need several of the rarer class to mean anything.
MIN_CLASS_ROWS = 50
NULLABLE_COLUMNS: frozenset[str] = frozenset({"TotalCharges"})
ADDON_COLUMNS: tuple[str, ...] = (
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)

# The 19 feature columns in data set order (customerID and Churn excluded).
FEATURE_COLUMNS: tuple[str, ...] = (
    "gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "PhoneService",
    "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup", "DeviceProtection",
    "TechSupport", "StreamingTV", "StreamingMovies", "Contract", "PaperlessBilling",
    "PaymentMethod", "MonthlyCharges", "TotalCharges",
)
ALL_COLUMNS: tuple[str, ...] = (ID_COLUMN, *FEATURE_COLUMNS, TARGET_COLUMN)


def column_kind(name: str) -> ColumnKind:
    """'categorical', 'integer' or 'number' for a feature column."""
    if name in CATEGORICAL_DOMAINS:
        return "categorical"
    if name in INTEGER_DOMAINS:
        return "integer"
    return "number"
