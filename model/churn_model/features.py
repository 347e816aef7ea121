"""Step 2: the feature spec (written verbatim into the bundle) and the encoder driven by it.

Returns: `build_feature_spec(...)` -> the featureSpec dict of docs/model-bundle.md;
`encode_records(records, spec)` -> float32 matrix [N, len(spec["features"])].

Every row is encoded on its own by `encode_record` (values computed in float64, stored as
float32), so a row encodes identically alone or inside a batch. Categoricals (Yes/No ones
included) are one-hot over the full allowed domain from the spec; numbers are identity with
`nullAs` for nullable columns; `ratio` features follow the spec's zero/null rules. The
transforms are exactly identity, onehot and ratio, which the gateway implements.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from churn_model import schema
from churn_model.data import Record

FeatureSpec = dict[str, Any]
NULL_AS = 0
ZERO_DENOMINATOR_AS = 0


def _column_entry(name: str, records: list[Record]) -> dict[str, Any]:
    kind = schema.column_kind(name)
    entry: dict[str, Any] = {"name": name, "kind": kind}
    if kind == "categorical":
        entry["allowedValues"] = list(schema.CATEGORICAL_DOMAINS[name])
        return entry
    allowed = schema.INTEGER_DOMAINS.get(name)
    if allowed is not None:
        entry["allowedValues"] = list(allowed)
        return entry
    if name in schema.NULLABLE_COLUMNS:
        entry["nullable"] = True
    values = [r[name] for r in records if r[name] is not None]
    entry["observedMin"] = min(values) if kind == "number" else int(min(values))
    entry["observedMax"] = max(values) if kind == "number" else int(max(values))
    if name in schema.NULLABLE_COLUMNS:
        entry["observedMin"] = min(entry["observedMin"], NULL_AS)
    return entry


def _column_features(name: str) -> list[dict[str, Any]]:
    if schema.column_kind(name) == "categorical":
        return [
            {"name": f"{name}={value}", "transform": "onehot", "column": name, "value": value}
            for value in schema.CATEGORICAL_DOMAINS[name]
        ]
    feature: dict[str, Any] = {"name": name, "transform": "identity", "column": name}
    if name in schema.NULLABLE_COLUMNS:
        feature["nullAs"] = NULL_AS
    return [feature]


def _ratio_feature(numerator: str, denominator: str) -> dict[str, Any]:
    return {
        "name": f"{numerator}/{denominator}",
        "transform": "ratio",
        "numerator": numerator,
        "denominator": denominator,
        "zeroDenominatorAs": ZERO_DENOMINATOR_AS,
        "nullAs": NULL_AS,
    }


def build_feature_spec(records: list[Record], ratios: tuple[tuple[str, str], ...]) -> FeatureSpec:
    """Spec for the 19 columns (observed ranges from `records`) plus the configured ratios."""
    features = [f for col in schema.FEATURE_COLUMNS for f in _column_features(col)]
    features += [_ratio_feature(num, den) for num, den in ratios]
    return {
        "columns": [_column_entry(col, records) for col in schema.FEATURE_COLUMNS],
        "features": features,
    }


def _number(value: Any, null_as: float | None) -> float:
    if value is None:
        if null_as is None:
            raise ValueError("null value for a feature without nullAs")
        return float(null_as)
    return float(value)


def _feature_value(record: Record, feature: dict[str, Any]) -> float:
    transform = feature["transform"]
    if transform == "onehot":
        return 1.0 if record[feature["column"]] == feature["value"] else 0.0
    if transform == "identity":
        return _number(record[feature["column"]], feature.get("nullAs"))
    if transform == "ratio":
        numerator = _number(record[feature["numerator"]], feature.get("nullAs"))
        denominator = _number(record[feature["denominator"]], None)
        return float(feature["zeroDenominatorAs"]) if denominator == 0 else numerator / denominator
    raise ValueError(f"unknown transform {transform!r}")


def encode_record(record: Record, spec: FeatureSpec) -> np.ndarray:
    """One customer -> float32 vector in spec order (float64 math, then cast)."""
    values = [_feature_value(record, f) for f in spec["features"]]
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def encode_records(records: list[Record], spec: FeatureSpec) -> np.ndarray:
    """Many customers -> float32 matrix; row i == encode_record(records[i], spec)."""
    width = len(spec["features"])
    if not records:
        return np.zeros((0, width), dtype=np.float32)
    return np.stack([encode_record(r, spec) for r in records]).astype(np.float32)


def feature_names(spec: FeatureSpec) -> list[str]:
    return [f["name"] for f in spec["features"]]
