"""The spec-driven encoder: one row alone == the same row in a batch; one-hot covers every value."""
from __future__ import annotations

import numpy as np

from churn_model import schema, synthetic
from churn_model.config import TrainingConfig
from churn_model.features import build_feature_spec, encode_record, encode_records, feature_names


def test_single_row_equals_batch_row(cfg: TrainingConfig) -> None:
    records = synthetic.parity_customers(800, seed=11)
    spec = build_feature_spec(records, cfg.ratio_features)
    batch = encode_records(records, spec)
    assert batch.dtype == np.float32 and batch.shape == (800, len(spec["features"]))
    order = np.random.default_rng(1).permutation(len(records))
    shuffled = encode_records([records[i] for i in order], spec)
    for position, i in enumerate(order):
        alone = encode_records([records[i]], spec)[0]
        assert np.array_equal(alone, batch[i])
        assert np.array_equal(encode_record(records[i], spec), batch[i])
        assert np.array_equal(shuffled[position], batch[i])


def test_every_categorical_value_has_a_onehot_column(cfg: TrainingConfig) -> None:
    spec = build_feature_spec(synthetic.parity_customers(100, seed=2), cfg.ratio_features)
    names = set(feature_names(spec))
    for column, domain in schema.CATEGORICAL_DOMAINS.items():
        for value in domain:
            assert f"{column}={value}" in names


def test_single_row_onehot_is_exactly_one_per_column(cfg: TrainingConfig) -> None:
    records = synthetic.parity_customers(50, seed=5)
    spec = build_feature_spec(records, cfg.ratio_features)
    row = encode_records([records[0]], spec)[0]
    for column in schema.CATEGORICAL_DOMAINS:
        idx = [i for i, f in enumerate(spec["features"]) if f.get("column") == column and f["transform"] == "onehot"]
        assert sorted(row[idx].tolist()) == [0.0] * (len(idx) - 1) + [1.0]


def test_null_total_charges_and_zero_tenure(cfg: TrainingConfig) -> None:
    records = synthetic.parity_customers(50, seed=5)
    spec = build_feature_spec(records, cfg.ratio_features)
    record = {**records[0], "tenure": 0, "TotalCharges": None, "MonthlyCharges": 20.5}
    values = dict(zip(feature_names(spec), encode_record(record, spec).tolist()))
    assert values["TotalCharges"] == 0.0
    assert values["TotalCharges/tenure"] == 0.0
    assert values["MonthlyCharges"] == 20.5
    record.update(tenure=4, TotalCharges=10.0)
    values = dict(zip(feature_names(spec), encode_record(record, spec).tolist()))
    assert values["TotalCharges/tenure"] == np.float32(2.5)
    # Tenure 0 with a total already billed (the gateway takes it): the zero-denominator rule, not the null one.
    record.update(tenure=0, TotalCharges=10.0)
    ratio = next(f for f in spec["features"] if f["name"] == "TotalCharges/tenure")
    values = dict(zip(feature_names(spec), encode_record(record, spec).tolist()))
    assert ratio["transform"] == "ratio" and values["TotalCharges/tenure"] == ratio["zeroDenominatorAs"]
    assert values["TotalCharges"] == 10.0
