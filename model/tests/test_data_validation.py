"""Validation rejects each kind of bad file with a message naming column, row and value."""
from __future__ import annotations

import csv
import gzip
import os
import re
import shlex
import subprocess
import time
from collections import Counter
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


EXTRA_COLUMN = (": training reads exactly the 21 columns of the Telco data set (customerID, the 19 features, "
                "Churn); ")


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
    shown = repr(value) if len(value) <= 100 else f"{value[:100]!r} (first 100 of {len(value):,} characters)"
    assert f"column '{column}', data row 4 ({lines}): value {shown} is" in message


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


@pytest.mark.parametrize("tenure", ["1", "72"])
def test_a_blank_total_charges_is_refused_from_the_first_month(tmp_path: Path, tenure: str) -> None:
    message = errors_for(tmp_path, lambda f: set_cell(3, "TotalCharges", " ")(set_cell(3, "tenure", tenure)(f)))
    assert "column 'TotalCharges', data row 3 (CSV line 4): value ' ' is blank but tenure > 0" in message


def test_the_largest_tenure_and_charges_the_gateway_takes_load(tmp_path: Path) -> None:
    """MAX_TENURE_MONTHS and MAX_CHARGE are the last values taken (test_gateway_bounds: the gateway's own)."""
    top = str(schema.MAX_TENURE_MONTHS)
    charge = f"{schema.MAX_CHARGE:.0f}"  # the data set writes plain decimals, no exponent
    frame = good_frame()
    frame.loc[3, ["tenure", "MonthlyCharges", "TotalCharges"]] = [top, charge, charge]
    record = load_dataset(write_csv(frame, tmp_path / "top.csv")).records[3]
    assert (record["tenure"], record["MonthlyCharges"], record["TotalCharges"]) == (schema.MAX_TENURE_MONTHS, schema.MAX_CHARGE, schema.MAX_CHARGE)


def test_duplicate_customer_id(tmp_path: Path) -> None:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[9, "customerID"] = str(frame.loc[0, "customerID"])
        return frame
    assert "duplicates data row 1" in errors_for(tmp_path, mutate)


@pytest.mark.parametrize(("value", "why"), [
    ("ID-2 ", "has whitespace around it, which would make it another customer than the same id without; remove it"),
    ("\tID-2", "has whitespace around it, which would make it another customer than the same id without; remove it"),
    ("ID\x002", "holds a control character (U+0000)"),
    ("ID-2\r\nnext", "holds a control character (U+000D)"),
    ("ID-\x1b[2J", "holds a control character (U+001B)"),
])
def test_a_customer_id_with_whitespace_around_or_a_control_character_is_refused(
        tmp_path: Path, value: str, why: str) -> None:
    """'5575-GNVDE ' beside '5575-GNVDE' passed as two customers: emptiness was tested on the stripped
    id and uniqueness on the text as written. Every other column refuses spaces around a value."""
    message = errors_for(tmp_path, set_cell(2, "customerID", value))
    lines = "CSV lines 3-4" if "\n" in value else "CSV line 3"
    assert f"column 'customerID', data row 2 ({lines}): value {value!r} {why}" in message
    assert message.startswith("data validation failed with 1 problem(s)")


