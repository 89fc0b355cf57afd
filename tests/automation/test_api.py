"""Process automation and changes of circumstance over the HTTP API (R-PLUS-4)."""

from collections.abc import Mapping
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from tests.automation.helpers import approver, connect, enrolled, mark, messages_after, programme
from waypoint.automation.models import Tracker
from waypoint.epa.models import EpaRegistration
from waypoint.people.models import Group, Perm
from waypoint.programmes.models import Enrolment, ProgrammeStatus

pytestmark = pytest.mark.django_db

BREAK = {"effective_date": "2027-01-31", "reason": "Illness"}


@pytest.fixture
def enrolment() -> Enrolment:
    connect("EPA0001")
    return enrolled(programme("EPA0001"))


@pytest.fixture
def staff_api() -> ApiClient:
    """A staff user with no permissions, who sees every learner: may request changes."""
    return token_client(factories.staff([]))


@pytest.fixture
def approver_api() -> ApiClient:
    return token_client(approver())


@pytest.fixture
def admin() -> AbstractUser:
    return factories.staff([Perm.ADM_EDIT])


def _request(api: ApiClient, enrolment: Enrolment, kind: str, details: Mapping[str, object]) -> dict[str, Any]:
    response = api.post(
        "/automation/trackers",
        {"learner_id": enrolment.learner_id, "enrolment_id": enrolment.pk, "kind": kind, "details": details},
    )
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def _path(enrolment: Enrolment, action: str) -> str:
    return f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/{action}"


# Trackers


