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

from typing import Literal, NotRequired, TypedDict

import numpy as np

from churn_model import schema
from churn_model.data import Record

NULL_AS = 0
ZERO_DENOMINATOR_AS = 0


# The featureSpec's JSON shape (docs/model-bundle.md); key names are the bundle's, hence camelCase.
class ColumnEntry(TypedDict):
    name: str
    kind: schema.ColumnKind
    allowedValues: NotRequired[list[str]]  # categoricals and integer columns with a domain
    nullable: NotRequired[Literal[True]]
    observedMin: NotRequired[float]        # the other columns; an int for an integer column
    observedMax: NotRequired[float]


class OneHotFeature(TypedDict):
    name: str
    transform: Literal["onehot"]
    column: str
    value: str


class IdentityFeature(TypedDict):
    name: str
    transform: Literal["identity"]
    column: str
    nullAs: NotRequired[int]


class RatioFeature(TypedDict):
    name: str
    transform: Literal["ratio"]
    numerator: str
    denominator: str
    zeroDenominatorAs: int
    nullAs: int


Feature = OneHotFeature | IdentityFeature | RatioFeature


class FeatureSpec(TypedDict):
    columns: list[ColumnEntry]
    features: list[Feature]


def _non_null_numbers(records: list[Record], name: str) -> list[float]:
    """The column's values, nulls left out (ints stay ints); text in a number column is a bug."""
    values: list[float] = []
    for r in records:
        value = r[name]
        if isinstance(value, str):
            raise TypeError(f"column {name!r} holds text {value!r}, not a number")
        if value is not None:
            values.append(value)
    return values


def _column_entry(name: str, records: list[Record]) -> ColumnEntry:
    kind = schema.column_kind(name)
    entry: ColumnEntry = {"name": name, "kind": kind}
    if kind == "categorical":
        entry["allowedValues"] = list(schema.CATEGORICAL_DOMAINS[name])
        return entry
    allowed = schema.INTEGER_DOMAINS.get(name)
    if allowed is not None:
        entry["allowedValues"] = list(allowed)
        return entry
    if name in schema.NULLABLE_COLUMNS:
        entry["nullable"] = True
    values = _non_null_numbers(records, name)
    entry["observedMin"] = min(values) if kind == "number" else int(min(values))
    entry["observedMax"] = max(values) if kind == "number" else int(max(values))
    if name in schema.NULLABLE_COLUMNS:
        entry["observedMin"] = min(entry["observedMin"], NULL_AS)
    return entry


def _column_features(name: str) -> list[Feature]:
    if schema.column_kind(name) == "categorical":
        return [
            {"name": f"{name}={value}", "transform": "onehot", "column": name, "value": value}
            for value in schema.CATEGORICAL_DOMAINS[name]
        ]
    feature: IdentityFeature = {"name": name, "transform": "identity", "column": name}
    if name in schema.NULLABLE_COLUMNS:
        feature["nullAs"] = NULL_AS
    return [feature]


def _ratio_feature(numerator: str, denominator: str) -> RatioFeature:
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
    features: list[Feature] = [f for col in schema.FEATURE_COLUMNS for f in _column_features(col)]
    features += [_ratio_feature(num, den) for num, den in ratios]
    return {
        "columns": [_column_entry(col, records) for col in schema.FEATURE_COLUMNS],
        "features": features,
    }


def _number(value: str | int | float | None, null_as: float | None) -> float:
    if value is None:
        if null_as is None:
            raise ValueError("null value for a feature without nullAs")
        return float(null_as)
    return float(value)


def _feature_value(record: Record, feature: Feature) -> float:
    # Compared on feature["transform"] itself so that each branch narrows `feature` to its kind.
    if feature["transform"] == "onehot":
        return 1.0 if record[feature["column"]] == feature["value"] else 0.0
    if feature["transform"] == "identity":
        return _number(record[feature["column"]], feature.get("nullAs"))
    if feature["transform"] == "ratio":
        numerator = _number(record[feature["numerator"]], feature.get("nullAs"))
        denominator = _number(record[feature["denominator"]], None)
        return float(feature["zeroDenominatorAs"]) if denominator == 0 else numerator / denominator
    raise ValueError(f"unknown transform {feature['transform']!r}")  # a spec read from JSON may hold any


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


def feature_names_for(ratios: tuple[tuple[str, str], ...]) -> list[str]:
    """The names `build_feature_spec` gives the features, without data (the config check's)."""
    columns = [f["name"] for col in schema.FEATURE_COLUMNS for f in _column_features(col)]
    return columns + [_ratio_feature(num, den)["name"] for num, den in ratios]
