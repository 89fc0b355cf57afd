"""The write side of a sync: set-based statements, a fixed number per grid row, never one per learner.

The confirm first stores the run's learner/component pairs (`SyncOutcome`, read from the plans in one
statement) and checks them against the summary's decisions. Every statement after that selects its rows from
the stored pairs joined to their decision, so a run of 20,000 learners sends the same statements as a run of
ten (R-SYNC-26). The caller holds the transaction.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import BooleanField, DateField, ForeignKey, IntegerField, JSONField, Model
from django.utils import timezone

from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import (
    CalendarTask,
    ChangeAction,
    Component,
    ComponentChange,
    Review,
    ReviewStatus,
    SyncDecision,
    SyncOutcome,
    SyncRun,
    SyncRunComponent,
    SyncSavedComponent,
    SyncSavedReview,
    SyncSavedTask,
    TaskStatus,
)
from waypoint.plans.sync.decide import SYNCED_FIELDS
from waypoint.plans.sync.pairs import SOURCE, aggregate, column, db_value, run_pairs, stored_pairs
from waypoint.plans.sync.types import ReviewEffect, SyncAction
from waypoint.programmes.models import Enrolment

Progress = Callable[[int], None]


def _t(model: type[Model]) -> str:
    return model._meta.db_table


COMPONENT, REVIEW, TASK, CHANGE = _t(Component), _t(Review), _t(CalendarTask), _t(ComponentChange)
OUTCOME, DECISION, ROW, ENROLMENT = _t(SyncOutcome), _t(SyncDecision), _t(SyncRunComponent), _t(Enrolment)
SAVED_COMPONENT, SAVED_REVIEW, SAVED_TASK = _t(SyncSavedComponent), _t(SyncSavedReview), _t(SyncSavedTask)

# The component's columns (but its id), as copied to and from SyncSavedComponent.
COMPONENT_COLUMNS = tuple(str(f.column) for f in Component._meta.concrete_fields if f.column != "id")

# The run's stored pairs, each with its decision: every statement below reads its rows from these.
_PAIRS = f"{OUTCOME} o JOIN {DECISION} d ON d.row_id = o.row_id AND d.state = o.state"
_OF_RUN = f"o.row_id IN (SELECT id FROM {ROW} WHERE run_id = %s)"
_SYNCHRONISE, _CREATE, _DELETE = SyncAction.SYNCHRONISE.value, SyncAction.CREATE.value, SyncAction.DELETE.value


class StaleSummary(Exception):
    """A plan changed between the summary and the confirm (R-SYNC-15): the transaction is rolled back."""


def _execute(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


# Storing the pairs and checking the summary is still true


def store_pairs(run: SyncRun) -> None:
    """One statement: the run's pairs, read from the plans now, become its `SyncOutcome` rows."""
    sql, params = run_pairs(run)
    _execute(
        f"INSERT INTO {OUTCOME} (row_id, learner_id, component_id, revision, state, undo) "
        f"SELECT row_id, learner_id, component_id, revision, state, '' FROM ({sql}) p",
        params,
    )


def plans_changed(run: SyncRun) -> bool:
    """R-SYNC-15: the stored pairs are not the ones the summary decided on.

    Each decision holds how many pairs were in its state and the sums of their components' revisions and ids:
    a component written, added or removed since the summary moves a pair to another state or changes a sum
    (or a count), and a state no decision covers is a group of its own.
    """
    stored = set(aggregate(*stored_pairs(run)))
    decided = set(
        SyncDecision.objects.filter(row__run=run).values_list("row_id", "state", "learners", "revisions", "components")
    )
    return stored != decided


# Applying


