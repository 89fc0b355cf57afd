"""The read side of sync runs: who may see a run, the history, the summary and grid (R-SYNC-13, 14), the
learner lists with each learner's exact diff (R-PLUS-1). Selectors only: nothing here writes.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from waypoint.core.errors import NotFound
from waypoint.people.access import AnyUser, staff_perms
from waypoint.people.models import Learner, Perm
from waypoint.plans.journal import EDITABLE_FIELDS, snapshot
from waypoint.plans.models import (
    Component,
    ComponentChange,
    ComponentStatus,
    SyncDecision,
    SyncOutcome,
    SyncRun,
    SyncRunComponent,
    SyncRunStatus,
)
from waypoint.plans.sync.pairs import SOURCE, run_pairs
from waypoint.plans.sync.runs import sync_run_progress
from waypoint.plans.sync.selection import encode_key
from waypoint.plans.sync.summarise import RunWarning
from waypoint.plans.sync.types import NotSynced, SyncAction, SyncType, SyncWarning
from waypoint.programmes.models import ComponentType, Enrolment, ProgrammeStatus

# R-SYNC-7: the three types as the wizard names them.
SYNC_TYPE_LABELS = {
    SyncType.ONLY_CHANGES: "Apply ONLY changes",
    SyncType.ALL: "Apply and overwrite ALL attributes",
    SyncType.SELECTED: "Apply and overwrite SELECTED attributes from the programme template",
}
# A diff lists fields in the order a component's attributes are shown (PostgreSQL's jsonb keeps no key order).
FIELDS = list(EDITABLE_FIELDS)
ACTION_LABELS = {SyncAction.SYNCHRONISE: "Synchronise", SyncAction.CREATE: "Create", SyncAction.DELETE: "Delete"}


@dataclass(frozen=True)
class Choice:
    """A stored code with the words a person reads."""

    code: str
    label: str


@dataclass(frozen=True)
class Counted:
    """A reason or warning code, its message and how many learners it concerns."""

    code: str
    message: str
    count: int


@dataclass(frozen=True)
class Message:
    code: str
    message: str


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class ProgrammeRef:
    id: int
    name: str
    parent: str | None  # the parent programme's name, for a sub-programme
    label: str


@dataclass(frozen=True)
class GridRow:
    """One row of the summary grid (R-SYNC-14)."""

    id: int
    key: str
    name: str
    type: Choice
    action: Choice
    last_updated: dt.datetime | None
    synchronised: int
    not_synchronised: int
    reasons: list[Counted]
    warnings: list[Counted]


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


@dataclass(frozen=True)
class RunItem:
    """A run in the history (R-SYNC-27): who, when, from where, which choices, and what became of it."""

    id: int
    status: Choice
    by: Person
    created_at: dt.datetime
    summarised_at: dt.datetime
    source_learner: Person
    programme: ProgrammeRef
    component_count: int
    learner_count: int
    synchronised: int
    not_synchronised: int
    statuses: list[Choice]
    sync_type: Choice
    attributes: list[str]
    warnings: list[Message]
    progress: Progress
    applied_at: dt.datetime | None
    undone_at: dt.datetime | None
    undo_restored: int
    undo_conflicts: int
    error: str


@dataclass(frozen=True)
class RunSummary(RunItem):
    """Everything the Summary step shows (R-SYNC-13) with its grid (R-SYNC-14)."""

    rows: list[GridRow]


@dataclass(frozen=True)
class FieldChange:
    """One field of a learner's component: the value now and the value the sync writes (R-PLUS-1)."""

    field: str
    old: Any
    new: Any


# Who may see a run


def _sees_every_run(user: AnyUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) or Perm.SUPERVISOR in staff_perms(user)


def _runs() -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("by", "source_learner", "programme", "programme__parent")


