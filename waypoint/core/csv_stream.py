"""CSV downloads, streamed row by row: a grid of 100,000 rows never sits in memory at once.

Text a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) is written with a
leading apostrophe, so that opening a download never runs what someone typed into a name or a note.
"""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """`value`, with text a spreadsheet would run as a formula quoted; anything else as it is."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return f"'{value}"
    return value


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return formula_safe(value)


class _Echo:
    """A file-like object whose `write` hands the line back, so that `csv.writer` yields instead of storing."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headings: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The headings and each row as CSV lines: empty for None, ISO dates, formula-safe text."""
    writer = csv.writer(_Echo())
    yield writer.writerow(headings)
    for values in rows:
        yield writer.writerow([_text(v) for v in values])


def csv_response(*, filename: str, headings: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """The rows as a download named `filename`.csv, streamed as they are read."""
    response = StreamingHttpResponse(csv_lines(headings, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
