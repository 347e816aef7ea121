"""Validation rejects each kind of bad file with a message naming column, row and value."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from churn_model import schema, synthetic
from churn_model.data import DataValidationError, load_dataset
from tests.conftest import write_csv


def good_frame() -> pd.DataFrame:
    frame = synthetic.churn_frame(300, seed=3)  # 64 churners: above MIN_CLASS_ROWS
    # Pin rows 1-3 (data rows, 1-based) to known states used by the mutations below.
    frame.loc[0, ["PhoneService", "MultipleLines"]] = ["Yes", "No"]
    frame.loc[1, ["InternetService", *schema.ADDON_COLUMNS]] = ["DSL"] + ["No"] * 6
    frame.loc[2, ["InternetService", *schema.ADDON_COLUMNS]] = ["No"] + ["No internet service"] * 6
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
    assert len(dataset.records) == 300
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
    ("tenure", "5\n"), ("tenure", "1201"), ("MonthlyCharges", "1e39"), ("TotalCharges", "4" * 40),
    ("tenure", "9" * 4301),  # past the 4,300 digits Python's int() converts: named, not a crash
])
def test_bad_value_names_column_row_and_value(tmp_path: Path, column: str, value: str) -> None:
    message = errors_for(tmp_path, set_cell(4, column, value))
    lines = "CSV lines 5-6" if "\n" in value else "CSV line 5"  # a quoted newline: the row spans two lines
    assert f"column '{column}', data row 4 ({lines}): value {value!r}" in message


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
        frame.loc[9, "customerID"] = str(frame.loc[0, "customerID"])
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


def write_text(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "raw.csv"
    path.write_text(text, encoding=encoding)
    return path


def good_csv_text(tmp_path: Path) -> str:
    return write_csv(good_frame(), tmp_path / "good.csv").read_text(encoding="utf-8")


def test_a_blank_line_inside_the_data_is_named_and_rows_keep_the_file_numbering(tmp_path: Path) -> None:
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    path = write_text(tmp_path, "".join(lines[:5] + ["\n"] + lines[5:]))
    with pytest.raises(DataValidationError, match=r"data row 5 \(CSV line 6\) is a blank line"):
        load_dataset(path)
    # Blank lines at the very end are only an extra newline: accepted.
    assert len(load_dataset(write_text(tmp_path, good_csv_text(tmp_path) + "\n\n")).records) == 300


def test_rows_after_a_quoted_newline_are_named_by_their_physical_line(tmp_path: Path) -> None:
    """A quoted field holding newlines makes its row span several lines: every later row is
    further down the file than row + 1, and the message must send the reader to the right line."""
    frame = good_frame()
    frame.loc[1, "customerID"] = "ID-2\nsecond line\nthird line"  # valid: an id is any non-empty text
    frame.loc[9, "tenure"] = "abc"
    path = write_csv(frame, tmp_path / "multiline.csv")
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1) if ",abc," in text)
    assert line == 13  # header, row 1, row 2 on lines 3-5, then rows 3-10 on lines 6-13
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert err.value.problems == [f"column 'tenure', data row 10 (CSV line {line}): value 'abc' is not a non-negative integer"]


@pytest.mark.parametrize(("edit", "found"), [
    (lambda line: line.rstrip("\n") + ",extra\n", 22),     # too many: a stray comma, say
    (lambda line: line.rsplit(",", 2)[0] + "\n", 19),        # too few: Churn and TotalCharges cut off
])
def test_a_row_with_the_wrong_number_of_fields_is_named_with_both_counts(
        tmp_path: Path, edit: Callable[[str], str], found: int) -> None:
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[5] = edit(lines[5])  # data row 5, CSV line 6
    with pytest.raises(DataValidationError) as err:
        load_dataset(write_text(tmp_path, "".join(lines)))
    assert err.value.problems == [f"data row 5 (CSV line 6) has {found} fields, expected 21 (one per header column)"]


def test_a_repeated_header_name_is_reported_as_duplicated(tmp_path: Path) -> None:
    header, rest = good_csv_text(tmp_path).split("\n", 1)
    with pytest.raises(DataValidationError, match=r"duplicated column 'tenure' \(header\)"):
        load_dataset(write_text(tmp_path, header + ",tenure\n" + rest))


@pytest.mark.parametrize(("text", "encoding"), [("", "utf-8"), ("Churn,gender\nNo,Müller\n", "latin-1"), ("a,b\n1,2\n", "utf-16")])
def test_unreadable_files_fail_validation_with_a_message(tmp_path: Path, text: str, encoding: str) -> None:
    with pytest.raises(DataValidationError, match="cannot read raw.csv as a UTF-8 CSV file"):
        load_dataset(write_text(tmp_path, text, encoding))


@pytest.mark.parametrize("churners", [0, 1, 49])
def test_too_few_of_a_class_is_refused_before_training(tmp_path: Path, churners: int) -> None:
    frame = good_frame()
    yes = frame.index[frame["Churn"] == "Yes"]
    frame.loc[yes[churners:], "Churn"] = "No"
    with pytest.raises(DataValidationError, match=rf"column 'Churn': {churners} row\(s\) are 'Yes'; at least 50"):
        load_dataset(write_csv(frame, tmp_path / "few.csv"))


def test_long_digit_runs_in_tenure_are_read_without_a_crash(tmp_path: Path) -> None:
    """int() refuses strings over 4,300 digits (ValueError, a traceback before): a blank total
    beside such a tenure is named, and leading zeros are still the number they spell."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[3, ["tenure", "TotalCharges"]] = ["9" * 4301, " "]
        frame.loc[4, ["tenure", "TotalCharges"]] = ["0" * 4300 + "7", "100.5"]
        frame.loc[5, ["tenure", "TotalCharges"]] = ["0" * 4301, " "]
        return frame
    message = errors_for(tmp_path, mutate)
    assert "data row 4 (CSV line 5): value ' ' is blank but tenure > 0" in message
    assert "data row 5" not in message and "data row 6" not in message
    assert message.startswith("data validation failed with 2 problem(s)")  # row 4: tenure too large, blank total
    records = load_dataset(write_csv(good_frame().assign(tenure=lambda f: "000" + f["tenure"]),
                                     tmp_path / "zeros.csv")).records
    assert [r["tenure"] for r in records] == [int(t) for t in good_frame()["tenure"]]
