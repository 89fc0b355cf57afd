"""A run's learner/component pairs as one SQL relation, and a target component's state as one number.

What `decide` needs of a target component is small: its status, its review's status, whether Marking Aid
evidence was submitted for its exercise, and, for each attribute the sync writes, whether the component's
value differs from it. The database works that out for every pair and encodes it as a number, the *state*
(never reading a long text into Python), so a summary is one aggregate query: pairs in one state share one
decision. `decode` turns a state back into the TargetComponent `decide` takes.

The relation has the columns (row_id, learner_id, component_id, revision, state). Until the run is applied it
is read live from the plans (`live_pairs`); the confirm stores it as `SyncOutcome` rows (`stored_pairs`).
"""

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import DateField, Field, JSONField

from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import (
    Component,
    ComponentStatus,
    Review,
    ReviewStatus,
    SyncOutcome,
    SyncRun,
    SyncRunComponent,
    SyncRunStatus,
    SyncTarget,
)
from waypoint.plans.sync.types import ReviewState, TargetComponent
from waypoint.programmes.models import Enrolment

MISSING = -1  # the learner has no component of the grid row's key
SOURCE = -2  # the source learner's own component (a SELECTED sync writes it too, R-SYNC-10)

# Bits 0 to 15: the attribute of that index in EDITABLE_FIELDS differs from what the sync writes.
_EVIDENCE_BIT = 1 << 16
_REVIEW_SHIFT = 17  # 3 bits: 0 no review, else 1 + index in REVIEW_STATUSES
_STATUS_SHIFT = 20  # 4 bits: index in COMPONENT_STATUSES, 15 for a status this version does not know
_UNKNOWN_STATUS = 15
COMPONENT_STATUSES: tuple[str, ...] = tuple(ComponentStatus.values)
REVIEW_STATUSES: tuple[str, ...] = tuple(ReviewStatus.values)
assert len(EDITABLE_FIELDS) <= 16, "one differs bit per attribute"
assert len(REVIEW_STATUSES) < 8, "three bits of review status"
assert len(COMPONENT_STATUSES) < _UNKNOWN_STATUS, "four bits of component status"

COMPONENT, REVIEW = Component._meta.db_table, Review._meta.db_table
TARGET, ENROLMENT, OUTCOME = SyncTarget._meta.db_table, Enrolment._meta.db_table, SyncOutcome._meta.db_table
ROW = SyncRunComponent._meta.db_table


class _Differs:
    """An attribute value the summary did not read: all it knows is that it differs from what the sync writes."""

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "<differs>"


DIFFERS: Any = _Differs()


def column(field: str) -> str:
    return "owner_id" if field == "owner" else field


def db_value(field_name: str, value: Any) -> Any:
    """A JSON value of an editable attribute as a database parameter."""
    field = Component._meta.get_field(field_name)
    assert isinstance(field, Field)
    if isinstance(field, DateField) and isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return field.get_db_prep_save(value, connection)


def _differs(field: str, value: Any) -> tuple[str, list[Any]]:
    """SQL: the component's attribute differs from `value` (NULLs compare as values)."""
    col = f"c.{column(field)}"
    model_field = Component._meta.get_field(field)
    if connection.vendor == "postgresql":
        return f"{col} IS DISTINCT FROM %s", [db_value(field, value)]
    if isinstance(model_field, JSONField):  # text on SQLite: compare the minified JSON
        return f"json({col}) IS NOT json(%s)", [db_value(field, value)]
    return f"{col} IS NOT %s", [db_value(field, value)]


