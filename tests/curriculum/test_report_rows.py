"""The reports' rows follow every change made through the services (R-CUR-11), and completions are recorded
through a service of their own (R-CUR-2: progress counts completed programs)."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from tests.curriculum import factories as cf
from waypoint.core.errors import PermissionRefused, ValidationFailed
from waypoint.curriculum.models import (
    Curriculum,
    EnrolmentStatus,
    Metric,
    Milestone,
    Program,
    ProgramEnrolment,
    ReportMilestone,
    ReportRow,
)
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.curriculum.reports import ReportFilter, people_by_plan_page, status_highlights_page
from waypoint.curriculum.services import (
    milestone_create,
    milestone_delete,
    milestone_link_programs,
    milestone_unlink_program,
    milestone_update,
    program_update,
)
from waypoint.curriculum.services.assignments import (
    assignment_delete,
    assignment_override_milestone,
    curriculum_assign,
)
from waypoint.curriculum.services.enrolments import enrolments_set_completed
from waypoint.curriculum.services.registrations import (
    my_learning_add,
    my_learning_remove,
    registration_delete,
    registration_start,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 6, 1)


def stored() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    rows = {
        (r.curriculum_id, r.person_id, r.registration, r.milestones_met, r.milestones_total, Decimal(r.units_done),
         Decimal(r.units_required), r.started, r.complete)
        for r in ReportRow.objects.all()
    }  # fmt: skip
    milestones = {
        (m.curriculum_id, m.person_id, m.milestone_id, m.state,
         None if m.units_required is None else Decimal(m.units_required), Decimal(m.units_done), m.due_date)
        for m in ReportMilestone.objects.all()
    }  # fmt: skip
    return rows, milestones


def assert_rows_current() -> None:
    """What the services left equals the rows worked out afresh from everything."""
    kept = stored()
    report_rows_refresh()
    assert stored() == kept


def enrol(person: AbstractUser, *programs: Program) -> Any:
    made = ProgramEnrolment.objects.bulk_create(ProgramEnrolment(person=person, program=p) for p in programs)
    return ProgramEnrolment.objects.filter(pk__in=[e.pk for e in made])


def people(*persons: AbstractUser) -> Any:
    return get_user_model().objects.filter(pk__in=[p.pk for p in persons])


def row(plan: Curriculum, person: AbstractUser) -> Any:
    [found] = [
        r for r in status_highlights_page(ReportFilter(today=TODAY, plan=plan.pk)).rows if r.person_id == person.pk
    ]
    return found


def test_report_rows_follow_every_change_made_through_the_services_r_cur_11() -> None:
    boss = cf.supervisor()
    plan, milestones = cf.curriculum_with_milestones(due_date=dt.date(2027, 12, 31), add_to_my_learning=True)
    first, second = (list(m.programs.order_by("links__position")) for m in milestones)
    ada, bo, cy = (cf.professional(last_name=n) for n in ("Ada", "Bo", "Cy"))
    group = cf.professional_group([ada, bo])

    curriculum_assign(curriculum=plan, group=group, by=boss)
    assert ReportRow.objects.filter(curriculum=plan).count() == 2
    assert_rows_current()

    enrolments_set_completed(enrolments=enrol(ada, *first, second[0]), completed=True, by=boss)
    assert (row(plan, ada).milestones_met, row(plan, ada).progress, row(plan, ada).status) == (1, 75, "in_progress")
    assert_rows_current()

    assignment = plan.assignments.get(person=bo)
    assignment_override_milestone(
        assignment=assignment, milestone=milestones[0], action="waived", by=boss, confirm_detach=True
    )
    assert row(plan, bo).milestones_met == 1
    assert_rows_current()
    assignment_override_milestone(
        assignment=assignment,
        milestone=milestones[1],
        action="adjusted",
        units=Decimal(0),
        by=boss,
        confirm_detach=True,
    )
    assert row(plan, bo).status == "completed"
    assert_rows_current()
    assignment_override_milestone(
        assignment=assignment, milestone=milestones[1], action="no_action", by=boss, confirm_detach=True
    )
    assert row(plan, bo).status == "in_progress"
    assert_rows_current()

    my_learning_add(curriculum=plan, person=cy)
    assert (row(plan, cy).assigned, row(plan, cy).registration) == (False, "Started")
    assert_rows_current()
    my_learning_remove(curriculum=plan, person=cy)
    assert row(plan, cy).registration == "Cancelled"
    assert_rows_current()
    registration = registration_start(curriculum=plan, person=ada)
    assert row(plan, ada).registration == "Started"
    registration_delete(registration=registration, by=boss)
    assert row(plan, ada).registration == "Cancelled"
    assert_rows_current()

    # Requirements are fixed at the first assignment (R-CUR-5): a new due date shows, new units do not.
    milestone_update(milestone=milestones[1], by=boss, changes={"units": Decimal(1), "due_date": dt.date(2027, 9, 1)})
    assert row(plan, ada).milestones_met == 1
    [ada_row] = [r for r in people_by_plan_page(ReportFilter(today=TODAY)).rows if r.person_id == ada.pk]
    assert ada_row.milestones[1].due_date == dt.date(2027, 9, 1)
    assert_rows_current()
    extra = cf.program(credits=Decimal(3))
    added = milestone_create(curriculum=plan, by=boss, values={"name": "Credits", "metric": Metric.CREDITS, "units": 4})
    milestone_link_programs(milestone=added, programs=[extra], by=boss)
    enrolments_set_completed(enrolments=enrol(ada, extra), completed=True, by=boss)
    assert (row(plan, ada).milestones_met, row(plan, ada).milestones_total) == (1, 3)
    assert_rows_current()
    program_update(program=extra, by=boss, changes={"credits": Decimal(4)})
    assert row(plan, ada).milestones_met == 2
    assert_rows_current()
    milestone_unlink_program(milestone=added, program=extra, by=boss)
    assert row(plan, ada).milestones_met == 1
    assert_rows_current()
    milestone_delete(milestone=added, by=boss)
    assert (row(plan, ada).milestones_met, row(plan, ada).milestones_total) == (1, 2)
    assert_rows_current()
    enrolments_set_completed(enrolments=enrol(ada, second[1]), completed=True, by=boss)
    assert row(plan, ada).status == "completed"
    assert_rows_current()

    enrolments_set_completed(enrolments=ProgramEnrolment.objects.filter(person=ada), completed=False, by=boss)
    assert row(plan, ada).status == "not_started"
    assert_rows_current()
    assignment_delete(assignment=plan.assignments.get(person=bo), by=boss)
    assert not ReportRow.objects.filter(curriculum=plan, person=bo).exists()
    assert_rows_current()


def test_a_change_rolled_back_leaves_the_report_rows_as_they_were_r_cur_11() -> None:
    boss = cf.supervisor()
    plan, milestones = cf.curriculum_with_milestones()
    ada = cf.professional()
    curriculum_assign(curriculum=plan, people=people(ada), by=boss)
    before = stored()

    def complete_then_fail() -> None:
        with transaction.atomic():
            enrolments_set_completed(enrolments=enrol(ada, *milestones[0].programs.all()), completed=True, by=boss)
            raise RuntimeError("the rest of the change failed")

    with pytest.raises(RuntimeError):
        complete_then_fail()

    assert stored() == before
    assert row(plan, ada).milestones_met == 0


def test_the_people_by_learning_plan_milestones_come_from_the_stored_rows_r_cur_11() -> None:
    boss = cf.supervisor()
    plan, milestones = cf.curriculum_with_milestones()
    ada = cf.professional()
    curriculum_assign(curriculum=plan, people=people(ada), by=boss)
    enrolments_set_completed(enrolments=enrol(ada, *milestones[0].programs.all()), completed=True, by=boss)

    [found] = people_by_plan_page(ReportFilter(today=TODAY)).rows

    assert [(m.name, m.status, m.units_done) for m in found.milestones] == [
        (milestones[0].name, "met", 2),
        (milestones[1].name, "not_started", 0),
    ]


@pytest.mark.parametrize("size", [3, 30])
def test_recording_completions_costs_the_same_statements_for_few_and_many_people_r_cur_11(
    size: int, django_assert_num_queries: Any
) -> None:
    boss = cf.supervisor()
    plan, milestones = cf.curriculum_with_milestones()
    crowd = [cf.professional() for _ in range(size)]
    curriculum_assign(curriculum=plan, people=people(*crowd), by=boss)
    program = milestones[0].programs.first()
    enrolments = ProgramEnrolment.objects.filter(
        pk__in=[
            e.pk
            for e in ProgramEnrolment.objects.bulk_create(ProgramEnrolment(person=p, program=program) for p in crowd)
        ]
    )

    with django_assert_num_queries(10):
        assert enrolments_set_completed(enrolments=enrolments, completed=True, by=boss) == size

    assert ReportRow.objects.filter(curriculum=plan, units_done=1).count() == size


def test_completing_enrolments_needs_a_supervisor_and_refuses_cancelled_ones_changing_nothing() -> None:
    boss = cf.supervisor()
    ada = cf.professional()
    program, other = cf.program(), cf.program()
    chosen = enrol(ada, program)
    gone = ProgramEnrolment.objects.create(person=ada, program=other, status=EnrolmentStatus.CANCELLED)

    with pytest.raises(PermissionRefused):
        enrolments_set_completed(enrolments=chosen, completed=True, by=cf.staff_without_supervisor())
    with pytest.raises(ValidationFailed, match="cancelled"):
        enrolments_set_completed(
            enrolments=ProgramEnrolment.objects.filter(pk__in=[chosen.get().pk, gone.pk]), completed=True, by=boss
        )
    with pytest.raises(ValidationFailed, match="Choose at least one"):
        enrolments_set_completed(enrolments=ProgramEnrolment.objects.none(), completed=True, by=boss)

    assert set(ProgramEnrolment.objects.values_list("status", flat=True)) == {"enrolled", "cancelled"}
    assert enrolments_set_completed(enrolments=chosen, completed=True, by=boss) == 1
    assert enrolments_set_completed(enrolments=chosen, completed=True, by=boss) == 0
    assert chosen.get().completed_at is not None
    assert enrolments_set_completed(enrolments=chosen, completed=False, by=boss) == 1
    assert (chosen.get().status, chosen.get().completed_at) == ("enrolled", None)


def test_a_milestone_edit_that_leaves_progress_alone_does_not_rewrite_rows(django_assert_max_num_queries: Any) -> None:
    boss = cf.supervisor()
    plan, milestones = cf.curriculum_with_milestones()
    curriculum_assign(curriculum=plan, people=people(cf.professional()), by=boss)
    milestone: Milestone = milestones[0]

    with django_assert_max_num_queries(6):
        milestone_update(milestone=milestone, by=boss, changes={"name": "Renamed"})

    assert people_by_plan_page(ReportFilter(today=TODAY)).rows[0].milestones[0].name == "Renamed"


def test_the_rebuild_command_works_out_rows_written_by_other_means_and_refuses_an_unknown_plan() -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    plan, _ = cf.curriculum_with_milestones()
    ada = cf.professional()
    plan.assignments.create(person=ada)  # straight into the database, as an import would

    out = StringIO()
    call_command("curriculum_report_rows", "--plan", str(plan.pk), stdout=out)

    assert "Worked out 1 report rows" in out.getvalue()
    assert row(plan, ada).milestones_total == 2
    with pytest.raises(CommandError, match="no learning plan"):
        call_command("curriculum_report_rows", "--plan", "999999")


def test_the_django_admin_keeps_report_rows_current_and_deletes_no_history(client: Any) -> None:
    """R-CUR-11: a program's credits changed in the Django admin rewrite its plans' rows; programs, their sessions
    and milestones are not deleted there (the pages' services refuse to delete what progress is counted from)."""
    boss = cf.supervisor()
    plan = cf.curriculum()
    credits = cf.program(credits=Decimal(1))
    cf.milestone(plan, programs=[credits], metric=Metric.CREDITS, units=Decimal(2))
    ada = cf.professional()
    curriculum_assign(curriculum=plan, people=people(ada), by=boss)
    enrolments_set_completed(enrolments=enrol(ada, credits), completed=True, by=boss)
    assert row(plan, ada).status == "in_progress"
    session = credits.sessions.get()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))

    response = client.post(
        f"/admin/curriculum/program/{credits.pk}/change/",
        {
            "name": credits.name,
            "code": credits.code,
            "kind": credits.kind,
            "credits": "2",
            "description": "",
            "sessions-TOTAL_FORMS": "1",
            "sessions-INITIAL_FORMS": "1",
            "sessions-0-id": str(session.pk),
            "sessions-0-program": str(credits.pk),
            "sessions-0-starts_at_0": session.starts_at.strftime("%Y-%m-%d"),
            "sessions-0-starts_at_1": session.starts_at.strftime("%H:%M:%S"),
            "sessions-0-ends_at_0": session.ends_at.strftime("%Y-%m-%d"),
            "sessions-0-ends_at_1": session.ends_at.strftime("%H:%M:%S"),
            "sessions-0-location": session.location,
            "sessions-0-DELETE": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert row(plan, ada).status == "completed"
    assert credits.sessions.filter(pk=session.pk).exists()
    assert client.get(f"/admin/curriculum/program/{credits.pk}/delete/").status_code == 403
    assert_rows_current()
