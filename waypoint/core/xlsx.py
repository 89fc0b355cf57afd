"""A one-sheet Excel workbook written as a stream, for downloads of 100,000 rows and more.

openpyxl's write-only workbook builds an object per cell and takes about 20 s for 100,000 rows x 12 cells on a
small server (bench/RESULTS.md); this writes the sheet's XML straight into the zip entry, row by row, in a tenth of
that. It writes only what a data download needs: a bold heading row kept in view, text (inline strings), numbers,
booleans, dates and date-times, with the column widths given. Memory stays flat: rows are read once, as they come.
Workbooks are read back with openpyxl in the tests.
"""

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from django.http import FileResponse

# Characters XML 1.0 does not allow in text (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_EPOCH = dt.datetime(1899, 12, 30)
_STYLE_DATE, _STYLE_DATETIME, _STYLE_HEADING = 1, 2, 3
MAX_TITLE = 31

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = f"""{_XML}<Types xmlns="{_PACKAGE}/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>
</Types>"""
_ROOT_RELS = f"""{_XML}<Relationships xmlns="{_PACKAGE}/relationships">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK_RELS = f"""{_XML}<Relationships xmlns="{_PACKAGE}/relationships">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>
</Relationships>"""
_WORKBOOK = (
    _XML
    + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
    + '<sheets><sheet name={title} sheetId="1" r:id="rId1"/></sheets></workbook>'
)
# Cell styles: 0 plain, 1 date (built-in format 14), 2 date-time (22), 3 bold heading.
_FONT = '<sz val="11"/><name val="Calibri"/>'
_STYLES = f"""{_XML}<styleSheet xmlns="{_MAIN}">
<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_FROZEN = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
_SHEET_START = (
    f'{_XML}<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">{_FROZEN}</sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("", value))


def _cell(ref: str, value: Any) -> str:
    """One cell's XML. An empty cell is written too, so that every row is as wide as the headings for readers
    that do not look at cell references."""
    if value is None or value == "":
        return f'<c r="{ref}"/>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{serial}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = _text(str(value))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def xlsx_write(
    file: IO[bytes],
    *,
    title: str,
    headings: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float] = (),
) -> int:
    """Write a workbook of one sheet `title` (cut to Excel's 31 characters): the headings, bold and frozen, then
    the rows. Returns the number of rows written, headings excluded."""
    letters = [column_letter(i) for i in range(max(len(headings), 1))]
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>' for i, width in enumerate(widths, start=1)
    )
    written = 0
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK.format(title=quoteattr(_ILLEGAL.sub("", title)[:MAX_TITLE])))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.format(cols=f"<cols>{cols}</cols>" if cols else "").encode())
            heading_cells = "".join(
                f'<c r="{letters[i]}1" t="inlineStr" s="{_STYLE_HEADING}"><is><t>{_text(h)}</t></is></c>'
                for i, h in enumerate(headings)
            )
            sheet.write(f'<row r="1">{heading_cells}</row>'.encode())
            chunk: list[str] = []
            for number, values in enumerate(rows, start=2):
                if len(values) > len(letters):
                    letters.extend(column_letter(i) for i in range(len(letters), len(values)))
                cells = "".join(_cell(f"{letters[i]}{number}", v) for i, v in enumerate(values)) + "".join(
                    f'<c r="{letters[i]}{number}"/>' for i in range(len(values), len(headings))
                )
                chunk.append(f'<row r="{number}">{cells}</row>')
                written += 1
                if len(chunk) == 1000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write(("".join(chunk) + _SHEET_END).encode())
    return written


def xlsx_response(
    *, filename: str, title: str, headings: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[float] = ()
) -> FileResponse:
    """The workbook as a download named `filename`.xlsx: written to a temporary file (memory stays flat), then
    sent from it."""
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it once sent
    xlsx_write(file, title=title, headings=headings, rows=rows, widths=widths)
    file.seek(0)
    return FileResponse(
        file,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