def sync_run_list_for(
    user: AnyUser,
    *,
    status: str | None = None,
    source_learner: int | None = None,
    since: dt.datetime | None = None,
    search: str = "",
) -> QuerySet[SyncRun]:
    """The runs the user may see, newest first: their own; every run for a Supervisor or a superuser (R-SYNC-27).
    Drafts of the wizard are not listed.

    Every word of `search` must occur in the admin's or the source learner's name.
    """
    runs = _runs().exclude(status=SyncRunStatus.DRAFT)  # a wizard still being filled in is not history yet
    if not _sees_every_run(user):
        runs = runs.filter(by_id=user.pk)
    if status:
        runs = runs.filter(status=status)
    if source_learner is not None:
        runs = runs.filter(source_learner_id=source_learner)
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    for word in search.split():
        runs = runs.filter(
            Q(by__first_name__icontains=word)
            | Q(by__last_name__icontains=word)
            | Q(by__username__icontains=word)
            | Q(source_learner__first_name__icontains=word)
            | Q(source_learner__surname__icontains=word)
        )
    return runs.order_by("-created_at", "-id")


def sync_run_get_for(user: AnyUser, run_id: int) -> SyncRun:
    """A run the user may see; any other is answered as if it did not exist."""
    run = sync_run_list_for(user).filter(pk=run_id).first()
    if run is None:
        raise NotFound("No such sync run, or you may not see it.")
    return run


# The summary (R-SYNC-13, 14)


def _person(user: Any) -> Person:
    return Person(id=user.pk, name=user.get_full_name() or user.get_username())


def _choice(choices: Any, code: str) -> Choice:
    try:
        return Choice(code=code, label=str(choices(code).label))
    except ValueError:
        return Choice(code=code, label=code)


def _programme(run: SyncRun) -> ProgrammeRef:
    programme = run.programme
    parent = programme.parent.name if programme.parent is not None else None
    label = f"{parent} / {programme.name}" if parent else programme.name
    return ProgrammeRef(id=programme.pk, name=programme.name, parent=parent, label=label)


