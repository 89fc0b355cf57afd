"""Learning Plan reports (R-CUR-11): rows, progress, filters, downloads and a query budget independent of rows."""

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from openpyxl import load_workbook

from tests.curriculum import factories as cf
from waypoint.curriculum.exports import (
    HIGHLIGHTS_HEADINGS,
    people_headings,
    report_csv_response,
    report_xlsx_response,
)
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    EnrolmentStatus,
    Metric,
    Milestone,
    MilestoneAction,
    MilestoneStatus,
    Program,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
)
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.curriculum.reports import (
    ReportFilter,
    people_by_plan_all,
    people_by_plan_page,
    progress_percent,
    status_highlights_page,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 6, 1)


def assign(plan: Curriculum, person: AbstractUser, **values: Any) -> Assignment:
    return Assignment.objects.create(curriculum=plan, person=person, **values)


def completed(person: AbstractUser, *programs: Program) -> None:
    ProgramEnrolment.objects.bulk_create(
        ProgramEnrolment(person=person, program=p, status=EnrolmentStatus.COMPLETED) for p in programs
    )


def flt(**values: Any) -> ReportFilter:
    """The filter, once the report rows are worked out from what the test set up directly (the services keep them
    up to date themselves: tests/curriculum/test_report_rows.py)."""
    report_rows_refresh()
    return ReportFilter(today=TODAY, **values)


@pytest.fixture
def plan() -> tuple[Curriculum, list[Milestone], list[list[Program]]]:
    """Two Sessions milestones of two programs each, and an elective; due 30 June 2027."""
    made = cf.curriculum(name="Team Leader", due_date=dt.date(2027, 6, 30))
    programs = [[cf.program(), cf.program()], [cf.program(), cf.program()]]
    milestones = [cf.milestone(made, programs=ps, name=f"Step {i}") for i, ps in enumerate(programs, start=1)]
    milestones.append(cf.milestone(made, programs=[cf.program()], metric=Metric.NONE, name="Extra"))
    return made, milestones, programs


def test_status_highlights_shows_each_assigned_person_with_milestones_met_progress_and_status_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, programs = plan
    ada, bo, cy = (cf.professional(last_name=name) for name in ("Ada", "Bo", "Cy"))
    for person in (ada, bo, cy):
        assign(made, person)
    completed(ada, *programs[0], *programs[1])
    completed(bo, programs[0][0], programs[0][1], programs[1][0])

    page = status_highlights_page(flt(), chart=True)

    assert page.count == 3
    rows = {r.last_name: r for r in page.rows}
    assert [r.last_name for r in page.rows] == ["Ada", "Bo", "Cy"]
    assert (rows["Ada"].milestones_met, rows["Ada"].milestones_total, rows["Ada"].progress) == (2, 2, 100)
    assert rows["Ada"].status == "completed"
    assert (rows["Bo"].milestones_met, rows["Bo"].progress, rows["Bo"].status) == (1, 75, "in_progress")
    assert (rows["Cy"].milestones_met, rows["Cy"].progress, rows["Cy"].status) == (0, 0, "not_started")
    assert rows["Cy"].due_date == dt.date(2027, 6, 30)
    assert page.status_counts == {"not_started": 1, "in_progress": 1, "overdue": 0, "completed": 1}


def test_a_waived_milestone_counts_as_met_and_adjusted_units_replace_the_requirement_r_cur_7_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, milestones, programs = plan
    person = cf.professional()
    assignment = assign(made, person)
    MilestoneStatus.objects.create(assignment=assignment, milestone=milestones[0], action=MilestoneAction.WAIVED)
    MilestoneStatus.objects.create(
        assignment=assignment, milestone=milestones[1], action=MilestoneAction.ADJUSTED, units=Decimal(1)
    )
    completed(person, programs[1][0])

    [row] = status_highlights_page(flt()).rows

    assert (row.milestones_met, row.milestones_total, row.progress, row.status) == (2, 2, 100, "completed")


def test_requirements_fixed_at_assignment_are_the_units_required_r_cur_5_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, milestones, programs = plan
    person = cf.professional()
    assign(made, person, requirements={str(milestones[0].pk): 1, str(milestones[1].pk): "2"})
    completed(person, programs[0][0])

    [row] = status_highlights_page(flt()).rows

    assert (row.milestones_met, row.units_done, row.units_required, row.progress) == (1, 1, 3, 33)