def apply_run(run: SyncRun, *, progress: Progress) -> None:
    """Write every stored pair whose decision changes something; what undo needs is kept."""
    if _postgresql():  # the pairs just stored decide every plan below
        _execute(f"ANALYZE {OUTCOME}")
    now = timezone.now()
    rows = list(run.components.order_by("position", "id"))
    _save_for_undo(run)
    _journal_changes(run, rows, now)
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
    learner's plan is written once, however many of its components change.

    On PostgreSQL the (id, revision) pair makes the statement skip a component written since the pairs were
    stored, which the caller detects by the count. A SQLite confirm holds the database's write lock from the
    start of its transaction (`transaction_mode = IMMEDIATE`), so no write can land in between: the row-value
    IN, slow there (~3 s at 400,000 rows), would find nothing.
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
                    params += [row.key_id, db_value(field, row.updates[field])]
                else:
                    whens.append("WHEN copied_from_id = %s OR id = %s THEN %s")
                    params += [row.key_id, row.key_id, db_value(field, row.updates[field])]
        col = column(field)
        sets.append(f"{col} = CASE {' '.join(whens)} ELSE {col} END")
    guarded, chosen = ("(id, revision)", "o.component_id, o.revision") if _postgresql() else ("id", "o.component_id")
    return _execute(
        f"UPDATE {COMPONENT} SET {', '.join(sets)}, revision = revision + 1, updated_at = %s "
        f"WHERE {guarded} IN (SELECT {chosen} FROM {_PAIRS} WHERE {_OF_RUN} AND d.changes AND d.action = %s)",
        [*params, now, run.pk, _SYNCHRONISE],
    )


def _create(run: SyncRun, row: SyncRunComponent, now: dt.datetime) -> int:
    """Two statements: the component for every target lacking it, then the stored pairs learn the new ids."""
    assert row.creates is not None
    values = {column(f): db_value(f, v) for f, v in row.creates.items() if f != "status"}
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
        f"SELECT o.learner_id, e.id, {marks} FROM {_PAIRS} "
        f"JOIN {ENROLMENT} e ON e.learner_id = o.learner_id AND e.programme_id = %s "
        f"WHERE o.row_id = %s AND d.changes AND d.action = %s",
        [*constants.values(), run.programme_id, row.pk, _CREATE],
    )
    key_column = "template_id" if template_id is not None else "copied_from_id"
    # A template, and the source component a copy is made from, belong to one programme: with the learner,
    # either finds the one component, by index ((learner) for a template, (copied_from, learner) for a copy).
    _execute(
        f"UPDATE {OUTCOME} SET component_id = (SELECT c.id FROM {COMPONENT} c "
        f"WHERE c.learner_id = {OUTCOME}.learner_id AND c.{key_column} = %s) "
        f"WHERE row_id = %s AND state IN (SELECT state FROM {DECISION} WHERE row_id = %s AND changes AND action = %s)",
        [row.key_id, row.pk, row.pk, _CREATE],
    )
    return made


