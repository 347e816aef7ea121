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


def only_problem(path: Path) -> str:
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert len(err.value.problems) == 1, err.value.problems
    return err.value.problems[0]


def edit_line(tmp_path: Path, index: int, edit: Callable[[str], str]) -> Path:
    """The good file with physical line `index` (0 = header) edited."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[index] = edit(lines[index])
    return write_text(tmp_path, "".join(lines))


@pytest.mark.parametrize("variant", [
    lambda b: b"\xef\xbb\xbf" + b,                          # Excel's "CSV UTF-8": a byte order mark
    lambda b: b.replace(b"\n", b"\r\n"),                    # Windows line endings
    lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"),  # both
    lambda b: b.rstrip(b"\n"),                              # no final newline
    lambda b: b + b"\n",                                    # a trailing blank line
    lambda b: b + b",,,,,,,,,,,,,,,,,,,,\r\n",              # an empty row Excel leaves at the end
])
def test_encodings_of_the_same_data_read_as_the_same_data(tmp_path: Path, variant: Callable[[bytes], bytes]) -> None:
    """Accepted because every cell reads exactly as in the plain file: nothing is reinterpreted."""
    clean = write_csv(good_frame(), tmp_path / "good.csv")
    other = tmp_path / "other.csv"
    other.write_bytes(variant(clean.read_bytes()))
    expected, got = load_dataset(clean), load_dataset(other)
    assert (got.records, got.labels) == (expected.records, expected.labels)


def test_a_windows_1252_file_names_the_cell_with_the_first_bad_byte_and_what_to_do(tmp_path: Path) -> None:
    frame = good_frame()
    frame.loc[3, "customerID"] = "Müller-1"
    frame.loc[7, "customerID"] = "Søren-2"
    path = tmp_path / "excel.csv"
    frame.to_csv(path, index=False, lineterminator="\r\n", encoding="cp1252")
    assert only_problem(path) == (
        "cannot read excel.csv as a UTF-8 CSV file: column 'customerID', data row 4 (CSV line 5): value "
        "'M\\xfcller-1' has byte 0xfc, which is not UTF-8 (1 more cell(s) like it); the file looks "
        "Windows-1252/Latin-1 encoded (Excel's plain 'CSV'): save it as CSV UTF-8 (in Excel: "
        "'CSV UTF-8 (Comma delimited)') or convert it (iconv -f WINDOWS-1252 -t UTF-8)")


def test_a_windows_1252_byte_in_the_header_is_named_there(tmp_path: Path) -> None:
    """A column renamed in a localized Excel: the header's cell, not 'missing' and 'unexpected' with an escape code."""
    path = tmp_path / "excel.csv"
    good_frame().rename(columns={"Churn": "Kündigung"}).to_csv(path, index=False, encoding="cp1252")
    assert only_problem(path).startswith(
        "cannot read excel.csv as a UTF-8 CSV file: the header (CSV line 1), column 21: value 'K\\xfcndigung' has "
        "byte 0xfc, which is not UTF-8; the file looks Windows-1252/Latin-1 encoded")


def test_the_euro_sign_in_windows_1252_is_refused_as_not_utf8(tmp_path: Path) -> None:
    """0x80 (Windows-1252's €) is the lowest byte that is not UTF-8 on its own: never read into a value."""
    path = tmp_path / "excel.csv"
    frame = good_frame()
    frame.loc[5, "customerID"] = "100€"
    frame.to_csv(path, index=False, encoding="cp1252")
    assert only_problem(path).startswith(
        "cannot read excel.csv as a UTF-8 CSV file: column 'customerID', data row 6 (CSV line 7): value '100\\x80' "
        "has byte 0x80, which is not UTF-8;")


def test_a_windows_1252_byte_in_a_field_past_the_header_is_named_by_its_position(tmp_path: Path) -> None:
    """A row with one field too many, the extra one not UTF-8: named as field 22, not a crash."""
    path = edit_line(tmp_path, 3, lambda line: line.rstrip("\n") + ",Müller\n")
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    assert only_problem(path).startswith(
        "cannot read raw.csv as a UTF-8 CSV file: field 22, data row 3 (CSV line 4): value 'M\\xfcller' has byte 0xfc")


@pytest.mark.parametrize(("content", "why"), [
    ("customerID,gender\n".encode("utf-16"), "it is UTF-16 encoded (it starts with a UTF-16 byte order mark); "
                                             "save it as CSV UTF-8"),
    (b"\xfe\xff" + "customerID,gender\n".encode("utf-16-be"), "it is UTF-16 encoded (it starts with a UTF-16 byte "
                                                              "order mark); save it as CSV UTF-8"),
    # Its byte order mark begins with UTF-16's (ff fe): named UTF-32, not UTF-16.
    ("customerID,gender\n".encode("utf-32"), "it is UTF-32 encoded (it starts with a UTF-32 byte order mark); "
                                             "save it as CSV UTF-8"),
    (b"\x00\x00\xfe\xff" + "customerID,gender\n".encode("utf-32-be"), "it is UTF-32 encoded (it starts with a "
                                                                      "UTF-32 byte order mark); save it as CSV UTF-8"),
    (b"PK\x03\x04\x14\x00\x06\x00", "it is a zip archive (an Excel .xlsx workbook?), not text; save it as CSV UTF-8"),
], ids=["utf-16", "utf-16-be", "utf-32", "utf-32-be", "xlsx"])
def test_a_file_in_another_format_says_which(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "raw.csv"
    path.write_bytes(content)
    assert only_problem(path).startswith(f"cannot read raw.csv as a UTF-8 CSV file: {why}")


def test_a_quote_never_closed_names_the_row_it_opened_in(tmp_path: Path) -> None:
    """The csv module gives up past its field size limit (131,072 characters) with no position."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[5] = lines[5].replace(",", ',"', 1)  # data row 5: a quote opened before its second field
    path = write_text(tmp_path, "".join(lines + lines[6:] * 300))
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: data row 5 (from CSV line 6): field larger than field limit "
        "(131072); a quote (\") opened in it and never closed would take in the lines after it")


def test_a_quote_never_closed_in_the_header_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    """The header is read like any record: a stray quote in it swallows the data the same way."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[0] = lines[0].replace(",", ',"', 1)
    path = write_text(tmp_path, "".join(lines + lines[1:] * 300))
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: the header (from CSV line 1): field larger than field limit "
        "(131072); a quote (\") opened in it and never closed would take in the lines after it")


