"""Arrange the CSV validation problems for the report: a column with many problems of one kind
leads with one summary line, so a column exported another way (Churn as 0/1, SeniorCitizen as
Yes/No, charges with a decimal comma) reads as the one thing to fix, not 50 near-identical lines.

Returns: `arrange(problems, rows, max_lines)` -> `Report`. A group of problems with the same column
and kind (the same rule broken the same way, e.g. "is not one of ['No', 'Yes']") that has at least
`SUMMARY_MIN_ROWS` members gets a summary: its exact count out of the file's data rows, the values
seen, most frequent first with their row counts (`SUMMARY_VALUES` of them, then how many other
values in how many rows), and its first row. The per-row lines are every problem in row order when
they all fit in `max_lines` (a file with a few bad cells reads exactly as without summaries);
otherwise a summarised group keeps only its first `SUMMARY_EXAMPLES` lines, so problems of other
kinds are not pushed past the cap by thousands of its lines, and the first `max_lines` of what is
left are shown. Nothing is dropped: every problem is a shown line or counted in `Report.total`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

SUMMARY_MIN_ROWS = 10  # "many": more than a handful of scattered typos
SUMMARY_VALUES = 5     # distinct values named in a summary, most frequent first
SUMMARY_EXAMPLES = 3   # per-row lines a summarised group keeps when the lines do not all fit
VALUE_CHARS = 40       # a longer value is cut in a summary
LINE_VALUE_CHARS = 100  # a longer value is cut in a per-row line, which says its length


@dataclass(frozen=True)
class Problem:
    """One problem. `text` is its line in the report; a problem with a `kind` can be summarised with
    the others of its column and kind (`kind` completes "N of M rows ...", e.g. "have a value that is
    not one of ['No', 'Yes']"); `value` is the cell's text and `where` its data row and CSV lines."""
    text: str
    kind: str | None = None
    column: str | None = None
    value: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Report:
    summaries: list[str]
    shown: list[str]      # the per-row lines shown, in row order
    total: int            # every problem found
    hidden_summarised: int  # of the problems not shown, how many a summary counts


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def shown_value(value: str) -> str:
    """`value` quoted as Python would (control characters escaped), cut past VALUE_CHARS characters."""
    return repr(value if len(value) <= VALUE_CHARS else value[:VALUE_CHARS - 3] + "...")


def line_value(value: str) -> str:
    """`value` quoted as Python would for a per-row line; past LINE_VALUE_CHARS characters its
    first LINE_VALUE_CHARS and its length, so a 5,000-character cell does not make a 5,000-character line."""
    if len(value) <= LINE_VALUE_CHARS:
        return repr(value)
    return f"{value[:LINE_VALUE_CHARS]!r} (first {LINE_VALUE_CHARS} of {len(value):,} characters)"


def _summary(group: list[Problem], rows: int) -> str:
    first = group[0]
    column = f"column {first.column!r}: " if first.column is not None else ""
    text = f"{column}{len(group):,} of {_rows(rows)} {first.kind}"
    values = Counter(p.value for p in group if p.value is not None)
    if values:
        common = values.most_common(SUMMARY_VALUES)  # ties: the value seen first comes first
        seen = [f"{shown_value(v)} ({_rows(n)})" for v, n in common]
        if len(values) > len(common):
            others = len(values) - len(common)
            seen.append(f"and {others:,} other value{'s' if others > 1 else ''} "
                        f"({_rows(sum(values.values()) - sum(n for _, n in common))})")
        text += "; values seen: " + ", ".join(seen)
    return f"{text}; first at {first.where}"


def arrange(problems: list[Problem], rows: int, max_lines: int) -> Report:
    """The summaries and the per-row lines to show for `problems` (in row order) of a file with
    `rows` data rows, at most `max_lines` per-row lines."""
    groups: dict[tuple[str | None, str], list[int]] = {}
    for i, p in enumerate(problems):
        if p.kind is not None:
            groups.setdefault((p.column, p.kind), []).append(i)
    summarised = {key: members for key, members in groups.items() if len(members) >= SUMMARY_MIN_ROWS}
    summaries = [_summary([problems[i] for i in members], rows) for members in summarised.values()]
    keep = list(range(len(problems)))
    if len(problems) > max_lines:
        examples = {i for members in summarised.values() for i in members[:SUMMARY_EXAMPLES]}
        in_summary = {i for members in summarised.values() for i in members}
        keep = [i for i in keep if i not in in_summary or i in examples]
    shown = keep[:max_lines]
    hidden = set(range(len(problems))) - set(shown)
    hidden_summarised = sum(1 for members in summarised.values() for i in members if i in hidden)
    return Report(summaries=summaries, shown=[problems[i].text for i in shown], total=len(problems),
                  hidden_summarised=hidden_summarised)