def state_sql(wanted: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """SQL (over component `c` and its review `v`): the state of a component the sync writes `wanted` to."""
    terms: list[str] = []
    params: list[Any] = []
    for bit, field in enumerate(EDITABLE_FIELDS):
        if field in wanted:
            test, test_params = _differs(field, wanted[field])
            terms.append(f"CASE WHEN {test} THEN {1 << bit} ELSE 0 END")
            params += test_params
    evidence = "c.marking_aid_submitted AND c.marking_aid_exercise <> ''"
    terms.append(f"CASE WHEN {evidence} THEN {_EVIDENCE_BIT} ELSE 0 END")
    reviews = " ".join(f"WHEN '{s}' THEN {(i + 1) << _REVIEW_SHIFT}" for i, s in enumerate(REVIEW_STATUSES))
    terms.append(f"CASE v.status {reviews} ELSE 0 END")
    statuses = " ".join(f"WHEN '{s}' THEN {i << _STATUS_SHIFT}" for i, s in enumerate(COMPONENT_STATUSES))
    terms.append(f"CASE c.status {statuses} ELSE {_UNKNOWN_STATUS << _STATUS_SHIFT} END")
    return " + ".join(terms), params


def decode(state: int, wanted: Mapping[str, Any]) -> TargetComponent | None:
    """The target component `decide` sees for a state; None for MISSING. Values the sync does not write, and
    those that differ from what it writes, are DIFFERS."""
    if state == MISSING:
        return None
    assert state >= 0, "the source's state is decided by decide_source"
    values = {
        f: DIFFERS if (f not in wanted or state & (1 << bit)) else wanted[f] for bit, f in enumerate(EDITABLE_FIELDS)
    }
    status_code = (state >> _STATUS_SHIFT) & 0xF
    review_code = (state >> _REVIEW_SHIFT) & 0x7
    status = COMPONENT_STATUSES[status_code] if status_code < len(COMPONENT_STATUSES) else "unknown"
    values["status"] = status
    return TargetComponent(
        component_id=0,
        status=status,
        values=values,
        review=ReviewState(status=REVIEW_STATUSES[review_code - 1], scheduled_at=None) if review_code else None,
        marking_aid_submitted=bool(state & _EVIDENCE_BIT),
        revision=0,
    )


def live_pairs(run: SyncRun, rows: Sequence[SyncRunComponent]) -> tuple[str, list[Any]]:
    """SQL: every target learner (on the run's programme) with each grid row, read from the plans now.

    The components are read in one pass per kind of key, a learner's at a time: by (enrolment, template) for
    template components, by (copied_from, learner) for copies of a hand-made one; each component's grid row and
    state by its key. A learner lacking a grid row's component is a MISSING pair, found per grid row from the
    index alone. The source learner is not a target; a SELECTED sync's source pairs come from `source_pairs`.
    """
    programme = int(run.programme_id)
    targets = f"FROM {TARGET} t JOIN {ENROLMENT} e ON e.learner_id = t.learner_id AND e.programme_id = {programme}"
    branches: list[str] = []
    params: list[Any] = []
    for kind, key_column, match in (
        ("template", "template_id", "c.enrolment_id = e.id AND c.template_id"),
        ("component", "copied_from_id", "c.learner_id = e.learner_id AND c.enrolment_id = e.id AND c.copied_from_id"),
    ):
        of_kind = [row for row in rows if row.key_kind == kind]
        if not of_kind:
            continue
        row_ids = " ".join(f"WHEN {int(row.key_id)} THEN {int(row.pk)}" for row in of_kind)
        states = []
        for row in of_kind:
            state, state_params = state_sql(row.updates)
            states.append(f"WHEN {int(row.key_id)} THEN {state}")
            params += state_params
        keys = ", ".join(str(int(row.key_id)) for row in of_kind)
        branches.append(
            f"SELECT CASE c.{key_column} {row_ids} END AS row_id, e.learner_id AS learner_id, c.id AS component_id, "
            f"c.revision AS revision, CASE c.{key_column} {' '.join(states)} END AS state "
            f"{targets} JOIN {COMPONENT} c ON {match} IN ({keys}) LEFT JOIN {REVIEW} v ON v.component_id = c.id "
            f"WHERE t.run_id = {int(run.pk)}"
        )
        for row in of_kind:
            branches.append(
                f"SELECT {int(row.pk)} AS row_id, e.learner_id AS learner_id, NULL AS component_id, NULL AS revision, "
                f"{MISSING} AS state {targets} WHERE t.run_id = {int(run.pk)} "
                f"AND NOT EXISTS (SELECT 1 FROM {COMPONENT} c WHERE {match} = {int(row.key_id)})"
            )
    if not branches:
        return "SELECT 0 AS row_id, 0 AS learner_id, 0 AS component_id, 0 AS revision, 0 AS state WHERE 1 = 0", []
    return " UNION ALL ".join(branches), params


def source_pairs(run: SyncRun, row_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """SQL: the source learner's components of the given grid rows (those a SELECTED sync writes), live."""
    if not row_ids:
        return "SELECT 0 AS row_id, 0 AS learner_id, 0 AS component_id, 0 AS revision, 0 AS state WHERE 1 = 0", []
    marks = ", ".join(["%s"] * len(row_ids))
    return (
        f"SELECT r.id AS row_id, %s AS learner_id, c.id AS component_id, c.revision AS revision, {SOURCE} AS state "
        f"FROM {ROW} r JOIN {COMPONENT} c ON c.id = r.source_component_id WHERE r.id IN ({marks})",
        [run.source_learner_id, *row_ids],
    )


def stored_pairs(run: SyncRun, row_id: int | None = None) -> tuple[str, list[Any]]:
    """SQL: the pairs an applied run stored (of one grid row)."""
    if row_id is not None:
        return (
            f"SELECT row_id, learner_id, component_id, revision, state FROM {OUTCOME} "
            f"WHERE row_id = (SELECT id FROM {ROW} WHERE run_id = %s AND id = %s)",
            [run.pk, row_id],
        )
    return (
        f"SELECT row_id, learner_id, component_id, revision, state FROM {OUTCOME} "
        f"WHERE row_id IN (SELECT id FROM {ROW} WHERE run_id = %s)",
        [run.pk],
    )


def run_pairs(run: SyncRun, row_id: int | None = None) -> tuple[str, list[Any]]:
    """SQL: the run's pairs (of one grid row) as its summary explains them: stored once applied, else live from
    the plans. One grid row's pairs are read alone, not filtered out of every row's."""
    if run.status in (SyncRunStatus.APPLIED, SyncRunStatus.UNDOING, SyncRunStatus.UNDONE):
        return stored_pairs(run, row_id)
    components = run.components.all() if row_id is None else run.components.filter(pk=row_id)
    live, params = live_pairs(run, list(components))
    source_rows = list(components.filter(decisions__state=SOURCE).values_list("id", flat=True))
    source, source_params = source_pairs(run, source_rows)
    return f"{live} UNION ALL {source}", [*params, *source_params]


def aggregate(sql: str, params: list[Any]) -> Iterator[tuple[int, int, int, int, int]]:
    """(row_id, state, pairs, sum of revisions, sum of component ids) of a pairs relation."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT row_id, state, COUNT(*), SUM(COALESCE(revision, 0)), SUM(COALESCE(component_id, 0)) "
            f"FROM ({sql}) p GROUP BY row_id, state",
            params,
        )
        for row_id, state, count, revisions, components in cursor.fetchall():
            yield int(row_id), int(state), int(count), int(revisions or 0), int(components or 0)
