"""The two Learning Plan reports as CSV or Excel downloads, both streamed from one statement (R-CUR-11).

Headings say "Learning Plan" whatever professionals' pages call it (R-CUR-12).
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.http import FileResponse, StreamingHttpResponse

from waypoint.core.csv_stream import csv_response, formula_safe
from waypoint.core.xlsx import xlsx_response
from waypoint.curriculum.reports import (
    PlanRow,
    ReportFilter,
    milestone_columns,
    people_by_plan_all,
    status_highlights_all,
)

HIGHLIGHTS_HEADINGS = [
    "Learning Plan",
    "Person",
    "Username",
    "Email",
    "Assigned",
    "Group",
    "Registration",
    "Milestones Met",
    "Milestones Total",
    "Progress %",
    "Due Date",
    "Status",
]
PEOPLE_HEADINGS = [
    "Person",
    "Username",
    "Email",
    "Learning Plan",
    "Assigned",
    "Group",
    "Registration",
    "Due Date",
    "Status",
    "Progress %",
    "Units Done",
    "Units Required",
]
# Two cells per milestone, status with its units ("In Progress (1 of 2)"), so that a 100,000-row workbook stays
# well inside the download's time budget (bench/RESULTS.md); the API's JSON has the units as numbers.
MILESTONE_HEADINGS = ("Milestone {n}", "Milestone {n} Status")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted; numbers and dates stay typed."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return formula_safe(value)


def highlights_values(row: PlanRow) -> list[Any]:
    return [
        _cell(v)
        for v in (
            row.plan,
            row.person,
            row.username,
            row.email,
            "Yes" if row.assigned else "No",
            row.group,
            row.registration,
            row.milestones_met,
            row.milestones_total,
            row.progress,
            row.due_date,
            row.status_label,
        )
    ]


def people_values(row: PlanRow, columns: int) -> list[Any]:
    values: list[Any] = [
        row.person,
        row.username,
        row.email,
        row.plan,
        "Yes" if row.assigned else "No",
        row.group,
        row.registration,
        row.due_date,
        row.status_label,
        row.progress,
        row.units_done,
        row.units_required,
    ]
    for m in row.milestones[:columns]:
        values.extend([m.name, m.summary])
    values.extend([None] * (len(PEOPLE_HEADINGS) + len(MILESTONE_HEADINGS) * columns - len(values)))
    return [_cell(v) for v in values]


def people_headings(columns: int) -> list[str]:
    return PEOPLE_HEADINGS + [h.format(n=n) for n in range(1, columns + 1) for h in MILESTONE_HEADINGS]


def report_table(report: str, flt: ReportFilter) -> tuple[list[str], Iterator[list[Any]]]:
    """Headings and the rows' values of `report` ("status-highlights" or "people")."""
    if report == "people":
        columns = milestone_columns(flt)
        return people_headings(columns), (people_values(r, columns) for r in people_by_plan_all(flt))
    return HIGHLIGHTS_HEADINGS, (highlights_values(r) for r in status_highlights_all(flt))


def report_csv_response(report: str, flt: ReportFilter, filename: str) -> StreamingHttpResponse:
    headings, rows = report_table(report, flt)
    return csv_response(filename=filename, headings=headings, rows=rows)


def report_xlsx_response(report: str, flt: ReportFilter, filename: str, sheet_title: str) -> FileResponse:
    headings, rows = report_table(report, flt)
    return xlsx_response(filename=filename, title=sheet_title, headings=headings, rows=rows)
