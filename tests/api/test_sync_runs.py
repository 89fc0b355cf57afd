"""Sync runs over the API: /sync-runs/… (R-SYNC-1, 13…15, 27, R-PLUS-1…4)."""

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from waypoint.people.models import Learner, Perm
from waypoint.plans.models import Component, ComponentChange, RecordVisit, SyncRun
from waypoint.plans.services import component_delete, component_update
from waypoint.plans.sync.runs import sync_run_apply, sync_run_undo_queued
from waypoint.plans.sync.types import NotSynced, SyncWarning
from waypoint.plans.visits import SESSION_KEY
from waypoint.programmes.models import ComponentTemplate, Enrolment

pytestmark = pytest.mark.django_db

ALL_STATUSES = ["not_started", "in_progress", "awaiting_marking", "referred", "completed"]


@dataclass
class Plans:
    """A source learner on a programme of three template components (the last a Review), three targets,
    and a Supervisor with the source's record open in a browser session (their changes there are recent)."""

    admin: AbstractUser
    source: Enrolment
    targets: list[Enrolment]
    session: ApiClient
    visit: RecordVisit

    def plan(self, enrolment: Enrolment) -> list[Component]:
        return list(Component.objects.filter(enrolment=enrolment).order_by("position", "id"))

    def change(self, component: Component, **changes: Any) -> None:
        """An edit the admin makes on the open source record: a recent change (R-SYNC-12)."""
        component_update(component=component, by=self.admin, changes=changes, visit_id=self.visit.pk)  # type: ignore[arg-type]

    def body(self, **values: Any) -> dict[str, Any]:
        return {
            "learner": self.source.learner_id,
            "components": [f"t{c.template_id}" for c in self.plan(self.source)],
            "learners": {"ids": [t.learner_id for t in self.targets]},
            "statuses": ALL_STATUSES,
            "sync_type": "only_changes",
            **values,
        }


def _session(user: AbstractUser, learner_id: int) -> tuple[ApiClient, RecordVisit]:
    visit = RecordVisit.objects.create(admin=user, learner_id=learner_id)
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = {"id": visit.pk, "learner": learner_id}
    session.save()
    return ApiClient(client), visit


