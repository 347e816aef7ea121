"""Step 1: load the churn CSV as strings, validate it, and turn it into typed records.

Returns: `Dataset` (records: one dict per customer with the 19 feature columns typed as the
bundle's records are — str for categoricals, int for SeniorCitizen/tenure, float for charges,
None for a blank TotalCharges — plus labels 0/1 and the file's sha256). A file with any
problem raises `DataValidationError` listing up to `MAX_REPORTED` problems, each naming the
column, the 1-based data row (header excluded; CSV line = row + 1) and the bad value.

Blank TotalCharges: the cell is a single space for the 11 tenure-0 customers, who have not
been billed yet. That is accepted only when tenure == 0 and becomes None (the feature spec
maps it to 0 with `nullAs`); a blank with tenure > 0 is an error.
"""
from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churn_model import schema

MAX_REPORTED = 50
BLANK_TOTAL = " "
_INT_RE = re.compile(r"[0-9]+")  # used with fullmatch: no sign, no trailing newline
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?")

Record = dict[str, Any]


class DataValidationError(ValueError):
    """The CSV failed validation; `problems` holds every message found (up to a cap)."""

    def __init__(self, problems: list[str], total: int) -> None:
        self.problems = problems
        shown = "\n  - ".join(problems)
        more = f"\n  … and {total - len(problems)} more" if total > len(problems) else ""
        super().__init__(f"data validation failed with {total} problem(s):\n  - {shown}{more}")


@dataclass(frozen=True)
class Dataset:
    records: list[Record]
    labels: list[int]
    sha256: str
    path: Path