def test_customer_ids_differing_only_in_case_are_the_same_customer(tmp_path: Path) -> None:
    """Every id in the data set is upper case and all 7,043 are unique case-folded: '7590-vhveg' beside
    '7590-VHVEG' is taken for the same customer twice, which the split could put on both sides."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[9, "customerID"] = str(frame.loc[0, "customerID"]).lower()
        return frame
    first = str(good_frame().loc[0, "customerID"])
    assert first != first.lower()
    assert (f"column 'customerID', data row 10 (CSV line 11): value {first.lower()!r} duplicates data row 1 (CSV "
            f"line 2)'s {first!r} but for case (ids are compared ignoring case)") in errors_for(tmp_path, mutate)


@pytest.mark.parametrize("char", ["\u2028", "\u2029"])
def test_a_customer_id_holding_a_line_or_paragraph_separator_is_refused(tmp_path: Path, char: str) -> None:
    """'5575-\\u2028GNVDE' passed: U+2028 and U+2029 are not control characters (Zl, Zp), and only the
    check for whitespace around an id, which strips them, saw them at its ends."""
    first = str(good_frame().loc[0, "customerID"])
    value = first[:5] + char + first[5:]
    message = errors_for(tmp_path, set_cell(10, "customerID", value))
    assert message.startswith("data validation failed with 1 problem(s)")
    assert (f"column 'customerID', data row 10 (CSV line 11): value {value!r} holds a line or paragraph separator "
            f"(U+{ord(char):04X})") in message


@pytest.mark.parametrize(("where", "char"), [
    ("start", "\ufeff"),  # a byte order mark: two "CSV UTF-8" exports joined, the second without its header
    ("inside", "\u200b"),  # a zero-width space, pasted in
    ("end", "\u2060"),  # a word joiner
    ("inside", "\u00ad"),  # a soft hyphen
])
def test_a_customer_id_holding_an_invisible_format_character_is_refused(tmp_path: Path, where: str, char: str) -> None:
    """'\\ufeff' + row 1's id passed as a second customer: a format character (category Cf) is not
    whitespace, so the check for spaces around the id missed it, and no normal form removes it."""
    first = str(good_frame().loc[0, "customerID"])
    value = {"start": char + first, "inside": first[:5] + char + first[5:], "end": first + char}[where]
    message = errors_for(tmp_path, set_cell(10, "customerID", value))
    assert message.startswith("data validation failed with 1 problem(s)")
    assert (f"column 'customerID', data row 10 (CSV line 11): value {value!r} holds an invisible format character "
            f"(U+{ord(char):04X}), which would make it another customer than the same id without; remove it") in message


@pytest.mark.parametrize("variant", [
    lambda cid: "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in cid),  # '０' is U+FF10
    lambda cid: cid.replace("-", "\u2011"),  # a non-breaking hyphen: NFKC makes it U+2010, not '-'
    lambda cid: cid.replace("-", "\u2013").lower(),  # an en dash, as a word processor writes '-'
    lambda cid: cid.replace("-", "\u2212"),  # a minus sign (Sm, not a dash to Unicode), as a spreadsheet formats '-'
], ids=["full-width-digits", "non-breaking-hyphen", "en-dash-lower-case", "minus-sign"])
def test_customer_ids_differing_only_by_look_alike_characters_are_the_same_customer(
        tmp_path: Path, variant: Callable[[str], str]) -> None:
    """'３６６８-QPYBK' and '3668\\u2011QPYBK' beside '3668-QPYBK' passed as two customers, compared
    case-folded only: the same churner was trained on twice, and could have landed in the test split."""
    first = str(good_frame().loc[0, "customerID"])
    value = variant(first)
    assert value.casefold() != first.casefold()
    message = errors_for(tmp_path, set_cell(10, "customerID", value))
    assert message.startswith("data validation failed with 1 problem(s)")
    prefix = (f"column 'customerID', data row 10 (CSV line 11): value {value!r} duplicates data row 1 (CSV line 2)'s "
              f"{first!r} but for look-alike characters (")
    assert prefix in message
    codes = dict.fromkeys(f"U+{ord(ch):04X}" for ch in value if not ch.isascii())  # in order of appearance
    assert message.split(prefix)[1].startswith(", ".join(codes) + ": ids are compared ignoring case")


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
    frame.loc[1, "PaymentMethod"] = "Electronic\ncheck\nthird line"
    frame.loc[9, "tenure"] = "abc"
    path = write_csv(frame, tmp_path / "multiline.csv")
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1) if ",abc," in text)
    assert line == 13  # header, row 1, row 2 on lines 3-5, then rows 3-10 on lines 6-13
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert err.value.problems[1:] == [
        f"column 'tenure', data row 10 (CSV line {line}): value 'abc' is not a non-negative integer"]
    assert err.value.problems[0].startswith("column 'PaymentMethod', data row 2 (CSV lines 3-5): value "
                                            "'Electronic\\ncheck\\nthird line' is not one of")


def test_a_carriage_return_alone_in_an_lf_file_starts_no_line(tmp_path: Path) -> None:
    """grep -n, wc -l and editors count LF: a bare CR quoted in a value (data row 2), or a stray one
    splitting a row in two (data row 4, read as rows 4 and 5 on one line), is no line of its own. The
    reader's line_num counted each, so every later row was named a line too far down."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    cells = lines[2].split(",")
    cells[17] = '"Electronic\rcheck"'  # PaymentMethod
    lines[2] = ",".join(cells)
    lines[4] = lines[4].replace(",", ",\r", 1)
    cells = lines[10].split(",")
    cells[5] = "abc"  # tenure of data row 10, on line 11 (read as data row 11)
    lines[10] = ",".join(cells)
    path = write_text(tmp_path, "".join(lines))
    assert [n for n, line in enumerate(path.read_bytes().split(b"\n"), start=1) if b",abc," in line] == [11]
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert [p.split(": value")[0] for p in err.value.problems] == [
        "column 'PaymentMethod', data row 2 (CSV line 3)",
        "data row 4 (CSV line 5) has 2 fields, expected 21 (one per header column)",
        "data row 5 (CSV line 5) has 20 fields, expected 21 (one per header column)",
        "column 'tenure', data row 11 (CSV line 11)"]
    # In a file of CR line ends, CRs are its lines.
    cr_lines = good_csv_text(tmp_path).splitlines(keepends=True)
    cr_lines[10] = lines[10]
    path.write_bytes("".join(cr_lines).replace("\n", "\r").encode())
    assert only_problem(path).startswith("column 'tenure', data row 10 (CSV line 11): value 'abc'")


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


def test_a_header_of_many_columns_is_reported_in_seconds(tmp_path: Path) -> None:
    """Duplicates were counted with columns.count per name, quadratic: 80,000 header columns took 90 s.
    Here 40,000 extra ones (20,000 names, each twice), which took about 20 s.
    The time is this process's CPU time, not the wall clock's: on a machine busy with other work the
    same validation can wait for a CPU for seconds, while the quadratic count's 20 s are its own."""
    header, rest = good_csv_text(tmp_path).split("\n", 1)
    extra = [f"x{n}" for n in range(20_000)] * 2
    path = write_text(tmp_path, ",".join([header, *extra]) + "\n" + rest)
    started = time.process_time()
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert time.process_time() - started < 5
    assert err.value.total == 40_000 + 20_000  # each extra column unexpected, each name duplicated


@pytest.mark.parametrize(("text", "encoding"), [("", "utf-8"), ("Churn,gender\nNo,Müller\n", "latin-1"), ("a,b\n1,2\n", "utf-16")])
def test_unreadable_files_fail_validation_with_a_message(tmp_path: Path, text: str, encoding: str) -> None:
    with pytest.raises(DataValidationError, match=r"cannot read (\S+/)?raw\.csv as a UTF-8 CSV file"):  # empty: by path
        load_dataset(write_text(tmp_path, text, encoding))


def test_a_file_that_cannot_be_read_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    """The CLI checks the file opens, but the read can still fail: a device refusing it (/proc/self/mem
    opens, and reading its first page is EIO), or the file deleted between the check and the read."""
    with pytest.raises(DataValidationError) as err:
        load_dataset(Path("/proc/self/mem"))
    assert err.value.problems == ["cannot read /proc/self/mem: Input/output error"]
    gone = tmp_path / "gone.csv"
    with pytest.raises(DataValidationError) as err:
        load_dataset(gone)
    assert err.value.problems == [f"cannot read {gone}: No such file or directory"]


@pytest.mark.parametrize("churners", [0, 1, 49])
def test_too_few_of_a_class_is_refused_before_training(tmp_path: Path, churners: int) -> None:
    frame = good_frame()
    yes = frame.index[frame["Churn"] == "Yes"]
    frame.loc[yes[churners:], "Churn"] = "No"
    with pytest.raises(DataValidationError, match=rf"column 'Churn': {churners} row\(s\) are 'Yes'; at least 50"):
        load_dataset(write_csv(frame, tmp_path / "few.csv"))


