"""Learning plans, milestones, programs, sessions and catalogs over the API (R-CUR-1…4, R-CUR-9)."""

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import BASE, ApiClient, assert_error, token_client
from tests.curriculum import factories as cf
from waypoint.curriculum.models import Catalog, Curriculum, MilestoneProgram

pytestmark = pytest.mark.django_db

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def api(db: None) -> ApiClient:
    """A Supervisor's API client."""
    return token_client(cf.supervisor())


def put(api: ApiClient, path: str, body: dict[str, Any]) -> Any:
    return api.client.put(BASE + path, data=json.dumps(body), content_type="application/json")


def test_a_plan_is_built_read_and_changed_over_the_api(api: ApiClient) -> None:
    """R-CUR-1, R-CUR-2: create the plan, add milestones, link programs, read it back in order."""
    catalog = cf.catalog()
    created = api.post(
        "/learning-plans",
        {
            "name": "New team leaders",
            "registration_type": "enforced",
            "auto_register": True,
            "milestone_order_enforced": True,
            "starts_at": START.isoformat(),
            "catalog_ids": [catalog.pk],
        },
    )
    assert created.status_code == 201, created.content
    plan = created.json()
    assert plan["catalogs"] == [{"id": catalog.pk, "name": catalog.name}]
    assert plan["milestones"] == []

    milestone = api.post(f"/learning-plans/{plan['id']}/milestones", {"name": "Foundations", "units": "2"})
    assert milestone.status_code == 201, milestone.content
    assert milestone.json()["position"] == 1
    programs = [cf.program(), cf.activity()]
    linked = api.post(f"/milestones/{milestone.json()['id']}/programs", {"program_ids": [p.pk for p in programs]})
    assert linked.status_code == 200, linked.content
    assert [(p["program_id"], p["kind"]) for p in linked.json()["programs"]] == [
        (programs[0].pk, "program"),
        (programs[1].pk, "activity"),
    ]

    changed = api.patch(f"/learning-plans/{plan['id']}", {"description": "Six months.", "catalog_ids": []})
    assert changed.status_code == 200, changed.content
    read = api.get(f"/learning-plans/{plan['id']}").json()
    assert read["description"] == "Six months."
    assert read["catalogs"] == []
    assert [m["name"] for m in read["milestones"]] == ["Foundations"]
    assert read["milestones"][0]["auto_registers"] is True


def test_a_milestone_shows_whether_it_registers_automatically(api: ApiClient) -> None:
    """R-CUR-3: 5 sessions required with 5 one-session programs linked: on; 6 linked: off; credits: off."""
    plan = cf.curriculum(registration_type="enforced", auto_register=True)
    equal = cf.milestone(plan, programs=[cf.program(sessions=1) for _ in range(5)], units=5)
    more = cf.milestone(plan, programs=[cf.program(sessions=1) for _ in range(6)], units=5)
    fewer = cf.milestone(plan, programs=[cf.program(sessions=1) for _ in range(4)], units=5)
    credits = cf.milestone(plan, programs=[cf.program(sessions=1) for _ in range(5)], metric="credits", units=5)
    shown = {m["id"]: m["auto_registers"] for m in api.get(f"/learning-plans/{plan.pk}").json()["milestones"]}
    assert shown == {equal.pk: True, more.pk: False, fewer.pk: False, credits.pk: False}


def test_auto_register_without_enforced_registration_is_refused_with_a_message_per_field(api: ApiClient) -> None:
    """R-CUR-1: auto-register only when Enforced; Add to My Learning only when not Enforced."""
    body = assert_error(
        api.post("/learning-plans", {"name": "Onboarding", "registration_type": "disabled", "auto_register": True}),
        422,
        "validation_failed",
    )
    assert body["fields"]["auto_register"] == ["Auto-register is only available when registration is Enforced."]
    assert not Curriculum.objects.exists()


def test_linking_an_activity_to_a_credits_milestone_is_refused(api: ApiClient) -> None:
    """R-CUR-2: activities only on session-based or elective milestones."""
    milestone = cf.milestone(metric="credits", units=2)
    body = assert_error(
        api.post(f"/milestones/{milestone.pk}/programs", {"program_ids": [cf.activity().pk]}),
        422,
        "validation_failed",
    )
    assert "programs" in body["fields"]
    assert not MilestoneProgram.objects.exists()