@pytest.mark.parametrize(("sep", "what"), [(";", "';' (Excel with a decimal comma)"), ("\t", "tabs"), ("|", "'|'")])
def test_another_separator_is_named_once(tmp_path: Path, sep: str, what: str) -> None:
    path = tmp_path / "excel.csv"
    good_frame().to_csv(path, index=False, sep=sep, decimal=",")
    problem = only_problem(path)
    assert problem.startswith(f"the header (CSV line 1) is one column, {('customerID' + sep + 'gender')!r}"[:-1])
    assert problem.endswith(f"the file is separated by {what}, not ','; save it as comma-separated CSV UTF-8 "
                            "with '.' as the decimal separator")


def test_a_blank_first_line_is_named_as_a_blank_header(tmp_path: Path) -> None:
    assert only_problem(write_text(tmp_path, "\n" + good_csv_text(tmp_path))) == (
        "the header (CSV line 1) is blank: the first line must name the 21 columns, separated by ','")


@pytest.mark.parametrize(("written", "position", "meant"), [
    ("customerId", 1, "customerID"), (" tenure", 6, "tenure"), ("CHURN ", 21, "Churn")])
def test_a_column_name_off_by_case_or_spaces_names_the_expected_one(
        tmp_path: Path, written: str, position: int, meant: str) -> None:
    path = edit_line(tmp_path, 0, lambda header: header.replace(meant, written, 1))
    assert only_problem(path) == (
        f"column {written!r} (header, column {position}) should be {meant!r}: column names must match exactly "
        "(case and surrounding spaces count); rename it")


@pytest.mark.parametrize("index_name", ["", "Unnamed: 0"])
def test_a_pandas_index_column_is_named_as_one(tmp_path: Path, index_name: str) -> None:
    path = tmp_path / "indexed.csv"
    # to_csv without index=False; "Unnamed: 0" is how read_csv names that column, written out again
    good_frame().to_csv(path, index_label=index_name or None)
    assert only_problem(path) == (
        f"unexpected column {index_name!r} (header, column 1): an unnamed column, such as the row index pandas "
        "writes with to_csv() unless index=False; remove it")


def test_a_header_repeated_inside_the_data_is_one_problem(tmp_path: Path) -> None:
    """Two exports joined with `cat`: the second header is a row, not 20 bad values."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    path = write_text(tmp_path, "".join(lines[:101] + lines[:1] + lines[101:]))
    assert only_problem(path) == "data row 101 (CSV line 102) repeats the header (files joined together?); remove it"


@pytest.mark.parametrize("value", ["Yes", "0.0", "1.0", "True"])
def test_senior_citizen_names_its_two_values(tmp_path: Path, value: str) -> None:
    message = errors_for(tmp_path, set_cell(4, "SeniorCitizen", value))
    assert f"column 'SeniorCitizen', data row 4 (CSV line 5): value {value!r} is not one of ['0', '1']" in message


@pytest.mark.parametrize("value", ["", "  "])
def test_an_unbilled_total_written_otherwise_than_one_space_says_how_it_is_written(
        tmp_path: Path, value: str) -> None:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[3, ["tenure", "TotalCharges"]] = ["0", value]
        return frame
    assert (f"column 'TotalCharges', data row 4 (CSV line 5): value {value!r} is not a number; an unbilled "
            "tenure-0 customer's TotalCharges is written as one space ' ' in this data set") in errors_for(tmp_path, mutate)


def test_a_row_of_commas_inside_the_data_is_not_called_a_blank_line(tmp_path: Path) -> None:
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    path = write_text(tmp_path, "".join(lines[:5] + [",," * 10 + "\n"] + lines[5:]))
    assert only_problem(path) == "data row 5 (CSV line 6) has no values (only commas)"


@pytest.mark.parametrize("value", ["NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A", "-", "?"])
@pytest.mark.parametrize("column", ["Contract", "SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges", "Churn"])
def test_missing_value_markers_are_refused_in_every_kind_of_column(tmp_path: Path, column: str, value: str) -> None:
    """pandas' read_csv would turn these into NaN and a later step into some default; the cells are
    read as text and each is named (a guard for anyone tempted to load the file with pandas)."""
    assert f"column {column!r}, data row 4 (CSV line 5): value {value!r} is not" in errors_for(
        tmp_path, set_cell(4, column, value))