def test_credits_milestones_sum_the_credits_of_completed_programs_r_cur_2_r_cur_11() -> None:
    made = cf.curriculum()
    small, big = cf.program(credits=Decimal("1.5")), cf.program(credits=Decimal("2.5"))
    cf.milestone(made, programs=[small, big], metric=Metric.CREDITS, units=Decimal(4))
    person = cf.professional()
    assign(made, person)
    completed(person, small)

    [row] = people_by_plan_page(flt()).rows

    assert row.milestones[0].units_done == Decimal("1.5")
    assert (row.progress, row.milestones[0].status) == (37, "in_progress")


def test_a_past_due_date_shows_overdue_unless_completed_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, _ = plan
    late, plain = cf.professional(), cf.professional()
    assign(made, late, due_date=dt.date(2027, 5, 1))
    assign(made, plain)

    statuses = {r.person_id: r.status for r in status_highlights_page(flt()).rows}

    assert statuses == {late.pk: "overdue", plain.pk: "not_started"}


def test_people_registered_without_assignment_appear_with_their_registration_status_r_cur_8_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, _ = plan
    started, cancelled, assigned = cf.professional(), cf.professional(), cf.professional()
    Registration.objects.create(curriculum=made, person=started, via_my_learning=True)
    Registration.objects.create(
        curriculum=made, person=cancelled, via_my_learning=True, status=RegistrationStatus.CANCELLED
    )
    assign(made, assigned)
    Registration.objects.create(curriculum=made, person=assigned, status=RegistrationStatus.REGISTERED)

    rows = {r.person_id: r for r in status_highlights_page(flt()).rows}

    assert (rows[started.pk].assigned, rows[started.pk].registration, rows[started.pk].status) == (
        False,
        "Started",
        "not_started",
    )
    assert (rows[cancelled.pk].registration, rows[cancelled.pk].status) == ("Cancelled", "not_started")
    assert (rows[assigned.pk].assigned, rows[assigned.pk].registration) == (True, "Registered")


def test_people_by_learning_plan_details_each_milestone_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, programs = plan
    person = cf.professional()
    assign(made, person)
    completed(person, *programs[0], programs[1][0])

    [row] = people_by_plan_page(flt()).rows

    assert [(m.name, m.status, m.units_done, m.units_required) for m in row.milestones] == [
        ("Step 1", "met", 2, 2),
        ("Step 2", "in_progress", 1, 2),
        ("Extra", "elective", 0, None),
    ]
    assert list(people_by_plan_all(flt())) == [row]


def test_filters_by_plan_group_status_and_search_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, programs = plan
    other = cf.curriculum(name="Onboarding")
    cf.milestone(other, programs=[cf.program()])
    ada, bo = cf.professional(last_name="Lovelace"), cf.professional(last_name="Diddley")
    group = cf.professional_group([ada])
    for person in (ada, bo):
        assign(made, person)
        assign(other, person)
    completed(ada, *programs[0], *programs[1])

    def keys(**values: Any) -> set[tuple[str, str]]:
        return {(r.plan, r.last_name) for r in status_highlights_page(flt(**values)).rows}

    assert keys(plan=other.pk) == {("Onboarding", "Lovelace"), ("Onboarding", "Diddley")}
    assert keys(group=group.pk) == {("Team Leader", "Lovelace"), ("Onboarding", "Lovelace")}
    assert keys(status="completed") == {("Team Leader", "Lovelace")}
    assert keys(search="diddl") == {("Team Leader", "Diddley"), ("Onboarding", "Diddley")}
    assert keys(search="onboard", group=group.pk) == {("Onboarding", "Lovelace")}
    page = status_highlights_page(flt(status="completed"), chart=True)
    assert page.count == 1
    assert page.status_counts["not_started"] == 3


def test_pages_split_the_rows_in_order_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, _ = plan
    people = [cf.professional(last_name=f"P{i:02}") for i in range(5)]
    for person in people:
        assign(made, person)

    first = status_highlights_page(flt(), page=1, page_size=2)
    third = status_highlights_page(flt(), page=3, page_size=2)
    beyond = status_highlights_page(flt(), page=9, page_size=2)

    assert [r.last_name for r in first.rows] == ["P00", "P01"]
    assert [r.last_name for r in third.rows] == ["P04"]
    assert (beyond.rows, beyond.count) == ([], 5)
    assert [r.last_name for r in status_highlights_page(flt(), page=2, page_size=2, chart=True).rows] == ["P02", "P03"]


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_csv_download_holds_every_row_with_the_learning_plan_heading_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, programs = plan
    person = cf.professional(first_name="=Ada", last_name="Lovelace", email="ada@example.org")
    assign(made, person)
    completed(person, *programs[0])

    lines = list(csv.reader(io.StringIO(_content(report_csv_response("status-highlights", flt(), "x")).decode())))

    assert lines[0] == HIGHLIGHTS_HEADINGS
    assert lines[0][0] == "Learning Plan"
    assert lines[1] == [
        "Team Leader",
        "'=Ada Lovelace",
        person.username,
        "ada@example.org",
        "Yes",
        "",
        "Not registered",
        "1",
        "2",
        "50",
        "2027-06-30",
        "In Progress",
    ]