@pytest.fixture
def plans(supervisor: AbstractUser) -> Plans:
    programme = factories.programme(templates=3)
    source = factories.enrolment(factories.learner(surname="Source"), programme)
    targets = [
        factories.enrolment(factories.learner(first_name="Ada", surname=name), programme)
        for name in ("Cole", "Abbott", "Baker")
    ]
    session, visit = _session(supervisor, source.learner_id)
    return Plans(supervisor, source, targets, session, visit)


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def _learners(client: ApiClient, run_id: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _ok(client.get(f"/sync-runs/{run_id}/learners", **params))["items"]
    return items


# R-SYNC-13: the summary


def test_a_run_is_created_with_its_summary(plans: Plans) -> None:  # R-SYNC-13
    first, second, _review = plans.plan(plans.source)
    plans.change(first, due_date=dt.date(2027, 4, 1))
    plans.change(second, instructions="Read chapter 2.")

    body = _created(
        plans.session.post(
            "/sync-runs",
            plans.body(components=[f"t{first.template_id}", f"t{second.template_id}"], statuses=["not_started"]),
        )
    )

    programme = plans.source.programme
    assert (body["component_count"], body["learner_count"]) == (2, 3)
    assert (body["synchronised"], body["not_synchronised"]) == (6, 0)
    assert body["programme"] == {"id": programme.pk, "name": programme.name, "parent": None, "label": programme.name}
    assert body["statuses"] == [{"code": "not_started", "label": "Not Started"}]
    assert body["sync_type"] == {"code": "only_changes", "label": "Apply ONLY changes"}
    assert body["status"] == {"code": "summarised", "label": "Summary ready"}
    assert body["source_learner"] == {"id": plans.source.learner_id, "name": plans.source.learner.full_name}
    assert body["by"]["id"] == plans.admin.pk
    assert body["warnings"] == []
    assert body["progress"] == {"done": 0, "total": 6}
    assert (body["applied_at"], body["undone_at"], body["undo_restored"], body["undo_conflicts"]) == (None, None, 0, 0)
    assert [r["name"] for r in body["rows"]] == [first.name, second.name]
    assert plans.plan(plans.targets[0])[0].due_date != dt.date(2027, 4, 1)  # nothing applied yet


def test_a_sub_programme_is_named_with_its_parent(supervisor: AbstractUser) -> None:  # R-SYNC-13, R-SYNC-2
    parent = factories.programme(templates=1)
    sub = factories.programme(templates=2, parent=parent)
    source = factories.enrolment(factories.learner(), parent)
    target = factories.enrolment(factories.learner(), parent)
    template = ComponentTemplate.objects.filter(programme=sub).order_by("position").first()
    assert template is not None

    body = _created(
        token_client(supervisor).post(
            "/sync-runs",
            {
                "learner": source.learner_id,
                "programme": sub.pk,
                "components": [f"t{template.pk}"],
                "learners": {"ids": [target.learner_id]},
                "statuses": ["not_started"],
                "sync_type": "all",
            },
        )
    )
    assert body["programme"] == {
        "id": sub.pk,
        "name": sub.name,
        "parent": parent.name,
        "label": f"{parent.name} / {sub.name}",
    }


def test_a_run_warns_when_some_components_are_not_synchronised(plans: Plans) -> None:  # R-SYNC-13a, R-SYNC-14
    first = plans.plan(plans.source)[0]
    plans.change(first, instructions="New instructions.")
    finished = plans.plan(plans.targets[0])[0]
    Component.objects.filter(pk=finished.pk).update(status="completed")

    body = _created(
        plans.session.post(
            "/sync-runs", plans.body(components=[f"t{first.template_id}"], statuses=["not_started", "in_progress"])
        )
    )

    assert body["warnings"] == [
        {
            "code": "SOME_NOT_SYNCHRONISED",
            "message": "Some components will not be synchronised for some learners: see the reasons below.",
        }
    ]
    [row] = body["rows"]
    assert (row["synchronised"], row["not_synchronised"]) == (2, 1)
    assert row["reasons"] == [
        {"code": "STATUS_NOT_SELECTED", "message": NotSynced.STATUS_NOT_SELECTED.message, "count": 1}
    ]


def test_a_run_warns_of_marking_aid_evidence_whose_exercise_would_change(
    api: ApiClient, plans: Plans
) -> None:  # R-SYNC-13b
    first = plans.plan(plans.source)[0]
    ComponentTemplate.objects.filter(pk=first.template_id).update(marking_aid_exercise="Exercise 2")
    submitted = plans.plan(plans.targets[1])[0]
    Component.objects.filter(pk=submitted.pk).update(marking_aid_exercise="Exercise 1", marking_aid_submitted=True)

    body = _created(
        api.post(
            "/sync-runs",
            plans.body(components=[f"t{first.template_id}"], sync_type="selected", attributes=["marking_aid_exercise"]),
        )
    )

    assert {w["code"] for w in body["warnings"]} == {"MARKING_AID_EVIDENCE", "SOURCE_UPDATED"}
    [row] = body["rows"]
    assert row["warnings"] == [
        {"code": "MARKING_AID_EVIDENCE", "message": SyncWarning.MARKING_AID_EVIDENCE.message, "count": 1}
    ]
    [warned] = _learners(api, body["id"], learner=plans.targets[1].learner_id)
    assert warned["warnings"] == [{"code": "MARKING_AID_EVIDENCE", "message": SyncWarning.MARKING_AID_EVIDENCE.message}]
    assert warned["diff"] == [{"field": "marking_aid_exercise", "old": "Exercise 1", "new": "Exercise 2"}]


def test_an_all_attributes_run_also_warns_of_marking_aid_evidence(api: ApiClient, plans: Plans) -> None:  # R-SYNC-13b
    first = plans.plan(plans.source)[0]
    component_update(component=first, by=plans.admin, changes={"marking_aid_exercise": "Exercise 3"}, visit_id=None)
    submitted = plans.plan(plans.targets[2])[0]
    Component.objects.filter(pk=submitted.pk).update(marking_aid_exercise="Exercise 1", marking_aid_submitted=True)

    body = _created(api.post("/sync-runs", plans.body(components=[f"t{first.template_id}"], sync_type="all")))

    assert [w["code"] for w in body["warnings"]] == ["MARKING_AID_EVIDENCE"]
    assert body["warnings"][0]["message"] == SyncWarning.MARKING_AID_EVIDENCE.message


def test_a_selected_run_warns_that_it_updates_the_source_and_then_does(api: ApiClient, plans: Plans) -> None:
    first = plans.plan(plans.source)[0]
    component_update(component=first, by=plans.admin, changes={"name": "Renamed on the source"}, visit_id=None)
    for target in plans.targets:
        component_update(component=plans.plan(target)[0], by=plans.admin, changes={"name": "Other"}, visit_id=None)
    template_name = ComponentTemplate.objects.get(pk=first.template_id).name

    body = _created(
        api.post(
            "/sync-runs", plans.body(components=[f"t{first.template_id}"], sync_type="selected", attributes=["name"])
        )
    )

    assert body["warnings"] == [
        {
            "code": "SOURCE_UPDATED",
            "message": "The SELECTED type also writes the template values to the source learner's plan.",
        }
    ]  # R-SYNC-13c
    assert body["sync_type"]["label"] == "Apply and overwrite SELECTED attributes from the programme template"
    assert body["attributes"] == ["name"]
    [source_line] = [i for i in _learners(api, body["id"]) if i["is_source"]]
    assert source_line["learner"]["id"] == plans.source.learner_id
    assert source_line["diff"] == [{"field": "name", "old": "Renamed on the source", "new": template_name}]

    _ok(api.post(f"/sync-runs/{body['id']}/confirm"))
    assert Component.objects.get(pk=first.pk).name == template_name  # R-SYNC-10
    assert {plans.plan(t)[0].name for t in plans.targets} == {template_name}


# R-SYNC-14: the grid


def test_grid_rows_are_in_plan_order_with_action_counts_and_the_review_warning(api: ApiClient, plans: Plans) -> None:
    first, second, review = plans.plan(plans.source)
    component_update(component=review, by=plans.admin, changes={"instructions": "Bring the log."}, visit_id=None)
    component_delete(component=plans.plan(plans.targets[0])[1], by=plans.admin, visit_id=None)

    body = _created(api.post("/sync-runs", plans.body(sync_type="all")))

    rows = body["rows"]
    assert [(r["key"], r["name"], r["type"]["code"]) for r in rows] == [
        (f"t{c.template_id}", c.name, c.type) for c in (first, second, review)
    ]
    assert rows[2]["type"] == {"code": "review", "label": "Review"}
    assert [r["action"] for r in rows] == [
        {"code": "synchronise", "label": "Synchronise"},
        {"code": "synchronise", "label": "Synchronise"},  # the action most learners get
        {"code": "synchronise", "label": "Synchronise"},
    ]
    assert rows[2]["last_updated"] is not None
    assert [(r["synchronised"], r["not_synchronised"]) for r in rows] == [(3, 0), (3, 0), (3, 0)]
    assert rows[2]["warnings"] == [
        {"code": "REVIEW_TASKS_RECREATED", "message": SyncWarning.REVIEW_TASKS_RECREATED.message, "count": 3}
    ]
    created = _learners(api, body["id"], component=rows[1]["id"], learner=plans.targets[0].learner_id)
    assert [c["action"] for c in created] == ["create"]


def test_each_row_lists_its_learners_synchronised_or_not_with_reasons(plans: Plans) -> None:  # R-SYNC-14
    first = plans.plan(plans.source)[0]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    Component.objects.filter(pk=plans.plan(plans.targets[0])[0].pk).update(status="completed")  # Cole
    run = _created(plans.session.post("/sync-runs", plans.body(statuses=["not_started"])))
    row = run["rows"][0]

    synced = _learners(plans.session, run["id"], component=row["id"], synchronised="true")
    not_synced = _learners(plans.session, run["id"], component=row["id"], synchronised="false")

    assert [i["learner"]["surname"] for i in synced] == ["Abbott", "Baker"]  # by surname
    assert [i["learner"]["surname"] for i in not_synced] == ["Cole"]
    [cole] = not_synced
    learner = plans.targets[0].learner
    assert cole["learner"] == {
        "id": learner.pk,
        "first_name": "Ada",
        "surname": "Cole",
        "full_name": "Ada Cole",
        "uln": learner.uln,
        "programme_status": {"code": "active", "label": "Active"},
    }
    assert cole["component"] == {
        "row": row["id"],
        "key": f"t{first.template_id}",
        "name": first.name,
        "type": "learning_activity",
        "component_id": plans.plan(plans.targets[0])[0].pk,
    }
    assert (cole["synchronised"], cole["action"], cole["diff"]) == (False, "synchronise", [])
    assert cole["reason"] == {"code": "STATUS_NOT_SELECTED", "message": NotSynced.STATUS_NOT_SELECTED.message}
    # the other rows had no recent changes: each learner is listed with that reason
    others = _learners(plans.session, run["id"], component=run["rows"][1]["id"])
    assert {i["reason"]["code"] for i in others} == {"NO_RECENT_CHANGES"}


# R-PLUS-1: the exact diff


def test_each_learner_shows_the_exact_diff_of_a_synchronise_a_create_and_a_delete(plans: Plans) -> None:
    first, second, _review = plans.plan(plans.source)
    old_due = plans.plan(plans.targets[1])[0].due_date
    plans.change(first, due_date=dt.date(2027, 4, 1), instructions="Read chapter 2.")
    component_delete(component=second, by=plans.admin, visit_id=plans.visit.pk)
    abbott = plans.targets[1]
    gone = plans.plan(plans.targets[2])[1]  # Baker lacks the first component, so it is created
    Component.objects.filter(pk=plans.plan(plans.targets[2])[0].pk).delete()
    abbott_second = plans.plan(abbott)[1]

    run = _created(
        plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}", f"t{second.template_id}"]))
    )
    first_row, second_row = run["rows"]
    assert second_row["action"]["code"] == "delete"

    [synchronise] = _learners(plans.session, run["id"], component=first_row["id"], learner=abbott.learner_id)
    assert synchronise["action"] == "synchronise"
    assert synchronise["diff"] == [
        {"field": "due_date", "old": old_due.isoformat() if old_due else None, "new": "2027-04-01"},
        {"field": "instructions", "old": "", "new": "Read chapter 2."},
    ]
    [create] = _learners(plans.session, run["id"], component=first_row["id"], learner=plans.targets[2].learner_id)
    assert create["action"] == "create"
    assert create["component"]["component_id"] is None
    new = {d["field"]: d["new"] for d in create["diff"]}
    assert {d["old"] for d in create["diff"]} == {None}
    assert (new["name"], new["due_date"], new["instructions"]) == (first.name, "2027-04-01", "Read chapter 2.")
    assert new["owner"] is None  # the source's case owner owns it: created unassigned (R-SYNC-16)
    [delete] = _learners(plans.session, run["id"], component=second_row["id"], learner=abbott.learner_id)
    assert delete["action"] == "delete"
    old = {d["field"]: d["old"] for d in delete["diff"]}
    assert (old["name"], old["type"]) == (abbott_second.name, "learning_activity")
    assert {d["new"] for d in delete["diff"]} == {None}
    assert gone.name == abbott_second.name


