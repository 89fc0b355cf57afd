"""A professional's own enrolments where a plan's registration is Disabled: enrolling in a session or an activity
without a registration, and cancelling such an enrolment (R-CUR-1, R-CUR-8), through the services and the API."""

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as base
from tests.api.conftest import ApiClient, assert_error, token_client
from tests.curriculum import factories as f
from waypoint.core.errors import Conflict, NotFound, ValidationFailed
from waypoint.curriculum.models import (
    Curriculum,
    EnrolmentStatus,
    Program,
    ProgramEnrolment,
    RegistrationType,
    Session,
)
from waypoint.curriculum.services import enrolments
from waypoint.curriculum.services.enrolments import enrolment_cancel, program_enrol
from waypoint.curriculum.services.registrations import registration_choose, registration_start
from waypoint.people.models import Perm

pytestmark = pytest.mark.django_db


def open_plan(*programs: Program, **values: Any) -> Curriculum:
    """A plan in a catalog whose registration is Disabled, with one elective milestone linking `programs`."""
    values.setdefault("registration_type", RegistrationType.DISABLED)
    plan = f.curriculum(catalogs=[f.catalog()], **values)
    f.milestone(plan, programs=list(programs), metric="none")
    return plan


def program_with_session(**session_values: Any) -> tuple[Program, Session]:
    program = f.program(sessions=0)
    return program, f.session(program, **session_values)


def started() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=1)


def snapshot() -> list[tuple[Any, ...]]:
    return list(ProgramEnrolment.objects.order_by("pk").values_list("pk", "person_id", "session_id", "status"))


# Enrolling


def test_a_professional_enrols_in_a_session_of_a_program_of_a_plan_without_registration() -> None:
    program, session = program_with_session(capacity=10)
    open_plan(program)
    pat = f.professional()

    made = program_enrol(person=pat, program=program, session=session)

    assert (made.person_id, made.program_id, made.session_id) == (pat.pk, program.pk, session.pk)
    assert made.status == EnrolmentStatus.ENROLLED
    assert (made.registration_id, made.milestone_id) == (None, None)


def test_a_professional_enrols_in_an_activity_without_a_session() -> None:
    activity = f.activity()
    open_plan(activity)
    pat = f.professional()

    made = program_enrol(person=pat, program=activity)

    assert (made.program_id, made.session_id, made.status) == (activity.pk, None, EnrolmentStatus.ENROLLED)


def test_a_session_that_has_started_is_refused_and_nothing_changes() -> None:
    program, session = program_with_session(starts_at=started())
    open_plan(program)

    with pytest.raises(Conflict, match="has started"):
        program_enrol(person=f.professional(), program=program, session=session)

    assert not ProgramEnrolment.objects.exists()


def test_a_full_session_is_refused_counting_every_enrolment_that_is_not_cancelled() -> None:
    program, session = program_with_session(capacity=2)
    open_plan(program)
    ProgramEnrolment.objects.create(person=f.professional(), program=program, session=session)
    ProgramEnrolment.objects.create(
        person=f.professional(), program=program, session=session, status=EnrolmentStatus.COMPLETED
    )
    before = snapshot()

    with pytest.raises(Conflict, match="is full"):
        program_enrol(person=f.professional(), program=program, session=session)

    assert snapshot() == before


def test_a_cancelled_enrolment_frees_its_place() -> None:
    program, session = program_with_session(capacity=1)
    open_plan(program)
    ProgramEnrolment.objects.create(
        person=f.professional(), program=program, session=session, status=EnrolmentStatus.CANCELLED
    )

    made = program_enrol(person=f.professional(), program=program, session=session)

    assert made.session_id == session.pk


@pytest.mark.parametrize(
    ("status", "message"),
    [(EnrolmentStatus.ENROLLED, "already enrolled"), (EnrolmentStatus.COMPLETED, "already completed")],
)
def test_a_person_with_an_open_enrolment_in_the_program_is_refused(status: str, message: str) -> None:
    program = f.program(sessions=2)
    first, second = program.sessions.order_by("starts_at")
    open_plan(program)
    pat = f.professional()
    ProgramEnrolment.objects.create(person=pat, program=program, session=first, status=status)
    before = snapshot()

    with pytest.raises(Conflict, match=message):
        program_enrol(person=pat, program=program, session=second)

    assert snapshot() == before