def test_a_file_of_unbilled_customers_only_is_refused_before_training(tmp_path: Path) -> None:
    """Each blank TotalCharges is valid (tenure 0), but with no billed one the feature spec's observed
    range had no value: min([]) crashed training after the MLflow run had started."""
    frame = good_frame().assign(tenure="0", TotalCharges=" ")
    assert only_problem(write_csv(frame, tmp_path / "unbilled.csv")) == (
        "column 'TotalCharges': all 300 rows are blank (unbilled tenure-0 customers); at least one billed "
        "customer's TotalCharges is needed to learn from it and to set its observed range")
    frame.loc[7, ["tenure", "TotalCharges"]] = ["1", "20.5"]
    assert len(load_dataset(write_csv(frame, tmp_path / "one-billed.csv")).records) == 300


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
    # This was a byte that is not UTF-8 (.xls); gzip, a CSV syntax error ("line contains NUL"), is below.
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "it is an OLE2 compound file (an Excel 97-2003 .xls "
                                                        "workbook?), not text; save it as CSV UTF-8"),
], ids=["utf-16", "utf-16-be", "utf-32", "utf-32-be", "xlsx", "xls"])
def test_a_file_in_another_format_says_which(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "raw.csv"
    path.write_bytes(content)
    assert only_problem(path).startswith(f"cannot read raw.csv as a UTF-8 CSV file: {why}")


@pytest.mark.parametrize(("name", "decompressed"), [("raw.csv.gz", "raw.csv"), ("raw.gz", "raw.csv"),
                                                   ("raw.csv", "raw-decompressed.csv"), ("my data.csv", "my data-decompressed.csv")])
def test_a_gzip_file_is_named_by_its_path_with_a_command_that_decompresses_it(
        tmp_path: Path, name: str, decompressed: str) -> None:
    """The message suggested `gunzip -k <name>`: for a name without .gz gunzip refuses ("unknown suffix --
    ignored"), and the bare name is not the file when run from another folder. The command given now works
    from anywhere and leaves the file as it is."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / name
    text = good_csv_text(tmp_path)
    path.write_bytes(gzip.compress(text.encode()))
    command = f"gunzip -c {shlex.quote(str(path))} > {shlex.quote(str(folder / decompressed))}"
    assert only_problem(path) == (f"cannot read {path} as a UTF-8 CSV file: it is gzip-compressed (a .csv.gz?), not "
                                  f"text; decompress it first ({command})")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["bash", "-c", command], cwd=elsewhere, check=True, timeout=60)
    assert (folder / decompressed).read_text() == text and gzip.decompress(path.read_bytes()).decode() == text
    assert load_dataset(folder / decompressed).records


def test_an_empty_file_is_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_bytes(b"")
    assert only_problem(path) == f"cannot read {path} as a UTF-8 CSV file: the file is empty"


def test_a_quote_never_closed_names_the_row_it_opened_in(tmp_path: Path) -> None:
    """The csv module gives up past its field size limit (131,072 characters) with no position."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[5] = lines[5].replace(",", ',"', 1)  # data row 5: a quote opened before its second field
    path = write_text(tmp_path, "".join(lines + lines[6:] * 300))
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: data row 5 (from CSV line 6): field larger than field limit "
        "(131072); a quote (\") opened in it and never closed would take in the lines after it")


def test_a_value_past_the_field_limit_with_no_quote_does_not_blame_a_quote(tmp_path: Path) -> None:
    """The hint said a quote opened and never closed took in the lines after it: there was no quote."""
    path = edit_line(tmp_path, 4, lambda line: "X" * 200_000 + line)
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: data row 4 (from CSV line 5): field larger than field limit "
        "(131072); no quote is open there: one value is that long, which no column of the data set holds")
    closed = edit_line(tmp_path, 4, lambda line: '"A ""quoted"" id",' + "X" * 200_000 + line)  # quotes, all closed
    assert only_problem(closed).endswith("no quote is open there: one value is that long, which no column of the "
                                         "data set holds")


def test_a_quote_never_closed_in_a_short_file_names_the_row_it_opened_in(tmp_path: Path) -> None:
    """Under the field size limit the reader used to run to the end of the file without an error,
    and the row came out as one with too few fields: the quote was never mentioned."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[250] = lines[250].replace(",", ',"', 1)  # data row 250: a quote opened before its second field
    path = write_text(tmp_path, "".join(lines))
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: data row 250 (from CSV line 251): unexpected end of data; "
        "a quote (\") opened in it and never closed would take in the lines after it")


def test_text_after_a_closing_quote_is_refused_not_joined(tmp_path: Path) -> None:
    """A lenient reader read "29.85"x as 29.85x; here the row and the fix are named."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    cells = lines[3].rstrip("\r\n").split(",")
    cells[18] = f'"{cells[18]}"x'
    lines[3] = ",".join(cells) + "\n"
    path = write_text(tmp_path, "".join(lines))
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: data row 3 (from CSV line 4): ',' expected after '\"'; "
        "text follows a closing quote (as in \"2\"x): quote the whole value, and write a quote inside it as two (\"\")")


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


def test_excels_separator_line_is_named_once(tmp_path: Path) -> None:
    """'sep=,' before the header (Excel reads it as the separator to use) gave 21 "missing column" lines."""
    assert only_problem(write_text(tmp_path, "sep=,\n" + good_csv_text(tmp_path))) == (
        "the first line (CSV line 1) is 'sep=,', Excel's hint naming the separator, not the header: delete that line, "
        "so that the column names are the first line")
    path = tmp_path / "excel.csv"
    path.write_text("sep=;\n" + good_frame().to_csv(index=False, sep=";", decimal=","))
    assert only_problem(path) == (
        "the first line (CSV line 1) is 'sep=;', Excel's hint naming the separator, not the header: delete that line, "
        "so that the column names are the first line; the file is separated by ';' (Excel with a decimal comma), not "
        "',': save it as comma-separated CSV UTF-8 with '.' as the decimal separator")


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