def _counted(counts: dict[str, int], messages: Any) -> list[Counted]:
    """Codes with their messages, most frequent first."""
    return [
        Counted(code=code, message=messages[code].message if code in messages.__members__ else code, count=count)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def grid_row(row: SyncRunComponent) -> GridRow:
    action = SyncAction(row.action)
    return GridRow(
        id=row.pk,
        key=encode_key((row.key_kind, row.key_id)),
        name=row.name,
        type=_choice(ComponentType, row.type),
        action=Choice(code=action.value, label=ACTION_LABELS[action]),
        last_updated=row.last_updated,
        synchronised=row.synchronised,
        not_synchronised=row.not_synchronised,
        reasons=_counted(row.reasons, NotSynced),
        warnings=_counted(row.warnings, SyncWarning),
    )


def sync_run_item(run: SyncRun) -> RunItem:
    """A run of `sync_run_list_for`/`sync_run_get_for` as the history lists it; no query."""
    done, total = sync_run_progress(run)
    sync_type = SyncType(run.sync_type)
    return RunItem(
        id=run.pk,
        status=_choice(SyncRunStatus, run.status),
        by=_person(run.by),
        created_at=run.created_at,
        summarised_at=run.summarised_at,
        source_learner=Person(id=run.source_learner.pk, name=run.source_learner.full_name),
        programme=_programme(run),
        component_count=run.component_count,
        learner_count=run.learner_count,
        synchronised=run.synchronised,
        not_synchronised=run.not_synchronised,
        statuses=[_choice(ComponentStatus, s) for s in _in_order(run.statuses, ComponentStatus.values)],
        sync_type=Choice(code=sync_type.value, label=SYNC_TYPE_LABELS[sync_type]),
        attributes=list(run.attributes),
        warnings=[Message(code=w, message=RunWarning.MESSAGES.get(w, w)) for w in run.warnings],
        progress=Progress(done=done, total=total),
        applied_at=run.applied_at,
        undone_at=run.undone_at,
        undo_restored=run.undo_restored,
        undo_conflicts=run.undo_conflicts,
        error=run.error,
    )


def sync_run_summary(run: SyncRun) -> RunSummary:
    """The run's summary and its grid, rows in plan order: one query for the rows."""
    rows = [grid_row(r) for r in run.components.order_by("position", "id")]
    return RunSummary(**vars(sync_run_item(run)), rows=rows)


def _in_order(codes: list[str], order: list[str]) -> list[str]:
    rank = {code: i for i, code in enumerate(order)}
    return sorted(codes, key=lambda c: (rank.get(c, len(rank)), c))


# The learner lists (R-SYNC-14, R-PLUS-1)


@dataclass(frozen=True)
class OutcomeItem:
    """One learner and grid row of a run: the decision of its state and what its diff needs (R-SYNC-14, R-PLUS-1).

    `before` holds the component's values before the sync, as JSON values: read from the component until the
    run is applied, then from the run's journal; the source learner's come from its decision. None for a pair
    without a component, or when nothing is written.
    """

    learner: Learner
    row: SyncRunComponent
    decision: SyncDecision
    component_id: int | None
    programme_status: str  # the learner's status on the run's programme
    is_source: bool  # the source learner, written by a SELECTED sync (R-SYNC-10)
    undo: str  # "restored" or "conflict" once the run is undone, else ""
    before: Mapping[str, Any] | None


@dataclass(frozen=True)
class OutcomePage:
    items: list[OutcomeItem]
    count: int


@dataclass(frozen=True)
class _Pair:
    """A row of the page query: the pair, what hydrating it needs and its sort key (to seek the next chunk)."""

    row_id: int
    learner_id: int
    component_id: int | None
    state: int
    programme_status: str
    undo: str
    sort_key: tuple[Any, ...]


_LEARNER, _DECISION = Learner._meta.db_table, SyncDecision._meta.db_table
_ROW, _ENROLMENT, _OUTCOME = SyncRunComponent._meta.db_table, Enrolment._meta.db_table, SyncOutcome._meta.db_table
_ORDER = "l.surname, l.first_name, l.id, r.position, r.id"


def _applied(run: SyncRun) -> bool:
    """The pairs, and the journal rows the diffs read, are stored (as `pairs.run_pairs` decides)."""
    return run.status in (SyncRunStatus.APPLIED, SyncRunStatus.UNDOING, SyncRunStatus.UNDONE)


class _Matching:
    """The pairs of a run matching the filters, each with its decision: SQL over `run_pairs`, built once."""

    def __init__(self, run: SyncRun, *, row_id: int | None, synchronised: bool | None, learner_id: int | None) -> None:
        self.run = run
        pairs, self.pair_params = run_pairs(run, row_id)
        # Live pairs are worked out once, then joined to their decisions: inlined, PostgreSQL's planner cannot
        # estimate the computed states and re-read every pair once per decision (2.8 s a page at 20,000 learners).
        self.with_pairs = f"WITH p AS {'' if _applied(run) else 'MATERIALIZED '}({pairs}) "
        conditions: list[str] = []
        self.params: list[Any] = []
        if row_id is not None:
            conditions.append("p.row_id = %s")
            self.params.append(row_id)
        if synchronised is True:
            conditions.append("d.reason = ''")
        elif synchronised is False:
            conditions.append("d.reason <> ''")
        if learner_id is not None:
            conditions.append("p.learner_id = %s")
            self.params.append(learner_id)
        self.conditions = conditions

    def _where(self, extra: list[str]) -> str:
        conditions = self.conditions + extra
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""

    def count(self) -> int:
        # A pair in a state the summary did not decide (its plan changed since) has no decision: it is in no list.
        sql = (
            f"{self.with_pairs}SELECT COUNT(*) FROM p "
            f"JOIN {_DECISION} d ON d.row_id = p.row_id AND d.state = p.state{self._where([])}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.pair_params, *self.params])
            return int(cursor.fetchone()[0])

    def fetch(self, *, limit: int, offset: int = 0, after: tuple[Any, ...] | None = None) -> list[_Pair]:
        """One page of pairs by learner surname, first name and id, then grid position; `after` seeks past a
        sort key (the CSV's chunks), so no chunk re-reads the pairs before it."""
        return self.fetch_counted(limit=limit, offset=offset, after=after)[0]

    def fetch_counted(
        self, *, limit: int, offset: int = 0, after: tuple[Any, ...] | None = None
    ) -> tuple[list[_Pair], int | None]:
        """`fetch`, with the number of matching pairs worked out in the same pass (None for a page past the end,
        which returns no row to carry it)."""
        undone = self.run.status == SyncRunStatus.UNDONE
        undo = "COALESCE(o.undo, '')" if undone else "''"
        outcome = (
            f" LEFT JOIN {_OUTCOME} o ON o.row_id = p.row_id AND o.state = p.state AND o.learner_id = p.learner_id"
            if undone
            else ""
        )
        extra, extra_params = [], []
        if after is not None:
            extra.append(f"({_ORDER}) > (%s, %s, %s, %s, %s)")
            extra_params = list(after)
        sql = (
            f"{self.with_pairs}"
            f"SELECT p.row_id, p.learner_id, p.component_id, p.state, e.status, {undo}, COUNT(*) OVER (), {_ORDER} "
            f"FROM p "
            f"JOIN {_DECISION} d ON d.row_id = p.row_id AND d.state = p.state "
            f"JOIN {_LEARNER} l ON l.id = p.learner_id JOIN {_ROW} r ON r.id = p.row_id "
            f"LEFT JOIN {_ENROLMENT} e ON e.learner_id = p.learner_id AND e.programme_id = %s{outcome}"
            f"{self._where(extra)} ORDER BY {_ORDER} LIMIT %s OFFSET %s"
        )
        params = [*self.pair_params, self.run.programme_id, *self.params, *extra_params, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        pairs = [
            _Pair(
                row_id=int(row_id),
                learner_id=int(learner_id),
                component_id=None if component_id is None else int(component_id),
                state=int(state),
                programme_status=status or "",
                undo=undo_value or "",
                sort_key=tuple(key),
            )
            for row_id, learner_id, component_id, state, status, undo_value, _count, *key in found
        ]
        return pairs, (int(found[0][6]) if found else None)


def sync_run_outcomes(
    run: SyncRun,
    *,
    row_id: int | None = None,
    synchronised: bool | None = None,
    learner_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> OutcomePage:
    """A page of the run's learner/component pairs by learner surname, first name and id, then grid position.

    `synchronised`: True for the synchronised list, False for the other. With SELECTED the source learner's
    pairs are among them (`is_source`). A page costs the same few queries however many learners the run has
    and however long the page: the grid rows (for a run not yet applied), the page with the count, and one query
    each for its learners, grid rows, decisions and before-values.
    """
    matching = _Matching(run, row_id=row_id, synchronised=synchronised, learner_id=learner_id)
    pairs, count = matching.fetch_counted(limit=page_size, offset=(page - 1) * page_size)
    if count is None:  # no pair on this page: the count needs a query of its own
        return OutcomePage(items=[], count=matching.count())
    return OutcomePage(items=_hydrate(run, pairs), count=count)


def sync_run_outcomes_iterator(
    run: SyncRun,
    *,
    row_id: int | None = None,
    synchronised: bool | None = None,
    learner_id: int | None = None,
    chunk_size: int = 2000,
) -> Iterator[OutcomeItem]:
    """Every matching pair in the order of `sync_run_outcomes`, a chunk at a time (for the CSV export)."""
    matching = _Matching(run, row_id=row_id, synchronised=synchronised, learner_id=learner_id)
    after: tuple[Any, ...] | None = None
    while True:
        chunk = matching.fetch(limit=chunk_size, after=after)
        yield from _hydrate(run, chunk)
        if len(chunk) < chunk_size:
            return
        after = chunk[-1].sort_key


def _hydrate(run: SyncRun, pairs: list[_Pair]) -> list[OutcomeItem]:
    """The page's learners, grid rows, decisions and before-values: one query each, whatever the page size."""
    if not pairs:
        return []
    learners = Learner.objects.in_bulk({p.learner_id for p in pairs})
    rows = SyncRunComponent.objects.in_bulk({p.row_id for p in pairs})
    decisions = {
        (d.row_id, d.state): d
        for d in SyncDecision.objects.filter(row_id__in={p.row_id for p in pairs}, state__in={p.state for p in pairs})
    }
    befores = _befores(
        run,
        {
            p.component_id
            for p in pairs
            if p.component_id is not None and p.state != SOURCE and _writes_over(decisions[p.row_id, p.state])
        },
    )
    items = []
    for p in pairs:
        decision = decisions[p.row_id, p.state]
        is_source = p.state == SOURCE
        if is_source:
            before = decision.before
        elif p.component_id is not None and _writes_over(decision):
            before = befores.get(p.component_id, {})
        else:
            before = None
        items.append(
            OutcomeItem(
                learner=learners[p.learner_id],
                row=rows[p.row_id],
                decision=decision,
                component_id=p.component_id,
                programme_status=p.programme_status,
                is_source=is_source,
                undo=p.undo,
                before=before,
            )
        )
    return items


def _writes_over(decision: SyncDecision) -> bool:
    """The decision changes or deletes an existing component: its diff shows the values it had."""
    return decision.changes and not decision.reason and decision.action != SyncAction.CREATE


def _befores(run: SyncRun, component_ids: set[int]) -> dict[int, Mapping[str, Any]]:
    """The components' values before the sync, by id: as they are now until the run is applied (the confirm
    refuses if they changed since the summary), then as the run's journal recorded them."""
    if not component_ids:
        return {}
    if not _applied(run):
        return {c.pk: snapshot(c) for c in Component.objects.filter(pk__in=component_ids)}
    journal = (
        ComponentChange.objects.filter(sync_run=run, field="", component_id__in=component_ids)
        .order_by("id")
        .values_list("component_id", "old_value")
    )
    befores: dict[int, Mapping[str, Any]] = {}
    for component_id, old in journal:
        # The confirm's row comes first; an undo journals its own rows for the same component after it.
        if component_id is not None and component_id not in befores:
            befores[component_id] = old if isinstance(old, dict) else {}
    return befores


def outcome_diff(item: OutcomeItem) -> list[FieldChange]:
    """The exact field-by-field change of one pair (R-PLUS-1); empty when nothing is written. No query."""
    decision = item.decision
    if decision.reason or not decision.changes:
        return []
    row = item.row
    before = item.before or {}
    if decision.action == SyncAction.SYNCHRONISE:
        return [FieldChange(field=f, old=before.get(f), new=row.updates.get(f)) for f in decision.fields]
    if decision.action == SyncAction.CREATE:
        creates = row.creates or {}
        return [FieldChange(field=f, old=None, new=creates[f]) for f in _in_order(list(creates), FIELDS)]
    return [FieldChange(field=f, old=before.get(f), new=None) for f in decision.fields]


def outcome_reason(item: OutcomeItem) -> Message | None:
    reason = item.decision.reason
    if not reason:
        return None
    message = NotSynced[reason].message if reason in NotSynced.__members__ else reason
    return Message(code=reason, message=message)


def outcome_warnings(item: OutcomeItem) -> list[Message]:
    return [
        Message(code=w, message=SyncWarning[w].message if w in SyncWarning.__members__ else w)
        for w in item.decision.warnings.split(",")
        if w
    ]


def programme_status_label(code: str | None) -> str:
    return _choice(ProgrammeStatus, code).label if code else ""