# R-SYNC-15: confirm


def test_confirming_applies_the_summary(plans: Plans) -> None:  # R-SYNC-15
    first = plans.plan(plans.source)[0]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))

    body = _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))

    assert body["status"] == {"code": "applied", "label": "Applied"}
    assert body["applied_at"] is not None
    assert body["progress"] == {"done": 3, "total": 3}
    assert [plans.plan(t)[0].due_date for t in plans.targets] == [dt.date(2027, 4, 1)] * 3
    assert ComponentChange.objects.filter(sync_run_id=run["id"]).count() == 3


def test_confirming_twice_applies_once(plans: Plans) -> None:  # R-SYNC-15
    first = plans.plan(plans.source)[0]
    plans.change(first, instructions="Once.")
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))
    _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))
    revisions = [plans.plan(t)[0].revision for t in plans.targets]

    again = _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))

    assert again["status"]["code"] == "applied"
    assert [plans.plan(t)[0].revision for t in plans.targets] == revisions
    assert ComponentChange.objects.filter(sync_run_id=run["id"]).count() == 3


def test_a_stale_summary_is_refused_recomputed_and_nothing_is_applied(plans: Plans) -> None:  # R-SYNC-15
    first = plans.plan(plans.source)[0]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))
    assert run["synchronised"] == 3
    moved = plans.plan(plans.targets[0])[0]
    component_update(component=moved, by=plans.admin, changes={"status": "completed"}, visit_id=None)

    body = assert_error(
        plans.session.post(f"/sync-runs/{run['id']}/confirm", {"statuses": ALL_STATUSES}), 409, "conflict"
    )

    assert "nothing was applied" in body["message"]
    assert body["fields"] == {"summary": [f"GET /api/v1/sync-runs/{run['id']} for the fresh summary."]}
    assert [plans.plan(t)[0].due_date for t in plans.targets] != [dt.date(2027, 4, 1)] * 3
    assert not any(c.due_date == dt.date(2027, 4, 1) for t in plans.targets for c in plans.plan(t))
    assert not ComponentChange.objects.filter(sync_run_id=run["id"]).exists()
    fresh = _ok(plans.session.get(f"/sync-runs/{run['id']}"))
    assert fresh["status"]["code"] == "summarised"
    assert fresh["summarised_at"] > run["summarised_at"]
    assert (fresh["synchronised"], fresh["not_synchronised"]) == (3, 0)  # completed is among the statuses
    [line] = _learners(plans.session, run["id"], learner=plans.targets[0].learner_id)
    assert line["diff"][0]["field"] == "due_date"
    # confirmed again, the fresh summary applies
    assert _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))["status"]["code"] == "applied"
    assert [plans.plan(t)[0].due_date for t in plans.targets] == [dt.date(2027, 4, 1)] * 3