def read_csv_as_strings(path: Path) -> pd.DataFrame:
    """Read every cell as a string; nothing is coerced or turned into NaN. Blank lines are
    kept as (empty, invalid) rows so that row numbers stay those of the file. A file that is
    not UTF-8 CSV, or whose header repeats a name (pandas would rename the copy), raises
    DataValidationError."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
        duplicated = sorted({c for c in header if header.count(c) > 1})
        if duplicated:
            raise DataValidationError([f"duplicated column {c!r} (header)" for c in duplicated], len(duplicated))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                            encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        raise DataValidationError([f"cannot read {path.name} as a UTF-8 CSV file: {err}"], 1) from err
    # Blank lines at the very end are harmless (an editor's extra newline); inside the data
    # they stay, and are reported with their row number.
    end = len(frame)
    while end > 0 and all(v == "" for v in frame.iloc[end - 1]):
        end -= 1
    return frame.iloc[:end]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _problem(column: str, row: int, value: str, why: str) -> str:
    return f"column {column!r}, data row {row} (CSV line {row + 1}): value {value!r} {why}"


def check_columns(columns: list[str]) -> list[str]:
    """Exact column set: report missing, unexpected and duplicated names."""
    problems = [f"missing column {c!r}" for c in schema.ALL_COLUMNS if c not in columns]
    problems += [f"unexpected column {c!r} (header)" for c in columns if c not in schema.ALL_COLUMNS]
    problems += [f"duplicated column {c!r}" for c in sorted(set(columns)) if columns.count(c) > 1]
    return problems


def _cell_problems(row: dict[str, str], n: int) -> list[str]:
    """Type and domain problems of one row (n = 1-based data row)."""
    out: list[str] = []
    for col, domain in schema.CATEGORICAL_DOMAINS.items():
        if row[col] not in domain:
            out.append(_problem(col, n, row[col], f"is not one of {list(domain)}"))
    for col, allowed in schema.INTEGER_DOMAINS.items():
        v = row[col]
        if not _INT_RE.fullmatch(v):
            out.append(_problem(col, n, v, "is not a non-negative integer"))
        elif allowed is not None and v not in allowed:
            out.append(_problem(col, n, v, f"is not one of {list(allowed)}"))
        elif col == "tenure" and int(v) > schema.MAX_TENURE_MONTHS:
            out.append(_problem(col, n, v, f"is above {schema.MAX_TENURE_MONTHS} months (the gateway's limit)"))
    for col in schema.NUMBER_COLUMNS:
        v = row[col]
        if col in schema.NULLABLE_COLUMNS and v == BLANK_TOTAL:
            if _INT_RE.fullmatch(row["tenure"]) and int(row["tenure"]) > 0:
                out.append(_problem(col, n, v, "is blank but tenure > 0 (only unbilled tenure-0 customers may be blank)"))
        elif not _NUMBER_RE.fullmatch(v) or not math.isfinite(float(v)):
            out.append(_problem(col, n, v, "is not a non-negative decimal number"))
        elif float(v) > schema.MAX_CHARGE:
            out.append(_problem(col, n, v, f"is above {schema.MAX_CHARGE:g} (float32, the model's input type)"))
    if row[schema.TARGET_COLUMN] not in schema.YES_NO:
        out.append(_problem(schema.TARGET_COLUMN, n, row[schema.TARGET_COLUMN], "is not one of ['No', 'Yes']"))
    if row[schema.ID_COLUMN].strip() == "":
        out.append(_problem(schema.ID_COLUMN, n, row[schema.ID_COLUMN], "is empty"))
    return out


def _cross_field_problems(row: dict[str, str], n: int) -> list[str]:
    """PhoneService=No <=> MultipleLines='No phone service'; InternetService=No <=> add-ons 'No internet service'."""
    out: list[str] = []
    no_phone = row["PhoneService"] == "No"
    if no_phone != (row["MultipleLines"] == "No phone service"):
        out.append(_problem("MultipleLines", n, row["MultipleLines"],
                            f"contradicts PhoneService={row['PhoneService']!r}"))
    no_internet = row["InternetService"] == "No"
    for col in schema.ADDON_COLUMNS:
        if no_internet != (row[col] == "No internet service"):
            out.append(_problem(col, n, row[col], f"contradicts InternetService={row['InternetService']!r}"))
    return out


def find_problems(frame: pd.DataFrame) -> list[str]:
    """Every problem in the file, in row order (column problems stop row checks)."""
    problems = check_columns(list(frame.columns))
    if problems:
        return problems
    if len(frame) == 0:
        return ["the file has no data rows"]
    seen: dict[str, int] = {}
    for n, row in enumerate(frame.to_dict(orient="records"), start=1):
        if all(v == "" for v in row.values()):
            problems.append(f"data row {n} (CSV line {n + 1}) is a blank line")
            continue
        problems += _cell_problems(row, n) + _cross_field_problems(row, n)
        cid = row[schema.ID_COLUMN]
        if cid in seen:
            problems.append(_problem(schema.ID_COLUMN, n, cid, f"duplicates data row {seen[cid]}"))
        seen.setdefault(cid, n)
    if not problems:
        counts = frame[schema.TARGET_COLUMN].value_counts()
        for label in schema.YES_NO:
            if counts.get(label, 0) < schema.MIN_CLASS_ROWS:
                problems.append(f"column {schema.TARGET_COLUMN!r}: {counts.get(label, 0)} row(s) are {label!r}; at least "
                                f"{schema.MIN_CLASS_ROWS} of each class are needed to split, early-stop and cross-validate")
    return problems


def to_record(row: dict[str, str]) -> Record:
    """Typed record of the 19 feature columns from a validated string row."""
    record: Record = {}
    for col in schema.FEATURE_COLUMNS:
        kind = schema.column_kind(col)
        value = row[col]
        if kind == "integer":
            record[col] = int(value)
        elif kind == "number":
            record[col] = None if value == BLANK_TOTAL else float(value)
        else:
            record[col] = value
    return record


def load_dataset(path: Path) -> Dataset:
    """Read, validate and type the CSV at `path`; raise DataValidationError on any problem."""
    frame = read_csv_as_strings(path)
    problems = find_problems(frame)
    if problems:
        raise DataValidationError(problems[:MAX_REPORTED], len(problems))
    rows = frame.to_dict(orient="records")
    return Dataset(
        records=[to_record(r) for r in rows],
        labels=[1 if r[schema.TARGET_COLUMN] == "Yes" else 0 for r in rows],
        sha256=file_sha256(path),
        path=path,
    )