def test_after_cancelling_a_person_may_enrol_again() -> None:
    program, session = program_with_session()
    open_plan(program)
    pat = f.professional()
    enrolment_cancel(person=pat, enrolment=program_enrol(person=pat, program=program, session=session))

    again = program_enrol(person=pat, program=program, session=session)

    assert again.status == EnrolmentStatus.ENROLLED
    assert ProgramEnrolment.objects.filter(person=pat).count() == 2


def test_a_session_given_for_an_activity_is_refused() -> None:
    activity = f.activity()
    _, session = program_with_session()
    open_plan(activity)

    with pytest.raises(ValidationFailed, match="is an activity") as refused:
        program_enrol(person=f.professional(), program=activity, session=session)

    assert "session_id" in refused.value.fields
    assert not ProgramEnrolment.objects.exists()


def test_a_program_delivered_in_sessions_needs_a_session() -> None:
    program, _ = program_with_session()
    open_plan(program)

    with pytest.raises(ValidationFailed, match="choose a session"):
        program_enrol(person=f.professional(), program=program)

    assert not ProgramEnrolment.objects.exists()


def test_another_programs_session_is_refused() -> None:
    program, _ = program_with_session()
    _, elsewhere = program_with_session()
    open_plan(program)

    with pytest.raises(ValidationFailed, match="not one of"):
        program_enrol(person=f.professional(), program=program, session=elsewhere)

    assert not ProgramEnrolment.objects.exists()


@pytest.mark.parametrize("registration_type", [RegistrationType.ENFORCED, RegistrationType.NON_ENFORCED])
def test_a_program_of_a_plan_with_registration_is_enrolled_in_through_the_registration(registration_type: str) -> None:
    program, session = program_with_session()
    open_plan(program, registration_type=registration_type)

    with pytest.raises(ValidationFailed, match="through a registration"):
        program_enrol(person=f.professional(), program=program, session=session)

    assert not ProgramEnrolment.objects.exists()


def test_a_plan_the_person_cannot_open_does_not_open_its_programs() -> None:
    program, session = program_with_session()
    hidden = f.curriculum(registration_type=RegistrationType.DISABLED)  # in no catalog, assigned to nobody
    f.milestone(hidden, programs=[program], metric="none")

    with pytest.raises(ValidationFailed, match="not open for direct enrolment"):
        program_enrol(person=f.professional(), program=program, session=session)

    assert not ProgramEnrolment.objects.exists()


def test_enrolling_and_cancelling_leave_the_report_rows_alone() -> None:
    """Only completions count towards progress and reports, so neither rewrites a report row."""
    activity = f.activity()
    open_plan(activity)
    pat = f.professional()
    with CaptureQueriesContext(connection) as queries:
        enrolment_cancel(person=pat, enrolment=program_enrol(person=pat, program=activity))
    assert not [q for q in queries.captured_queries if "curriculum_report" in q["sql"]]


# Cancelling


def test_a_person_cancels_their_own_direct_enrolment_and_frees_the_place() -> None:
    program, session = program_with_session(capacity=1)
    open_plan(program)
    pat, sam = f.professional(), f.professional()
    made = program_enrol(person=pat, program=program, session=session)

    cancelled = enrolment_cancel(person=pat, enrolment=made)

    assert cancelled.status == EnrolmentStatus.CANCELLED
    assert ProgramEnrolment.objects.get(pk=made.pk).status == EnrolmentStatus.CANCELLED
    assert program_enrol(person=sam, program=program, session=session).session_id == session.pk


def test_someone_elses_enrolment_is_not_found_and_stays() -> None:
    activity = f.activity()
    open_plan(activity)
    made = program_enrol(person=f.professional(), program=activity)

    with pytest.raises(NotFound):
        enrolment_cancel(person=f.professional(), enrolment=made)

    assert ProgramEnrolment.objects.get(pk=made.pk).status == EnrolmentStatus.ENROLLED