def test_a_stale_summary_shows_the_reasons_it_now_has(plans: Plans) -> None:  # R-SYNC-15
    first = plans.plan(plans.source)[0]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    run = _created(
        plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"], statuses=["not_started"]))
    )
    component_update(
        component=plans.plan(plans.targets[0])[0], by=plans.admin, changes={"status": "completed"}, visit_id=None
    )

    assert_error(plans.session.post(f"/sync-runs/{run['id']}/confirm"), 409, "conflict")

    fresh = _ok(plans.session.get(f"/sync-runs/{run['id']}"))
    assert (fresh["synchronised"], fresh["not_synchronised"]) == (2, 1)
    assert [w["code"] for w in fresh["warnings"]] == ["SOME_NOT_SYNCHRONISED"]


def test_only_the_admin_who_prepared_a_run_may_confirm_it(api: ApiClient, plans: Plans) -> None:  # R-SYNC-15
    first = plans.plan(plans.source)[0]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))
    other = token_client(factories.staff([Perm.SUPERVISOR]))
    assert_error(other.post(f"/sync-runs/{run['id']}/confirm"), 403, "permission_denied")


# R-PLUS-3: in the background


def test_a_large_run_is_queued_and_the_worker_applies_it(plans: Plans, settings: Any) -> None:  # R-PLUS-3
    settings.WAYPOINT_SYNC_BACKGROUND_FROM = 1
    first = plans.plan(plans.source)[0]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))

    queued = _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"), 202)

    assert queued["status"] == {"code": "queued", "label": "Queued"}
    assert queued["progress"] == {"done": 0, "total": 3}
    assert _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"), 202)["status"]["code"] == "queued"
    assert plans.plan(plans.targets[0])[0].due_date != dt.date(2027, 4, 1)

    sync_run_apply(run["id"])

    body = _ok(plans.session.get(f"/sync-runs/{run['id']}"))
    assert body["status"]["code"] == "applied"
    assert body["progress"] == {"done": 3, "total": 3}
    assert [plans.plan(t)[0].due_date for t in plans.targets] == [dt.date(2027, 4, 1)] * 3


