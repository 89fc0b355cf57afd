"""Rosters and completions of programs and sessions, and catalog changes, over the API: what the set-up pages offer
is also in the API (R-PLUS-4); completions are what a plan's progress counts (R-CUR-2) and its reports show
(R-CUR-11); catalogs are edited and deleted (R-CUR-9)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.utils import timezone

from tests.api.conftest import ApiClient, assert_error, token_client
from tests.curriculum import factories as cf
from waypoint.curriculum.models import Catalog, Curriculum, EnrolmentStatus, Program, ProgramEnrolment, Session
from waypoint.curriculum.reports import PlanRow, ReportFilter, status_highlights_page
from waypoint.curriculum.services.assignments import curriculum_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(db: None) -> AbstractUser:
    return cf.supervisor()


@pytest.fixture
def api(supervisor: AbstractUser) -> ApiClient:
    """A Supervisor's API client."""
    return token_client(supervisor)


def _enrol(
    program: Program, session: Session | None = None, *, status: str = EnrolmentStatus.ENROLLED, **person: Any
) -> ProgramEnrolment:
    completed_at = timezone.now() if status == EnrolmentStatus.COMPLETED else None
    return ProgramEnrolment.objects.create(
        person=cf.professional(**person), program=program, session=session, status=status, completed_at=completed_at
    )


def _status(enrolment: ProgramEnrolment) -> str:
    enrolment.refresh_from_db()
    return enrolment.status


def _plan_for(program: Program, person: AbstractUser, by: AbstractUser) -> Curriculum:
    plan = cf.curriculum()
    cf.milestone(plan, programs=[program])
    curriculum_assign(curriculum=plan, people=get_user_model().objects.filter(pk=person.pk), by=by)
    return plan


def _highlights(plan: Curriculum) -> PlanRow:
    [row] = status_highlights_page(ReportFilter(plan=plan.pk)).rows
    return row


# Rosters


def test_a_session_roster_is_listed_by_name_with_person_status_and_dates_r_plus_4(api: ApiClient) -> None:
    program = cf.program(sessions=2)
    first, second = program.sessions.order_by("starts_at")
    ada = _enrol(program, first, first_name="Ada", last_name="Lovelace", username="ada", email="ada@example.org")
    bo = _enrol(program, first, status=EnrolmentStatus.COMPLETED, last_name="Brown")
    _enrol(program, second, last_name="Elsewhere")

    response = api.get(f"/sessions/{first.pk}/enrolments")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 50)
    assert [item["id"] for item in body["items"]] == [bo.pk, ada.pk]
    item = body["items"][1]
    assert item["person"] == {
        "id": ada.person_id,
        "name": "Ada Lovelace",
        "username": "ada",
        "email": "ada@example.org",
    }
    assert (item["program_id"], item["session_id"], item["status"]) == (program.pk, first.pk, "enrolled")
    assert item["completed_at"] is None
    assert abs(dt.datetime.fromisoformat(item["enrolled_at"]) - ada.created_at) < dt.timedelta(milliseconds=1)
    assert body["items"][0]["status"] == "completed"
    assert body["items"][0]["completed_at"] is not None


def test_a_roster_is_searched_filtered_by_status_and_paged(api: ApiClient) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    _enrol(program, session, first_name="Ada", last_name="Lovelace", email="ada@lab.example.org")
    _enrol(program, session, status=EnrolmentStatus.COMPLETED, first_name="Ada", last_name="King")
    _enrol(program, session, first_name="Bo", last_name="Brown", email="bo@lab.example.org")

    def names(**params: Any) -> list[str]:
        response = api.get(f"/sessions/{session.pk}/enrolments", **params)
        assert response.status_code == 200, response.content
        return [item["person"]["name"].split()[-1] for item in response.json()["items"]]

    assert names(search="ada") == ["King", "Lovelace"]
    assert names(search="lab.example") == ["Brown", "Lovelace"]
    assert names(status="completed") == ["King"]
    assert names(page=2, page_size=2) == ["Lovelace"]
    assert names(page=3, page_size=2) == []
    assert_error(api.get(f"/sessions/{session.pk}/enrolments", status="finished"), 422, "invalid_input")


def test_a_program_lists_every_enrolment_in_its_sessions_or_without_one(api: ApiClient) -> None:
    """An activity's enrolments have no session; a program's list holds every session's enrolments."""
    program = cf.program(sessions=2)
    first, second = program.sessions.order_by("starts_at")
    activity = cf.activity()
    in_first = _enrol(program, first, last_name="A")
    in_second = _enrol(program, second, last_name="B")
    doing = _enrol(activity, last_name="C")
    _enrol(cf.program(sessions=0), last_name="D")

    listed = api.get(f"/programs/{program.pk}/enrolments").json()["items"]
    assert [(i["id"], i["session_id"]) for i in listed] == [(in_first.pk, first.pk), (in_second.pk, second.pk)]
    [only] = api.get(f"/programs/{activity.pk}/enrolments").json()["items"]
    assert (only["id"], only["session_id"], only["program_id"]) == (doing.pk, None, activity.pk)