@pytest.mark.parametrize("index_name", ["", "Unnamed: 0", " ", "Unnamed: 0 "])
def test_a_pandas_index_column_is_named_as_one(tmp_path: Path, index_name: str) -> None:
    path = tmp_path / "indexed.csv"
    # to_csv without index=False; "Unnamed: 0" is how read_csv names that column, written out again
    good_frame().to_csv(path, index_label=index_name or None)
    assert only_problem(path) == (
        f"unexpected column {index_name!r} (header, column 1): an unnamed column, such as the row index pandas "
        "writes with to_csv() unless index=False; remove it")


def test_empty_columns_after_the_last_one_are_named_as_such_once_each(tmp_path: Path) -> None:
    """A spreadsheet that saves two empty columns right of the data (',,' on every line): they were called
    pandas' row index, and a third problem said the name '' was duplicated."""
    lines = good_csv_text(tmp_path).splitlines()
    path = write_text(tmp_path, "".join(line + ",,\r\n" for line in lines))
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert err.value.problems == [
        f"unexpected column '' (header, column {n}): an empty column after the last named one, as a spreadsheet "
        "saves when cells right of the data were ever used; delete those columns and save again" for n in (22, 23)]


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


# A whole column exported another way: one summary line leads the report.

def bad_column(column: str, rewrite: Callable[[str], str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].map(rewrite)
        return frame
    return mutate


def expected_summary(column: str, rule: str, values: list[str], rows: int) -> str:
    """The summary for `values` (the bad cells in row order; the first one is in data row 1)."""
    counts = Counter(values).most_common()  # most frequent first; ties in the order first seen
    seen = [f"{v!r} ({n:,} row{'s' if n > 1 else ''})" for v, n in counts[:5]]
    if len(counts) > 5:
        seen.append(f"and {len(counts) - 5:,} other values ({sum(n for _, n in counts[5:]):,} rows)")
    return (f"column {column!r}: {len(values):,} of {rows:,} rows have a value that {rule}; "
            f"values seen: {', '.join(seen)}; first at data row 1 (CSV line 2)")


NOT_YES_NO = "is not one of ['No', 'Yes']"
NOT_A_NUMBER = "is not a non-negative decimal number"


def currency(value: str) -> str:
    """'$1,889.50' (a quoted CSV field: it holds a comma); the unbilled blank stays one space."""
    return value if value == " " else f"${float(value):,.2f}"


@pytest.mark.parametrize(("column", "rewrite", "rule"), [
    ("Churn", {"No": "0", "Yes": "1"}.__getitem__, NOT_YES_NO),
    ("Churn", {"No": "False", "Yes": "True"}.__getitem__, NOT_YES_NO),
    ("SeniorCitizen", {"0": "No", "1": "Yes"}.__getitem__, "is not one of ['0', '1']"),
    ("Partner", str.lower, NOT_YES_NO),
    ("MonthlyCharges", lambda v: v.replace(".", ","), NOT_A_NUMBER),  # a decimal comma (a quoted field)
    ("TotalCharges", lambda v: v.replace(".", ","), NOT_A_NUMBER),
    ("TotalCharges", currency, NOT_A_NUMBER),
], ids=["Churn-0-1", "Churn-True-False", "SeniorCitizen-Yes-No", "Partner-lowercase", "MonthlyCharges-decimal-comma",
        "TotalCharges-decimal-comma", "TotalCharges-currency"])
def test_a_whole_column_exported_another_way_is_one_summary_line(
        tmp_path: Path, column: str, rewrite: Callable[[str], str], rule: str) -> None:
    frame = good_frame()
    path = write_csv(bad_column(column, rewrite)(frame.copy()), tmp_path / "bad.csv")
    cells = [str(v) for v in frame[column]]
    bad = [rewrite(v) for v in cells if rewrite(v) != v]  # cells left as they were are valid
    assert len(bad) >= 250 and rewrite(cells[0]) != cells[0]
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    lines = str(err.value).split("\n")
    assert lines[0] == f"data validation failed with {len(bad)} problem(s):"
    assert lines[1] == f"  - {expected_summary(column, rule, bad, 300)}"
    # then its first three rows as before, and every other problem counted
    assert lines[2:5] == [f"  - column {column!r}, data row {n} (CSV line {n + 1}): value {v!r} {rule}"
                          for n, v in enumerate(bad[:3], start=1)]
    assert lines[5:] == [f"  … and {len(bad) - 3} more, all counted in the summaries above"]


def test_a_summary_names_at_most_five_values_then_how_many_others(tmp_path: Path) -> None:
    message = errors_for(tmp_path, bad_column("MonthlyCharges", lambda v: v.replace(".", ",")))
    summary = message.split("\n")[1]
    assert summary.count(" rows)") + summary.count(" row)") == 6, summary  # five values, then the others
    assert re.search(r"; values seen: ('[0-9]+,[0-9]+' \([0-9]+ rows?\), ){5}and [0-9]+ other values \([0-9,]+ rows\); "
                     r"first at data row 1 \(CSV line 2\)$", summary), summary


def test_three_scattered_bad_cells_read_exactly_as_before(tmp_path: Path) -> None:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, "gender"] = "F"
        frame.loc[119, "Churn"] = "yes"
        frame.loc[249, "Churn"] = "1"
        return frame
    assert errors_for(tmp_path, mutate) == (
        "data validation failed with 3 problem(s):\n"
        "  - column 'gender', data row 5 (CSV line 6): value 'F' is not one of ['Female', 'Male']\n"
        "  - column 'Churn', data row 120 (CSV line 121): value 'yes' is not one of ['No', 'Yes']\n"
        "  - column 'Churn', data row 250 (CSV line 251): value '1' is not one of ['No', 'Yes']")


