"""Step 1: load the churn CSV as strings, validate it, and turn it into typed records.

Returns: `Dataset` (records: one dict per customer with the 19 feature columns typed as the
bundle's records are — str for categoricals, int for SeniorCitizen/tenure, float for charges,
None for a blank TotalCharges — plus labels 0/1 and the sha256 of the bytes validated: the file
is read once, so the checksum is of what was trained on). A file with any problem raises
`DataValidationError` listing up to `MAX_REPORTED` problems, each naming the column, the 1-based
data row (header excluded), the physical CSV line(s) the row is on (counted by the reader: a
quoted field holding a newline puts later rows further down) and the bad value (a long one cut,
with its length: `problem_report.line_value`).
A row with more or fewer fields than the header is one problem naming both counts. A column with
many problems of one kind (a whole column exported another way) leads the report with one summary
line, and its per-row lines are cut to a few when they would not all fit (`problem_report.py`).

Blank TotalCharges: the cell is a single space for the 11 tenure-0 customers, who have not
been billed yet. That is accepted only when tenure == 0 and becomes None (the feature spec
maps it to 0 with `nullAs`); a blank with tenure > 0 is an error, and so is a file where every
TotalCharges is blank. The converse is not a rule: tenure 0 with a billed TotalCharges (a first bill within
the first month) is accepted, as the gateway accepts such a customer (src/customer-rules.ts), so that
training and serving refuse the same customers; the data set has none (its 11 tenure-0 rows are all blank).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from churn_model import schema
from churn_model.csv_file import CsvFile, LineSpan, UnreadableCsvError, read_csv_file
from churn_model.problem_report import Problem, arrange, line_value

MAX_REPORTED = 50
BLANK_TOTAL = " "
BOM = "\ufeff"  # a UTF-8 byte order mark, decoded
_INT_RE = re.compile(r"[0-9]+")  # used with fullmatch: no sign, no trailing newline
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?")

Record = dict[str, str | int | float | None]


class DataValidationError(ValueError):
    """The CSV failed validation; `problems` holds the per-row messages shown (up to a cap),
    `summaries` one line per column with many problems of one kind; `total` counts every problem,
    `hidden_summarised` those of them not shown but counted in a summary."""

    def __init__(self, problems: list[str], total: int, summaries: list[str] | None = None,
                 hidden_summarised: int = 0) -> None:
        self.problems = problems
        self.summaries = summaries or []
        self.total = total
        shown = "\n  - ".join(self.summaries + problems)
        hidden = total - len(problems)
        more = f"\n  … and {hidden:,} more" if hidden > 0 else ""
        if more and hidden_summarised:
            more += (", all counted in the summaries above" if hidden_summarised == hidden
                     else f", {hidden_summarised:,} of them counted in the summaries above")
        super().__init__(f"data validation failed with {total:,} problem(s):\n  - {shown}{more}")


@dataclass(frozen=True)
class Dataset:
    records: list[Record]
    labels: list[int]
    sha256: str
    path: Path


def _digits_value(digits: str) -> int | float:
    """The number a validated digit string spells; inf past 18 significant digits (only ever
    compared with a bound: int() refuses strings over 4,300 digits, a traceback mid-validation)."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= 18 else math.inf


def _row_label(n: int, lines: LineSpan) -> str:
    return f"data row {n} ({lines})"


def _problem(column: str, where: str, value: str, why: str, kind: str | None = None) -> Problem:
    """A cell's problem; summarised with its column's others of the same `kind` (by default `why`)."""
    return Problem(text=f"column {column!r}, {where}: value {line_value(value)} {why}",
                   kind=f"have a value that {kind or why}", column=column, value=value, where=where)


_INDEX_COLUMN_RE = re.compile(r"Unnamed: [0-9]+")  # pandas' name for a header cell left empty
_OTHER_SEPARATORS = {";": "';' (Excel with a decimal comma)", "\t": "tabs", "|": "'|'"}