def test_linking_an_unknown_program_is_refused(api: ApiClient) -> None:
    milestone = cf.milestone()
    body = assert_error(
        api.post(f"/milestones/{milestone.pk}/programs", {"program_ids": [999_999]}), 422, "validation_failed"
    )
    assert body["fields"]["program_ids"] == ["No program has id 999999."]


def test_milestones_and_linked_programs_are_reordered_and_unlinked(api: ApiClient) -> None:
    """R-CUR-2: linked programs are reordered only when program order is enforced."""
    plan = cf.curriculum()
    a, b = cf.program(), cf.program()
    first = cf.milestone(plan, programs=[a, b], program_order_enforced=True)
    second = cf.milestone(plan, programs=[a, b])
    order = put(api, f"/learning-plans/{plan.pk}/milestones/order", {"milestone_ids": [second.pk, first.pk]})
    assert order.status_code == 200, order.content
    assert [m["id"] for m in order.json()["milestones"]] == [second.pk, first.pk]

    reordered = put(api, f"/milestones/{first.pk}/programs/order", {"program_ids": [b.pk, a.pk]})
    assert reordered.status_code == 200, reordered.content
    assert [p["program_id"] for p in reordered.json()["programs"]] == [b.pk, a.pk]
    refused = put(api, f"/milestones/{second.pk}/programs/order", {"program_ids": [b.pk, a.pk]})
    assert_error(refused, 422, "validation_failed")

    assert api.delete(f"/milestones/{first.pk}/programs/{b.pk}").status_code == 204
    assert api.delete(f"/milestones/{second.pk}").status_code == 204
    read = api.get(f"/learning-plans/{plan.pk}").json()
    assert [(m["id"], m["position"]) for m in read["milestones"]] == [(first.pk, 1)]
    assert [p["program_id"] for p in read["milestones"][0]["programs"]] == [a.pk]


@pytest.mark.parametrize(("mode", "milestones", "links"), [("shell", 0, 0), ("milestones", 2, 0), ("everything", 2, 3)])
def test_a_plan_is_duplicated_in_each_mode(api: ApiClient, mode: str, milestones: int, links: int) -> None:
    """R-CUR-4: shell only; plan and milestones; plan, milestones and linked programs."""
    plan = cf.curriculum(name="Leadership")
    cf.milestone(plan, programs=[cf.program(), cf.program()])
    cf.milestone(plan, programs=[cf.activity()], metric="none")
    response = api.post(f"/learning-plans/{plan.pk}/duplicate", {"mode": mode})
    assert response.status_code == 201, response.content
    copy = response.json()
    assert copy["name"] == "Copy of Leadership"
    assert len(copy["milestones"]) == milestones
    assert sum(len(m["programs"]) for m in copy["milestones"]) == links


def test_an_unknown_duplicate_mode_is_refused(api: ApiClient) -> None:
    plan = cf.curriculum()
    assert_error(api.post(f"/learning-plans/{plan.pk}/duplicate", {"mode": "all"}), 422, "invalid_input")
    assert Curriculum.objects.count() == 1


def test_many_plans_are_added_to_and_removed_from_many_catalogs(api: ApiClient) -> None:
    """R-CUR-9: one or many plans to or from one or many catalogs."""
    plans = [cf.curriculum(), cf.curriculum()]
    catalogs = [cf.catalog(), cf.catalog()]
    body = {"curriculum_ids": [p.pk for p in plans], "catalog_ids": [c.pk for c in catalogs]}
    added = api.post("/learning-plans/catalogs/add", body)
    assert added.status_code == 200, added.content
    assert added.json() == {"changed": 4}
    listed = api.get("/learning-plans", catalog_id=catalogs[0].pk).json()
    assert {p["id"] for p in listed["items"]} == {p.pk for p in plans}

    removed = api.post(
        "/learning-plans/catalogs/remove", {"curriculum_ids": [plans[0].pk], "catalog_ids": [c.pk for c in catalogs]}
    )
    assert removed.json() == {"changed": 2}
    assert not plans[0].catalogs.exists()
    assert set(plans[1].catalogs.all()) == set(catalogs)