def test_a_large_run_is_undone_by_the_worker_and_reads_undoing_until_then(plans: Plans, settings: Any) -> None:
    """R-PLUS-2, R-PLUS-3: the undo of a large run answers 202 at once; the worker puts the plans back."""
    first = plans.plan(plans.source)[0]
    before = [plans.plan(t)[0].due_date for t in plans.targets]
    plans.change(first, due_date=dt.date(2027, 4, 1))
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))
    _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))
    settings.WAYPOINT_SYNC_BACKGROUND_FROM = 1

    queued = _ok(plans.session.post(f"/sync-runs/{run['id']}/undo"), 202)

    assert queued["status"] == {"code": "undoing", "label": "Undoing"}
    assert _ok(plans.session.post(f"/sync-runs/{run['id']}/undo"), 202)["status"]["code"] == "undoing"
    assert [plans.plan(t)[0].due_date for t in plans.targets] == [dt.date(2027, 4, 1)] * 3
    sync_run_undo_queued(run["id"])
    body = _ok(plans.session.get(f"/sync-runs/{run['id']}"))
    assert (body["status"]["code"], body["undo_restored"], body["undo_conflicts"]) == ("undone", 3, 0)
    assert [plans.plan(t)[0].due_date for t in plans.targets] == before


# R-PLUS-2: undo


