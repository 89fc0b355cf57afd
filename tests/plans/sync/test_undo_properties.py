"""Property: whatever the plans and the choices, undo after confirm restores the exact prior state (R-PLUS-2)."""

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as make
from tests.plans.sync.conftest import ALL_STATUSES
from waypoint.people.models import Learner, Perm
from waypoint.plans.models import CalendarTask, Component, RecordVisit, Review, SyncRunStatus
from waypoint.plans.services import component_add, component_delete, component_update, review_schedule
from waypoint.plans.sync.decide import SELECTABLE_ATTRIBUTES
from waypoint.plans.sync.runs import sync_run_confirm, sync_run_create, sync_run_undo
from waypoint.plans.sync.types import SyncType, hand_made_key, template_key

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _state(enrolment_ids: list[int]) -> list[tuple[Any, ...]]:
    components = list(Component.objects.filter(enrolment_id__in=enrolment_ids).order_by("id").values())
    for c in components:
        del c["revision"], c["updated_at"]
    reviews = list(Review.objects.filter(component__enrolment_id__in=enrolment_ids).order_by("id").values())
    tasks = list(CalendarTask.objects.filter(review__component__enrolment_id__in=enrolment_ids).order_by("id").values())
    return [tuple(sorted(r.items())) for r in components + reviews + tasks]


target_edits = st.fixed_dictionaries(
    {
        "status": st.sampled_from(ALL_STATUSES),
        "instructions": st.sampled_from(["", "Own words", "Read chapter 2"]),
        "remove": st.booleans(),
        "schedule": st.booleans(),
        "complete_review": st.booleans(),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    targets=st.lists(target_edits, min_size=1, max_size=3),
    sync_type=st.sampled_from(list(SyncType)),
    statuses=st.sets(st.sampled_from(ALL_STATUSES), min_size=1),
    attributes=st.sets(st.sampled_from(SELECTABLE_ATTRIBUTES), min_size=1),
    source_changes=st.sets(st.sampled_from(["due_date", "instructions", "name", "delete", "add", "schedule"])),
)
def test_undo_after_confirm_restores_the_exact_prior_state(
    targets: list[dict[str, Any]],
    sync_type: SyncType,
    statuses: set[str],
    attributes: set[str],
    source_changes: set[str],
) -> None:
    try:
        with transaction.atomic():
            _check_undo_restores(targets, sync_type, statuses, attributes, source_changes)
            raise _Rollback
    except _Rollback:
        pass


def _check_undo_restores(
    targets: list[dict[str, Any]],
    sync_type: SyncType,
    statuses: set[str],
    attributes: set[str],
    source_changes: set[str],
) -> None:
    programme = make.programme(templates=3)
    source = make.enrolment(make.learner(tutor=make.staff()), programme)
    admin = make.staff({Perm.SUPERVISOR})
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    at = dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC)
    enrolments = []
    for edits in targets:
        enrolment = make.enrolment(make.learner(tutor=make.staff()), programme)
        enrolments.append(enrolment)
        first, _, review = Component.objects.filter(enrolment=enrolment).order_by("position")
        if edits["schedule"]:
            review_schedule(component=review, by=admin, starts_at=at, visit_id=None)
            if edits["complete_review"]:
                Review.objects.filter(component=review).update(status="completed")
        Component.objects.filter(pk=first.pk).update(status=edits["status"], instructions=edits["instructions"])
        if edits["remove"]:
            component_delete(component=Component.objects.get(enrolment=enrolment, position=2), by=admin, visit_id=None)
    first, second, review = Component.objects.filter(enrolment=source).order_by("position")
    keys = [template_key(c.template_id) for c in (first, second, review)]  # type: ignore[arg-type]
    if "due_date" in source_changes:
        component_update(component=first, by=admin, changes={"due_date": dt.date(2027, 6, 30)}, visit_id=visit.pk)
    if "instructions" in source_changes or "name" in source_changes:
        changes: Any = {f: "Changed" for f in ("instructions", "name") if f in source_changes}
        component_update(component=second, by=admin, changes=changes, visit_id=visit.pk)
    if "schedule" in source_changes:
        review_schedule(component=review, by=admin, starts_at=at, visit_id=visit.pk)
    if "add" in source_changes:
        made = component_add(enrolment=source, by=admin, values={"name": "Extra", "type": "exam"}, visit_id=visit.pk)
        keys.append(hand_made_key(made.pk))
    if "delete" in source_changes:
        component_delete(component=Component.objects.get(pk=second.pk), by=admin, visit_id=visit.pk)
    if sync_type is SyncType.ONLY_CHANGES and not (source_changes - {"schedule"}):
        sync_type = SyncType.ALL
    before = _state([e.pk for e in enrolments] + [source.pk])

    run = sync_run_create(
        by=admin,
        enrolment=source,
        keys=keys,
        learners=Learner.objects.filter(pk__in=[e.learner_id for e in enrolments]),
        sync_type=sync_type,
        statuses=sorted(statuses),
        attributes=sorted(attributes) if sync_type is SyncType.SELECTED else (),
        visit_id=visit.pk,
    )
    assert sync_run_confirm(run=run, by=admin).status == SyncRunStatus.APPLIED
    undone = sync_run_undo(run=run, by=admin)

    assert undone.undo_conflicts == 0
    assert _state([e.pk for e in enrolments] + [source.pk]) == before
