"""The Attainments (PLR) grid as CSV or Excel (R-PLR-5): the grid's columns, any number of rows, streamed."""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse

from waypoint.attainments.models import PlrRow
from waypoint.core.csv_stream import csv_response, formula_safe
from waypoint.core.xlsx import xlsx_response

# (column, heading) in the grid's order: learner identity, the learning event, then the four codes.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("uln", "ULN"),
    ("first_name", "First Name"),
    ("surname", "Surname"),
    ("found_uln", "Found ULN"),
    ("lrs_event_id", "Event ID"),
    ("subject", "Subject"),
    ("subject_code", "Subject Code"),
    ("qualification_type", "Qualification Type"),
    ("level", "Level"),
    ("grade", "Grade"),
    ("credits", "Credits"),
    ("achievement_award_date", "Achievement Award Date"),
    ("awarding_organisation_name", "Awarding Organisation Name"),
    ("awarding_organisation_ukprn", "Awarding Organisation UKPRN"),
    ("achievement_provider_name", "Achievement Provider Name"),
    ("achievement_provider_ukprn", "Achievement Provider UKPRN"),
    ("participation_start_date", "Participation Start Date"),
    ("participation_end_date", "Participation End Date"),
    ("source", "Source"),
    ("status", "Status"),
    ("date_loaded", "Date Loaded"),
    ("collection_type", "Collection Type"),
    ("return_number", "Return Number"),
    ("language_for_assessment", "Language For Assessment"),
    ("restriction", "Restriction"),
    ("under_data_challenge", "Under Data Challenge"),
    ("error_code", "Error Code"),
    ("error_description", "Error Description"),
    ("response_code", "Response Code"),
    ("response_description", "Response Description"),
)
HEADINGS = [heading for _, heading in COLUMNS]
CHUNK = 2000


def _cell(value: Any) -> Any:
    """A spreadsheet would run a text cell starting with one of these as a formula."""
    if value is None:
        return ""
    return formula_safe(value)


def export_rows(rows: QuerySet[PlrRow]) -> Iterator[list[Any]]:
    """The rows' values in column order, read from the database a chunk at a time."""
    for values in rows.values_list(*(c for c, _ in COLUMNS)).iterator(chunk_size=CHUNK):
        yield [_cell(v) for v in values]


def rows_csv_response(rows: QuerySet[PlrRow], filename: str) -> StreamingHttpResponse:
    return csv_response(filename=filename, headings=HEADINGS, rows=export_rows(rows))


def rows_xlsx_response(rows: QuerySet[PlrRow], filename: str) -> FileResponse:
    return xlsx_response(filename=filename, title="Attainments (PLR)", headings=HEADINGS, rows=export_rows(rows))