def test_undo_restores_the_plans_and_counts_what_it_restored(plans: Plans) -> None:  # R-PLUS-2
    first, second, _review = plans.plan(plans.source)
    plans.change(first, due_date=dt.date(2027, 4, 1), instructions="New.")
    component_delete(component=second, by=plans.admin, visit_id=plans.visit.pk)
    Component.objects.filter(pk=plans.plan(plans.targets[2])[0].pk).delete()  # Baker: the first is created
    target_ids = [t.pk for t in plans.targets]

    def state() -> list[tuple[Any, ...]]:
        return list(
            Component.objects.filter(enrolment_id__in=target_ids)
            .order_by("id")
            .values_list("id", "name", "due_date", "instructions", "owner_id", "template_id")
        )

    before = state()
    run = _created(
        plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}", f"t{second.template_id}"]))
    )
    _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))
    assert state() != before

    body = _ok(plans.session.post(f"/sync-runs/{run['id']}/undo"))

    assert body["status"]["code"] == "undone"
    assert body["undone_at"] is not None
    assert (body["undo_restored"], body["undo_conflicts"]) == (6, 0)
    assert state() == before
    undone = _learners(plans.session, run["id"], synchronised="true")
    assert {i["undo"] for i in undone} == {"restored"}


def test_undo_leaves_a_component_changed_since_and_reports_the_conflict(plans: Plans) -> None:  # R-PLUS-2
    first = plans.plan(plans.source)[0]
    plans.change(first, instructions="New.")
    run = _created(plans.session.post("/sync-runs", plans.body(components=[f"t{first.template_id}"])))
    _ok(plans.session.post(f"/sync-runs/{run['id']}/confirm"))
    edited = plans.plan(plans.targets[0])[0]
    component_update(component=edited, by=plans.admin, changes={"instructions": "Mine."}, visit_id=None)

    body = _ok(plans.session.post(f"/sync-runs/{run['id']}/undo"))

    assert (body["undo_restored"], body["undo_conflicts"]) == (2, 1)
    assert plans.plan(plans.targets[0])[0].instructions == "Mine."
    assert [plans.plan(t)[0].instructions for t in plans.targets[1:]] == ["", ""]
    [conflict] = _learners(plans.session, run["id"], learner=plans.targets[0].learner_id)
    assert conflict["undo"] == "conflict"


def test_a_run_not_applied_cannot_be_undone(api: ApiClient, plans: Plans) -> None:  # R-PLUS-2
    run = _created(api.post("/sync-runs", plans.body(sync_type="all")))
    body = assert_error(api.post(f"/sync-runs/{run['id']}/undo"), 409, "conflict")
    assert "Only an applied sync run" in body["message"]


# R-SYNC-27: the history


def test_the_history_lists_runs_newest_first_with_filters(
    api: ApiClient, supervisor: AbstractUser, plans: Plans
) -> None:
    older = _created(api.post("/sync-runs", plans.body(sync_type="all")))
    newer = _created(api.post("/sync-runs", plans.body(sync_type="all", statuses=["completed"])))
    _ok(api.post(f"/sync-runs/{older['id']}/confirm"))
    elsewhere = factories.enrolment(factories.learner(first_name="Zed", surname="Elsewhere"), plans.source.programme)
    third = _created(api.post("/sync-runs", {**plans.body(sync_type="all"), "learner": elsewhere.learner_id}))

    page = _ok(api.get("/sync-runs"))
    assert [r["id"] for r in page["items"]] == [third["id"], newer["id"], older["id"]]
    assert page["count"] == 3
    assert "rows" not in page["items"][0]
    assert [r["id"] for r in _ok(api.get("/sync-runs", status="applied"))["items"]] == [older["id"]]
    by_source = _ok(api.get("/sync-runs", learner=plans.source.learner_id))["items"]
    assert [r["id"] for r in by_source] == [newer["id"], older["id"]]
    assert [r["id"] for r in _ok(api.get("/sync-runs", search="elsewhere"))["items"]] == [third["id"]]
    assert _ok(api.get("/sync-runs", search=supervisor.last_name))["count"] == 3
    assert _ok(api.get("/sync-runs", page=2, page_size=2))["items"][0]["id"] == older["id"]
    assert_error(api.get("/sync-runs", status="lost"), 422, "invalid_input")


