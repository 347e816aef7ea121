"""Generated customers: parity cases for the bundle and small churn files for tests.

Returns: `parity_customers(n, seed)` -> records (the bundle's record shape) that cover every
categorical value, tenure 0 with null TotalCharges and extremes (tenure up to 1200,
MonthlyCharges 0 and up to 10000, TotalCharges 0 and up to 14,400,000: some drawn between 10000
and 1,000,000, the others tenure × MonthlyCharges × 0.8 to 1.2, which reaches 1200 × 10000 × 1.2),
all respecting the cross-field rules;
`churn_frame(n, seed)` -> a string DataFrame in the CSV's 21-column layout with a plausible
churn signal. Both use a seeded numpy Generator, never rows from the real data set.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn_model import schema
from churn_model.data import Record

EXTREME_TENURE = 1200
EXTREME_MONTHLY = 10000.0
EXTREME_TOTAL = 1_000_000.0


def _categoricals(rng: np.random.Generator) -> dict[str, str]:
    """Random categorical values that obey PhoneService/MultipleLines and InternetService/add-ons."""
    values = {c: str(rng.choice(d)) for c, d in schema.CATEGORICAL_DOMAINS.items()}
    if values["PhoneService"] == "No":
        values["MultipleLines"] = "No phone service"
    elif values["MultipleLines"] == "No phone service":
        values["MultipleLines"] = str(rng.choice(schema.YES_NO))
    for col in schema.ADDON_COLUMNS:
        if values["InternetService"] == "No":
            values[col] = "No internet service"
        elif values[col] == "No internet service":
            values[col] = str(rng.choice(schema.YES_NO))
    return values


def _tenure(rng: np.random.Generator) -> int:
    kind = rng.random()
    if kind < 0.1:
        return 0
    if kind < 0.8:
        return int(rng.integers(1, 73))
    return int(rng.integers(73, EXTREME_TENURE + 1))


def _monthly(rng: np.random.Generator) -> float:
    kind = rng.random()
    if kind < 0.05:
        return 0.0
    if kind < 0.1:
        return round(float(rng.uniform(120, EXTREME_MONTHLY)), 2)
    return round(float(rng.uniform(18, 120)), 2)


def _total(rng: np.random.Generator, tenure: int, monthly: float) -> float | None:
    kind = rng.random()
    if tenure == 0:
        return None if kind < 0.8 else 0.0
    if kind < 0.05:
        return 0.0
    if kind < 0.1:
        return round(float(rng.uniform(10000, EXTREME_TOTAL)), 2)
    return round(tenure * monthly * float(rng.uniform(0.8, 1.2)), 2)


def _edge_records() -> list[Record]:
    """Fixed extremes so they are always present whatever the seed."""
    base = {c: d[0] for c, d in schema.CATEGORICAL_DOMAINS.items()}
    base.update(PhoneService="No", MultipleLines="No phone service")
    cases = [(0, 0.0, None), (0, 29.85, None), (0, 0.0, 0.0), (EXTREME_TENURE, EXTREME_MONTHLY, EXTREME_TOTAL),
             (1, 0.0, 0.0), (EXTREME_TENURE, 0.0, 0.0), (72, EXTREME_MONTHLY, 0.0), (1, 118.75, EXTREME_TOTAL)]
    return [{**base, "SeniorCitizen": i % 2, "tenure": t, "MonthlyCharges": m, "TotalCharges": tc}
            for i, (t, m, tc) in enumerate(cases)]


def _record(rng: np.random.Generator) -> Record:
    tenure = _tenure(rng)
    monthly = _monthly(rng)
    record: Record = {**_categoricals(rng), "SeniorCitizen": int(rng.integers(0, 2)), "tenure": tenure,
                      "MonthlyCharges": monthly, "TotalCharges": _total(rng, tenure, monthly)}
    return {c: record[c] for c in schema.FEATURE_COLUMNS}


def missing_coverage(records: list[Record]) -> list[str]:
    """'column=value' pairs from the schema that no record uses (empty = full coverage)."""
    seen = {(c, r[c]) for r in records for c in schema.CATEGORICAL_DOMAINS}
    seen |= {("SeniorCitizen", str(r["SeniorCitizen"])) for r in records}
    wanted = [(c, v) for c, d in schema.CATEGORICAL_DOMAINS.items() for v in d]
    wanted += [("SeniorCitizen", "0"), ("SeniorCitizen", "1")]
    return [f"{c}={v}" for c, v in wanted if (c, v) not in seen]


def parity_customers(n: int, seed: int) -> list[Record]:
    """`n` generated customers (fixed edge cases first); raises if coverage is incomplete."""
    rng = np.random.default_rng(seed)
    edges = [{c: r[c] for c in schema.FEATURE_COLUMNS} for r in _edge_records()]
    records = edges + [_record(rng) for _ in range(max(n - len(edges), 0))]
    missing = missing_coverage(records)
    if missing:
        raise ValueError(f"generated parity customers miss {missing}; use more cases")
    return records


def _churn_probability(r: dict[str, str]) -> float:
    score = -1.2
    score += {"Month-to-month": 1.3, "One year": -0.3, "Two year": -1.6}[r["Contract"]]
    score += 0.8 if r["InternetService"] == "Fiber optic" else 0.0
    score += 0.5 if r["PaymentMethod"] == "Electronic check" else 0.0
    score -= 0.03 * int(r["tenure"])
    score += 0.4 if r["SeniorCitizen"] == "1" else 0.0
    return float(1 / (1 + np.exp(-score)))


def churn_frame(n: int, seed: int) -> pd.DataFrame:
    """A plausible small churn CSV (strings, 21 columns, blank TotalCharges for tenure 0)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []
    for i in range(n):
        row = _categoricals(rng)
        tenure = int(rng.integers(0, 73))
        monthly = round(float(rng.uniform(18.25, 118.75)), 2)
        row.update(customerID=f"{i:04d}-GEN{seed % 1000:03d}", SeniorCitizen=str(int(rng.random() < 0.16)),
                   tenure=str(tenure), MonthlyCharges=f"{monthly:g}",
                   TotalCharges=" " if tenure == 0 else f"{round(tenure * monthly * rng.uniform(0.9, 1.1), 2):g}")
        row["Churn"] = "Yes" if rng.random() < _churn_probability(row) else "No"
        rows.append(row)
    return pd.DataFrame(rows, columns=list(schema.ALL_COLUMNS))
