"""Learning plans and people over the API: assign, milestone status, Manage Users, registration (R-CUR-3…8)."""

from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as base
from tests.api.conftest import ApiClient, assert_error, token_client
from tests.curriculum import factories as f
from waypoint.curriculum.models import (
    Assignment,
    EnrolmentStatus,
    MilestoneStatus,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
    RegistrationType,
)
from waypoint.people.models import Perm

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> AbstractUser:
    return f.supervisor()


@pytest.fixture
def api(boss: AbstractUser) -> ApiClient:
    return token_client(boss)


def staff_professional() -> tuple[AbstractUser, ApiClient]:
    """A professional who may call the API (the API serves staff users)."""
    user = base.staff([Perm.COMPLIANCE_QA])
    return user, token_client(user)


def test_assigning_a_group_answers_the_names_of_people_already_assigned(api: ApiClient) -> None:
    """R-CUR-5: a warning for already-assigned people, who are not reassigned."""
    plan, _ = f.curriculum_with_milestones()
    ann = f.professional(first_name="Ann", last_name="Archer")
    bob = f.professional()
    assert api.post(f"/curricula/{plan.pk}/assignments", {"person_ids": [ann.pk]}).json() == {
        "assigned": 1,
        "conflicts": [],
    }

    group = f.professional_group([ann, bob])
    response = api.post(f"/curricula/{plan.pk}/assignments", {"group_id": group.pk})

    assert response.status_code == 200, response.content
    assert response.json() == {"assigned": 1, "conflicts": ["Ann Archer"]}
    assert Assignment.objects.get(person=ann).group_id is None


def test_assigning_unknown_people_or_groups_is_refused(api: ApiClient) -> None:
    plan, _ = f.curriculum_with_milestones()
    assert_error(api.post(f"/curricula/{plan.pk}/assignments", {"person_ids": [987654]}), 422, "validation_failed")
    assert_error(api.post(f"/curricula/{plan.pk}/assignments", {"group_id": 987654}), 404, "not_found")
    assert_error(api.post(f"/curricula/{plan.pk}/assignments", {}), 422, "validation_failed")
    assert not Assignment.objects.exists()


def test_assigning_needs_the_supervisor_permission() -> None:
    plan, _ = f.curriculum_with_milestones()
    _, client = staff_professional()
    response = client.post(f"/curricula/{plan.pk}/assignments", {"person_ids": [f.professional().pk]})
    assert_error(response, 403, "permission_denied")


def _put_status(api: ApiClient, assignment: Assignment, milestone_id: int, body: dict[str, Any]) -> Any:
    path = f"/curricula/{assignment.curriculum_id}/assignments/{assignment.pk}/milestones/{milestone_id}"
    return api.client.put("/api/v1" + path, data=body, content_type="application/json")


def test_a_milestone_status_on_a_group_assignment_needs_confirming_the_detach(api: ApiClient) -> None:
    """R-CUR-6, R-CUR-7: 409 without confirmation, nothing changed; confirmed, the group link goes."""
    plan, (milestone, _) = f.curriculum_with_milestones()
    ann = f.professional()
    api.post(f"/curricula/{plan.pk}/assignments", {"group_id": f.professional_group([ann]).pk})
    assignment = Assignment.objects.get(person=ann)

    refused = _put_status(api, assignment, milestone.pk, {"action": "adjusted", "units": "1"})
    assert_error(refused, 409, "conflict")
    assert not MilestoneStatus.objects.exists()

    done = _put_status(
        api,
        assignment,
        milestone.pk,
        {"action": "adjusted", "units": "1", "notes": "Part-time", "confirm_detach": True},
    )
    assert done.status_code == 200, done.content
    assert done.json()["group_id"] is None
    assert (done.json()["action"], done.json()["notes"]) == ("adjusted", "Part-time")

    cleared = _put_status(api, assignment, milestone.pk, {"action": "no_action"})
    assert cleared.json()["action"] == "no_action"
    assert not MilestoneStatus.objects.exists()


def test_manage_users_lists_assigned_and_registered_users_separately(api: ApiClient) -> None:
    """R-CUR-8: assigned vs registered users are listed separately."""
    plan, _ = f.curriculum_with_milestones(add_to_my_learning=True)
    assigned = f.professional(last_name="Assigned")
    registered, client = staff_professional()
    api.post(f"/curricula/{plan.pk}/assignments", {"person_ids": [assigned.pk]})
    client.post(f"/curricula/{plan.pk}/my-learning")

    assignments = api.get(f"/curricula/{plan.pk}/assignments").json()
    registrations = api.get(f"/curricula/{plan.pk}/registrations").json()

    assert [row["person"]["id"] for row in assignments["items"]] == [assigned.pk]
    assert [row["person"]["id"] for row in registrations["items"]] == [registered.pk]
    assert registrations["items"][0]["status"] == "started"
    assert api.get(f"/curricula/{plan.pk}/assignments", search="nobody").json()["count"] == 0


