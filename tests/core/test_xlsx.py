"""The streamed Excel workbook reads back, cell for cell, in a spreadsheet library (openpyxl)."""

import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook

from waypoint.core.xlsx import column_letter, xlsx_write


def read_back(**values: object) -> tuple[object, list[list[object]]]:
    file = io.BytesIO()
    xlsx_write(file, **values)  # type: ignore[arg-type]
    file.seek(0)
    book = load_workbook(file)
    sheet = book.active
    assert sheet is not None
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_every_kind_of_value_reads_back_typed() -> None:
    sheet, rows = read_back(
        title="People & <Plans>",
        headings=["Text", "Int", "Decimal", "Date", "Date-time", "Yes/No", "Empty"],
        rows=[["  padded ", 3, Decimal("2.50"), dt.date(2027, 6, 30), dt.datetime(2027, 6, 30, 9, 15), True, None]],
        widths=[30, 8],
    )

    assert sheet.title == "People & <Plans>"  # type: ignore[attr-defined]
    assert rows == [
        ["Text", "Int", "Decimal", "Date", "Date-time", "Yes/No", "Empty"],
        ["  padded ", 3, 2.5, dt.datetime(2027, 6, 30), dt.datetime(2027, 6, 30, 9, 15), True, None],
    ]
    assert sheet.freeze_panes == "A2"  # type: ignore[attr-defined]
    assert sheet.column_dimensions["A"].width == 30  # type: ignore[attr-defined]


def test_markup_and_characters_xml_cannot_hold_are_written_safely() -> None:
    _, rows = read_back(title="x" * 40, headings=["a"], rows=[["<b>&amp;\x01\x0b done"], ["=1+1"]])

    assert rows[1:] == [["<b>&amp; done"], ["=1+1"]]


def test_wide_and_long_sheets_keep_every_cell_in_place() -> None:
    headings = [f"H{i}" for i in range(30)]
    _, rows = read_back(title="Wide", headings=headings, rows=([n * 100 + i for i in range(30)] for n in range(2500)))

    assert len(rows) == 2501
    assert rows[0] == headings
    assert rows[2500][29] == 2499 * 100 + 29
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_the_sheet_title_is_cut_to_what_excel_allows() -> None:
    sheet, _ = read_back(title="People by Learning Plan, every milestone", headings=["a"], rows=[])

    assert sheet.title == "People by Learning Plan, every m"[:31]  # type: ignore[attr-defined]
