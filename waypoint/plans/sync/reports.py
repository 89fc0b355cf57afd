"""The read side of sync runs: who may see a run, the history, the summary and grid (R-SYNC-13, 14), the
learner lists with each learner's exact diff (R-PLUS-1). Selectors only: nothing here writes.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from waypoint.core.errors import NotFound
from waypoint.people.access import AnyUser, staff_perms
from waypoint.people.models import Perm
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ComponentStatus, SyncOutcome, SyncRun, SyncRunComponent, SyncRunStatus
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

    Every word of `search` must occur in the admin's or the source learner's name.
    """
    runs = _runs()
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


def sync_run_outcomes(
    run: SyncRun, *, row_id: int | None = None, synchronised: bool | None = None, learner_id: int | None = None
) -> QuerySet[SyncOutcome]:
    """The run's learner/component outcomes by learner surname, first name and id, then grid position.

    Each carries its grid row, its learner and `programme_status` (the learner's status on the run's
    programme) from the same query, so a page costs the same however many learners the run has. With
    SELECTED the source learner's outcomes are among them (`is_source`).
    """
    status = Enrolment.objects.filter(learner_id=OuterRef("learner_id"), programme_id=run.programme_id).order_by()
    outcomes = SyncOutcome.objects.filter(row__run=run)
    if row_id is not None:
        outcomes = outcomes.filter(row_id=row_id)
    if synchronised is True:
        outcomes = outcomes.filter(reason="")
    elif synchronised is False:
        outcomes = outcomes.exclude(reason="")
    if learner_id is not None:
        outcomes = outcomes.filter(learner_id=learner_id)
    return (
        outcomes.select_related("row", "learner")
        .annotate(programme_status=Subquery(status.values("status")[:1]))
        .order_by("learner__surname", "learner__first_name", "learner_id", "row__position", "row_id")
    )


def outcome_diff(outcome: SyncOutcome) -> list[FieldChange]:
    """The exact field-by-field change of one outcome (R-PLUS-1); empty when nothing is written."""
    if outcome.reason or not outcome.changes:
        return []
    row = outcome.row
    before = outcome.before or {}
    if outcome.action == SyncAction.SYNCHRONISE:
        return [FieldChange(field=f, old=before[f], new=row.updates.get(f)) for f in _in_order(list(before), FIELDS)]
    if outcome.action == SyncAction.CREATE:
        creates = row.creates or {}
        return [FieldChange(field=f, old=None, new=creates[f]) for f in _in_order(list(creates), FIELDS)]
    return [FieldChange(field=f, old=before[f], new=None) for f in _in_order(list(before), FIELDS)]


def outcome_reason(outcome: SyncOutcome) -> Message | None:
    if not outcome.reason:
        return None
    message = NotSynced[outcome.reason].message if outcome.reason in NotSynced.__members__ else outcome.reason
    return Message(code=outcome.reason, message=message)


def outcome_warnings(outcome: SyncOutcome) -> list[Message]:
    return [
        Message(code=w, message=SyncWarning[w].message if w in SyncWarning.__members__ else w)
        for w in outcome.warnings.split(",")
        if w
    ]


def programme_status_label(code: str | None) -> str:
    return _choice(ProgrammeStatus, code).label if code else ""