@pytest.mark.parametrize(
    ("status", "message"),
    [(EnrolmentStatus.COMPLETED, "completed enrolment cannot be cancelled"), (EnrolmentStatus.CANCELLED, "already")],
)
def test_a_completed_or_cancelled_enrolment_is_not_cancelled(status: str, message: str) -> None:
    activity = f.activity()
    open_plan(activity)
    pat = f.professional()
    made = ProgramEnrolment.objects.create(person=pat, program=activity, status=status)
    before = snapshot()

    with pytest.raises(Conflict, match=message):
        enrolment_cancel(person=pat, enrolment=made)

    assert snapshot() == before


def test_an_enrolment_made_through_a_registration_is_ended_by_deleting_the_registration() -> None:
    """R-CUR-8: the person cannot cancel it themself; the refusal says how it ends."""
    program, session = program_with_session()
    plan = f.curriculum(registration_type=RegistrationType.NON_ENFORCED, catalogs=[f.catalog()])
    milestone = f.milestone(plan, programs=[program])
    pat = f.professional()
    registration = registration_start(curriculum=plan, person=pat)
    [made] = registration_choose(registration=registration, milestone=milestone, sessions=[session])
    before = snapshot()

    with pytest.raises(Conflict, match="deleting the registration"):
        enrolment_cancel(person=pat, enrolment=made)

    assert snapshot() == before


def test_an_enrolment_whose_session_has_started_is_not_cancelled() -> None:
    program, session = program_with_session()
    open_plan(program)
    pat = f.professional()
    made = program_enrol(person=pat, program=program, session=session)
    Session.objects.filter(pk=session.pk).update(starts_at=started())
    before = snapshot()

    with pytest.raises(Conflict, match="has started"):
        enrolment_cancel(person=pat, enrolment=made)

    assert snapshot() == before


# Two people and the last place (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_two_people_cannot_take_the_last_place_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL only: there, transactions run side by side and the session lock is what keeps the last place for
    one person. A SQLite transaction takes the write lock when it begins (IMMEDIATE), so enrolments never overlap
    there, and its in-memory test database cannot be shared between threads' transactions."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite runs one write transaction at a time")
    program, session = program_with_session(capacity=1)
    open_plan(program)
    people = [f.professional() for _ in range(4)]
    checked = enrolments._refuse_if_already_enrolled

    def slow_check(person: Any, program: Program) -> None:
        checked(person, program)
        time.sleep(0.2)  # between the capacity check and the insert: every attempt overlaps without the lock

    monkeypatch.setattr(enrolments, "_refuse_if_already_enrolled", slow_check)
    start = threading.Barrier(len(people))
    outcomes: list[str] = []

    def attempt(person: AbstractUser) -> None:
        try:
            start.wait()
            program_enrol(person=person, program=program, session=session)
            outcomes.append("enrolled")
        except Conflict:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["enrolled", "full", "full", "full"]
    assert ProgramEnrolment.objects.filter(session=session).count() == 1


# The API


@pytest.fixture
def pat() -> AbstractUser:
    """A professional who may call the API (the API serves staff users)."""
    return base.staff([Perm.COMPLIANCE_QA])


@pytest.fixture
def api(pat: AbstractUser) -> ApiClient:
    return token_client(pat)