_SEP_LINE_RE = re.compile(r"sep=(.?)", re.IGNORECASE)  # Excel's separator hint, a first line of its own


def _header_shape_problem(columns: list[str]) -> str | None:
    """A header that is no list of names at all: blank, Excel's `sep=` line, or one name holding another separator."""
    if not any(c.strip() for c in columns):
        return "the header (CSV line 1) is blank: the first line must name the 21 columns, separated by ','"
    if sep_line := _SEP_LINE_RE.fullmatch(",".join(columns)):
        other = _OTHER_SEPARATORS.get(sep_line.group(1))
        return (f"the first line (CSV line 1) is {','.join(columns)!r}, Excel's hint naming the separator, not the "
                f"header: delete that line, so that the column names are the first line"
                + (f"; the file is separated by {other}, not ',': save it as comma-separated CSV UTF-8 with '.' as "
                   f"the decimal separator" if other else ""))
    if len(columns) == 1:
        for sep, what in _OTHER_SEPARATORS.items():
            if sep in columns[0]:
                shown = columns[0] if len(columns[0]) <= 60 else columns[0][:57] + "..."
                return (f"the header (CSV line 1) is one column, {shown!r}: the file is separated by {what}, "
                        f"not ','; save it as comma-separated CSV UTF-8 with '.' as the decimal separator")
    return None


def _missing_column(column: str, missing: list[str]) -> str:
    if column != schema.TARGET_COLUMN:
        return f"missing column {column!r}"
    outcome = (f"missing column {column!r}: training needs the outcome column, whether each customer left "
               f"({' or '.join(map(repr, reversed(schema.YES_NO)))})")
    if any(c in missing for c in schema.FEATURE_COLUMNS):
        return outcome
    # Every feature present: the customers as they are sent to be scored, not a training file.
    return (f"{outcome}; a file without it is probably a scoring export (customers to predict): train on an "
            f"export that includes {column!r}")


def check_columns(columns: list[str]) -> list[str]:
    """Exact column set: report missing, unexpected and duplicated names. A name that differs from
    an expected one only in case or surrounding spaces, and an unnamed (index) column, say so."""
    if shape := _header_shape_problem(columns):
        return [shape]
    missing = [c for c in schema.ALL_COLUMNS if c not in columns]
    problems: list[str] = []
    last_named = max(i for i, c in enumerate(columns, start=1) if c.strip())
    for i, c in enumerate(columns, start=1):
        if c in schema.ALL_COLUMNS:
            continue
        meant = next((m for m in missing if m.casefold() == c.strip().casefold()), None)
        if meant is not None:
            missing.remove(meant)
            problems.append(f"column {c!r} (header, column {i}) should be {meant!r}: column names must match "
                            f"exactly (case and surrounding spaces count); rename it")
        elif c.strip() == "" and i > last_named:
            problems.append(f"unexpected column {c!r} (header, column {i}): an empty column after the last named "
                            f"one, as a spreadsheet saves when cells right of the data were ever used; delete those "
                            f"columns and save again")
        elif c.strip() == "" or _INDEX_COLUMN_RE.fullmatch(c.strip()):
            problems.append(f"unexpected column {c!r} (header, column {i}): an unnamed column, such as the row "
                            f"index pandas writes with to_csv() unless index=False; remove it")
        else:
            todo = "remove it" + (", or rename it if it holds one of the missing columns above" if missing else "")
            problems.append(f"unexpected column {line_value(c)} (header): training reads exactly the "
                            f"{len(schema.ALL_COLUMNS)} columns of the Telco data set ({schema.ID_COLUMN}, the "
                            f"{len(schema.FEATURE_COLUMNS)} features, {schema.TARGET_COLUMN}); {todo}")
    problems[:0] = [_missing_column(c, missing) for c in missing]
    # Unnamed columns are each reported above: two of them are not a duplicated name too. Counted once
    # (columns.count per name was quadratic: a header of 80,000 columns took 90 s to report).
    counts = Counter(columns)
    problems += [f"duplicated column {c!r} (header)" for c in sorted(counts) if counts[c] > 1 and c.strip()]
    return problems


