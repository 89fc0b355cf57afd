"""The sync wizard's selection steps over the API: /learners/{id}/sync/… (R-SYNC-1…5)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from waypoint.people.models import Group, Learner, Perm
from waypoint.plans.models import Component, RecordVisit
from waypoint.plans.services import component_add, component_delete, component_update
from waypoint.plans.visits import SESSION_KEY
from waypoint.programmes.models import Enrolment, ProgrammeStatus

pytestmark = pytest.mark.django_db

STEPS = ("programmes", "components", "learners", "groups", "tutors")


@pytest.fixture
def source() -> Enrolment:
    """A learner on a programme of four template components (the last a Review)."""
    return factories.enrolment(factories.learner(), factories.programme(templates=4))


def _path(enrolment: Enrolment, step: str) -> str:
    return f"/learners/{enrolment.learner_id}/sync/{step}"


def _plan(enrolment: Enrolment) -> list[Component]:
    return list(Component.objects.filter(enrolment=enrolment).order_by("position", "id"))


def _in_visit(user: AbstractUser, learner_id: int) -> tuple[ApiClient, RecordVisit]:
    """A browser session with the learner record open: its changes are recent (R-SYNC-12)."""
    visit = RecordVisit.objects.create(admin=user, learner_id=learner_id)
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = {"id": visit.pk, "learner": learner_id}
    session.save()
    return ApiClient(client), visit


def _peer(source: Enrolment, **values: Any) -> Learner:
    status = values.pop("status", ProgrammeStatus.ACTIVE)
    made = factories.learner(**values)
    factories.enrolment(made, source.programme, status=status)
    return made


def _item_ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# R-SYNC-1


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("perms", [(), (Perm.EDIT_DELETE_FINISHED,)])
def test_an_admin_without_sync_permissions_is_refused_by_every_step(
    source: Enrolment, step: str, perms: tuple[Perm, ...]
) -> None:  # R-SYNC-1
    client = token_client(factories.staff(perms))
    body = assert_error(client.get(_path(source, step)), 403, "permission_denied")
    assert "Internal Verifier" in body["message"]


@pytest.mark.parametrize("step", STEPS)
def test_an_internal_verifier_may_use_every_step(source: Enrolment, step: str) -> None:  # R-SYNC-1, R-SYNC-21
    response = token_client(factories.staff([Perm.INTERNAL_VERIFIER])).get(_path(source, step))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("step", STEPS)
def test_a_learner_outside_the_admins_groups_is_not_found(step: str) -> None:  # R-CORE-8
    hidden = factories.enrolment(factories.learner(groups=[Group.objects.create(name="Theirs")]))
    limited = factories.staff([Perm.SUPERVISOR], all_groups=False)
    assert_error(token_client(limited).get(_path(hidden, step)), 404, "not_found")


# R-SYNC-2


def test_the_only_programme_is_preselected(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-2
    body = api.get(_path(source, "programmes")).json()
    assert body["preselected"] == source.programme_id
    assert [(i["enrolment_id"], i["programme"]["id"], i["parent"]) for i in body["items"]] == [
        (source.pk, source.programme_id, None)
    ]
    assert api.get(_path(source, "components")).json()["count"] == 4


def test_a_learner_on_sub_programmes_must_choose_one(api: ApiClient) -> None:  # R-SYNC-2
    parent = factories.programme(templates=1)
    sub = factories.programme(templates=2, parent=parent)
    enrolment = factories.enrolment(factories.learner(), parent)

    body = api.get(_path(enrolment, "programmes")).json()
    assert body["preselected"] is None
    assert [i["programme"]["id"] for i in body["items"]] == [parent.pk, sub.pk]
    assert body["items"][1]["parent"]["id"] == parent.pk

    for step in ("components", "learners", "groups", "tutors"):
        refused = assert_error(api.get(_path(enrolment, step)), 422, "validation_failed")
        assert sub.name in refused["message"]
        assert "programme" in refused["fields"]
    assert api.get(_path(enrolment, "components"), programme=sub.pk).json()["count"] == 2


def test_a_programme_the_learner_is_not_on_is_not_found(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-2
    other = factories.programme()
    assert_error(api.get(_path(source, "components"), programme=other.pk), 404, "not_found")
    assert_error(api.get(_path(source, "learners"), programme=other.pk), 404, "not_found")


# R-SYNC-3


def test_components_are_listed_in_plan_order_with_stable_keys(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-3
    body = api.get(_path(source, "components")).json()
    plan = _plan(source)
    assert [i["key"] for i in body["items"]] == [f"t{c.template_id}" for c in plan]
    assert [i["component_id"] for i in body["items"]] == [c.pk for c in plan]
    first = body["items"][0]
    assert set(first) == {"key", "component_id", "name", "type", "status", "updated_at", "recent", "preselected"}
    assert (first["name"], first["status"], first["recent"], first["preselected"]) == (
        plan[0].name,
        "not_started",
        None,
        False,
    )


def test_components_are_filtered_by_type(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-3
    body = api.get(_path(source, "components"), type="review").json()
    assert [(i["type"], body["count"]) for i in body["items"]] == [("review", 1)]
    assert_error(api.get(_path(source, "components"), type="meeting"), 422, "invalid_input")


def test_components_are_searched_by_name(api: ApiClient, supervisor: AbstractUser, source: Enrolment) -> None:
    second = _plan(source)[1]
    component_update(component=second, by=supervisor, changes={"name": "Functional Skills Maths"}, visit_id=None)
    body = api.get(_path(source, "components"), search="skills maths").json()  # R-SYNC-3
    assert [i["component_id"] for i in body["items"]] == [second.pk]


def test_components_are_paged(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-3
    plan = _plan(source)
    page_2 = api.get(_path(source, "components"), page=2, page_size=3).json()
    assert (page_2["count"], page_2["page"], page_2["page_size"]) == (4, 2, 3)
    assert [i["component_id"] for i in page_2["items"]] == [plan[3].pk]
    assert api.get(_path(source, "components"), page=9, page_size=3).json()["items"] == []
    assert_error(api.get(_path(source, "components"), page_size=0), 422, "invalid_input")


def test_a_component_deleted_in_the_visit_is_listed_by_its_key(
    supervisor: AbstractUser, source: Enrolment
) -> None:  # R-SYNC-3
    client, visit = _in_visit(supervisor, source.learner_id)
    gone = _plan(source)[0]
    component_delete(component=gone, by=supervisor, visit_id=visit.pk)

    items = client.get(_path(source, "components")).json()["items"]

    deleted = [i for i in items if i["component_id"] is None]
    assert [(i["key"], i["name"], i["updated_at"], i["recent"]) for i in deleted] == [
        (f"t{gone.template_id}", gone.name, None, "deleted")
    ]


# R-SYNC-4


def test_recent_changes_are_preselected_across_all_pages(supervisor: AbstractUser, source: Enrolment) -> None:
    client, visit = _in_visit(supervisor, source.learner_id)
    first, second, _third, fourth = _plan(source)
    component_update(component=fourth, by=supervisor, changes={"due_date": dt.date(2027, 3, 1)}, visit_id=visit.pk)
    component_delete(component=second, by=supervisor, visit_id=visit.pk)
    added = component_add(enrolment=source, by=supervisor, values={"name": "Extra", "type": "exam"}, visit_id=visit.pk)

    body = client.get(_path(source, "components"), page_size=1).json()  # R-SYNC-4

    assert body["only_changes_available"] is True
    assert set(body["preselected"]) == {f"t{fourth.template_id}", f"t{second.template_id}", f"c{added.pk}"}
    assert body["items"][0]["component_id"] == first.pk
    assert body["items"][0]["preselected"] is False
    filtered = client.get(_path(source, "components"), type="exam").json()
    assert [(i["key"], i["recent"], i["preselected"]) for i in filtered["items"]] == [(f"c{added.pk}", "created", True)]
    assert len(filtered["preselected"]) == 3  # the selection does not depend on the filters shown


def test_changes_of_an_earlier_ended_visit_are_not_preselected(supervisor: AbstractUser, source: Enrolment) -> None:
    earlier = RecordVisit.objects.create(admin=supervisor, learner_id=source.learner_id)
    component_update(component=_plan(source)[0], by=supervisor, changes={"name": "Then"}, visit_id=earlier.pk)
    RecordVisit.objects.filter(pk=earlier.pk).update(ended_at=timezone.now())
    client, _visit = _in_visit(supervisor, source.learner_id)

    body = client.get(_path(source, "components")).json()  # R-SYNC-4, R-SYNC-12

    assert (body["only_changes_available"], body["preselected"]) == (False, [])
    assert not any(i["preselected"] for i in body["items"])


def test_a_token_has_no_record_visit_so_nothing_is_preselected(
    api: ApiClient, supervisor: AbstractUser, source: Enrolment
) -> None:  # R-SYNC-4, R-SYNC-12
    component_update(component=_plan(source)[0], by=supervisor, changes={"name": "Renamed"}, visit_id=None)
    body = api.get(_path(source, "components")).json()
    assert (body["only_changes_available"], body["preselected"]) == (False, [])


# R-SYNC-5


def test_learners_on_the_programme_are_listed_without_the_source_or_excluded_statuses(
    api: ApiClient, source: Enrolment
) -> None:  # R-SYNC-5
    kept = [_peer(source, status=s) for s in ("active", "break_in_learning", "completed", "withdrawn")]
    for status in ("pending_change", "expired", "cancelled", "archived"):
        _peer(source, status=status)
    factories.enrolment(factories.learner(), factories.programme())

    body = api.get(_path(source, "learners")).json()

    assert body["count"] == 4
    assert sorted(i["id"] for i in body["items"]) == sorted(p.pk for p in kept)
    assert {i["programme_status"] for i in body["items"]} == {"active", "break_in_learning", "completed", "withdrawn"}


def test_a_learner_row_has_what_the_selection_grid_shows(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-5
    tutor = factories.staff()
    group = Group.objects.create(name="Cohort 7")
    peer = _peer(source, tutor=tutor, groups=[group], first_name="Ada", surname="Lovelace")
    [item] = api.get(_path(source, "learners")).json()["items"]
    assert item == {
        "id": peer.pk,
        "first_name": "Ada",
        "surname": "Lovelace",
        "full_name": "Ada Lovelace",
        "uln": peer.uln,
        "programme_status": "active",
        "tutor": {"id": tutor.pk, "name": tutor.get_full_name()},
        "groups": [{"id": group.pk, "name": "Cohort 7"}],
    }


def test_a_group_limited_admin_sees_only_learners_in_their_groups(source: Enrolment) -> None:  # R-SYNC-5
    mine, theirs = Group.objects.create(name="Mine"), Group.objects.create(name="Theirs")
    source.learner.groups.add(mine)
    visible = _peer(source, groups=[mine])
    _peer(source, groups=[theirs])
    client = token_client(factories.staff([Perm.ADM_EDIT], all_groups=False, groups=[mine]))

    assert _item_ids(client.get(_path(source, "learners"))) == [visible.pk]
    assert [g["name"] for g in client.get(_path(source, "groups")).json()] == ["Mine"]


def test_learners_are_filtered_by_several_statuses(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-5
    _peer(source)
    on_break = _peer(source, status="break_in_learning", surname="A")
    done = _peer(source, status="completed", surname="B")
    found = api.get(_path(source, "learners"), status=["break_in_learning", "completed"])
    assert _item_ids(found) == [on_break.pk, done.pk]


def test_filtering_by_an_excluded_status_is_refused(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-5
    body = assert_error(api.get(_path(source, "learners"), status="archived"), 422, "invalid_input")
    assert "Archived" in body["fields"]["status"][0]


def test_learners_are_filtered_by_groups_and_tutors(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-5
    a, b = Group.objects.create(name="A"), Group.objects.create(name="B")
    kim, lee = factories.staff(), factories.staff()
    both = _peer(source, groups=[a], tutor=kim, surname="Able")
    only_group = _peer(source, groups=[b], tutor=lee, surname="Baker")
    _peer(source, tutor=kim, surname="Cole")

    assert _item_ids(api.get(_path(source, "learners"), group=[a.pk, b.pk])) == [both.pk, only_group.pk]
    assert _item_ids(api.get(_path(source, "learners"), group=a.pk, tutor=[kim.pk, lee.pk])) == [both.pk]
    assert len(_item_ids(api.get(_path(source, "learners"), tutor=kim.pk))) == 2


def test_learners_are_searched_by_name_or_uln(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-5
    ada = _peer(source, first_name="Ada", surname="Lovelace")
    grace = _peer(source, first_name="Grace", surname="Hopper")
    assert _item_ids(api.get(_path(source, "learners"), search="lovelace")) == [ada.pk]
    assert _item_ids(api.get(_path(source, "learners"), search=grace.uln)) == [grace.pk]


def test_the_count_covers_every_matching_learner_across_pages(api: ApiClient, source: Enrolment) -> None:  # R-SYNC-5
    group = Group.objects.create(name="Cohort")
    for _ in range(5):
        _peer(source, groups=[group])
    _peer(source)
    body = api.get(_path(source, "learners"), group=group.pk, page=2, page_size=2).json()
    assert (body["count"], len(body["items"]), body["page"]) == (5, 2, 2)


def test_the_filter_options_are_the_groups_and_tutors_of_eligible_learners(
    api: ApiClient, source: Enrolment
) -> None:  # R-SYNC-5
    evening, weekend, old = (Group.objects.create(name=n) for n in ("Evening", "Weekend", "Old"))
    kim = factories.staff(username="kim")
    lee = factories.staff(username="lee")
    _peer(source, groups=[evening], tutor=kim)
    _peer(source, groups=[weekend], tutor=lee)
    _peer(source, groups=[old], tutor=factories.staff(), status="archived")

    assert [g["name"] for g in api.get(_path(source, "groups")).json()] == ["Evening", "Weekend"]
    assert [g["name"] for g in api.get(_path(source, "groups"), search="week").json()] == ["Weekend"]
    assert {t["id"] for t in api.get(_path(source, "tutors")).json()} == {kim.pk, lee.pk}
    assert [t["id"] for t in api.get(_path(source, "tutors"), search="lee").json()] == [lee.pk]


def test_listing_learners_costs_the_same_for_3_and_30_learners(
    api: ApiClient, source: Enrolment, django_assert_num_queries: Any
) -> None:  # R-SYNC-5, R-SYNC-26
    group, tutor = Group.objects.create(name="Cohort"), factories.staff()
    for _ in range(3):
        _peer(source, groups=[group], tutor=tutor)
    path = _path(source, "learners")
    api.get(path)  # the token's last-used stamp is written once, not on every request
    with CaptureQueriesContext(connection) as few:
        assert api.get(path, page_size=50).json()["count"] == 3
    for _ in range(27):
        _peer(source, groups=[group], tutor=tutor)
    with django_assert_num_queries(len(few)):
        assert len(api.get(path, page_size=50).json()["items"]) == 30
