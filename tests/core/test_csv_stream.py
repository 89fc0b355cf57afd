"""CSV downloads: streamed line by line, with text a spreadsheet would run as a formula quoted."""

import csv
import datetime as dt
import io

from waypoint.core.csv_stream import csv_lines, csv_response


def test_rows_become_lines_with_empty_cells_iso_dates_and_formulas_quoted() -> None:
    lines = csv_lines(["Name", "Due", "Note", "Count"], [['=HYPERLINK("x")', dt.date(2027, 6, 30), None, -3]])

    assert list(csv.reader(io.StringIO("".join(lines)))) == [
        ["Name", "Due", "Note", "Count"],
        ['\'=HYPERLINK("x")', "2027-06-30", "", "-3"],
    ]


def test_the_download_streams_the_rows_as_they_are_read() -> None:
    read: list[int] = []

    def rows():  # type: ignore[no-untyped-def]
        for n in range(3):
            read.append(n)
            yield [n]

    response = csv_response(filename="numbers", headings=["N"], rows=rows())

    assert read == []  # nothing is read before the response is sent
    assert response["Content-Disposition"] == 'attachment; filename="numbers.csv"'
    assert b"".join(response.streaming_content).decode().splitlines() == ["N", "0", "1", "2"]
    assert read == [0, 1, 2]