def _save_for_undo(run: SyncRun) -> None:
    """Copies of what the run deletes or replaces: components it deletes, reviews it re-creates or deletes."""
    columns = ", ".join(COMPONENT_COLUMNS)
    _execute(
        f"INSERT INTO {SAVED_COMPONENT} (run_id, component_id, {columns}) "
        f"SELECT %s, c.id, {', '.join('c.' + c for c in COMPONENT_COLUMNS)} FROM {COMPONENT} c "
        f"WHERE c.id IN (SELECT o.component_id FROM {_PAIRS} WHERE {_OF_RUN} AND d.changes AND d.action = %s)",
        [run.pk, run.pk, _DELETE],
    )
    _execute(
        f"INSERT INTO {SAVED_REVIEW} (run_id, review_id, component_id, status, review_type, scheduled_at) "
        f"SELECT %s, v.id, v.component_id, v.status, v.review_type, v.scheduled_at FROM {REVIEW} v "
        f"WHERE v.component_id IN (SELECT o.component_id FROM {_PAIRS} WHERE {_OF_RUN} AND d.changes "
        f"AND d.review IN (%s, %s))",
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
        f"SELECT o.component_id FROM {_PAIRS} WHERE {_OF_RUN} AND d.changes AND d.review IN (%s, %s))",
        [ReviewStatus.NOT_SCHEDULED.value, run.pk, ReviewEffect.CREATE.value, ReviewEffect.RECREATE.value],
    )
    made = (
        f"FROM {_PAIRS} JOIN {ROW} r ON r.id = o.row_id JOIN {REVIEW} v ON v.component_id = o.component_id "
        f"JOIN {COMPONENT} c ON c.id = o.component_id JOIN people_learner l ON l.id = c.learner_id "
        f"WHERE r.run_id = %s AND r.source_review_at IS NOT NULL AND d.changes AND d.review IN (%s, %s)"
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


def _values_json(fields: Iterable[str], component: str = "c") -> str:
    """SQL: a JSON object of the component's current values of `fields`, keyed as the journal keys them."""
    terms = []
    for field in fields:
        assert field in EDITABLE_FIELDS  # names go into the SQL text
        value = f"{component}.{column(field)}"
        if not _postgresql() and isinstance(Component._meta.get_field(field), JSONField):
            value = f"json({value})"  # JSON text on SQLite: embedded as JSON, not as a string
        terms.append(f"'{field}', {value}")
    return f"{'jsonb_build_object' if _postgresql() else 'json_object'}({', '.join(terms)})"


def _journal_changes(run: SyncRun, rows: list[SyncRunComponent], now: dt.datetime) -> None:
    """R-CORE-9: one statement, one journal row per target component the run changes or deletes, with its
    before-values read from the component: the grid row's fields for a change, every synced one for a deletion.
    Undo restores from these rows."""
    befores = " ".join(f"WHEN {int(row.pk)} THEN {_values_json(row.updates)}" for row in rows if row.updates)
    old_value = f"CASE o.row_id {befores} END" if befores else "NULL"
    _execute(
        f"INSERT INTO {CHANGE} ({_JOURNAL_COLUMNS}) "
        f"SELECT %s, %s, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name, "
        f"CASE d.action WHEN %s THEN %s ELSE %s END, '', "
        f"CASE d.action WHEN %s THEN {_values_json(SYNCED_FIELDS)} ELSE {old_value} END, "
        f"CASE d.action WHEN %s THEN NULL ELSE r.updates END, NULL, %s "
        f"FROM {_PAIRS} JOIN {ROW} r ON r.id = o.row_id JOIN {COMPONENT} c ON c.id = o.component_id "
        f"WHERE r.run_id = %s AND d.changes AND o.state <> %s AND d.action IN (%s, %s)",
        [
            now,
            run.by_id,
            _DELETE,
            ChangeAction.DELETED.value,
            ChangeAction.SYNCHRONISED.value,
            _DELETE,
            _DELETE,
            run.pk,
            run.pk,
            SOURCE,
            _SYNCHRONISE,
            _DELETE,
        ],
    )


def _journal_creations(run: SyncRun, now: dt.datetime) -> None:
    _execute(
        f"INSERT INTO {CHANGE} ({_JOURNAL_COLUMNS}) "
        f"SELECT %s, %s, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name, %s, '', NULL, r.creates, "
        f"NULL, %s FROM {_PAIRS} JOIN {ROW} r ON r.id = o.row_id JOIN {COMPONENT} c ON c.id = o.component_id "
        f"WHERE r.run_id = %s AND d.changes AND d.action = %s",
        [now, run.by_id, ChangeAction.CREATED.value, run.pk, run.pk, _CREATE],
    )


def _journal_source(run: SyncRun, now: dt.datetime) -> None:
    """R-SYNC-4, 10: the source's changes are journalled field by field in the admin's record visit, so they
    count as recent changes again. The before-values are the summary's: the stored pair proved them current."""
    decisions = list(
        SyncDecision.objects.filter(row__run=run, state=SOURCE, changes=True, action=_SYNCHRONISE).select_related("row")
    )
    components = Component.objects.in_bulk([d.row.source_component_id for d in decisions])
    ComponentChange.objects.bulk_create(
        ComponentChange(
            at=now,
            by_id=run.by_id,
            learner_id=run.source_learner_id,
            enrolment_id=run.enrolment_id,
            component_id=component.pk,
            template_id=component.template_id,
            component_name=component.name,
            action=ChangeAction.UPDATED,
            field=field,
            old_value=old,
            new_value=d.row.updates[field],
            visit_id=run.visit_id,
            sync_run=run,
        )
        for d in decisions
        if (component := components.get(d.row.source_component_id)) is not None
        for field, old in (d.before or {}).items()
    )


# Undoing


def undo_run(run: SyncRun) -> tuple[int, int]:
    """R-PLUS-2: put back every before-value of the run; a component written since is a conflict, left as is.

    Returns (restored, conflicts).
    """
    now = timezone.now()
    _mark_undo(run)
    if _postgresql():  # the marks just written, and the copies the confirm saved, decide every plan below
        _execute(f"ANALYZE {OUTCOME}, {SAVED_COMPONENT}, {SAVED_REVIEW}, {SAVED_TASK}")
    restored = f"SELECT o.component_id FROM {_PAIRS} WHERE {_OF_RUN} AND d.changes AND o.undo = 'restored'"
    # Reviews the run made (for created components, or replacing one) go; the replaced ones come back.
    made_reviews = (
        f"SELECT id FROM {REVIEW} WHERE component_id IN ({restored} AND (d.action = %s OR d.review IN (%s, %s)))"
    )
    made_params = [run.pk, _CREATE, ReviewEffect.CREATE.value, ReviewEffect.RECREATE.value]
    _execute(f"DELETE FROM {TASK} WHERE review_id IN ({made_reviews})", made_params)
    _execute(f"DELETE FROM {REVIEW} WHERE id IN ({made_reviews})", made_params)
    _execute(f"DELETE FROM {COMPONENT} WHERE id IN ({restored} AND d.action = %s)", [run.pk, _CREATE])
    columns = ", ".join(COMPONENT_COLUMNS)
    _execute(
        f"INSERT INTO {COMPONENT} (id, {columns}) SELECT component_id, {columns} FROM {SAVED_COMPONENT} "
        f"WHERE run_id = %s AND component_id IN ({restored} AND d.action = %s)",
        [run.pk, run.pk, _DELETE],
    )
    rows = list(run.components.exclude(updates={}))
    _restore_values(run, rows, now)  # before the undo's own journal rows, which it must not read
    _journal_undo(run, now)
    back = f"{restored} AND (d.action = %s OR d.review IN (%s, %s))"
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
            f"SELECT SUM(CASE WHEN o.undo = 'restored' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN o.undo = 'conflict' THEN 1 ELSE 0 END) FROM {_PAIRS} WHERE {_OF_RUN} AND d.changes",
            [run.pk],
        )
        restored_count, conflicts = cursor.fetchone()
    return int(restored_count or 0), int(conflicts or 0)