def test_an_unknown_program_or_session_is_not_found(api: ApiClient) -> None:
    assert_error(api.get("/sessions/999999/enrolments"), 404, "not_found")
    assert_error(api.get("/programs/999999/enrolments"), 404, "not_found")
    assert_error(api.post("/programs/999999/completions", {"enrolment_ids": [1], "completed": True}), 404, "not_found")


def test_a_roster_list_costs_the_same_however_many_enrolments(
    api: ApiClient, django_assert_max_num_queries: Any
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    _enrol(program, session)
    api.get(f"/sessions/{session.pk}/enrolments")
    with django_assert_max_num_queries(8) as few:
        api.get(f"/sessions/{session.pk}/enrolments")
    for _ in range(20):
        _enrol(program, session)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get(f"/sessions/{session.pk}/enrolments").json()["count"] == 21


# Completions


def test_marking_completed_counts_towards_the_plan_and_its_status_highlights_row_r_cur_2_r_cur_11(
    api: ApiClient, supervisor: AbstractUser
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session)
    bo = _enrol(program, session)
    plan = _plan_for(program, ada.person, supervisor)
    assert _highlights(plan).status == "not_started"

    response = api.post(f"/programs/{program.pk}/completions", {"enrolment_ids": [ada.pk], "completed": True})

    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 1}
    ada.refresh_from_db()
    assert (ada.status, ada.completed_at is not None) == (EnrolmentStatus.COMPLETED, True)
    assert _status(bo) == EnrolmentStatus.ENROLLED
    row = _highlights(plan)
    assert (row.milestones_met, row.milestones_total, row.progress, row.status) == (1, 1, 100, "completed")


def test_enrolments_of_several_sessions_and_without_one_are_completed_in_one_call_r_plus_4(api: ApiClient) -> None:
    program = cf.program(sessions=2)
    first, second = program.sessions.order_by("starts_at")
    chosen = [_enrol(program, first), _enrol(program, second), _enrol(program)]
    done = _enrol(program, first, status=EnrolmentStatus.COMPLETED)

    response = api.post(
        f"/programs/{program.pk}/completions",
        {"enrolment_ids": [e.pk for e in [*chosen, done, chosen[0]]], "completed": True},
    )

    assert response.json() == {"changed": 3}
    assert {_status(e) for e in [*chosen, done]} == {EnrolmentStatus.COMPLETED}


def test_marking_not_completed_puts_them_back_to_enrolled_and_the_report_follows_r_cur_11(
    api: ApiClient, supervisor: AbstractUser
) -> None:
    activity = cf.activity()
    ada = _enrol(activity)
    plan = _plan_for(activity, ada.person, supervisor)
    api.post(f"/programs/{activity.pk}/completions", {"enrolment_ids": [ada.pk], "completed": True})
    assert _highlights(plan).status == "completed"

    response = api.post(f"/programs/{activity.pk}/completions", {"enrolment_ids": [ada.pk], "completed": False})

    assert response.json() == {"changed": 1}
    ada.refresh_from_db()
    assert (ada.status, ada.completed_at) == (EnrolmentStatus.ENROLLED, None)
    assert (_highlights(plan).milestones_met, _highlights(plan).status) == (0, "not_started")


def test_an_enrolment_of_another_program_is_refused_by_id_and_nothing_changes(api: ApiClient) -> None:
    program = cf.program(sessions=1, name="Coaching")
    mine = _enrol(program, program.sessions.get())
    other = _enrol(cf.program(sessions=1), None)

    response = api.post(
        f"/programs/{program.pk}/completions", {"enrolment_ids": [mine.pk, other.pk, 999999], "completed": True}
    )

    body = assert_error(response, 422, "validation_failed")
    assert f"No enrolment of Coaching has id {other.pk}, 999999" in body["message"]
    assert body["fields"]["enrolment_ids"]
    assert _status(mine) == _status(other) == EnrolmentStatus.ENROLLED


def test_a_cancelled_enrolment_is_refused_and_nothing_changes(api: ApiClient) -> None:
    program = cf.program(sessions=1, name="Coaching")
    session = program.sessions.get()
    ada = _enrol(program, session)
    cy = _enrol(program, session, status=EnrolmentStatus.CANCELLED, first_name="Cy", last_name="Cole")

    response = api.post(f"/programs/{program.pk}/completions", {"enrolment_ids": [ada.pk, cy.pk], "completed": True})

    body = assert_error(response, 422, "validation_failed")
    assert "Cy Cole (Coaching)" in body["message"]
    assert _status(ada) == EnrolmentStatus.ENROLLED
    assert _status(cy) == EnrolmentStatus.CANCELLED