def test_the_registration_workflow_over_the_api(api: ApiClient) -> None:
    """R-CUR-3, R-CUR-8: start goes to the next manual milestone; choosing there leads to the summary; Complete
    registers; deleting the registration un-enrols its enrolments."""
    plan = f.curriculum(registration_type=RegistrationType.ENFORCED, auto_register=True)
    automatic = f.milestone(plan, programs=[f.program(), f.activity()], units=2)
    manual = f.milestone(plan, programs=[f.program(), f.program(), f.program()], units=2)
    pat, client = staff_professional()

    step = client.post(f"/curricula/{plan.pk}/registration").json()
    assert (step["kind"], step["milestone_id"]) == ("milestone", manual.pk)
    assert_error(client.post(f"/curricula/{plan.pk}/registration/complete"), 422, "validation_failed")

    first, second, _ = (link.program.sessions.get() for link in manual.links.select_related("program"))
    chosen = client.post(
        f"/curricula/{plan.pk}/registration/milestones/{manual.pk}", {"session_ids": [first.pk, second.pk]}
    )
    assert chosen.status_code == 200, chosen.content
    assert chosen.json()["kind"] == "summary"
    assert client.get(f"/curricula/{plan.pk}/registration").json()["kind"] == "summary"

    done = client.post(f"/curricula/{plan.pk}/registration/complete")
    assert done.json()["status"] == RegistrationStatus.REGISTERED
    assert set(ProgramEnrolment.objects.filter(person=pat).values_list("milestone_id", flat=True)) == {
        automatic.pk,
        manual.pk,
    }

    registration = Registration.objects.get(person=pat)
    deleted = api.delete(f"/curricula/{plan.pk}/registrations/{registration.pk}")
    assert deleted.status_code == 204, deleted.content
    assert set(ProgramEnrolment.objects.values_list("status", flat=True)) == {EnrolmentStatus.CANCELLED}


def test_my_learning_add_and_remove_over_the_api() -> None:
    """R-CUR-8: add shows as started, remove as cancelled; refused where the plan does not offer it."""
    plan = f.curriculum(add_to_my_learning=True)
    _, client = staff_professional()

    assert client.post(f"/curricula/{plan.pk}/my-learning").json()["status"] == "started"
    assert client.delete(f"/curricula/{plan.pk}/my-learning").json()["status"] == "cancelled"
    assert_error(client.delete(f"/curricula/{plan.pk}/my-learning"), 404, "not_found")
    enforced = f.curriculum(registration_type=RegistrationType.ENFORCED)
    assert_error(client.post(f"/curricula/{enforced.pk}/my-learning"), 422, "validation_failed")


def test_a_persons_assignments_with_progress(api: ApiClient) -> None:
    """R-CUR-7: the professional's Learning Plans tab: each plan with its milestones' states."""
    plan, (milestone, _) = f.curriculum_with_milestones()
    ann = f.professional()
    api.post(f"/curricula/{plan.pk}/assignments", {"person_ids": [ann.pk]})
    assignment = Assignment.objects.get(person=ann)
    _put_status(api, assignment, milestone.pk, {"action": "waived"})

    rows = api.get(f"/professionals/{ann.pk}/curriculum-assignments").json()

    assert [(r["curriculum_id"], r["state"]) for r in rows] == [(plan.pk, "in_progress")]
    assert [m["state"] for m in rows[0]["milestones"]] == ["waived", "not_started"]
    assert_error(api.get("/professionals/987654/curriculum-assignments"), 404, "not_found")


def test_the_manage_users_pages_take_the_same_queries_for_few_or_many_people(api: ApiClient) -> None:
    """R-CUR-8: the assigned and registered lists and a person's plans cost a fixed number of queries."""

    def cost(people: int) -> tuple[int, int, int]:
        plan, _ = f.curriculum_with_milestones(add_to_my_learning=True)
        crowd = [f.professional() for _ in range(people)]
        api.post(f"/curricula/{plan.pk}/assignments", {"group_id": f.professional_group(crowd).pk})
        for person in crowd:
            Registration.objects.create(curriculum=plan, person=person, via_my_learning=True)
        counts = []
        for path in (
            f"/curricula/{plan.pk}/assignments",
            f"/curricula/{plan.pk}/registrations",
            f"/professionals/{crowd[0].pk}/curriculum-assignments",
        ):
            with CaptureQueriesContext(connection) as queries:
                assert api.get(path).status_code == 200
            counts.append(len(queries))
        return counts[0], counts[1], counts[2]

    assert cost(2) == cost(15)
