"""Session and activity rosters (seed 002): who is enrolled, and marking them completed or not completed, which is
what a Learning Plan's progress counts (R-CUR-2) and what its reports show (R-CUR-11)."""

import csv
import datetime as dt
import html
import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.curriculum import factories as cf
from waypoint.curriculum.models import Curriculum, EnrolmentStatus, Program, ProgramEnrolment, Session
from waypoint.curriculum.reports import PlanRow, ReportFilter, status_highlights_page
from waypoint.curriculum.services.assignments import curriculum_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client) -> AbstractUser:
    user = cf.supervisor()
    client.force_login(user)
    return user


def _text(response: Any) -> str:
    """The page as a person reads it: entities unescaped."""
    return html.unescape(response.content.decode())


def _enrol(
    program: Program, session: Session | None = None, *, status: str = EnrolmentStatus.ENROLLED, **person: Any
) -> ProgramEnrolment:
    completed_at = timezone.now() if status == EnrolmentStatus.COMPLETED else None
    return ProgramEnrolment.objects.create(
        person=cf.professional(**person), program=program, session=session, status=status, completed_at=completed_at
    )


def _roster_url(session: Session) -> str:
    return reverse("curriculum_session_roster", args=[session.program_id, session.pk])


def _status(enrolment: ProgramEnrolment) -> str:
    enrolment.refresh_from_db()
    return enrolment.status


def _plan_for(program: Program, person: AbstractUser, by: AbstractUser) -> Curriculum:
    """A plan whose one Sessions milestone needs `program`, assigned to `person` through the service."""
    plan = cf.curriculum()
    cf.milestone(plan, programs=[program])
    curriculum_assign(curriculum=plan, people=get_user_model().objects.filter(pk=person.pk), by=by)
    return plan


def _highlights(plan: Curriculum) -> PlanRow:
    [row] = status_highlights_page(ReportFilter(plan=plan.pk)).rows
    return row


# Finding the roster


def test_the_program_page_links_each_session_to_its_roster(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=2)
    text = _text(client.get(reverse("curriculum_program", args=[program.pk])))
    for session in program.sessions.all():
        assert f'href="{_roster_url(session)}"' in text


def test_an_activity_page_links_to_the_activity_roster(client: Client, admin: AbstractUser) -> None:
    activity = cf.activity()
    text = _text(client.get(reverse("curriculum_program", args=[activity.pk])))
    assert f'href="{reverse("curriculum_program_roster", args=[activity.pk])}"' in text