def test_excel_download_of_people_by_learning_plan_has_a_column_group_per_milestone_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    made, _, programs = plan
    person = cf.professional(first_name="Ada", last_name="Lovelace")
    assign(made, person)
    completed(person, *programs[0])

    response = report_xlsx_response("people", flt(), "people", "People by Learning Plan")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]

    assert rows[0] == people_headings(3)
    assert rows[1][:12] == [
        "Ada Lovelace",
        person.username,
        person.email,
        "Team Leader",
        "Yes",
        None,
        "Not registered",
        dt.datetime(2027, 6, 30),
        "In Progress",
        50,
        2,
        4,
    ]
    assert rows[1][12:] == ["Step 1", "Met (2 of 2)", "Step 2", "Not Started (0 of 2)", "Extra", "Elective (0 done)"]


@pytest.mark.parametrize("people", [2, 12])
def test_a_page_costs_the_same_few_queries_however_many_rows_r_cur_11(
    people: int, django_assert_num_queries: Any, plan: tuple[Curriculum, list[Milestone], list[list[Program]]]
) -> None:
    made, _, programs = plan
    for _ in range(people):
        person = cf.professional()
        assign(made, person)
        completed(person, programs[0][0])

    every, in_progress = flt(), flt(status="in_progress")

    with django_assert_num_queries(2):
        assert len(status_highlights_page(every).rows) == people
    with django_assert_num_queries(2):
        assert len(status_highlights_page(every, chart=True).rows) == people
    with django_assert_num_queries(3):
        assert all(len(r.milestones) == 3 for r in people_by_plan_page(every).rows)
    with django_assert_num_queries(3):
        assert all(len(r.milestones) == 3 for r in people_by_plan_page(in_progress).rows)
    with django_assert_num_queries(1):
        assert len(list(people_by_plan_all(every))) == people


def test_progress_is_the_share_of_required_units_done() -> None:
    assert progress_percent(Decimal(1), Decimal(3), 0, 2) == 33
    assert progress_percent(Decimal(0), Decimal(0), 0, 0) == 0
    assert progress_percent(Decimal(0), Decimal(0), 1, 1) == 100


def test_the_api_pages_both_reports_with_chart_data_and_downloads_them_r_cur_11(
    plan: tuple[Curriculum, list[Milestone], list[list[Program]]],
) -> None:
    from tests import factories
    from tests.api.conftest import token_client

    made, _, programs = plan
    ada, bo = cf.professional(last_name="Ada"), cf.professional(last_name="Bo")
    assign(made, ada)
    assign(made, bo)
    completed(ada, *programs[0], *programs[1])
    report_rows_refresh()
    api = token_client(factories.staff())

    body = api.get("/learning-plans/reports/status-highlights", page_size=1, chart="true").json()
    assert (body["count"], body["page_size"], len(body["items"])) == (2, 1, 1)
    assert body["items"][0]["person"].endswith("Ada")
    assert body["items"][0]["status"] == "completed"
    assert {bar["status"]: (bar["count"], bar["percent"]) for bar in body["chart"]}["completed"] == (1, 50)

    assert api.get("/learning-plans/reports/status-highlights").json()["chart"] is None
    people = api.get("/learning-plans/reports/people", status="not_started").json()
    assert [item["person_id"] for item in people["items"]] == [bo.pk]
    assert [m["status"] for m in people["items"][0]["milestones"]] == ["not_started", "not_started", "elective"]

    text = b"".join(api.get("/learning-plans/reports/people.csv", search="ada").streaming_content).decode()
    assert len(text.strip().splitlines()) == 2
    xlsx = api.get("/learning-plans/reports/status-highlights.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet is not None
    assert sheet.max_row == 3
    assert api.get("/learning-plans/reports/status-highlights", status="nonsense").status_code == 422


def test_the_api_statuses_are_the_report_statuses() -> None:
    from waypoint.curriculum.reports import STATUSES
    from waypoint.curriculum.schemas_reports import ReportStatus

    assert [s.value for s in ReportStatus] == list(STATUSES)
