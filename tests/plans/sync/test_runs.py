"""Sync runs end to end on the database: summary, confirm, undo (R-SYNC-11…19, 26, 27, R-PLUS-1, 2)."""

import datetime as dt

import pytest

from tests.plans.sync.conftest import Setting
from waypoint.people.models import Learner
from waypoint.plans.models import Component, ComponentChange, SyncOutcome, SyncRunStatus
from waypoint.plans.services import component_delete, component_update
from waypoint.plans.sync.runs import sync_run_confirm, sync_run_create, sync_run_undo
from waypoint.plans.sync.types import SyncType, template_key

pytestmark = pytest.mark.django_db
ALL_STATUSES = ["not_started", "in_progress", "awaiting_marking", "referred", "completed"]


def _state(enrolment_ids: list[int]) -> list[tuple[object, ...]]:
    return list(
        Component.objects.filter(enrolment_id__in=enrolment_ids)
        .order_by("id")
        .values_list("id", "name", "due_date", "owner_id", "instructions", "template_id", "revision")
    )


def test_only_changes_run_applies_the_recent_changes_and_undo_restores_them(sync_setting: Setting) -> None:
    s = sync_setting
    first, second, _third = s.components(s.source)
    component_update(component=first, by=s.admin, changes={"due_date": dt.date(2027, 4, 1)}, visit_id=s.visit.pk)
    component_delete(component=second, by=s.admin, visit_id=s.visit.pk)
    before = _state([t.pk for t in s.targets])

    run = sync_run_create(
        by=s.admin,
        enrolment=s.source,
        keys=[template_key(first.template_id), template_key(second.template_id)],  # type: ignore[arg-type]
        learners=Learner.objects.filter(pk__in=[t.learner_id for t in s.targets]),
        sync_type=SyncType.ONLY_CHANGES,
        statuses=ALL_STATUSES,
        visit_id=s.visit.pk,
    )
    assert (run.learner_count, run.component_count, run.synchronised, run.not_synchronised) == (3, 2, 6, 0)
    assert SyncOutcome.objects.filter(row__run=run).count() == 6

    run = sync_run_confirm(run=run, by=s.admin)
    assert run.status == SyncRunStatus.APPLIED
    for target in s.targets:
        comps = s.components(target)
        assert [c.template_id for c in comps] == [first.template_id, _third.template_id]
        assert comps[0].due_date == dt.date(2027, 4, 1)
    assert ComponentChange.objects.filter(sync_run=run).count() == 6

    run = sync_run_undo(run=run, by=s.admin)
    assert (run.undo_restored, run.undo_conflicts) == (6, 0)
    after = _state([t.pk for t in s.targets])
    assert [r[:-1] for r in after] == [r[:-1] for r in before]