def _cell_problems(row: dict[str, str], where: str) -> list[Problem]:
    """Type and domain problems of one row (`where` names its data row and CSV lines)."""
    out: list[Problem] = []
    for col, domain in schema.CATEGORICAL_DOMAINS.items():
        if row[col] not in domain:
            out.append(_problem(col, where, row[col], f"is not one of {list(domain)}"))
    for col, allowed in schema.INTEGER_DOMAINS.items():
        v = row[col]
        if allowed is not None and v not in allowed:
            out.append(_problem(col, where, v, f"is not one of {list(allowed)}"))
        elif not _INT_RE.fullmatch(v):
            out.append(_problem(col, where, v, "is not a non-negative integer"))
        elif col == "tenure" and _digits_value(v) > schema.MAX_TENURE_MONTHS:
            out.append(_problem(col, where, v, f"is above {schema.MAX_TENURE_MONTHS} months (the gateway's limit)"))
    for col in schema.NUMBER_COLUMNS:
        v = row[col]
        if col in schema.NULLABLE_COLUMNS and v == BLANK_TOTAL:
            if _INT_RE.fullmatch(row["tenure"]) and _digits_value(row["tenure"]) > 0:
                out.append(_problem(col, where, v, "is blank but tenure > 0 (only unbilled tenure-0 customers may be blank)"))
        elif col in schema.NULLABLE_COLUMNS and v.strip() == "" and row["tenure"] == "0":
            out.append(_problem(col, where, v, f"is not a number; an unbilled tenure-0 customer's {col} is "
                                               f"written as one space {BLANK_TOTAL!r} in this data set"))
        elif not _NUMBER_RE.fullmatch(v) or not math.isfinite(float(v)):
            out.append(_problem(col, where, v, "is not a non-negative decimal number"))
        elif float(v) > schema.MAX_CHARGE:
            out.append(_problem(col, where, v, f"is above {schema.MAX_CHARGE:g} (float32, the model's input type)"))
    if row[schema.TARGET_COLUMN] not in schema.YES_NO:
        out.append(_problem(schema.TARGET_COLUMN, where, row[schema.TARGET_COLUMN], "is not one of ['No', 'Yes']"))
    out += _id_problems(row[schema.ID_COLUMN], where)
    return out


def _id_problems(cid: str, where: str) -> list[Problem]:
    """customerID: not empty, no whitespace around it and no control or format character in it, as no
    other column's value has (they are refused there by their domains): `'5575-GNVDE '` beside
    `'5575-GNVDE'` passed as a second customer, and so did `'\\ufeff5575-GNVDE'` (a byte order mark
    from files joined together) and `'5575-\\u200bGNVDE'` (a zero-width space pasted in), which look
    the same: format characters (category Cf) are invisible, and no normal form removes them."""
    if cid.strip() == "":
        return [_problem(schema.ID_COLUMN, where, cid, "is empty")]
    if cid != cid.strip():
        return [_problem(schema.ID_COLUMN, where, cid, "has whitespace around it, which would make it another "
                                                       "customer than the same id without; remove it",
                         kind="has whitespace around it")]
    if (control := next((ch for ch in cid if unicodedata.category(ch) == "Cc"), None)) is not None:
        return [_problem(schema.ID_COLUMN, where, cid, f"holds a control character (U+{ord(control):04X})",
                         kind="holds a control character")]
    # U+2028 and U+2029 (categories Zl, Zp) are line breaks to Unicode, yet not control characters,
    # and strip() removes them only at the ends: inside an id they made a second customer.
    if (separator := next((ch for ch in cid if unicodedata.category(ch) in ("Zl", "Zp")), None)) is not None:
        return [_problem(schema.ID_COLUMN, where, cid, f"holds a line or paragraph separator (U+{ord(separator):04X})",
                         kind="holds a line or paragraph separator")]
    if (invisible := next((ch for ch in cid if unicodedata.category(ch) == "Cf"), None)) is not None:
        return [_problem(schema.ID_COLUMN, where, cid, f"holds an invisible format character (U+{ord(invisible):04X}), "
                                                       "which would make it another customer than the same id "
                                                       "without; remove it", kind="holds an invisible format character")]
    return []