def test_another_admin_sees_only_their_own_runs_and_a_supervisor_sees_all(api: ApiClient, plans: Plans) -> None:
    run = _created(api.post("/sync-runs", plans.body(sync_type="all")))
    editor = token_client(factories.staff([Perm.ADM_EDIT]))
    theirs = _created(editor.post("/sync-runs", plans.body(sync_type="all")))

    assert [r["id"] for r in _ok(editor.get("/sync-runs"))["items"]] == [theirs["id"]]
    for path in ("", "/learners", "/learners.csv"):
        assert_error(editor.get(f"/sync-runs/{run['id']}{path}"), 404, "not_found")
    for action in ("confirm", "undo"):
        assert_error(editor.post(f"/sync-runs/{run['id']}/{action}"), 404, "not_found")
    assert {r["id"] for r in _ok(api.get("/sync-runs"))["items"]} == {run["id"], theirs["id"]}  # Supervisor
    assert _ok(api.get(f"/sync-runs/{theirs['id']}"))["id"] == theirs["id"]
    assert_error(api.get("/sync-runs/999999"), 404, "not_found")


# R-SYNC-1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/sync-runs"),
        ("get", "/sync-runs"),
        ("get", "/sync-runs/{id}"),
        ("get", "/sync-runs/{id}/learners"),
        ("get", "/sync-runs/{id}/learners.csv"),
        ("post", "/sync-runs/{id}/confirm"),
        ("post", "/sync-runs/{id}/undo"),
    ],
)
def test_an_admin_without_sync_permissions_is_refused_by_every_endpoint(
    api: ApiClient, plans: Plans, method: str, path: str
) -> None:  # R-SYNC-1
    run = _created(api.post("/sync-runs", plans.body(sync_type="all")))
    client = token_client(factories.staff([Perm.EDIT_DELETE_FINISHED]))
    url = path.replace("{id}", str(run["id"]))
    response = client.post(url, plans.body(sync_type="all")) if method == "post" else client.get(url)
    body = assert_error(response, 403, "permission_denied")
    assert "Internal Verifier" in body["message"]
    assert SyncRun.objects.count() == 1


# Bad input


def test_an_unknown_component_key_is_refused(api: ApiClient, plans: Plans) -> None:
    malformed = assert_error(api.post("/sync-runs", plans.body(components=["x1", "t"])), 422, "validation_failed")
    assert malformed["fields"] == {"components": ["Not a component key: 'x1', 't'."]}
    absent = assert_error(api.post("/sync-runs", plans.body(components=["t999999"])), 422, "validation_failed")
    assert absent["message"] == "1 of the selected components are not on this learner's plan for the programme."
    assert absent["fields"] == {"components": ["Unknown: template999999."]}
    assert_error(api.post("/sync-runs", plans.body(components=[])), 422, "invalid_input")
    assert not SyncRun.objects.exists()


def test_only_changes_without_recent_changes_is_refused(api: ApiClient, plans: Plans) -> None:  # R-SYNC-8
    body = assert_error(api.post("/sync-runs", plans.body()), 422, "validation_failed")
    assert body["message"].startswith("ONLY changes is not available")
    assert body["fields"] == {"sync_type": ["No recent changes."]}


def test_selected_without_attributes_is_refused(api: ApiClient, plans: Plans) -> None:  # R-SYNC-10
    body = assert_error(api.post("/sync-runs", plans.body(sync_type="selected")), 422, "validation_failed")
    assert body["fields"] == {"attributes": ["Tick at least one template attribute."]}
    due = assert_error(
        api.post("/sync-runs", plans.body(sync_type="selected", attributes=["due_date"])), 422, "validation_failed"
    )
    assert due["fields"] == {"attributes": ["Not offered for SELECTED: due_date."]}


def test_an_ineligible_learner_is_refused(api: ApiClient, plans: Plans) -> None:  # R-SYNC-5
    archived = factories.enrolment(factories.learner(), plans.source.programme, status="archived")
    elsewhere = factories.enrolment(factories.learner())
    ids = [plans.targets[0].learner_id, archived.learner_id, elsewhere.learner_id, plans.source.learner_id]
    body = assert_error(
        api.post("/sync-runs", plans.body(sync_type="all", learners={"ids": ids})), 422, "validation_failed"
    )
    assert body["message"].startswith("3 of the selected learners cannot be synchronised")
    wanted = sorted([archived.learner_id, elsewhere.learner_id, plans.source.learner_id])
    assert body["fields"] == {"learners": [f"Not eligible: {', '.join(map(str, wanted))}."]}
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"learners": {}}, "learners"),
        ({"learners": {"ids": [1], "all_matching": {}}}, "learners"),
        ({"learners": {"ids": []}}, "learners"),
        ({"statuses": []}, "statuses"),
        ({"statuses": ["finished"]}, "statuses.0"),
        ({"sync_type": "some"}, "sync_type"),
        ({"learners": {"all_matching": {"status": ["archived"]}}}, "learners.all_matching.status"),
    ],
)
def test_a_malformed_body_is_refused_with_the_field(
    api: ApiClient, plans: Plans, changes: dict[str, Any], field: str
) -> None:
    body = assert_error(api.post("/sync-runs", {**plans.body(sync_type="all"), **changes}), 422, "invalid_input")
    assert field in body["fields"], body