def test_an_empty_or_malformed_choice_is_refused(api: ApiClient) -> None:
    program = cf.program(sessions=1)
    ada = _enrol(program, program.sessions.get())
    path = f"/programs/{program.pk}/completions"
    assert_error(api.post(path, {"enrolment_ids": [], "completed": True}), 422, "invalid_input")
    assert_error(api.post(path, {"enrolment_ids": [ada.pk]}), 422, "invalid_input")
    assert_error(api.post(path, {"enrolment_ids": [0], "completed": True}), 422, "invalid_input")
    assert_error(api.post(path, {"enrolment_ids": [ada.pk], "completed": "maybe"}), 422, "invalid_input")
    assert _status(ada) == EnrolmentStatus.ENROLLED


def test_staff_without_supervisor_may_read_rosters_but_not_record_completions(api: ApiClient) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ada = _enrol(program, session)
    other = token_client(cf.staff_without_supervisor())
    assert other.get(f"/sessions/{session.pk}/enrolments").status_code == 200
    response = other.post(f"/programs/{program.pk}/completions", {"enrolment_ids": [ada.pk], "completed": True})
    assert "Supervisor" in assert_error(response, 403, "permission_denied")["message"]
    assert _status(ada) == EnrolmentStatus.ENROLLED


def test_a_professional_signed_in_cannot_use_the_api(api: ApiClient) -> None:
    program = cf.program(sessions=1)
    ada = _enrol(program, program.sessions.get())
    professional = ApiClient(Client())
    professional.client.force_login(ada.person)
    assert_error(professional.get(f"/programs/{program.pk}/enrolments"), 401, "not_authenticated")
    response = professional.post(f"/programs/{program.pk}/completions", {"enrolment_ids": [ada.pk], "completed": True})
    assert_error(response, 401, "not_authenticated")
    assert _status(ada) == EnrolmentStatus.ENROLLED


# Catalogs (R-CUR-9, R-PLUS-4: the catalog page renames and deletes)


def test_a_catalog_is_read_renamed_and_its_description_changed(api: ApiClient) -> None:
    catalog = cf.catalog(name="Leadership", description="For leaders.")
    plan = cf.curriculum(catalogs=[catalog])
    assert api.get(f"/catalogs/{catalog.pk}").json() == {
        "id": catalog.pk,
        "name": "Leadership",
        "description": "For leaders.",
    }

    renamed = api.patch(f"/catalogs/{catalog.pk}", {"name": "  Leading teams "})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Leading teams"
    assert renamed.json()["description"] == "For leaders."
    described = api.patch(f"/catalogs/{catalog.pk}", {"description": ""}).json()
    assert (described["name"], described["description"]) == ("Leading teams", "")
    assert list(plan.catalogs.all()) == [catalog]


def test_a_catalog_change_breaking_a_rule_is_refused_and_nothing_changes(api: ApiClient) -> None:
    cf.catalog(name="Onboarding")
    catalog = cf.catalog(name="Leadership")
    body = assert_error(api.patch(f"/catalogs/{catalog.pk}", {"name": "Onboarding"}), 422, "validation_failed")
    assert body["fields"]["name"]
    assert_error(api.patch(f"/catalogs/{catalog.pk}", {"name": None}), 422, "invalid_input")
    assert_error(api.patch(f"/catalogs/{catalog.pk}", {"name": "   "}), 422, "invalid_input")
    assert_error(api.patch(f"/catalogs/{catalog.pk}", {"name": "x" * 121}), 422, "invalid_input")
    catalog.refresh_from_db()
    assert catalog.name == "Leadership"


def test_an_empty_catalog_is_deleted_and_one_listing_plans_is_refused(api: ApiClient) -> None:
    empty = cf.catalog()
    listing = cf.catalog(name="Leadership")
    cf.curriculum(catalogs=[listing])

    assert api.delete(f"/catalogs/{empty.pk}").status_code == 204
    assert not Catalog.objects.filter(pk=empty.pk).exists()
    body = assert_error(api.delete(f"/catalogs/{listing.pk}"), 409, "conflict")
    assert "still lists 1 learning plan(s)" in body["message"]
    assert Catalog.objects.filter(pk=listing.pk).exists()
    assert_error(api.delete(f"/catalogs/{empty.pk}"), 404, "not_found")
    assert_error(api.patch(f"/catalogs/{empty.pk}", {"name": "Back"}), 404, "not_found")
    assert_error(api.get(f"/catalogs/{empty.pk}"), 404, "not_found")


def test_staff_without_supervisor_may_not_change_or_delete_a_catalog() -> None:
    catalog = cf.catalog(name="Leadership")
    other = token_client(cf.staff_without_supervisor())
    assert_error(other.patch(f"/catalogs/{catalog.pk}", {"name": "Mine"}), 403, "permission_denied")
    assert_error(other.delete(f"/catalogs/{catalog.pk}"), 403, "permission_denied")
    catalog.refresh_from_db()
    assert catalog.name == "Leadership"


def test_the_new_endpoints_are_described_in_openapi_r_plus_4(api: ApiClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {"get"} <= set(paths["/api/v1/sessions/{session_id}/enrolments"])
    assert {"get"} <= set(paths["/api/v1/programs/{program_id}/enrolments"])
    assert {"post"} <= set(paths["/api/v1/programs/{program_id}/completions"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/catalogs/{catalog_id}"])
