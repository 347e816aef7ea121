"""Validation rejects each kind of bad file with a message naming column, row and value."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from churn_model import synthetic
from churn_model.data import DataValidationError, load_dataset
from tests.conftest import write_csv


def good_frame() -> pd.DataFrame:
    frame = synthetic.churn_frame(40, seed=3)
    # Pin rows 1-3 (data rows, 1-based) to known states used by the mutations below.
    frame.loc[0, ["PhoneService", "MultipleLines"]] = ["Yes", "No"]
    frame.loc[1, ["InternetService", *synthetic.schema.ADDON_COLUMNS]] = ["DSL"] + ["No"] * 6
    frame.loc[2, ["InternetService", *synthetic.schema.ADDON_COLUMNS]] = ["No"] + ["No internet service"] * 6
    frame.loc[2, ["tenure", "TotalCharges"]] = ["5", "100.5"]
    return frame


def errors_for(tmp_path: Path, mutate: Callable[[pd.DataFrame], pd.DataFrame]) -> str:
    path = write_csv(mutate(good_frame()), tmp_path / "bad.csv")
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    return str(err.value)


def set_cell(row: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Mutation setting 1-based data row `row`."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row - 1, column] = value
        return frame
    return mutate


def test_generated_good_file_loads(tmp_path: Path) -> None:
    dataset = load_dataset(write_csv(good_frame(), tmp_path / "good.csv"))
    assert len(dataset.records) == 40
    assert all(r["TotalCharges"] is None for r in dataset.records if r["tenure"] == 0)
    assert isinstance(dataset.records[0]["tenure"], int) and isinstance(dataset.records[0]["MonthlyCharges"], float)


def test_missing_column(tmp_path: Path) -> None:
    assert "missing column 'gender'" in errors_for(tmp_path, lambda f: f.drop(columns=["gender"]))


def test_extra_column(tmp_path: Path) -> None:
    assert "unexpected column 'Region'" in errors_for(tmp_path, lambda f: f.assign(Region="x"))


@pytest.mark.parametrize(("column", "value"), [
    ("tenure", "abc"), ("tenure", "-3"), ("tenure", "1.5"), ("SeniorCitizen", "2"),
    ("MonthlyCharges", "12,5"), ("MonthlyCharges", ""), ("TotalCharges", "nan"),
    ("gender", "F"), ("Contract", "Monthly"), ("PaymentMethod", "Cash"), ("Churn", "maybe"),
])
def test_bad_value_names_column_row_and_value(tmp_path: Path, column: str, value: str) -> None:
    message = errors_for(tmp_path, set_cell(4, column, value))
    assert f"column '{column}', data row 4 (CSV line 5): value {value!r}" in message


@pytest.mark.parametrize(("row", "column", "value"), [
    (1, "MultipleLines", "No phone service"),  # PhoneService=Yes but "No phone service"
    (1, "PhoneService", "No"),                 # PhoneService=No but MultipleLines="No"
    (2, "StreamingTV", "No internet service"),  # InternetService=DSL but "No internet service"
    (3, "OnlineBackup", "Yes"),                # InternetService=No but an add-on "Yes"
    (2, "InternetService", "No"),              # InternetService=No but add-ons "No"
])
def test_cross_field_violations(tmp_path: Path, row: int, column: str, value: str) -> None:
    message = errors_for(tmp_path, set_cell(row, column, value))
    assert f"data row {row} (CSV line {row + 1})" in message
    assert "contradicts" in message


def test_blank_total_charges_needs_tenure_zero(tmp_path: Path) -> None:
    message = errors_for(tmp_path, set_cell(3, "TotalCharges", " "))
    assert "column 'TotalCharges', data row 3 (CSV line 4): value ' ' is blank but tenure > 0" in message


def test_duplicate_customer_id(tmp_path: Path) -> None:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[9, "customerID"] = frame.loc[0, "customerID"]
        return frame
    assert "duplicates data row 1" in errors_for(tmp_path, mutate)


def test_all_problems_are_collected(tmp_path: Path) -> None:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, "gender"] = "F"
        frame.loc[19, "tenure"] = "abc"
        return frame
    message = errors_for(tmp_path, mutate)
    assert "2 problem(s)" in message
    assert "data row 5" in message and "data row 20" in message