def test_a_scattered_problem_is_not_hidden_behind_a_whole_bad_column(tmp_path: Path) -> None:
    """Before, the first 50 lines were all Churn's and the tenure cell was one of '… and 252 more'."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame = bad_column("Churn", {"No": "0", "Yes": "1"}.__getitem__)(frame)
        frame.loc[199, "tenure"] = "abc"
        frame.loc[279, "gender"] = "F"
        return frame
    lines = errors_for(tmp_path, mutate).split("\n")
    assert lines[0] == "data validation failed with 302 problem(s):"
    assert lines[1].startswith("  - column 'Churn': 300 of 300 rows have a value that is not one of ['No', 'Yes']; ")
    assert lines[5:] == [
        "  - column 'tenure', data row 200 (CSV line 201): value 'abc' is not a non-negative integer",
        "  - column 'gender', data row 280 (CSV line 281): value 'F' is not one of ['Female', 'Male']",
        "  … and 297 more, all counted in the summaries above"]


def test_a_few_lines_more_than_fit_say_how_many_hidden_ones_a_summary_counts(tmp_path: Path) -> None:
    """20 bad Churn cells and 60 scattered over 8 other columns (none with 10): the 50 lines shown
    are Churn's first 3 and 47 of the others; of the 30 left, 17 are Churn's."""
    columns = ["gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "Contract", "PaperlessBilling",
               "PaymentMethod"]

    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[:19, "Churn"] = "maybe"
        for row in range(60):
            frame.loc[row, columns[row % 8]] = f"bad {row}"
        return frame
    lines = errors_for(tmp_path, mutate).split("\n")
    assert lines[0] == "data validation failed with 80 problem(s):"
    assert lines[1] == ("  - column 'Churn': 20 of 300 rows have a value that is not one of ['No', 'Yes']; values seen: "
                        "'maybe' (20 rows); first at data row 1 (CSV line 2)")
    assert len(lines) == 1 + 1 + 50 + 1 and sum("'Churn', data row" in line for line in lines) == 3
    assert lines[-1] == "  … and 30 more, 17 of them counted in the summaries above"


def test_a_column_with_a_few_more_bad_cells_keeps_every_line_when_they_fit(tmp_path: Path) -> None:
    message = errors_for(tmp_path, lambda f: f.assign(Churn=f["Churn"].where(f.index >= 12, "maybe")))
    lines = message.split("\n")
    assert lines[1] == ("  - column 'Churn': 12 of 300 rows have a value that is not one of ['No', 'Yes']; values seen: "
                        "'maybe' (12 rows); first at data row 1 (CSV line 2)")
    assert lines[2:] == [f"  - column 'Churn', data row {n} (CSV line {n + 1}): value 'maybe' is not one of ['No', 'Yes']"
                         for n in range(1, 13)]


def test_values_in_a_summary_are_escaped_and_cut(tmp_path: Path) -> None:
    """A terminal escape or a long cell is shown as Python quotes it, and cut past 40 characters."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[:5, "Contract"] = "\x1b[2J" + "Month" * 2000
        frame.loc[6:11, "Contract"] = "\x07"
        return frame
    message = errors_for(tmp_path, mutate)
    assert message.split("\n")[1] == (
        "  - column 'Contract': 12 of 300 rows have a value that is not one of ['Month-to-month', 'One year', "
        "'Two year']; values seen: '\\x1b[2JMonthMonthMonthMonthMonthMonthMon...' (6 rows), '\\x07' (6 rows); "
        "first at data row 1 (CSV line 2)")
    assert "\x1b" not in message and "\x07" not in message


def test_a_field_count_off_in_every_row_is_summarised_by_its_count(tmp_path: Path) -> None:
    """Decimal commas not quoted: every row has a field or two too many."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[1:] = [re.sub(r"([0-9])\.([0-9])", r"\1,\2", line) for line in lines[1:]]
    with pytest.raises(DataValidationError) as err:
        load_dataset(write_text(tmp_path, "".join(lines)))
    fields = [line.count(",") + 1 for line in lines[1:]]  # no quoted field holds a comma here
    first = {n: fields.index(n) + 1 for n in sorted(set(fields) - {21}, key=fields.index)}
    assert len(first) == 2 and 21 not in fields  # 22 and 23 fields: one or both charges have a decimal part
    assert err.value.summaries == [f"{fields.count(n)} of 300 rows have {n} fields, expected 21 (one per header "
                                   f"column); first at data row {row} (CSV line {row + 1})" for n, row in first.items()]
    assert err.value.total == 300


CHURN_DATA = os.environ.get("CHURN_DATA")


@pytest.mark.skipif(not CHURN_DATA, reason="CHURN_DATA not set")
def test_summary_counts_are_exact_on_the_real_file(tmp_path: Path) -> None:
    """The 7,043-row data set with Churn as 0/1 and TotalCharges with a decimal comma (the 11
    unbilled blanks and the 324 whole numbers stay valid)."""
    with Path(CHURN_DATA or "").open(newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    churn, total = rows[0].index("Churn"), rows[0].index("TotalCharges")
    for row in rows[1:]:
        row[churn] = {"No": "0", "Yes": "1"}[row[churn]]
        row[total] = row[total].replace(".", ",")
    path = tmp_path / "telco.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    lines = str(err.value).split("\n")
    assert lines[:3] == [
        "data validation failed with 13,751 problem(s):",
        "  - column 'TotalCharges': 6,708 of 7,043 rows have a value that is not a non-negative decimal number; "
        "values seen: '20,2' (11 rows), '19,75' (9 rows), '19,9' (8 rows), '20,05' (8 rows), '19,65' (8 rows), "
        "and 6,216 other values (6,664 rows); first at data row 1 (CSV line 2)",
        "  - column 'Churn': 7,043 of 7,043 rows have a value that is not one of ['No', 'Yes']; values seen: "
        "'0' (5,174 rows), '1' (1,869 rows); first at data row 1 (CSV line 2)"]
    assert len(err.value.problems) == 6 and lines[-1] == "  … and 13,745 more, all counted in the summaries above"


def test_a_blank_line_after_every_row_is_summarised(tmp_path: Path) -> None:
    """A blank line after every row (double-spaced lines) is one summary, not 300 lines."""
    path = tmp_path / "double.csv"
    path.write_bytes(good_csv_text(tmp_path).replace("\n", "\n\n").encode("utf-8"))
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert err.value.summaries == ["300 of 600 rows are blank lines; first at data row 1 (CSV line 2)"]
    assert err.value.total == 300


def test_cr_cr_lf_line_ends_are_named_with_their_cause(tmp_path: Path) -> None:
    """'\\r\\r\\n' (csv.writer on Windows to a file opened without newline='') read as a blank line
    after every row: the report named 300 blank lines and not the line ends that made them."""
    path = tmp_path / "raw.csv"
    path.write_bytes(good_csv_text(tmp_path).replace("\n", "\r\r\n").encode("utf-8"))
    assert only_problem(path) == (
        "cannot read raw.csv as a UTF-8 CSV file: its lines end with \\r\\r\\n (CR CR LF), which reads as a blank "
        "line after every row; this is what Python's csv.writer writes on Windows to a file opened without "
        "newline=\"\": write it again with newline=\"\", or convert the line endings to \\r\\n")


@pytest.mark.parametrize("marks", [2, 3])
def test_a_byte_order_mark_written_twice_is_named_with_how_to_remove_it(tmp_path: Path, marks: int) -> None:
    """The second mark stuck to the first name: the report said "missing column 'customerID'" and
    "unexpected column '\\ufeffcustomerID'", with no word of the mark. The sed command it gives works."""
    path = tmp_path / "raw.csv"
    good = write_csv(good_frame(), tmp_path / "good.csv").read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" * marks + good)
    assert only_problem(path) == (
        f"cannot read raw.csv as a UTF-8 CSV file: it starts with {marks} UTF-8 byte order marks (bytes EF BB BF "
        "each) where at most one belongs, and the extra would read as part of the first column's name; a mark is "
        "written twice when a file that has one is saved again by a tool that adds one (read as 'utf-8', which "
        "keeps the mark as text, then written as 'utf-8-sig'), or one is put in front of a file that has one: "
        "remove the extra, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' raw.csv removes one")
    for _ in range(marks - 1):
        subprocess.run(["sed", "-i", "1s/^\\xEF\\xBB\\xBF//", "raw.csv"], cwd=tmp_path, check=True)
    assert path.read_bytes() == b"\xef\xbb\xbf" + good
    assert len(load_dataset(path).records) == 300


def test_a_header_repeated_after_a_byte_order_mark_is_one_problem(tmp_path: Path) -> None:
    """`cat` of two "CSV UTF-8" exports: the second header starts with a mark and was read as a data
    row of 20 bad values (and a customerID '\\ufeffcustomerID')."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    path = write_text(tmp_path, "\ufeff" + "".join(lines[:101] + ["\ufeff" + lines[0]] + lines[101:]))
    assert only_problem(path) == ("data row 101 (CSV line 102) repeats the header, after a UTF-8 byte order mark "
                                  "(files joined together, each saved as CSV UTF-8?); remove the line")


def test_a_long_value_is_cut_in_its_line_with_its_length(tmp_path: Path) -> None:
    """A 5,000-character cell made a 5,000-character line (twice: its own and, for InternetService,
    each add-on's 'contradicts' line); a value of up to 100 characters is shown whole, as before."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[2, "InternetService"] = "DSL " * 1250  # data row 3: its add-ons are "No internet service"
        frame.loc[4, "Contract"] = "x" * 100
        frame.loc[5, "Contract"] = "\x07" + "y" * 100
        return frame
    lines = errors_for(tmp_path, mutate).split("\n")
    dsl = repr("DSL " * 25)
    assert lines[0] == "data validation failed with 9 problem(s):"
    assert lines[1] == (f"  - column 'InternetService', data row 3 (CSV line 4): value {dsl} (first 100 of 5,000 "
                        "characters) is not one of ['DSL', 'Fiber optic', 'No']")
    assert lines[2] == (f"  - column 'OnlineSecurity', data row 3 (CSV line 4): value 'No internet service' contradicts "
                        f"InternetService={dsl} (first 100 of 5,000 characters)")
    assert lines[-2] == (f"  - column 'Contract', data row 5 (CSV line 6): value {'x' * 100!r} is not one of "
                         "['Month-to-month', 'One year', 'Two year']")
    bell = "\x07" + "y" * 99
    assert lines[-1] == (f"  - column 'Contract', data row 6 (CSV line 7): value {bell!r} (first 100 "
                         "of 101 characters) is not one of ['Month-to-month', 'One year', 'Two year']")
    assert max(map(len, lines)) < 300


def test_a_long_unexpected_column_name_is_cut_with_its_length(tmp_path: Path) -> None:
    path = edit_line(tmp_path, 0, lambda header: header.rstrip("\n") + "," + "Note " * 400 + "\n")
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert err.value.problems == [f"unexpected column {'Note ' * 20!r} (first 100 of 2,000 characters) (header)"
                                  + EXTRA_COLUMN + "remove it"]



# Cases a mutation sweep of the reader found unchecked: each test fails if that rule is loosened.

@pytest.mark.parametrize(("value", "shown"), [
    ("ü" + "a" * 76, "\\xfc" + "a" * 76),          # 80 characters as shown: whole
    ("ü" + "a" * 77, "\\xfc" + "a" * 73 + "..."),  # 81: cut to 77 and '...'
])
def test_a_value_named_for_its_encoding_is_cut_past_80_characters(tmp_path: Path, value: str, shown: str) -> None:
    path = tmp_path / "excel.csv"
    frame = good_frame()
    frame.loc[3, "customerID"] = value
    frame.to_csv(path, index=False, encoding="cp1252")
    assert only_problem(path).startswith(
        f"cannot read excel.csv as a UTF-8 CSV file: column 'customerID', data row 4 (CSV line 5): value '{shown}' has "
        "byte 0xfc, which is not UTF-8; ")


def test_byte_0xff_is_refused_as_not_utf8(tmp_path: Path) -> None:
    """0xff (Windows-1252's ÿ) is the highest byte that is not UTF-8: never read into a value."""
    path = tmp_path / "excel.csv"
    frame = good_frame()
    frame.loc[3, "customerID"] = "Mÿ-1"
    frame.to_csv(path, index=False, encoding="cp1252")
    assert only_problem(path).startswith(
        "cannot read excel.csv as a UTF-8 CSV file: column 'customerID', data row 4 (CSV line 5): value 'M\\xff-1' "
        "has byte 0xff, which is not UTF-8;")


def test_rows_after_a_header_on_two_lines_are_named_by_their_physical_line(tmp_path: Path) -> None:
    """A header cell holding a newline (Alt+Enter in Excel) puts data row 1 on CSV line 3."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    lines[0] = lines[0].replace("customerID", '"customer\nID"', 1)
    lines[1] = "Müller-1" + lines[1][lines[1].index(","):]
    path = tmp_path / "excel.csv"
    path.write_bytes("".join(lines).encode("cp1252"))
    assert only_problem(path).startswith(
        "cannot read excel.csv as a UTF-8 CSV file: column 'customer\\nID', data row 1 (CSV line 3): value "
        "'M\\xfcller-1' has byte 0xfc")


@pytest.mark.parametrize("text", ["\ufeff", "   \n"], ids=["only-a-byte-order-mark", "spaces"])
def test_a_first_line_with_no_names_is_a_blank_header(tmp_path: Path, text: str) -> None:
    """Excel's "CSV UTF-8" of an empty sheet is a byte order mark alone."""
    assert only_problem(write_text(tmp_path, text)) == (
        "the header (CSV line 1) is blank: the first line must name the 21 columns, separated by ','")


@pytest.mark.parametrize("after", ["", "\n\n", ",,,,,,,,,,,,,,,,,,,,\r\n"], ids=["header-only", "blank-lines", "commas"])
def test_a_header_with_no_rows_after_it_says_so(tmp_path: Path, after: str) -> None:
    header = good_csv_text(tmp_path).split("\n", 1)[0] + "\n"
    assert only_problem(write_text(tmp_path, header + after)) == "the file has no data rows"


@pytest.mark.parametrize(("header", "shown"), [
    ("a;" * 30, "a;" * 30),                    # 60 characters: whole
    ("a;" * 30 + "b", "a;" * 28 + "a..."),     # 61: cut to 57 and '...'
])
def test_a_header_of_one_name_with_another_separator_is_cut_past_60_characters(
        tmp_path: Path, header: str, shown: str) -> None:
    assert only_problem(write_text(tmp_path, header + "\n1;2\n")) == (
        f"the header (CSV line 1) is one column, {shown!r}: the file is separated by ';' (Excel with a decimal comma), "
        "not ','; save it as comma-separated CSV UTF-8 with '.' as the decimal separator")


@pytest.mark.parametrize("name", ["Region", "Unnamed: 0 notes"])
def test_a_renamed_column_is_named_missing_then_unexpected(tmp_path: Path, name: str) -> None:
    """Missing names come first; a name that only starts like pandas' index name is not called one."""
    path = edit_line(tmp_path, 0, lambda header: header.replace("gender", name, 1))
    with pytest.raises(DataValidationError) as err:
        load_dataset(path)
    assert err.value.problems == ["missing column 'gender'", f"unexpected column {name!r} (header)" + EXTRA_COLUMN
                                  + "remove it, or rename it if it holds one of the missing columns above"]


def test_problems_past_the_cap_with_no_summary_end_with_how_many_more(tmp_path: Path) -> None:
    """60 bad cells over 8 columns, none with 10: the 50 shown, then '… and 10 more' and nothing of summaries."""
    columns = ["gender", "SeniorCitizen", "Partner", "Dependents", "tenure", "Contract", "PaperlessBilling",
               "PaymentMethod"]

    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        for row in range(60):
            frame.loc[row, columns[row % 8]] = f"bad {row}"
        return frame
    lines = errors_for(tmp_path, mutate).split("\n")
    assert lines[0] == "data validation failed with 60 problem(s):" and len(lines) == 52
    assert lines[-1] == "  … and 10 more"


def test_counts_past_a_thousand_are_written_with_separators(tmp_path: Path) -> None:
    """The generated file at 1,500 rows with Churn as 0/1 and TotalCharges with a decimal comma (the
    real file's test only runs with CHURN_DATA)."""
    frame = synthetic.churn_frame(1500, seed=3)
    no, yes = (int((frame["Churn"] == label).sum()) for label in ("No", "Yes"))
    assert no >= 1000 > yes
    totals = Counter(v.replace(".", ",") for v in frame["TotalCharges"] if "." in v)
    others = len(totals) - 5
    other_rows = sum(totals.values()) - sum(n for _, n in totals.most_common(5))
    assert others >= 1000 and other_rows >= 1000
    frame["Churn"] = frame["Churn"].map({"No": "0", "Yes": "1"})
    frame["TotalCharges"] = frame["TotalCharges"].str.replace(".", ",")
    with pytest.raises(DataValidationError) as err:
        load_dataset(write_csv(frame, tmp_path / "big.csv"))
    lines = str(err.value).split("\n")
    problems = 1500 + sum(totals.values())
    assert lines[0] == f"data validation failed with {problems:,} problem(s):"
    assert lines[1].startswith(f"  - column 'TotalCharges': {sum(totals.values()):,} of 1,500 rows have a value that "
                               "is not a non-negative decimal number; values seen: ")
    assert lines[1].endswith(f", and {others:,} other values ({other_rows:,} rows); first at data row 1 (CSV line 2)")
    assert lines[2] == ("  - column 'Churn': 1,500 of 1,500 rows have a value that is not one of ['No', 'Yes']; values "
                        f"seen: '0' ({no:,} rows), '1' ({yes:,} rows); first at data row 1 (CSV line 2)")
    assert lines[-1] == f"  … and {problems - 6:,} more, all counted in the summaries above"


@pytest.mark.parametrize("bad", [9, 10])
def test_a_column_is_summarised_from_ten_problems_of_one_kind(tmp_path: Path, bad: int) -> None:
    message = errors_for(tmp_path, lambda f: f.assign(Churn=f["Churn"].where(f.index >= bad, "maybe")))
    summary = (f"  - column 'Churn': {bad} of 300 rows have a value that is not one of ['No', 'Yes']; values seen: "
               f"'maybe' ({bad} rows); first at data row 1 (CSV line 2)")
    assert (message.split("\n")[1] == summary) == (bad == 10)
    assert message.count("\n") == bad + (bad == 10)


def test_many_column_problems_are_each_listed_not_summarised(tmp_path: Path) -> None:
    """A header from another data set: 21 missing names and 21 unexpected ones, no summary line."""
    lines = good_csv_text(tmp_path).splitlines(keepends=True)
    names = [f"c{i}" for i in range(1, 22)]
    with pytest.raises(DataValidationError) as err:
        load_dataset(write_text(tmp_path, ",".join(names) + "\n" + "".join(lines[1:])))
    assert err.value.summaries == []
    assert err.value.problems == ([f"missing column {c!r}" for c in schema.ALL_COLUMNS[:-1]]
                                  + ["missing column 'Churn': training needs the outcome column, whether each "
                                     "customer left ('Yes' or 'No')"]  # not a scoring export: no feature either
                                  + [f"unexpected column {c!r} (header){EXTRA_COLUMN}remove it, or rename it if it "
                                     "holds one of the missing columns above" for c in names])


def test_a_summary_names_a_40_character_value_whole_and_one_other_value_in_the_singular(tmp_path: Path) -> None:
    values = ["x" * 40] * 3 + ["b", "b", "c", "c", "d", "d", "e", "e", "f"]

    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[:11, "Contract"] = values
        return frame
    assert errors_for(tmp_path, mutate).split("\n")[1] == (
        "  - column 'Contract': 12 of 300 rows have a value that is not one of ['Month-to-month', 'One year', "
        f"'Two year']; values seen: {'x' * 40!r} (3 rows), 'b' (2 rows), 'c' (2 rows), 'd' (2 rows), 'e' (2 rows), "
        "and 1 other value (1 row); first at data row 1 (CSV line 2)")


def test_fifty_problems_with_a_summary_are_all_shown(tmp_path: Path) -> None:
    """Exactly the cap: every line fits, so the summarised column keeps all of its lines."""
    lines = errors_for(tmp_path, lambda f: f.assign(Churn=f["Churn"].where(f.index >= 50, "maybe"))).split("\n")
    assert lines[0] == "data validation failed with 50 problem(s):"
    assert lines[2:] == [f"  - column 'Churn', data row {n} (CSV line {n + 1}): value 'maybe' is not one of ['No', 'Yes']"
                         for n in range(1, 51)]


def test_the_checksum_is_of_the_bytes_validated_not_of_a_second_read(tmp_path: Path) -> None:
    """The sha256 came from reading the path a second time, so a file replaced between the two reads
    was recorded with the checksum of bytes that were never trained on. A named pipe gives each open
    its own bytes (the first the data set, the next other bytes): one read sees only the first."""
    import hashlib
    import threading
    import time

    first = write_csv(good_frame(), tmp_path / "first.csv").read_bytes()
    contents = [first, first.replace(b"\n", b"\r\n")]  # the same rows, other bytes
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    done = threading.Event()

    target = os.path.realpath(fifo)  # as /proc names it

    def readers(writer: int = -1) -> int:
        """How many descriptors of this process (the reader is a thread of it) other than `writer` have the
        pipe open."""
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += int(fd) != writer and os.readlink(f"/proc/self/fd/{fd}") == target
            except OSError:
                continue
        return count

    def serve() -> None:
        for content in contents:
            while True:  # non-blocking open: succeeds once a reader opens; never hangs when none comes
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                    break
                except OSError:
                    if done.is_set():
                        return
                    time.sleep(0.01)
            # This open succeeded because a reader is inside its open(): wait until that open has
            # returned (its descriptor is listed) before writing. Written and closed sooner, the wait
            # below could find no descriptor yet and open the pipe again for the same reader, whose
            # one read then got both contents, as if the file held both (possible on a busy machine,
            # where the woken reader can wait for a CPU longer than this thread takes to write).
            deadline = time.monotonic() + 30
            while not readers(fd) and not done.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
            os.set_blocking(fd, True)
            with os.fdopen(fd, "wb") as pipe:
                pipe.write(content)
            while readers() and not done.is_set():  # until that reader has closed: the next open is another's
                time.sleep(0.01)

    writer = threading.Thread(target=serve, daemon=True)
    writer.start()
    try:
        dataset = load_dataset(fifo)
    finally:
        done.set()
        writer.join(timeout=10)
    assert len(dataset.records) == 300
    assert dataset.sha256 == hashlib.sha256(contents[0]).hexdigest()


def test_a_file_without_churn_is_named_a_scoring_export_and_an_extra_column_says_to_remove_it(tmp_path: Path) -> None:
    """Both messages were bare ("missing column 'Churn'", "unexpected column 'Region' (header)"): the first
    did not say that training needs the outcome (the file is customers to score), the second what to do."""
    with pytest.raises(DataValidationError) as err:
        load_dataset(write_csv(good_frame().drop(columns=["Churn"]).assign(Region="x"), tmp_path / "scoring.csv"))
    assert err.value.problems == [
        "missing column 'Churn': training needs the outcome column, whether each customer left ('Yes' or 'No'); a "
        "file without it is probably a scoring export (customers to predict): train on an export that includes "
        "'Churn'",
        "unexpected column 'Region' (header): training reads exactly the 21 columns of the Telco data set "
        "(customerID, the 19 features, Churn); remove it, or rename it if it holds one of the missing columns above"]
    with pytest.raises(DataValidationError) as err:
        load_dataset(write_csv(good_frame().assign(Region="x"), tmp_path / "extra.csv"))
    assert err.value.problems == [f"unexpected column 'Region' (header){EXTRA_COLUMN}remove it"]