def _id_key(cid: str) -> str:
    """What two ids are compared by: NFKC, which writes compatibility forms the plain way (full-width
    '３６６８' is '3668', a ligature its letters, a no-break space a space), then case folded (NFKC
    again after it, as folding can leave a character decomposed), with every dash (category Pd) as
    '-': NFKC keeps U+2010-U+2015 as they are, so a non-breaking hyphen U+2011 or the en dash a word
    processor puts for '-' would still make a second customer of one that looks the same. The minus
    sign U+2212 (category Sm, kept by NFKC) is read as '-' too: it is what a spreadsheet's formatting
    or a typesetter puts for it."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", cid).casefold())
    return "".join("-" if ch == "\u2212" or unicodedata.category(ch) == "Pd" else ch for ch in folded)


def _duplicate_id_problem(cid: str, where: str, seen: dict[str, tuple[str, str]]) -> Problem | None:
    """The row's id compared with every earlier row's by `_id_key`: '5575-gnvde' or '５５７５‑GNVDE' is
    taken for the same customer as '5575-GNVDE' (every id in the data set is ASCII and upper case, and
    all 7,043 keys are unique), not for a second one, so the same customer cannot be in both the
    training part and the test split under two spellings. A look-alike variant names the characters
    that make it one by code point: a full-width digit or a dash can look like the plain one on screen."""
    key = _id_key(cid)
    if key not in seen:
        seen[key] = (where, cid)
        return None
    first, written = seen[key]
    if written == cid:
        why = f"duplicates {first}"
    elif written.casefold() == cid.casefold():
        why = f"duplicates {first}'s {written!r} but for case (ids are compared ignoring case)"
    else:
        # Characters the key rewrites other than by case; none when only a combining sequence differs.
        alike = dict.fromkeys(ch for ch in written + cid if _id_key(ch) != ch.casefold())
        named = ", ".join(f"U+{ord(ch):04X}" for ch in list(alike)[:5]) + (", …" if len(alike) > 5 else "")
        why = (f"duplicates {first}'s {line_value(written)} but for look-alike characters ({named + ': ' if named else ''}"
               f"ids are compared ignoring case, in Unicode's compatibility form NFKC and with any dash as '-')")
    return _problem(schema.ID_COLUMN, where, cid, why, kind="an earlier row also has")


def _cross_field_problems(row: dict[str, str], where: str) -> list[Problem]:
    """PhoneService=No <=> MultipleLines='No phone service'; InternetService=No <=> add-ons 'No internet service'."""
    out: list[Problem] = []
    no_phone = row["PhoneService"] == "No"
    if no_phone != (row["MultipleLines"] == "No phone service"):
        out.append(_problem("MultipleLines", where, row["MultipleLines"],
                            f"contradicts PhoneService={line_value(row['PhoneService'])}"))
    no_internet = row["InternetService"] == "No"
    for col in schema.ADDON_COLUMNS:
        if no_internet != (row[col] == "No internet service"):
            out.append(_problem(col, where, row[col],
                                f"contradicts InternetService={line_value(row['InternetService'])}"))
    return out


def _field_count_problem(fields: list[str], expected: int, where: str) -> Problem | None:
    """A record whose field count is not the header's: a blank line, or fields missing or extra
    (a stray comma or quote, or a decimal comma not quoted). Its cells are not checked: they would
    not be in their columns. Summarised like a column's problems: blank lines, rows of only commas,
    and rows of each field count found."""
    if not any(fields):
        if not fields:
            return Problem(f"{where} is a blank line", kind="are blank lines", where=where)
        return Problem(f"{where} has no values (only commas)", kind="have no values (only commas)", where=where)
    if len(fields) != expected:
        counts = f"{len(fields)} fields, expected {expected} (one per header column)"
        return Problem(f"{where} has {counts}", kind=f"have {counts}", where=where)
    return None


def find_problems(table: CsvFile) -> list[Problem]:
    """Every problem in the file, in row order (column problems stop row checks)."""
    problems = [Problem(p) for p in check_columns(table.header)]
    if problems:
        return problems
    if not table.records:
        return [Problem("the file has no data rows")]
    seen: dict[str, tuple[str, str]] = {}  # _id_key -> the first row with the id and how it was written
    for n, (fields, lines) in enumerate(zip(table.records, table.lines, strict=True), start=1):
        where = _row_label(n, lines)
        if shape := _field_count_problem(fields, len(table.header), where):
            problems.append(shape)
            continue
        if fields == table.header:
            problems.append(Problem(f"{where} repeats the header (files joined together?); remove it"))
            continue
        if fields[0].startswith(BOM) and [fields[0].removeprefix(BOM), *fields[1:]] == table.header:
            # `cat` of two "CSV UTF-8" exports: the second one's byte order mark starts this line.
            problems.append(Problem(f"{where} repeats the header, after a UTF-8 byte order mark (files joined "
                                    f"together, each saved as CSV UTF-8?); remove the line"))
            continue
        row = dict(zip(table.header, fields, strict=True))
        problems += _cell_problems(row, where) + _cross_field_problems(row, where)
        if duplicate := _duplicate_id_problem(row[schema.ID_COLUMN], where, seen):
            problems.append(duplicate)
    if not problems:
        counts = Counter(r[table.header.index(schema.TARGET_COLUMN)] for r in table.records)
        for label in schema.YES_NO:
            if counts[label] < schema.MIN_CLASS_ROWS:
                problems.append(Problem(
                    f"column {schema.TARGET_COLUMN!r}: {counts[label]} row(s) are {label!r}; at least "
                    f"{schema.MIN_CLASS_ROWS} of each class are needed to split, early-stop and cross-validate"))
        for col in sorted(schema.NULLABLE_COLUMNS):
            # Only unbilled customers: the model would learn nothing from the column, and the feature
            # spec's observed range (the gateway's bounds for it) would have no value to come from.
            if all(r[table.header.index(col)] == BLANK_TOTAL for r in table.records):
                problems.append(Problem(
                    f"column {col!r}: all {len(table.records):,} rows are blank (unbilled tenure-0 customers); at least "
                    f"one billed customer's {col} is needed to learn from it and to set its observed range"))
    return problems


def to_record(row: dict[str, str]) -> Record:
    """Typed record of the 19 feature columns from a validated string row."""
    record: Record = {}
    for col in schema.FEATURE_COLUMNS:
        kind = schema.column_kind(col)
        value = row[col]
        if kind == "integer":
            record[col] = int(_digits_value(value))  # validated: at most MAX_TENURE_MONTHS
        elif kind == "number":
            record[col] = None if value == BLANK_TOTAL else float(value)
        else:
            record[col] = value
    return record


def load_dataset(path: Path) -> Dataset:
    """Read, validate and type the CSV at `path`; raise DataValidationError on any problem."""
    try:
        table = read_csv_file(path)
    except UnreadableCsvError as err:
        raise DataValidationError([str(err)], 1) from err
    problems = find_problems(table)
    if problems:
        report = arrange(problems, len(table.records), MAX_REPORTED)
        raise DataValidationError(report.shown, report.total, report.summaries, report.hidden_summarised)
    rows = [dict(zip(table.header, fields, strict=True)) for fields in table.records]
    return Dataset(
        records=[to_record(r) for r in rows],
        labels=[1 if r[schema.TARGET_COLUMN] == "Yes" else 0 for r in rows],
        sha256=table.sha256,  # of the bytes validated above: the file is read once
        path=path,
    )