def test_api_enrols_lists_and_cancels_the_callers_enrolment(api: ApiClient, pat: AbstractUser) -> None:
    program, session = program_with_session(capacity=3, location="Room 4")
    activity = f.activity(name="Reading list")
    open_plan(program, activity)

    made = api.post(f"/programs/{program.pk}/my-enrolments", {"session_id": session.pk})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["program_id"] == program.pk
    assert body["session_id"] == session.pk
    assert body["status"] == "enrolled"
    assert body["registration_id"] is None
    assert body["program_kind"] == "program"
    assert body["session_starts_at"] is not None
    on_activity = api.post(f"/programs/{activity.pk}/my-enrolments", {"session_id": None})
    assert on_activity.status_code == 201, on_activity.content
    assert on_activity.json()["session_id"] is None
    ProgramEnrolment.objects.create(person=f.professional(), program=activity)  # someone else's: not listed

    listed = api.get("/my-enrolments").json()
    assert listed["count"] == 2
    assert {e["program_name"] for e in listed["items"]} == {program.name, "Reading list"}

    deleted = api.delete(f"/my-enrolments/{body['id']}")
    assert deleted.status_code == 204, deleted.content
    assert ProgramEnrolment.objects.get(pk=body["id"]).status == EnrolmentStatus.CANCELLED
    assert api.get("/my-enrolments", status="cancelled").json()["count"] == 1
    assert api.get("/my-enrolments", status="enrolled").json()["count"] == 1
    assert_error(api.delete(f"/my-enrolments/{body['id']}"), 409, "conflict")


def test_api_paginates_the_callers_enrolments(api: ApiClient, pat: AbstractUser) -> None:
    activities = [f.activity() for _ in range(3)]
    open_plan(*activities)
    for activity in activities:
        ProgramEnrolment.objects.create(person=pat, program=activity)

    page = api.get("/my-enrolments", page=2, page_size=2).json()

    assert (page["count"], page["page"], page["page_size"], len(page["items"])) == (3, 2, 2, 1)


def test_api_refusals_change_nothing(api: ApiClient, pat: AbstractUser) -> None:
    program, session = program_with_session(capacity=1)
    late, begun = program_with_session(starts_at=started())
    activity = f.activity()
    enforced, enforced_session = program_with_session()
    open_plan(program, late, activity)
    open_plan(enforced, registration_type=RegistrationType.ENFORCED)
    ProgramEnrolment.objects.create(person=f.professional(), program=program, session=session)
    before = snapshot()

    assert_error(api.post(f"/programs/{program.pk}/my-enrolments", {"session_id": session.pk}), 409, "conflict")
    assert_error(api.post(f"/programs/{late.pk}/my-enrolments", {"session_id": begun.pk}), 409, "conflict")
    assert_error(
        api.post(f"/programs/{activity.pk}/my-enrolments", {"session_id": session.pk}), 422, "validation_failed"
    )
    assert_error(api.post(f"/programs/{program.pk}/my-enrolments", {}), 422, "validation_failed")
    assert_error(
        api.post(f"/programs/{enforced.pk}/my-enrolments", {"session_id": enforced_session.pk}),
        422,
        "validation_failed",
    )
    assert_error(api.post("/programs/999999/my-enrolments", {}), 404, "not_found")
    assert_error(api.post(f"/programs/{program.pk}/my-enrolments", {"session_id": 999999}), 404, "not_found")
    assert_error(api.post(f"/programs/{program.pk}/my-enrolments", {"session_id": 0}), 422, "invalid_input")
    assert snapshot() == before


def test_api_someone_elses_enrolment_is_not_found(api: ApiClient) -> None:
    activity = f.activity()
    open_plan(activity)
    theirs = ProgramEnrolment.objects.create(person=f.professional(), program=activity)

    assert_error(api.delete(f"/my-enrolments/{theirs.pk}"), 404, "not_found")

    assert ProgramEnrolment.objects.get(pk=theirs.pk).status == EnrolmentStatus.ENROLLED


def test_api_an_enrolment_made_through_a_registration_is_not_cancelled_by_its_owner(
    api: ApiClient, pat: AbstractUser
) -> None:
    program, session = program_with_session()
    plan = f.curriculum(catalogs=[f.catalog()])
    milestone = f.milestone(plan, programs=[program])
    [made] = registration_choose(
        registration=registration_start(curriculum=plan, person=pat), milestone=milestone, sessions=[session]
    )

    refused = assert_error(api.delete(f"/my-enrolments/{made.pk}"), 409, "conflict")

    assert "registration" in refused["message"]
    assert ProgramEnrolment.objects.get(pk=made.pk).status == EnrolmentStatus.ENROLLED