def test_adding_to_an_unknown_catalog_is_refused_and_adds_nothing(api: ApiClient) -> None:
    """R-CUR-9: refused as a whole, not half-applied."""
    plan = cf.curriculum()
    body = assert_error(
        api.post("/learning-plans/catalogs/add", {"curriculum_ids": [plan.pk], "catalog_ids": [cf.catalog().pk, 999]}),
        422,
        "validation_failed",
    )
    assert "catalog_ids" in body["fields"]
    assert not plan.catalogs.exists()


def test_plans_are_listed_in_pages_and_searched_by_every_word(api: ApiClient) -> None:
    cf.curriculum(name="Leadership for new managers")
    cf.curriculum(name="Leadership essentials")
    cf.curriculum(name="Safeguarding")
    found = api.get("/learning-plans", search="leadership manag").json()
    assert [p["name"] for p in found["items"]] == ["Leadership for new managers"]
    page = api.get("/learning-plans", page=2, page_size=2).json()
    assert (page["count"], [p["name"] for p in page["items"]]) == (3, ["Safeguarding"])


def test_programs_with_sessions_and_catalogs_round_trip(api: ApiClient) -> None:
    program = api.post("/programs", {"name": "Coaching conversations", "code": "COACH1", "credits": "1.5"})
    assert program.status_code == 201, program.content
    program_id = program.json()["id"]
    session = api.post(
        f"/programs/{program_id}/sessions",
        {"starts_at": START.isoformat(), "ends_at": (START + dt.timedelta(hours=2)).isoformat(), "location": "Leeds"},
    )
    assert session.status_code == 201, session.content
    moved = api.patch(f"/sessions/{session.json()['id']}", {"location": "York"})
    assert moved.json()["location"] == "York"
    read = api.get(f"/programs/{program_id}").json()
    assert [s["location"] for s in read["sessions"]] == ["York"]
    assert api.patch(f"/programs/{program_id}", {"name": "Coaching"}).json()["name"] == "Coaching"
    assert [p["code"] for p in api.get("/programs", search="coach").json()["items"]] == ["COACH1"]
    assert api.delete(f"/sessions/{session.json()['id']}").status_code == 204
    assert api.get(f"/programs/{program_id}").json()["sessions"] == []

    catalog = api.post("/catalogs", {"name": "Leadership"})
    assert catalog.status_code == 201, catalog.content
    assert [c["name"] for c in api.get("/catalogs", search="lead").json()["items"]] == ["Leadership"]
    assert_error(api.post("/catalogs", {"name": "Leadership"}), 422, "validation_failed")
    assert Catalog.objects.count() == 1


def test_a_session_ending_before_it_starts_is_refused(api: ApiClient) -> None:
    program = cf.program(sessions=0)
    body = assert_error(
        api.post(f"/programs/{program.pk}/sessions", {"starts_at": START.isoformat(), "ends_at": START.isoformat()}),
        422,
        "validation_failed",
    )
    assert body["fields"]["ends_at"] == ["The session must end after it starts."]


def test_staff_without_supervisor_may_read_but_not_change_plans() -> None:
    plan = cf.curriculum()
    client = token_client(cf.staff_without_supervisor())
    assert client.get(f"/learning-plans/{plan.pk}").status_code == 200
    assert_error(client.patch(f"/learning-plans/{plan.pk}", {"name": "Renamed"}), 403, "permission_denied")
    assert_error(client.delete(f"/learning-plans/{plan.pk}"), 403, "permission_denied")
    plan.refresh_from_db()
    assert plan.name != "Renamed"


def test_an_unknown_plan_is_not_found(api: ApiClient) -> None:
    assert_error(api.get("/learning-plans/999999"), 404, "not_found")
    assert_error(api.post("/learning-plans/999999/milestones", {"name": "X", "units": "1"}), 404, "not_found")


def test_reading_a_plan_takes_the_same_queries_whatever_its_size(api: ApiClient) -> None:
    small, _ = cf.curriculum_with_milestones(1, 1)
    large, _ = cf.curriculum_with_milestones(6, 5)
    api.get(f"/learning-plans/{small.pk}")
    with CaptureQueriesContext(connection) as few:
        api.get(f"/learning-plans/{small.pk}")
    with CaptureQueriesContext(connection) as many:
        api.get(f"/learning-plans/{large.pk}")
    assert len(many) == len(few)
