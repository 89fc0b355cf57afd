"""Gathering a sync's source from the database: the source plan and its recent changes (R-SYNC-4, R-SYNC-12),
in a number of queries that does not grow with learners (R-SYNC-26). The targets' side is test_pairs.py."""

import datetime as dt
from typing import Any

import pytest

from tests import factories as make
from waypoint.people.models import Perm
from waypoint.plans.models import Component, RecordVisit
from waypoint.plans.services import component_add, component_delete, component_update
from waypoint.plans.sync.gather import gather_sources
from waypoint.plans.sync.types import hand_made_key, template_key
from waypoint.programmes.models import Enrolment

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
