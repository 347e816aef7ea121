"""Read the training CSV as text: every cell a string, each record with the file lines it spans.

Returns: `read_csv_file(path)` -> `CsvFile` (the header, every data record as parsed, with
however many fields it has, the first and last physical line of each, and the sha256 of the
bytes that were parsed: the file is read once, so the checksum a run records is of the data it
trained on even if the file is replaced while it runs). A quoted field may
hold a newline, so a record can span several lines and its line is not its index + 2: the lines
are counted as the reader reads, not derived, by the file's own line ends (LF, or CR in a file of
CR line ends: a bare CR in an LF file starts no line, as for grep -n and editors). Nothing is coerced, padded or dropped except blank
lines at the very end (an editor's extra newline) and a UTF-8 byte order mark (Excel's "CSV
UTF-8"). Raises `UnreadableCsvError` for a file that cannot be read (naming the OS's reason), that
is empty, that is a zip, OLE2 (.xls) or gzip file, that starts with that mark twice, that is not UTF-8 (naming the first cell with a byte
that is not, its column, row and line, e.g. a Windows-1252 export) or that the csv module cannot
parse (naming the header or the data row it was reading).
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import shlex
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
    sha256: str  # of the bytes parsed (BOM and all), not of a second read of the path


_OTHER_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
               (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
SAVE_AS_UTF8 = "save it as CSV UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"
# Files that are not text, by their first bytes: read as text they gave a syntax or encoding error.
_OTHER_FORMATS = (
    (b"PK\x03\x04", f"a zip archive (an Excel .xlsx workbook?), not text; {SAVE_AS_UTF8}"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", f"an OLE2 compound file (an Excel 97-2003 .xls workbook?), not text; "
                                        f"{SAVE_AS_UTF8}"),
)


GZIP_MAGIC = b"\x1f\x8b"


def gunzip_command(path: Path) -> str:
    """A shell command that writes `path` decompressed to a .csv beside it, the file left as it is.
    `gunzip -k <name>` failed for a name without .gz ("unknown suffix -- ignored") and named only the file's
    name, not where it is; `> <the same name>` would empty the file before gunzip reads it."""
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    target = path.with_name(f"{stem}.csv")
    if target.name == path.name:  # a gzip file named .csv
        target = path.with_name(f"{stem}-decompressed.csv")
    return f"gunzip -c {shlex.quote(str(path))} > {shlex.quote(str(target))}"


def _first_bad_byte(cell: str) -> int | None:
    """The first byte of `cell` that is not UTF-8 (decoded with surrogateescape), else None."""
    return next((ord(ch) - 0xDC00 for ch in cell if "\udc80" <= ch <= "\udcff"), None)


def _encoding_problem(name: str, table: CsvFile) -> str | None:
    """The first cell (header first) holding a byte that is not UTF-8, with the count of such cells."""
    cells = [(f"the header (CSV line 1), column {i + 1}", cell) for i, cell in enumerate(table.header)]
    for n, (record, lines) in enumerate(zip(table.records, table.lines, strict=True), start=1):
        for i, cell in enumerate(record):
            column = f"column {table.header[i]!r}" if i < len(table.header) else f"field {i + 1}"
            cells.append((f"{column}, data row {n} ({lines})", cell))
    bad = [(where, cell, byte) for where, cell in cells if (byte := _first_bad_byte(cell)) is not None]
    if not bad:
        return None
    where, cell, byte = bad[0]
    shown = cell.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")  # bad bytes as \xNN
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    others = f" ({len(bad) - 1} more cell(s) like it)" if len(bad) > 1 else ""
    return (f"cannot read {name} as a UTF-8 CSV file: {where}: value '{shown}' has byte 0x{byte:02x}, "
            f"which is not UTF-8{others}; the file looks Windows-1252/Latin-1 encoded (Excel's plain "
            f"'CSV'): {SAVE_AS_UTF8} or convert it (iconv -f WINDOWS-1252 -t UTF-8)")


def _leading_utf8_boms(raw: bytes) -> int:
    """How many UTF-8 byte order marks `raw` starts with, one after the other."""
    count = 0
    while raw.startswith(codecs.BOM_UTF8, count * len(codecs.BOM_UTF8)):
        count += 1
    return count


def _quote_hint(err: csv.Error, quote_open: bool) -> str:
    """What a strict reader's error means for the person who exported the file; `quote_open`: the record
    read so far holds an odd number of quotes (a quoted value doubles a quote inside it)."""
    if "expected after" in str(err):
        return ('; text follows a closing quote (as in "2"x): quote the whole value, and write a quote inside '
                'it as two ("")')
    if quote_open:
        return '; a quote (") opened in it and never closed would take in the lines after it'
    if "field larger" in str(err):  # one unquoted value past the limit: no quote to blame
        return "; no quote is open there: one value is that long, which no column of the data set holds"
    return ""


class _PhysicalLines:
    """The text as the csv reader takes it, a piece at a time (a bare CR ends a piece too, as the csv
    module needs), counting the lines the file's own line ends make: LF (LF and CRLF files), or CR
    in a file of CR line ends. A bare CR in an LF file, quoted in a value or stray, makes no new line,
    as grep -n, wc -l and editors count; the reader's line_num counted it, and every later row was
    named a line too far down."""

    def __init__(self, text: str) -> None:
        self._pieces = io.StringIO(text, newline="")
        bare_crs = text.count("\r") - text.count("\r\n")
        self._end = "\r" if bare_crs > text.count("\n") else "\n"
        self.next_line = 1  # the line the next piece starts on
        self.last_line = 0  # the line the last piece read ends on
        self.read = 0  # characters read

    def __iter__(self) -> _PhysicalLines:
        return self

    def __next__(self) -> str:
        piece = next(self._pieces)
        self.last_line = self.next_line + piece.count(self._end, 0, len(piece) - 1)
        self.next_line += piece.count(self._end)
        self.read += len(piece)
        return piece


def read_csv_file(path: Path) -> CsvFile:
    """Parse `path` with the csv module (RFC 4180 quoting; a UTF-8 byte order mark is ignored)."""
    try:
        raw = path.read_bytes()
    except OSError as err:  # checked readable before, then deleted, or a read the device refuses (EIO)
        raise UnreadableCsvError(f"cannot read {path}: {err.strerror or err}") from err
    if not raw:
        raise UnreadableCsvError(f"cannot read {path} as a UTF-8 CSV file: the file is empty")
    if raw.startswith(GZIP_MAGIC):
        raise UnreadableCsvError(f"cannot read {path} as a UTF-8 CSV file: it is gzip-compressed (a .csv.gz?), not "
                                 f"text; decompress it first ({gunzip_command(path)})")
    for magic, what in _OTHER_FORMATS:
        if raw.startswith(magic):
            raise UnreadableCsvError(f"cannot read {path.name} as a UTF-8 CSV file: it is {what}")
    for bom, encoding in _OTHER_BOMS:
        if raw.startswith(bom):
            raise UnreadableCsvError(f"cannot read {path.name} as a UTF-8 CSV file: it is {encoding} encoded "
                                     f"(it starts with a {encoding} byte order mark); {SAVE_AS_UTF8}")
    # A mark written twice (a file that had one re-saved by a tool that adds one) would stick to
    # the first column's name: "missing column 'customerID'" with no word of the cause.
    if (marks := _leading_utf8_boms(raw)) > 1:
        raise UnreadableCsvError(
            f"cannot read {path.name} as a UTF-8 CSV file: it starts with {marks} UTF-8 byte order marks (bytes "
            f"EF BB BF each) where at most one belongs, and the extra would read as part of the first column's "
            f"name; a mark is written twice when a file that has one is saved again by a tool that adds one "
            f"(read as 'utf-8', which keeps the mark as text, then written as 'utf-8-sig'), or one is put in "
            f"front of a file that has one: remove the extra, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' {path.name} "
            f"removes one")
    # surrogateescape: a byte that is not UTF-8 is kept, so the cell holding it can be named below.
    text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8", "surrogateescape")
    # CR CR LF: Python's csv.writer on a file opened without newline="" on Windows. The reader would
    # see a blank line after every row, and the report would be about blank lines, not the cause.
    if text.partition("\n")[0].endswith("\r\r"):
        raise UnreadableCsvError(
            f"cannot read {path.name} as a UTF-8 CSV file: its lines end with \\r\\r\\n (CR CR LF), which reads "
            "as a blank line after every row; this is what Python's csv.writer writes on Windows to a file "
            "opened without newline=\"\": write it again with newline=\"\", or convert the line endings to \\r\\n")
    records: list[list[str]] = []
    lines: list[LineSpan] = []
    # strict: a quote never closed is an error at the end of the file, wherever it opened (without it,
    # the reader took in every line after the quote as one field and an error came only past the
    # field size limit), and text after a closing quote ("2"x) is refused, not joined into 2x.
    physical = _PhysicalLines(text)
    reader = csv.reader(physical, strict=True)
    header: list[str] | None = None
    first, start = 1, 0  # the line and the character the record being read starts on
    try:
        header = next(reader, None) or []
        first, start = physical.next_line, physical.read
        for record in reader:
            records.append(record)
            lines.append(LineSpan(first, physical.last_line))
            first, start = physical.next_line, physical.read
    except csv.Error as err:
        where = "the header" if header is None else f"data row {len(records) + 1}"
        hint = _quote_hint(err, text.count('"', start, physical.read) % 2 == 1)
        raise UnreadableCsvError(
            f"cannot read {path.name} as a UTF-8 CSV file: {where} (from CSV line {first}): {err}{hint}") from err
    end = len(records)
    while end > 0 and not any(records[end - 1]):
        end -= 1
    table = CsvFile(header=header, records=records[:end], lines=lines[:end], sha256=hashlib.sha256(raw).hexdigest())
    if any("\udc80" <= ch <= "\udcff" for ch in set(text)) and (problem := _encoding_problem(path.name, table)):
        raise UnreadableCsvError(problem)
    return table
