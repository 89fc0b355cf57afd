"""A run's learner/component pairs as the database reads them (R-SYNC-11, R-SYNC-26), and the state that stands
for a target component in `decide`: deciding on the state must come out exactly as deciding on the component."""

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as make
from tests.plans.sync.conftest import ALL_STATUSES, Setting
from tests.plans.sync.test_decide_properties import source_components, sync_choices, target_components
from waypoint.people.models import Learner
from waypoint.plans.models import Component, Review
from waypoint.plans.services import component_add, component_delete, component_update
from waypoint.plans.sync.decide import decide_with, sync_values
from waypoint.plans.sync.pairs import MISSING, decode, run_pairs, state_sql
from waypoint.plans.sync.runs import sync_run_create
from waypoint.plans.sync.types import (
    Decision,
    SourceComponent,
    SyncType,
    TargetComponent,
    TargetPlan,
    hand_made_key,
    template_key,
)

pytestmark = pytest.mark.django_db


def _pairs(run: Any) -> list[tuple[int, int, int | None, int]]:
    sql, params = run_pairs(run)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_id, learner_id, component_id, state FROM ({sql}) p", params)
        return sorted(cursor.fetchall(), key=lambda r: (r[0], r[1]))


def test_every_target_learner_has_a_pair_per_grid_row_and_a_missing_component_is_missing(
    sync_setting: Setting,
) -> None:  # R-SYNC-11
    s = sync_setting
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"due_date": dt.date(2027, 5, 3)}, visit_id=s.visit.pk)
    lacking = s.components(s.targets[0])[0]
    component_delete(component=lacking, by=s.admin, visit_id=None)
    make.enrolment(make.learner(), make.programme())  # on another programme: never a pair

    run = sync_run_create(
        by=s.admin,
        enrolment=s.source,
        keys=[template_key(first.template_id)],  # type: ignore[arg-type]
        learners=Learner.objects.all(),
        sync_type=SyncType.ONLY_CHANGES,
        statuses=ALL_STATUSES,
        visit_id=s.visit.pk,
    )

    [row] = run.components.all()
    pairs = _pairs(run)
    assert [(r, learner) for r, learner, _c, _s in pairs] == [(row.pk, t.learner_id) for t in s.targets]
    by_learner = {learner: (component, state) for _r, learner, component, state in pairs}
    assert by_learner[s.targets[0].learner_id] == (None, MISSING)
    assert by_learner[s.targets[1].learner_id][0] == s.components(s.targets[1])[0].pk


def test_a_copy_of_a_hand_made_component_is_paired_through_its_origin(sync_setting: Setting) -> None:  # R-SYNC-11
    s = sync_setting
    original = component_add(
        enrolment=s.source, by=s.admin, values={"name": "Extra", "type": "exam"}, visit_id=s.visit.pk
    )
    other = s.targets[0]
    copy = component_add(enrolment=other, by=s.admin, values={"name": "Extra", "type": "exam"}, visit_id=None)
    Component.objects.filter(pk=copy.pk).update(copied_from=original)

    run = sync_run_create(
        by=s.admin,
        enrolment=s.source,
        keys=[hand_made_key(original.pk)],
        learners=Learner.objects.filter(pk=other.learner_id),
        sync_type=SyncType.ONLY_CHANGES,
        statuses=ALL_STATUSES,
        visit_id=s.visit.pk,
    )

    [(_row, learner, component, state)] = _pairs(run)
    assert (learner, component) == (other.learner_id, copy.pk)
    assert state != MISSING


# The state stands for the component: one generated pair at a time, written to a real component.

OWNERS: dict[Any, Any] = {}


def _with_real_owners(values: Any) -> Any:
    return None if values is None else {**values, "owner": OWNERS[values["owner"]]}


def _column_value(field: str, value: Any) -> Any:
    return dt.date.fromisoformat(value) if field == "due_date" and value is not None else value


def _state_of(component: Component, wanted: dict[str, Any]) -> int:
    sql, params = state_sql(wanted)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM plans_component c LEFT JOIN plans_review v ON v.component_id = c.id WHERE c.id = %s",
            [*params, component.pk],
        )
        return int(cursor.fetchone()[0])


def _outcome(decision: Decision) -> tuple[Any, ...]:
    return (decision.action, decision.reason, decision.review, decision.warnings, sorted(decision.diff))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), choice=sync_choices())
def test_deciding_on_the_state_decides_exactly_as_on_the_component(
    sync_setting: Setting, data: st.DataObject, choice: Any
) -> None:  # R-SYNC-6, 8, 10, 13b, 16, 17, 19, 20-25
    s = sync_setting
    OWNERS.update({None: None, 1: s.admin.pk, 2: s.tutor.pk, 3: s.targets[0].learner.tutor_id})
    drawn: SourceComponent = data.draw(source_components())
    source = dataclasses.replace(
        drawn, values=_with_real_owners(drawn.values), template_values=_with_real_owners(drawn.template_values)
    )
    target: TargetComponent = data.draw(target_components(drawn, learner_id=1))
    target = dataclasses.replace(target, values=_with_real_owners(target.values))
    component = s.components(s.targets[0])[0]
    columns = {("owner_id" if f == "owner" else f): _column_value(f, v) for f, v in target.values.items()}
    Component.objects.filter(pk=component.pk).update(**columns, marking_aid_submitted=target.marking_aid_submitted)
    Review.objects.filter(component=component).delete()
    if target.review is not None:
        Review.objects.create(component=component, status=target.review.status, scheduled_at=target.review.scheduled_at)
    wanted = sync_values(source, choice)

    decoded = decode(_state_of(component, wanted), wanted)
    assert decoded is not None

    real = decide_with(source, TargetPlan(learner_id=1, components={source.key: target}), choice, wanted)
    from_state = decide_with(source, TargetPlan(learner_id=1, components={source.key: decoded}), choice, wanted)
    assert _outcome(from_state) == _outcome(real)