def test_a_change_is_requested_read_and_approved_over_the_api(
    staff_api: ApiClient, approver_api: ApiClient, enrolment: Enrolment
) -> None:
    """R-EPA-7: approving over the API applies the change as an approved automation, which is sent."""
    tracker = _request(staff_api, enrolment, "break_in_learning", BREAK)
    assert (tracker["status"], tracker["kind"], tracker["enrolment_id"]) == (
        "requested",
        "break_in_learning",
        enrolment.pk,
    )
    assert tracker["learner"] == {"id": enrolment.learner_id, "name": enrolment.learner.full_name}
    assert tracker["programme"]["id"] == enrolment.programme_id
    assert staff_api.get(f"/automation/trackers/{tracker['id']}").json()["details"] == BREAK
    before = mark()
    response = approver_api.post(f"/automation/trackers/{tracker['id']}/approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["decided_by"]["id"] is not None
    assert Enrolment.objects.get(pk=enrolment.pk).status == ProgrammeStatus.BREAK_IN_LEARNING
    assert [m.kind for m in messages_after(before)] == ["registration.break_in_learning"]


def test_trackers_are_listed_with_filters_and_paging(
    staff_api: ApiClient, approver_api: ApiClient, enrolment: Enrolment
) -> None:
    first = _request(staff_api, enrolment, "break_in_learning", BREAK)
    other = enrolled(programme("EPA0001"))
    second = _request(staff_api, other, "withdrawal", {"effective_date": "2027-03-01", "withdraw_reason": 3})
    approver_api.post(f"/automation/trackers/{second['id']}/reject", {"reason": "The learner stays"})
    listed = staff_api.get("/automation/trackers", page_size=1).json()
    assert (listed["count"], [t["id"] for t in listed["items"]]) == (2, [second["id"]])
    assert [t["id"] for t in staff_api.get("/automation/trackers", status="requested").json()["items"]] == [first["id"]]
    assert [t["id"] for t in staff_api.get("/automation/trackers", kind="withdrawal").json()["items"]] == [second["id"]]
    by_learner = staff_api.get("/automation/trackers", learner_id=enrolment.learner_id).json()["items"]
    assert [t["id"] for t in by_learner] == [first["id"]]
    assert_error(staff_api.get("/automation/trackers", status="maybe"), 422, "invalid_input")


def test_a_rejection_over_the_api_records_the_reason(
    staff_api: ApiClient, approver_api: ApiClient, enrolment: Enrolment
) -> None:
    details = {"programme": programme("EPA0001").pk, "start_date": "2027-02-01", "planned_end_date": "2028-09-01"}
    tracker = _request(staff_api, enrolment, "change_of_programme", details)
    assert Enrolment.objects.get(pk=enrolment.pk).status == ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME
    assert_error(
        approver_api.post(f"/automation/trackers/{tracker['id']}/reject", {"reason": " "}), 422, "invalid_input"
    )
    response = approver_api.post(f"/automation/trackers/{tracker['id']}/reject", {"reason": "Wrong standard"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["rejection_reason"]) == ("rejected", "Wrong standard")
    assert Enrolment.objects.get(pk=enrolment.pk).status == ProgrammeStatus.ACTIVE


def test_tracker_refusals_over_the_api(staff_api: ApiClient, approver_api: ApiClient, enrolment: Enrolment) -> None:
    bad = staff_api.post(
        "/automation/trackers",
        {"learner_id": enrolment.learner_id, "enrolment_id": enrolment.pk, "kind": "withdrawal", "details": {}},
    )
    assert set(assert_error(bad, 422, "validation_failed")["fields"]) == {
        "details.effective_date",
        "details.withdraw_reason",
    }
    tracker = _request(staff_api, enrolment, "break_in_learning", BREAK)
    assert_error(staff_api.post(f"/automation/trackers/{tracker['id']}/approve"), 403, "permission_denied")
    assert_error(
        staff_api.post(f"/automation/trackers/{tracker['id']}/reject", {"reason": "No"}), 403, "permission_denied"
    )
    again = staff_api.post(
        "/automation/trackers",
        {
            "learner_id": enrolment.learner_id,
            "enrolment_id": enrolment.pk,
            "kind": "break_in_learning",
            "details": BREAK,
        },
    )
    assert_error(again, 409, "tracker_open")
    approver_api.post(f"/automation/trackers/{tracker['id']}/approve")
    assert_error(approver_api.post(f"/automation/trackers/{tracker['id']}/approve"), 409, "tracker_decided")
    not_active = _request_error(staff_api, enrolment, "break_in_learning", BREAK)
    assert_error(not_active, 409, "tracker_refused")


def _request_error(api: ApiClient, enrolment: Enrolment, kind: str, details: Mapping[str, object]) -> Any:
    return api.post(
        "/automation/trackers",
        {"learner_id": enrolment.learner_id, "enrolment_id": enrolment.pk, "kind": kind, "details": details},
    )


def test_trackers_of_learners_out_of_sight_are_not_found(staff_api: ApiClient, enrolment: Enrolment) -> None:
    tracker = _request(staff_api, enrolment, "break_in_learning", BREAK)
    group = Group.objects.create(name="Elsewhere")
    elsewhere = token_client(
        factories.staff([Perm.AUTOMATION_APPROVE, Perm.ADM_EDIT], all_groups=False, groups=[group])
    )
    assert elsewhere.get("/automation/trackers").json()["count"] == 0
    assert_error(elsewhere.get(f"/automation/trackers/{tracker['id']}"), 404, "not_found")
    assert_error(elsewhere.post(f"/automation/trackers/{tracker['id']}/approve"), 404, "not_found")
    assert_error(_request_error(elsewhere, enrolment, "break_in_learning", BREAK), 404, "not_found")
    assert Tracker.objects.get().status == "requested"


def test_employment_changes_are_requested_without_an_enrolment(staff_api: ApiClient, enrolment: Enrolment) -> None:
    employer = factories.employer()
    response = staff_api.post(
        "/automation/trackers",
        {
            "learner_id": enrolment.learner_id,
            "kind": "change_of_employer",
            "details": {
                "employer": employer.pk,
                "manager": factories.manager(employer).pk,
                "effective_date": "2027-01-04",
            },
        },
    )
    assert response.status_code == 201, response.content
    assert (response.json()["enrolment_id"], response.json()["programme"]) == (None, None)


# Changes of circumstance by hand


def test_a_break_and_a_return_by_hand_over_the_api(admin: AbstractUser, enrolment: Enrolment) -> None:
    api = token_client(admin)
    on_break = api.post(_path(enrolment, "break"), BREAK | {"expected_return": "2027-06-01"})
    assert on_break.status_code == 200, on_break.content
    assert (on_break.json()["status"], on_break.json()["actual_end_date"]) == ("break_in_learning", "2027-01-31")
    back = api.post(_path(enrolment, "return"), {"return_date": "2027-06-01", "planned_end_date": "2028-08-01"})
    assert back.status_code == 200, back.content
    body = back.json()
    assert (body["status"], body["start_date"], body["original_start_date"]) == ("active", "2027-06-01", "2026-09-01")


def test_a_withdrawal_by_hand_over_the_api(admin: AbstractUser, enrolment: Enrolment) -> None:
    api = token_client(admin)
    assert_error(
        api.post(_path(enrolment, "withdraw"), {"effective_date": "2027-03-01", "withdraw_reason": 1}),
        422,
        "invalid_input",
    )
    assert_error(
        api.post(_path(enrolment, "withdraw"), {"effective_date": "2027-03-01", "withdraw_reason": 40}),
        422,
        "validation_failed",
    )
    response = api.post(_path(enrolment, "withdraw"), {"effective_date": "2027-03-01", "withdraw_reason": 29})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["withdraw_reason"]) == ("withdrawn", 29)
    assert_error(api.post(_path(enrolment, "break"), BREAK), 409, "circumstance_refused")


def test_a_change_of_programme_by_hand_over_the_api_answers_the_new_enrolment(
    admin: AbstractUser, enrolment: Enrolment
) -> None:
    new_programme = programme("EPA0001")
    api = token_client(admin)
    body = {"programme_id": new_programme.pk, "start_date": "2027-02-01", "planned_end_date": "2028-09-01"}
    response = api.post(_path(enrolment, "change-programme"), body)
    assert response.status_code == 201, response.content
    new = response.json()
    assert (new["programme"]["id"], new["status"], new["start_date"]) == (new_programme.pk, "active", "2027-02-01")
    old = api.get(f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}").json()
    assert old["status"] == "withdrawn"
    assert EpaRegistration.objects.get(enrolment_id=new["id"]).can_register
    assert_error(api.post(_path(enrolment, "change-programme"), body | {"programme_id": 999999}), 404, "not_found")


def test_changes_by_hand_over_the_api_need_adm_edit_and_sight_of_the_learner(enrolment: Enrolment) -> None:
    assert_error(
        token_client(factories.staff([Perm.AUTOMATION_APPROVE])).post(_path(enrolment, "break"), BREAK),
        403,
        "permission_denied",
    )
    hidden = token_client(factories.staff([Perm.ADM_EDIT], all_groups=False))
    assert_error(hidden.post(_path(enrolment, "break"), BREAK), 404, "not_found")
    other = enrolled(programme("EPA0001"))
    wrong_learner = f"/learners/{other.learner_id}/enrolments/{enrolment.pk}/break"
    assert_error(token_client(factories.staff([Perm.ADM_EDIT])).post(wrong_learner, BREAK), 404, "not_found")
    assert Enrolment.objects.get(pk=enrolment.pk).status == ProgrammeStatus.ACTIVE


def test_the_endpoints_are_described_in_the_openapi_schema(staff_api: ApiClient) -> None:
    paths = staff_api.client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/automation/trackers",
        "/api/v1/automation/trackers/{tracker_id}/approve",
        "/api/v1/automation/trackers/{tracker_id}/reject",
        "/api/v1/learners/{learner_id}/enrolments/{enrolment_id}/break",
        "/api/v1/learners/{learner_id}/enrolments/{enrolment_id}/return",
        "/api/v1/learners/{learner_id}/enrolments/{enrolment_id}/withdraw",
        "/api/v1/learners/{learner_id}/enrolments/{enrolment_id}/change-programme",
    ):
        assert path in paths
        assert all(op["tags"] == ["automation"] for op in paths[path].values())


def test_listing_trackers_costs_the_same_queries_for_few_and_many(staff_api: ApiClient, enrolment: Enrolment) -> None:
    def listed() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = staff_api.get("/automation/trackers")
        assert response.status_code == 200
        return len(queries)

    _request(staff_api, enrolment, "break_in_learning", BREAK)
    few = listed()
    for _ in range(5):
        _request(
            staff_api,
            enrolled(programme("EPA0001")),
            "withdrawal",
            {"effective_date": "2027-03-01", "withdraw_reason": 3},
        )
    assert listed() == few
