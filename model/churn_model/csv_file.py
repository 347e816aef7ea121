"""Read the training CSV as text: every cell a string, each record with the file lines it spans.

Returns: `read_csv_file(path)` -> `CsvFile` (the header, every data record as parsed, with
however many fields it has, and the first and last physical line of each). A quoted field may
hold a newline, so a record can span several lines and its line is not its index + 2: the lines
are counted by the reader, not derived. Nothing is coerced, padded or dropped except blank
lines at the very end (an editor's extra newline). Raises `UnreadableCsvError` for a file that
is not UTF-8 CSV or is empty.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


class UnreadableCsvError(ValueError):
    """The file cannot be read as UTF-8 CSV text."""


@dataclass(frozen=True)
class LineSpan:
    """1-based physical lines of one record (first == last unless a quoted field holds a newline)."""
    first: int
    last: int

    def __str__(self) -> str:
        return f"CSV line {self.first}" if self.first == self.last else f"CSV lines {self.first}-{self.last}"


@dataclass(frozen=True)
class CsvFile:
    header: list[str]
    records: list[list[str]]
    lines: list[LineSpan]


def read_csv_file(path: Path) -> CsvFile:
    """Parse `path` with the csv module (RFC 4180 quoting; a UTF-8 byte order mark is ignored)."""
    records: list[list[str]] = []
    lines: list[LineSpan] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise UnreadableCsvError(f"cannot read {path.name} as a UTF-8 CSV file: the file is empty")
            last = reader.line_num
            for record in reader:
                records.append(record)
                lines.append(LineSpan(last + 1, reader.line_num))
                last = reader.line_num
    except (UnicodeDecodeError, csv.Error) as err:
        raise UnreadableCsvError(f"cannot read {path.name} as a UTF-8 CSV file: {err}") from err
    end = len(records)
    while end > 0 and not any(records[end - 1]):
        end -= 1
    return CsvFile(header=header, records=records[:end], lines=lines[:end])