def test_all_matching_selects_the_learners_the_filters_match(api: ApiClient, plans: Plans) -> None:  # R-SYNC-5
    on_break = factories.enrolment(factories.learner(), plans.source.programme, status="break_in_learning")
    body = _created(
        api.post(
            "/sync-runs",
            plans.body(sync_type="all", learners={"all_matching": {"status": ["break_in_learning"]}}),
        )
    )
    assert body["learner_count"] == 1
    assert {i["learner"]["id"] for i in _learners(api, body["id"])} == {on_break.learner_id}
    everyone = _created(api.post("/sync-runs", plans.body(sync_type="all", learners={"all_matching": {}})))
    assert everyone["learner_count"] == 4


def test_a_token_has_no_recent_changes_but_a_session_on_the_record_has(api: ApiClient, plans: Plans) -> None:
    first = plans.plan(plans.source)[0]
    plans.change(first, instructions="New.")  # R-SYNC-12
    assert _created(plans.session.post("/sync-runs", plans.body()))["synchronised"] == 3
    assert_error(api.post("/sync-runs", plans.body()), 422, "validation_failed")


# The not-synchronised list as CSV


def test_the_not_synchronised_list_is_exported_as_csv(api: ApiClient, plans: Plans) -> None:  # R-SYNC-14
    first = plans.plan(plans.source)[0]
    Component.objects.filter(pk=plans.plan(plans.targets[1])[0].pk).update(status="completed")  # Abbott
    Learner.objects.filter(pk=plans.targets[2].learner_id).update(first_name="=HYPERLINK()")  # Baker
    Component.objects.filter(pk=plans.plan(plans.targets[2])[0].pk).update(status="referred")
    run = _created(api.post("/sync-runs", plans.body(sync_type="all", statuses=["not_started"])))

    response = api.get(f"/sync-runs/{run['id']}/learners.csv", synchronised="false", component=run["rows"][0]["id"])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="sync-run-{run["id"]}-learners.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    reason = NotSynced.STATUS_NOT_SELECTED.message
    abbott, baker = plans.targets[1].learner, plans.targets[2].learner
    assert rows == [
        ["Learner", "ULN", "Programme status", "Component", "Action", "Synchronised", "Reason"],
        ["Ada Abbott", abbott.uln, "Active", first.name, "synchronise", "no", reason],
        ["'=HYPERLINK() Baker", baker.uln, "Active", first.name, "synchronise", "no", reason],
    ]


# Query budgets


def test_a_learner_list_costs_the_same_for_3_and_30_target_learners(
    api: ApiClient, plans: Plans, django_assert_num_queries: Any
) -> None:  # R-SYNC-26, DESIGN: query budgets are tested
    few = _created(api.post("/sync-runs", plans.body(sync_type="all")))
    for n in range(27):
        factories.enrolment(factories.learner(surname=f"More{n:02}"), plans.source.programme)
    many = _created(api.post("/sync-runs", plans.body(sync_type="all", learners={"all_matching": {}})))
    assert many["learner_count"] == 30
    for run in (few, many):
        api.get(f"/sync-runs/{run['id']}/learners")  # the token's last-used stamp is written once
    with CaptureQueriesContext(connection) as baseline:
        assert len(_learners(api, few["id"], page_size=200)) == 9
    with django_assert_num_queries(len(baseline)):
        assert len(_learners(api, many["id"], page_size=200)) == 90
    page = _ok(api.get(f"/sync-runs/{many['id']}/learners", page=2, page_size=40))
    assert (page["count"], len(page["items"]), page["page"], page["page_size"]) == (90, 40, 2, 40)
    with django_assert_num_queries(3):  # the summary: the token, the run and its rows
        assert len(_ok(api.get(f"/sync-runs/{many['id']}"))["rows"]) == 3