def _has_component(run: SyncRun, row: str) -> str:
    """SQL: the stored pair's learner has a component with the grid row's key, found through an index either
    way: (enrolment, template) for a template component, (copied_from, learner) for a copy of a hand-made one."""
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


def _mark_undo(run: SyncRun) -> None:
    """Which changes can be undone: those whose component is exactly as the run left it."""
    as_left = (
        f"CASE d.action "
        f"WHEN %s THEN EXISTS (SELECT 1 FROM {COMPONENT} c WHERE c.id = {OUTCOME}.component_id "
        f"AND c.revision = {OUTCOME}.revision + 1) "
        f"WHEN %s THEN EXISTS (SELECT 1 FROM {COMPONENT} c WHERE c.id = {OUTCOME}.component_id AND c.revision = 1) "
        f"ELSE NOT EXISTS (SELECT 1 FROM {ROW} r WHERE r.id = {OUTCOME}.row_id AND {_has_component(run, 'r')}) END"
    )
    _execute(
        f"UPDATE {OUTCOME} SET undo = CASE WHEN {as_left} THEN 'restored' ELSE 'conflict' END "
        f"FROM {DECISION} d WHERE d.row_id = {OUTCOME}.row_id AND d.state = {OUTCOME}.state "
        f"AND {OUTCOME}.row_id IN (SELECT id FROM {ROW} WHERE run_id = %s) AND d.changes",
        [_SYNCHRONISE, _CREATE, run.pk],
    )