def test_a_program_with_enrolments_without_a_session_links_to_their_roster(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    roster = reverse("curriculum_program_roster", args=[program.pk])
    assert f'href="{roster}"' not in _text(client.get(reverse("curriculum_program", args=[program.pk])))
    _enrol(program)
    text = _text(client.get(reverse("curriculum_program", args=[program.pk])))
    assert f'href="{roster}"' in text
    assert "1 enrolment without a session" in text


# What the roster shows


def test_a_session_roster_lists_the_people_enrolled_with_status_and_completed_date(
    client: Client, admin: AbstractUser
) -> None:
    program = cf.program(sessions=2)
    first, second = program.sessions.order_by("starts_at")
    ada = _enrol(program, first, first_name="Ada", last_name="Lovelace", email="ada@example.org")
    bo = _enrol(program, first, status=EnrolmentStatus.COMPLETED, first_name="Bo", last_name="Brown")
    ProgramEnrolment.objects.filter(pk=bo.pk).update(completed_at=dt.datetime(2027, 3, 2, 12, tzinfo=dt.UTC))
    cy = _enrol(program, first, status=EnrolmentStatus.CANCELLED, first_name="Cy", last_name="Cole")
    _enrol(program, second, first_name="Di", last_name="Elsewhere")
    _enrol(cf.program(sessions=0), first_name="Ed", last_name="Otherprogram")

    response = client.get(_roster_url(first))

    assert response.status_code == 200
    assert [e.pk for e in response.context["page"]] == [bo.pk, cy.pk, ada.pk]
    text = _text(response)
    assert "Ada Lovelace" in text
    assert "ada@example.org" in text
    assert "2 Mar 2027" in text
    for label in ("Enrolled", "Completed", "Cancelled"):
        assert label in text
    assert "Elsewhere" not in text
    assert "Otherprogram" not in text
    assert "1 enrolled · 1 completed · 1 cancelled" in text
    assert f'value="{cy.pk}" aria-label="Choose Cy Cole" disabled' in text
    assert "Mark completed" in text
    assert "Mark not completed" in text


def test_the_roster_searches_by_name_or_email_and_filters_by_status(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    _enrol(program, session, first_name="Ada", last_name="Lovelace", email="ada@lab.example.org")
    _enrol(program, session, status=EnrolmentStatus.COMPLETED, first_name="Ada", last_name="King")
    _enrol(program, session, first_name="Bo", last_name="Brown", email="bo@lab.example.org")

    def names(**query: str) -> list[str]:
        return [e.person.last_name for e in client.get(_roster_url(session), query).context["page"]]

    assert names(q="ada") == ["King", "Lovelace"]
    assert names(q="lab.example") == ["Brown", "Lovelace"]
    assert names(q="ada love") == ["Lovelace"]
    assert names(status="completed") == ["King"]
    assert names(q="ada", status="enrolled") == ["Lovelace"]
    assert names(status="nonsense") == ["Brown", "King", "Lovelace"]
    assert "Nobody on the roster matches." in _text(client.get(_roster_url(session), {"q": "nobody"}))


def test_the_roster_is_paged(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    for n in range(55):
        _enrol(program, session, last_name=f"Person {n:03}")
    first = _text(client.get(_roster_url(session)))
    assert "Person 000" in first
    assert "Person 054" not in first
    assert 'rel="next"' in first
    assert "Person 054" in _text(client.get(_roster_url(session), {"page": 2}))


def test_a_session_of_another_program_has_no_roster(client: Client, admin: AbstractUser) -> None:
    session = cf.program(sessions=1).sessions.get()
    other = cf.program(sessions=0)
    assert client.get(reverse("curriculum_session_roster", args=[other.pk, session.pk])).status_code == 404
    assert client.get(reverse("curriculum_session_roster_csv", args=[other.pk, session.pk])).status_code == 404
    assert client.get(reverse("curriculum_program_roster", args=[999_999])).status_code == 404


# Marking completed and not completed


def test_marking_completed_counts_towards_the_plan_and_its_status_highlights_row_r_cur_2_r_cur_11(
    client: Client, admin: AbstractUser
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session, first_name="Ada")
    bo = _enrol(program, session, first_name="Bo")
    plan = _plan_for(program, ada.person, admin)
    assert (_highlights(plan).milestones_met, _highlights(plan).status) == (0, "not_started")

    url = _roster_url(session) + "?q=ada"
    response = client.post(url, {"enrolments": [ada.pk], "action": "completed"})

    assert response.status_code == 302
    assert response["Location"] == url
    ada.refresh_from_db()
    assert ada.status == EnrolmentStatus.COMPLETED
    assert ada.completed_at is not None
    assert _status(bo) == EnrolmentStatus.ENROLLED
    row = _highlights(plan)
    assert (row.milestones_met, row.milestones_total, row.progress, row.status) == (1, 1, 100, "completed")
    text = _text(client.get(url))
    assert "Marked 1 enrolment(s) completed" in text


def test_several_are_marked_completed_in_one_go_and_those_already_completed_are_told_apart(
    client: Client, admin: AbstractUser
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    enrolled = [_enrol(program, session) for _ in range(3)]
    done = _enrol(program, session, status=EnrolmentStatus.COMPLETED)
    done_at = ProgramEnrolment.objects.get(pk=done.pk).completed_at

    response = client.post(
        _roster_url(session), {"enrolments": [e.pk for e in [*enrolled, done]], "action": "completed"}, follow=True
    )

    assert [_status(e) for e in enrolled] == [EnrolmentStatus.COMPLETED] * 3
    assert ProgramEnrolment.objects.get(pk=done.pk).completed_at == done_at
    text = _text(response)
    assert "Marked 3 enrolment(s) completed" in text
    assert "1 of those chosen already were completed" in text


def test_marking_not_completed_puts_them_back_to_enrolled_and_the_report_follows_r_cur_11(
    client: Client, admin: AbstractUser
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session)
    plan = _plan_for(program, ada.person, admin)
    client.post(_roster_url(session), {"enrolments": [ada.pk], "action": "completed"})
    assert _highlights(plan).status == "completed"

    response = client.post(_roster_url(session), {"enrolments": [ada.pk], "action": "not_completed"}, follow=True)

    ada.refresh_from_db()
    assert (ada.status, ada.completed_at) == (EnrolmentStatus.ENROLLED, None)
    assert (_highlights(plan).milestones_met, _highlights(plan).status) == (0, "not_started")
    assert "Marked 1 enrolment(s) not completed" in _text(response)


def test_choosing_a_cancelled_enrolment_is_refused_with_the_reason_and_nothing_changes(
    client: Client, admin: AbstractUser
) -> None:
    program = cf.program(sessions=1, name="Coaching")
    session = program.sessions.get()
    ada = _enrol(program, session)
    cy = _enrol(program, session, status=EnrolmentStatus.CANCELLED, first_name="Cy", last_name="Cole")

    response = client.post(_roster_url(session), {"enrolments": [ada.pk, cy.pk], "action": "completed"})

    assert response.status_code == 422
    assert "were cancelled, so they cannot be completed: Cy Cole (Coaching)" in _text(response)
    assert _status(ada) == EnrolmentStatus.ENROLLED
    assert _status(cy) == EnrolmentStatus.CANCELLED


def test_choosing_nobody_is_refused_with_a_message(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session)
    response = client.post(_roster_url(session), {"action": "completed"})
    assert response.status_code == 422
    assert "Choose at least one enrolment." in _text(response)
    assert _status(ada) == EnrolmentStatus.ENROLLED


def test_an_enrolment_from_another_roster_is_refused_and_nothing_changes(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=2)
    first, second = program.sessions.order_by("starts_at")
    here = _enrol(program, first)
    there = _enrol(program, second)
    response = client.post(_roster_url(first), {"enrolments": [here.pk, there.pk], "action": "completed"})
    assert response.status_code == 422
    assert "is not on this roster any more" in _text(response)
    assert _status(here) == _status(there) == EnrolmentStatus.ENROLLED


def test_a_post_without_an_action_is_refused_and_nothing_changes(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session)
    response = client.post(_roster_url(session), {"enrolments": [ada.pk], "action": "delete"})
    assert response.status_code == 422
    assert _status(ada) == EnrolmentStatus.ENROLLED


def test_staff_without_supervisor_is_told_why_and_nothing_changes(client: Client) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session)
    client.force_login(cf.staff_without_supervisor())
    assert client.get(_roster_url(session)).status_code == 200
    response = client.post(_roster_url(session), {"enrolments": [ada.pk], "action": "completed"})
    assert response.status_code == 403
    assert "Supervisor" in _text(response)
    assert _status(ada) == EnrolmentStatus.ENROLLED


def test_a_professional_is_refused_every_roster_page_and_export(client: Client) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    activity = cf.activity()
    ada = _enrol(program, session)
    client.force_login(ada.person)
    for url in (
        _roster_url(session),
        reverse("curriculum_session_roster_csv", args=[program.pk, session.pk]),
        reverse("curriculum_program_roster", args=[activity.pk]),
        reverse("curriculum_program_roster_csv", args=[activity.pk]),
    ):
        assert client.get(url).status_code == 403, url
    for url in (_roster_url(session), reverse("curriculum_program_roster", args=[activity.pk])):
        assert client.post(url, {"enrolments": [ada.pk], "action": "completed"}).status_code == 403, url
    assert _status(ada) == EnrolmentStatus.ENROLLED


# Activities


def test_an_activity_roster_lists_its_enrolments_and_marks_them_completed_r_cur_2(
    client: Client, admin: AbstractUser
) -> None:
    activity = cf.activity(name="Reading list")
    ada = _enrol(activity, first_name="Ada", last_name="Lovelace")
    _enrol(cf.activity(), first_name="Bo", last_name="Otheractivity")
    plan = _plan_for(activity, ada.person, admin)
    url = reverse("curriculum_program_roster", args=[activity.pk])

    page = client.get(url)
    assert [e.pk for e in page.context["page"]] == [ada.pk]
    assert "Otheractivity" not in _text(page)
    assert "Self-paced activity" in _text(page)

    response = client.post(url, {"enrolments": [ada.pk], "action": "completed"}, follow=True)

    assert _status(ada) == EnrolmentStatus.COMPLETED
    assert _highlights(plan).status == "completed"
    assert "Marked 1 enrolment(s) completed" in _text(response)


def test_a_session_enrolment_is_not_on_the_program_level_roster(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    in_session = _enrol(program, program.sessions.get())
    url = reverse("curriculum_program_roster", args=[program.pk])
    assert list(client.get(url).context["page"]) == []
    response = client.post(url, {"enrolments": [in_session.pk], "action": "completed"})
    assert response.status_code == 422
    assert _status(in_session) == EnrolmentStatus.ENROLLED


# The CSV export


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_roster_downloads_as_csv_as_searched_with_formula_cells_quoted(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1, code="COACH 1")
    session = program.sessions.get()
    ada = _enrol(
        program,
        session,
        status=EnrolmentStatus.COMPLETED,
        first_name="=HYPERLINK(1)",
        last_name="Lab",
        username="ada",
        email="@ada@example.org",
    )
    ProgramEnrolment.objects.filter(pk=ada.pk).update(
        created_at=dt.datetime(2027, 2, 1, 9, tzinfo=dt.UTC), completed_at=dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC)
    )
    bo = _enrol(program, session, first_name="Bo", last_name="Lab", username="bo")
    _enrol(program, session, first_name="Cy", last_name="Elsewhere")

    response = client.get(
        reverse("curriculum_session_roster_csv", args=[program.pk, session.pk]), {"q": "lab", "status": ""}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="roster-coach-1-20270301-0900.csv"'
    rows = _csv(response)
    assert rows[0] == ["Person", "Username", "Email", "Status", "Enrolled On", "Completed On"]
    assert rows[1] == ["'=HYPERLINK(1) Lab", "ada", "'@ada@example.org", "Completed", "2027-02-01", "2027-03-01"]
    assert rows[2] == ["Bo Lab", "bo", bo.person.email, "Enrolled", timezone.localdate(bo.created_at).isoformat(), ""]
    assert len(rows) == 3


def test_the_page_links_the_csv_with_its_search(client: Client, admin: AbstractUser) -> None:
    activity = cf.activity()
    text = _text(client.get(reverse("curriculum_program_roster", args=[activity.pk]), {"q": "ada"}))
    assert f'href="{reverse("curriculum_program_roster_csv", args=[activity.pk])}?q=ada"' in text


def test_the_activity_roster_downloads_as_csv(client: Client, admin: AbstractUser) -> None:
    activity = cf.activity(code="READ")
    _enrol(activity, first_name="Ada", last_name="Lovelace", username="ada", email="ada@example.org")
    response = client.get(reverse("curriculum_program_roster_csv", args=[activity.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="roster-read.csv"'
    assert [row[:4] for row in _csv(response)[1:]] == [["Ada Lovelace", "ada", "ada@example.org", "Enrolled"]]


# What the roster costs


def test_the_roster_costs_the_same_for_few_and_many_enrolments(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    for status in EnrolmentStatus.values:
        _enrol(program, session, status=status)
    url = _roster_url(session)
    client.get(url)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    for n in range(30):
        _enrol(program, session, status=EnrolmentStatus.COMPLETED if n % 2 else EnrolmentStatus.ENROLLED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
