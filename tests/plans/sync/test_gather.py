"""Gathering a sync's inputs from the database: the source's recent changes (R-SYNC-4, R-SYNC-12) and every
target's matching components (R-SYNC-11), in a number of queries that does not grow with learners (R-SYNC-26)."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as make
from waypoint.people.models import Learner, Perm
from waypoint.plans.models import Component, RecordVisit
from waypoint.plans.services import component_add, component_delete, component_update
from waypoint.plans.sync.decide import decide
from waypoint.plans.sync.gather import gather_sources, gather_targets
from waypoint.plans.sync.types import SyncAction, SyncChoice, SyncType, hand_made_key, template_key
from waypoint.programmes.models import Enrolment, Programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting() -> dict[str, Any]:
    """A programme of three template components, a source learner and an admin in a record visit."""
    programme = make.programme(templates=3)
    tutor = make.staff()
    source = make.enrolment(make.learner(tutor=tutor), programme)
    admin = make.staff({Perm.SUPERVISOR})
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    return {"programme": programme, "source": source, "admin": admin, "visit": visit, "tutor": tutor}


def _components(enrolment: Enrolment) -> list[Component]:
    return list(Component.objects.filter(enrolment=enrolment).order_by("position"))


def test_sources_carry_the_fields_created_and_deleted_in_the_visit(setting: dict[str, Any]) -> None:  # R-SYNC-4
    source, admin, visit = setting["source"], setting["admin"], setting["visit"]
    first, second, third = _components(source)
    component_update(component=first, by=admin, changes={"due_date": dt.date(2027, 4, 1)}, visit_id=visit.pk)
    component_delete(component=second, by=admin, visit_id=visit.pk)
    added = component_add(enrolment=source, by=admin, values={"name": "Extra", "type": "exam"}, visit_id=visit.pk)

    sources = {s.key: s for s in gather_sources(enrolment=source, by_id=admin.pk, visit_id=visit.pk)}

    assert sources[template_key(first.template_id)].changed_fields == {"due_date"}  # type: ignore[arg-type]
    assert sources[template_key(first.template_id)].values["due_date"] == "2027-04-01"  # type: ignore[arg-type]
    gone = sources[template_key(second.template_id)]  # type: ignore[arg-type]
    assert (gone.deleted, gone.component_id, gone.values["name"]) == (True, None, second.name)
    made = sources[hand_made_key(added.pk)]
    assert (made.created, made.template_values) == (True, None)
    untouched = sources[template_key(third.template_id)]  # type: ignore[arg-type]
    assert (untouched.changed_fields, untouched.created, untouched.deleted) == (frozenset(), False, False)


def test_changes_of_another_visit_or_another_admin_are_not_recent(setting: dict[str, Any]) -> None:  # R-SYNC-12
    source, admin = setting["source"], setting["admin"]
    first = _components(source)[0]
    earlier = RecordVisit.objects.create(admin=admin, learner=source.learner)
    component_update(component=first, by=admin, changes={"instructions": "Old visit"}, visit_id=earlier.pk)
    colleague = make.staff({Perm.SUPERVISOR})
    component_update(component=first, by=colleague, changes={"name": "Theirs"}, visit_id=setting["visit"].pk)

    sources = gather_sources(enrolment=source, by_id=admin.pk, visit_id=setting["visit"].pk)
    assert all(not s.changed_fields for s in sources)
    assert not any(s.changed_fields for s in gather_sources(enrolment=source, by_id=admin.pk, visit_id=None))


def test_sources_know_their_template_values_and_whether_the_case_owner_owns_them(setting: dict[str, Any]) -> None:
    source, admin = setting["source"], setting["admin"]
    first = _components(source)[0]
    component_update(component=first, by=admin, changes={"name": "Renamed", "owner": admin.pk}, visit_id=None)

    by_key = {s.key: s for s in gather_sources(enrolment=source, by_id=admin.pk, visit_id=None)}
    renamed = by_key[template_key(first.template_id)]  # type: ignore[arg-type]
    assert renamed.template_values is not None
    assert renamed.template_values["name"] == first.template.name  # type: ignore[union-attr]  # R-SYNC-10
    assert not renamed.owned_by_case_owner  # R-SYNC-16
    others = [s for k, s in by_key.items() if k != renamed.key]
    assert all(s.owned_by_case_owner for s in others)


def test_targets_hold_their_matching_components_and_learners_lacking_them(setting: dict[str, Any]) -> None:
    programme: Programme = setting["programme"]
    keep, drop = make.enrolment(make.learner(), programme), make.enrolment(make.learner(), programme)
    removed = _components(drop)[0]
    component_delete(component=removed, by=setting["admin"], visit_id=None)
    make.enrolment(make.learner(), make.programme())  # on another programme: never a target here
    keys = [template_key(t.pk) for t in programme.templates.all()]

    plans = list(
        gather_targets(
            programme_id=programme.pk, learners=Learner.objects.exclude(pk=setting["source"].learner_id), keys=keys
        )
    )

    assert [p.learner_id for p in plans] == sorted([keep.learner_id, drop.learner_id])
    by_learner = {p.learner_id: p for p in plans}
    assert len(by_learner[keep.learner_id].components) == 3
    assert template_key(removed.template_id) not in by_learner[drop.learner_id].components  # type: ignore[arg-type]


def test_a_hand_made_component_copied_by_a_sync_is_found_through_its_origin(setting: dict[str, Any]) -> None:
    programme, admin = setting["programme"], setting["admin"]
    original = component_add(
        enrolment=setting["source"], by=admin, values={"name": "Extra", "type": "exam"}, visit_id=None
    )
    other = make.enrolment(make.learner(), programme)
    copy = component_add(enrolment=other, by=admin, values={"name": "Extra", "type": "exam"}, visit_id=None)
    Component.objects.filter(pk=copy.pk).update(copied_from=original)

    [plan] = gather_targets(
        programme_id=programme.pk,
        learners=Learner.objects.filter(pk=other.learner_id),
        keys=[hand_made_key(original.pk)],
    )
    assert plan.components[hand_made_key(original.pk)].component_id == copy.pk


def test_gathering_costs_the_same_number_of_queries_for_3_and_30_learners(setting: dict[str, Any]) -> None:  # R-SYNC-26
    programme = setting["programme"]
    keys = [template_key(t.pk) for t in programme.templates.all()]

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            list(gather_targets(programme_id=programme.pk, learners=Learner.objects.all(), keys=keys))
            gather_sources(enrolment=setting["source"], by_id=setting["admin"].pk, visit_id=setting["visit"].pk)
        return len(queries)

    for _ in range(2):
        make.enrolment(make.learner(), programme)
    few = count_queries()
    for _ in range(27):
        make.enrolment(make.learner(), programme)
    assert count_queries() == few


def test_gathered_values_feed_decide_end_to_end(setting: dict[str, Any]) -> None:  # R-SYNC-8, R-SYNC-11
    programme, source, admin, visit = setting["programme"], setting["source"], setting["admin"], setting["visit"]
    target = make.enrolment(make.learner(), programme)
    first = _components(source)[0]
    component_update(component=first, by=admin, changes={"due_date": dt.date(2027, 6, 1)}, visit_id=visit.pk)

    sources = gather_sources(enrolment=source, by_id=admin.pk, visit_id=visit.pk)
    plans = gather_targets(
        programme_id=programme.pk, learners=Learner.objects.filter(pk=target.learner_id), keys=[s.key for s in sources]
    )
    choice = SyncChoice(
        sync_type=SyncType.ONLY_CHANGES, statuses=frozenset({"not_started"}), perms=frozenset({Perm.SUPERVISOR})
    )
    decisions = [d for d in decide(sources, plans, choice) if d.synchronised]

    assert [(d.action, dict(d.diff)) for d in decisions] == [
        (SyncAction.SYNCHRONISE, {"due_date": (_components(target)[0].due_date.isoformat(), "2027-06-01")})  # type: ignore[union-attr]
    ]