def _restore_values(run: SyncRun, rows: list[SyncRunComponent], now: dt.datetime) -> None:
    """Each restored component's fields from its before-values (which hold every field the run wrote to it):
    one statement for the targets, from the run's journal rows; one for the source, from its decision."""
    fields = [f for f in EDITABLE_FIELDS if any(f in row.updates for row in rows)]
    if not fields:
        return
    restored = f"AND o.row_id IN (SELECT id FROM {ROW} WHERE run_id = %s) AND d.changes AND o.undo = 'restored'"
    _execute(
        f"UPDATE {COMPONENT} SET {_restoring(fields, 'j.old_value')}, revision = {COMPONENT}.revision + 1, "
        f"updated_at = %s FROM {_PAIRS} JOIN {CHANGE} j ON j.component_id = o.component_id "
        f"AND j.sync_run_id = %s AND j.action = %s "
        f"WHERE o.component_id = {COMPONENT}.id {restored} AND d.action = %s AND o.state <> %s",
        [now, run.pk, ChangeAction.SYNCHRONISED.value, run.pk, _SYNCHRONISE, SOURCE],
    )
    if SyncDecision.objects.filter(row__run=run, state=SOURCE, changes=True).exists():
        _execute(
            f"UPDATE {COMPONENT} SET {_restoring(fields, 'd.before')}, revision = {COMPONENT}.revision + 1, "
            f"updated_at = %s FROM {_PAIRS} "
            f"WHERE o.component_id = {COMPONENT}.id {restored} AND d.action = %s AND o.state = %s",
            [now, run.pk, _SYNCHRONISE, SOURCE],
        )


def _restoring(fields: list[str], before: str) -> str:
    """SQL SET terms: each field from the JSON `before`, where it has the field."""
    sets = []
    for field in fields:
        col = column(field)
        sets.append(
            f"{col} = CASE WHEN {_has_key(before, field)} THEN {_extract(before, field)} ELSE {COMPONENT}.{col} END"
        )
    return ", ".join(sets)


def _has_key(json: str, key: str) -> str:
    if _postgresql():
        return f"jsonb_exists({json}, '{key}')"
    return f"json_type({json}, '$.{key}') IS NOT NULL"


def _extract(json: str, field_name: str) -> str:
    """The stored JSON value as the column's type."""
    field = Component._meta.get_field(field_name)
    if not _postgresql():
        return f"json_extract({json}, '$.{field_name}')"
    if isinstance(field, JSONField):
        return f"({json} -> '{field_name}')"
    text = f"({json} ->> '{field_name}')"
    if isinstance(field, BooleanField):
        return f"{text}::boolean"
    if isinstance(field, DateField):
        return f"{text}::date"
    if isinstance(field, ForeignKey | IntegerField):
        return f"{text}::integer"
    return text


def _journal_undo(run: SyncRun, now: dt.datetime) -> None:
    """The journal says what undo put back: a re-created component, a removed one, restored values (those
    the run's journal row, or for the source its decision, holds)."""
    _execute(
        f"INSERT INTO {CHANGE} ({_JOURNAL_COLUMNS}) "
        f"SELECT %s, %s, o.learner_id, e.id, o.component_id, "
        f"CASE WHEN r.key_kind = 'template' THEN r.key_id END, r.name, "
        f"CASE d.action WHEN %s THEN %s WHEN %s THEN %s ELSE %s END, '', "
        f"CASE d.action WHEN %s THEN r.updates WHEN %s THEN r.creates ELSE NULL END, "
        f"CASE WHEN d.action = %s THEN NULL WHEN o.state = %s THEN d.before ELSE j.old_value END, NULL, %s "
        f"FROM {_PAIRS} JOIN {ROW} r ON r.id = o.row_id "
        f"JOIN {ENROLMENT} e ON e.learner_id = o.learner_id AND e.programme_id = %s "
        f"LEFT JOIN {CHANGE} j ON j.component_id = o.component_id AND j.sync_run_id = %s AND j.action IN (%s, %s) "
        f"WHERE r.run_id = %s AND d.changes AND o.undo = 'restored'",
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
            SOURCE,
            run.pk,
            run.programme_id,
            run.pk,
            ChangeAction.SYNCHRONISED.value,
            ChangeAction.DELETED.value,
            run.pk,
        ],
    )
