"""The write side of a sync: set-based statements, a fixed number per grid row, never one per learner.

Every statement selects its rows from the run's stored outcomes (a sub-select on `SyncOutcome`), so a run of
20,000 learners sends the same statements as a run of ten (R-SYNC-26). The caller holds the transaction.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import BooleanField, DateField, Field, ForeignKey, IntegerField, JSONField, Model
from django.utils import timezone

from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import (
    CalendarTask,
    ChangeAction,
    Component,
    ComponentChange,
    Review,
    ReviewStatus,
    SyncOutcome,
    SyncRun,
    SyncRunComponent,
    SyncSavedComponent,
    SyncSavedReview,
    SyncSavedTask,
    TaskStatus,
)
from waypoint.plans.sync.types import ReviewEffect, SyncAction
from waypoint.programmes.models import Enrolment

Progress = Callable[[int], None]


def _t(model: type[Model]) -> str:
    return model._meta.db_table


COMPONENT, REVIEW, TASK, CHANGE = _t(Component), _t(Review), _t(CalendarTask), _t(ComponentChange)
OUTCOME, ROW, ENROLMENT = _t(SyncOutcome), _t(SyncRunComponent), _t(Enrolment)
SAVED_COMPONENT, SAVED_REVIEW, SAVED_TASK = _t(SyncSavedComponent), _t(SyncSavedReview), _t(SyncSavedTask)

# The component's columns (but its id), as copied to and from SyncSavedComponent.
COMPONENT_COLUMNS = tuple(str(f.column) for f in Component._meta.concrete_fields if f.column != "id")

_RUN_OUTCOMES = f"{OUTCOME}.row_id IN (SELECT id FROM {ROW} WHERE run_id = %s)"
_SYNCHRONISE, _CREATE, _DELETE = SyncAction.SYNCHRONISE.value, SyncAction.CREATE.value, SyncAction.DELETE.value


class StaleSummary(Exception):
    """A plan changed between the summary and the confirm (R-SYNC-15): the transaction is rolled back."""


def _execute(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _scalar(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else row[0]


def _db(field_name: str, value: Any) -> Any:
    """A JSON value of an editable attribute as a database parameter."""
    field = Component._meta.get_field(field_name)
    assert isinstance(field, Field)
    if isinstance(field, DateField) and isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return field.get_db_prep_save(value, connection)


def _column(field_name: str) -> str:
    return "owner_id" if field_name == "owner" else field_name


# Checking the summary is still true


def changed_since_summary(run: SyncRun) -> bool:
    """R-SYNC-15: any target or source component the summary was decided on changed, or appeared."""
    changed_target = _scalar(
        f"SELECT 1 FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND {OUTCOME}.component_id IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {COMPONENT} c WHERE c.id = {OUTCOME}.component_id "
        f"AND c.revision = {OUTCOME}.revision) LIMIT 1",
        [run.pk],
    )
    if changed_target:
        return True
    appeared = _scalar(
        f"SELECT 1 FROM {OUTCOME} JOIN {ROW} r ON r.id = {OUTCOME}.row_id "
        f"WHERE r.run_id = %s AND {OUTCOME}.component_id IS NULL AND {_has_component(run, 'r')} LIMIT 1",
        [run.pk],
    )
    return bool(appeared)


def _has_component(run: SyncRun, row: str) -> str:
    """SQL: the outcome's learner has a component with the grid row's key, found through an index either way:
    (enrolment, template) for a template component, (copied_from, learner) for a copy of a hand-made one."""
    enrolment = (
        f"(SELECT e.id FROM {ENROLMENT} e WHERE e.learner_id = {OUTCOME}.learner_id "
        f"AND e.programme_id = {int(run.programme_id)})"
    )
    return (
        f"(({row}.key_kind = 'template' AND EXISTS (SELECT 1 FROM {COMPONENT} c "
        f"WHERE c.enrolment_id = {enrolment} AND c.template_id = {row}.key_id)) "
        f"OR ({row}.key_kind = 'component' AND EXISTS (SELECT 1 FROM {COMPONENT} c "
        f"WHERE c.copied_from_id = {row}.key_id AND c.learner_id = {OUTCOME}.learner_id)))"
    )


# Applying


def apply_run(run: SyncRun, *, progress: Progress) -> None:
    """Write every outcome of the run that changes something; before-values are kept for undo."""
    now = timezone.now()
    rows = list(run.components.order_by("position", "id"))
    _save_for_undo(run)
    _journal_changes(run, now)
    _execute(
        f"DELETE FROM {TASK} WHERE review_id IN (SELECT review_id FROM {SAVED_REVIEW} WHERE run_id = %s)", [run.pk]
    )
    _execute(f"DELETE FROM {REVIEW} WHERE id IN (SELECT review_id FROM {SAVED_REVIEW} WHERE run_id = %s)", [run.pk])
    deleted = _execute(
        f"DELETE FROM {COMPONENT} WHERE id IN (SELECT component_id FROM {SAVED_COMPONENT} WHERE run_id = %s)",
        [run.pk],
    )
    progress(deleted)
    updated = _update(run, rows, now)
    if updated != sum(row.changing for row in rows):
        raise StaleSummary  # a component changed after the check and before its update (PostgreSQL)
    progress(deleted + updated)
    created = 0
    for row in rows:
        if row.creating:
            created += _create(run, row, now)
    progress(deleted + updated + created)
    _journal_creations(run, now)
    _make_reviews(run)
    _journal_source(run, now)


def _update(run: SyncRun, rows: list[SyncRunComponent], now: dt.datetime) -> int:
    """One statement: each grid row's values onto every target (and source) component it changes.

    One pass over the components in id order, as the IN list is sorted, not one pass per grid row: a page of a
    learner's plan is written once, however many of its components change. The (id, revision) pair makes the
    statement skip a component written since the summary, which the caller detects by the count.
    """
    fields = [f for f in EDITABLE_FIELDS if any(f in row.updates for row in rows)]
    if not fields:
        return 0
    sets, params = [], []
    for field in fields:
        whens = []
        for row in rows:
            if field in row.updates:
                if row.key_kind == "template":
                    whens.append("WHEN template_id = %s THEN %s")
                    params += [row.key_id, _db(field, row.updates[field])]
                else:
                    whens.append("WHEN copied_from_id = %s OR id = %s THEN %s")
                    params += [row.key_id, row.key_id, _db(field, row.updates[field])]
        column = _column(field)
        sets.append(f"{column} = CASE {' '.join(whens)} ELSE {column} END")
    return _execute(
        f"UPDATE {COMPONENT} SET {', '.join(sets)}, revision = revision + 1, updated_at = %s "
        f"WHERE (id, revision) IN (SELECT component_id, revision FROM {OUTCOME} "
        f"WHERE {_RUN_OUTCOMES} AND changes AND action = %s)",
        [*params, now, run.pk, _SYNCHRONISE],
    )


def _create(run: SyncRun, row: SyncRunComponent, now: dt.datetime) -> int:
    """Two statements: the component for every target lacking it, then the outcomes learn the new ids."""
    assert row.creates is not None
    values = {_column(f): _db(f, v) for f, v in row.creates.items() if f != "status"}
    template_id = row.key_id if row.key_kind == "template" else None
    copied_from_id = row.key_id if row.key_kind == "component" else None
    constants: dict[str, Any] = {
        **values,
        "template_id": template_id,
        "copied_from_id": copied_from_id,
        "position": row.position,
        "status": "not_started",
        "marking_aid_submitted": False,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    columns = ", ".join(constants)
    marks = ", ".join(["%s"] * len(constants))
    made = _execute(
        f"INSERT INTO {COMPONENT} (learner_id, enrolment_id, {columns}) "
        f"SELECT o.learner_id, e.id, {marks} FROM {OUTCOME} o "
        f"JOIN {ENROLMENT} e ON e.learner_id = o.learner_id AND e.programme_id = %s "
        f"WHERE o.row_id = %s AND o.changes AND o.action = %s",
        [*constants.values(), run.programme_id, row.pk, _CREATE],
    )
    key_column = "template_id" if template_id is not None else "copied_from_id"
    # A template, and the source component a copy is made from, belong to one programme: with the learner,
    # either finds the one component, by index ((learner) for a template, (copied_from, learner) for a copy).
    _execute(
        f"UPDATE {OUTCOME} SET component_id = (SELECT c.id FROM {COMPONENT} c "
        f"WHERE c.learner_id = {OUTCOME}.learner_id AND c.{key_column} = %s) "
        f"WHERE row_id = %s AND changes AND action = %s",
        [row.key_id, row.pk, _CREATE],
    )
    return made


def _save_for_undo(run: SyncRun) -> None:
    """Copies of what the run deletes or replaces: components it deletes, reviews it re-creates or deletes."""
    columns = ", ".join(COMPONENT_COLUMNS)
    _execute(
        f"INSERT INTO {SAVED_COMPONENT} (run_id, component_id, {columns}) "
        f"SELECT %s, c.id, {', '.join('c.' + c for c in COMPONENT_COLUMNS)} FROM {COMPONENT} c "
        f"WHERE c.id IN (SELECT component_id FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND changes AND action = %s)",
        [run.pk, run.pk, _DELETE],
    )
    _execute(
        f"INSERT INTO {SAVED_REVIEW} (run_id, review_id, component_id, status, review_type, scheduled_at) "
        f"SELECT %s, v.id, v.component_id, v.status, v.review_type, v.scheduled_at FROM {REVIEW} v "
        f"WHERE v.component_id IN (SELECT component_id FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND changes "
        f"AND review IN (%s, %s))",
        [run.pk, run.pk, ReviewEffect.RECREATE.value, ReviewEffect.DELETE.value],
    )
    _execute(
        f"INSERT INTO {SAVED_TASK} (run_id, task_id, review_id, learner_id, admin_id, title, starts_at, status) "
        f"SELECT %s, t.id, t.review_id, t.learner_id, t.admin_id, t.title, t.starts_at, t.status FROM {TASK} t "
        f"WHERE t.review_id IN (SELECT review_id FROM {SAVED_REVIEW} WHERE run_id = %s)",
        [run.pk, run.pk],
    )


def _make_reviews(run: SyncRun) -> None:
    """R-SYNC-18, 19: a review, Not Scheduled, for every created or re-created one; tasks where the source's is
    scheduled, for the learner and for the component's owner (else the learner's case owner)."""
    _execute(
        f"INSERT INTO {REVIEW} (component_id, status, review_type, scheduled_at) "
        f"SELECT c.id, %s, c.review_type, NULL FROM {COMPONENT} c WHERE c.id IN ("
        f"SELECT component_id FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND changes AND review IN (%s, %s))",
        [ReviewStatus.NOT_SCHEDULED.value, run.pk, ReviewEffect.CREATE.value, ReviewEffect.RECREATE.value],
    )
    made = (
        f"FROM {OUTCOME} o JOIN {ROW} r ON r.id = o.row_id JOIN {REVIEW} v ON v.component_id = o.component_id "
        f"JOIN {COMPONENT} c ON c.id = o.component_id JOIN people_learner l ON l.id = c.learner_id "
        f"WHERE r.run_id = %s AND r.source_review_at IS NOT NULL AND o.changes AND o.review IN (%s, %s)"
    )
    effects = [run.pk, ReviewEffect.CREATE.value, ReviewEffect.RECREATE.value]
    _execute(
        f"INSERT INTO {TASK} (review_id, learner_id, admin_id, title, starts_at, status) "
        f"SELECT v.id, c.learner_id, NULL, c.name, r.source_review_at, %s {made}",
        [TaskStatus.OPEN.value, *effects],
    )
    _execute(
        f"INSERT INTO {TASK} (review_id, learner_id, admin_id, title, starts_at, status) "
        f"SELECT v.id, NULL, COALESCE(c.owner_id, l.tutor_id), c.name || ' with ' || l.first_name || ' ' || l.surname, "
        f"r.source_review_at, %s {made} AND COALESCE(c.owner_id, l.tutor_id) IS NOT NULL",
        [TaskStatus.OPEN.value, *effects],
    )


_JOURNAL_COLUMNS = (
    "at, by_id, learner_id, enrolment_id, component_id, template_id, component_name, action, field, "
    "old_value, new_value, visit_id, sync_run_id"
)


def _journal_changes(run: SyncRun, now: dt.datetime) -> None:
    """R-CORE-9: one journal row per target component the run changes or deletes, with its before-values."""
    _execute(
        f"INSERT INTO {CHANGE} ({_JOURNAL_COLUMNS}) "
        f"SELECT %s, %s, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name, "
        f"CASE o.action WHEN %s THEN %s ELSE %s END, '', o.before, "
        f"CASE o.action WHEN %s THEN NULL ELSE r.updates END, NULL, %s "
        f"FROM {OUTCOME} o JOIN {ROW} r ON r.id = o.row_id JOIN {COMPONENT} c ON c.id = o.component_id "
        f"WHERE r.run_id = %s AND o.changes AND NOT o.is_source AND o.action IN (%s, %s)",
        [
            now,
            run.by_id,
            _DELETE,
            ChangeAction.DELETED.value,
            ChangeAction.SYNCHRONISED.value,
            _DELETE,
            run.pk,
            run.pk,
            _SYNCHRONISE,
            _DELETE,
        ],
    )


def _journal_creations(run: SyncRun, now: dt.datetime) -> None:
    _execute(
        f"INSERT INTO {CHANGE} ({_JOURNAL_COLUMNS}) "
        f"SELECT %s, %s, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name, %s, '', NULL, r.creates, "
        f"NULL, %s FROM {OUTCOME} o JOIN {ROW} r ON r.id = o.row_id JOIN {COMPONENT} c ON c.id = o.component_id "
        f"WHERE r.run_id = %s AND o.changes AND o.action = %s",
        [now, run.by_id, ChangeAction.CREATED.value, run.pk, run.pk, _CREATE],
    )


def _journal_source(run: SyncRun, now: dt.datetime) -> None:
    """R-SYNC-4, 10: the source's changes are journalled field by field in the admin's record visit, so they
    count as recent changes again."""
    outcomes = SyncOutcome.objects.filter(
        learner_id=run.source_learner_id, row__run=run, is_source=True, changes=True
    ).select_related("row")
    components = Component.objects.in_bulk([o.component_id for o in outcomes if o.component_id])
    ComponentChange.objects.bulk_create(
        ComponentChange(
            at=now,
            by_id=run.by_id,
            learner_id=run.source_learner_id,
            enrolment_id=run.enrolment_id,
            component_id=o.component_id,
            template_id=components[o.component_id].template_id,
            component_name=components[o.component_id].name,
            action=ChangeAction.UPDATED,
            field=field,
            old_value=old,
            new_value=o.row.updates[field],
            visit_id=run.visit_id,
            sync_run=run,
        )
        for o in outcomes
        if o.component_id in components
        for field, old in (o.before or {}).items()
    )


# Undoing


def undo_run(run: SyncRun) -> tuple[int, int]:
    """R-PLUS-2: put back every before-value of the run; a component written since is a conflict, left as is.

    Returns (restored, conflicts).
    """
    now = timezone.now()
    _mark_undo(run)
    if connection.vendor == "postgresql":  # the marks just written decide every plan below
        _execute(f"ANALYZE {OUTCOME}")
    restored_sql = (
        f"SELECT component_id FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND changes AND undo = 'restored' AND action = %s"
    )
    # Reviews the run made (for created components, or replacing one) go; the replaced ones come back.
    made_reviews = (
        f"SELECT id FROM {REVIEW} WHERE component_id IN (SELECT component_id FROM {OUTCOME} WHERE {_RUN_OUTCOMES} "
        f"AND changes AND undo = 'restored' AND (action = %s OR review IN (%s, %s)))"
    )
    made_params = [run.pk, _CREATE, ReviewEffect.CREATE.value, ReviewEffect.RECREATE.value]
    _execute(f"DELETE FROM {TASK} WHERE review_id IN ({made_reviews})", made_params)
    _execute(f"DELETE FROM {REVIEW} WHERE id IN ({made_reviews})", made_params)
    _journal_undo(run, now)
    _execute(f"DELETE FROM {COMPONENT} WHERE id IN ({restored_sql})", [run.pk, _CREATE])
    columns = ", ".join(COMPONENT_COLUMNS)
    _execute(
        f"INSERT INTO {COMPONENT} (id, {columns}) SELECT component_id, {columns} FROM {SAVED_COMPONENT} "
        f"WHERE run_id = %s AND component_id IN ({restored_sql})",
        [run.pk, run.pk, _DELETE],
    )
    _restore_values(run, list(run.components.exclude(updates={})), now)
    back = (
        f"SELECT component_id FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND changes AND undo = 'restored' "
        f"AND (action = %s OR review IN (%s, %s))"
    )
    back_params = [run.pk, _DELETE, ReviewEffect.RECREATE.value, ReviewEffect.DELETE.value]
    _execute(
        f"INSERT INTO {REVIEW} (id, component_id, status, review_type, scheduled_at) "
        f"SELECT review_id, component_id, status, review_type, scheduled_at FROM {SAVED_REVIEW} "
        f"WHERE run_id = %s AND component_id IN ({back})",
        [run.pk, *back_params],
    )
    _execute(
        f"INSERT INTO {TASK} (id, review_id, learner_id, admin_id, title, starts_at, status) "
        f"SELECT task_id, review_id, learner_id, admin_id, title, starts_at, status FROM {SAVED_TASK} "
        f"WHERE run_id = %s AND review_id IN (SELECT review_id FROM {SAVED_REVIEW} WHERE run_id = %s "
        f"AND component_id IN ({back}))",
        [run.pk, run.pk, *back_params],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(CASE WHEN undo = 'restored' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN undo = 'conflict' THEN 1 ELSE 0 END) FROM {OUTCOME} WHERE {_RUN_OUTCOMES} AND changes",
            [run.pk],
        )
        restored, conflicts = cursor.fetchone()
    return int(restored or 0), int(conflicts or 0)


def _mark_undo(run: SyncRun) -> None:
    """Which changes can be undone: those whose component is exactly as the run left it."""
    as_left = (
        f"CASE {OUTCOME}.action "
        f"WHEN %s THEN EXISTS (SELECT 1 FROM {COMPONENT} c WHERE c.id = {OUTCOME}.component_id "
        f"AND c.revision = {OUTCOME}.revision + 1) "
        f"WHEN %s THEN EXISTS (SELECT 1 FROM {COMPONENT} c WHERE c.id = {OUTCOME}.component_id AND c.revision = 1) "
        f"ELSE NOT EXISTS (SELECT 1 FROM {ROW} r WHERE r.id = {OUTCOME}.row_id AND {_has_component(run, 'r')}) END"
    )
    _execute(
        f"UPDATE {OUTCOME} SET undo = CASE WHEN {as_left} THEN 'restored' ELSE 'conflict' END "
        f"WHERE {_RUN_OUTCOMES} AND changes",
        [_SYNCHRONISE, _CREATE, run.pk],
    )


def _restore_values(run: SyncRun, rows: list[SyncRunComponent], now: dt.datetime) -> None:
    """One statement: each restored component's fields from its stored before-values (which hold exactly the
    fields the run changed on it)."""
    fields = [f for f in EDITABLE_FIELDS if any(f in row.updates for row in rows)]
    if not fields:
        return
    sets = []
    for field in fields:
        column = _column(field)
        stored = _extract("o.before", field)
        sets.append(f"{column} = CASE WHEN {_has_key('o.before', field)} THEN {stored} ELSE {COMPONENT}.{column} END")
    _execute(
        f"UPDATE {COMPONENT} SET {', '.join(sets)}, revision = {COMPONENT}.revision + 1, updated_at = %s "
        f"FROM {OUTCOME} o WHERE o.component_id = {COMPONENT}.id "
        f"AND o.row_id IN (SELECT id FROM {ROW} WHERE run_id = %s) AND o.changes "
        f"AND o.undo = 'restored' AND o.action = %s",
        [now, run.pk, _SYNCHRONISE],
    )


def _has_key(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"jsonb_exists({column}, '{key}')"
    return f"json_type({column}, '$.{key}') IS NOT NULL"


def _extract(column: str, field_name: str) -> str:
    """The stored JSON value as the column's type."""
    field = Component._meta.get_field(field_name)
    if connection.vendor != "postgresql":
        return f"json_extract({column}, '$.{field_name}')"
    if isinstance(field, JSONField):
        return f"({column} -> '{field_name}')"
    text = f"({column} ->> '{field_name}')"
    if isinstance(field, BooleanField):
        return f"{text}::boolean"
    if isinstance(field, DateField):
        return f"{text}::date"
    if isinstance(field, ForeignKey | IntegerField):
        return f"{text}::integer"
    return text


def _journal_undo(run: SyncRun, now: dt.datetime) -> None:
    """The journal says what undo put back: a re-created component, a removed one, restored values."""
    _execute(
        f"INSERT INTO {CHANGE} ({_JOURNAL_COLUMNS}) "
        f"SELECT %s, %s, o.learner_id, e.id, o.component_id, "
        f"CASE WHEN r.key_kind = 'template' THEN r.key_id END, r.name, "
        f"CASE o.action WHEN %s THEN %s WHEN %s THEN %s ELSE %s END, '', "
        f"CASE o.action WHEN %s THEN r.updates WHEN %s THEN r.creates ELSE NULL END, "
        f"CASE o.action WHEN %s THEN NULL ELSE o.before END, NULL, %s "
        f"FROM {OUTCOME} o JOIN {ROW} r ON r.id = o.row_id "
        f"JOIN {ENROLMENT} e ON e.learner_id = o.learner_id AND e.programme_id = %s "
        f"WHERE r.run_id = %s AND o.changes AND o.undo = 'restored'",
        [
            now,
            run.by_id,
            _CREATE,
            ChangeAction.DELETED.value,
            _DELETE,
            ChangeAction.CREATED.value,
            ChangeAction.SYNCHRONISED.value,
            _SYNCHRONISE,
            _CREATE,
            _CREATE,
            run.pk,
            run.programme_id,
            run.pk,
        ],
    )
