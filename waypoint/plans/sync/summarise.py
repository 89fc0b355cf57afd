"""The summary of a sync run (R-SYNC-13, 14, R-PLUS-1): every learner/component pair decided and stored.

gather → decide → store: components in equal states share one decision (a sync of 20,000 learners decides
each distinct state once), and the outcomes are written in bulk, a chunk of learners at a time.
"""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from waypoint.core.bulk import insert_rows
from waypoint.people.models import Learner, Perm
from waypoint.plans.models import ReviewStatus, SyncOutcome, SyncRun, SyncRunComponent
from waypoint.plans.sync.decide import SYNCED_FIELDS, create_values, decide_source, decide_with, sync_values
from waypoint.plans.sync.gather import CHUNK, RawTarget, gather_sources, gather_target_rows
from waypoint.plans.sync.types import (
    ComponentKey,
    Decision,
    SourceComponent,
    SyncAction,
    SyncChoice,
    SyncType,
    SyncWarning,
    TargetPlan,
)


class RunWarning:
    """Run-wide warnings of R-SYNC-13, as stored codes and their messages."""

    SOME_NOT_SYNCHRONISED = "SOME_NOT_SYNCHRONISED"
    MARKING_AID_EVIDENCE = "MARKING_AID_EVIDENCE"
    SOURCE_UPDATED = "SOURCE_UPDATED"

    MESSAGES = {
        SOME_NOT_SYNCHRONISED: "Some components will not be synchronised for some learners: see the reasons below.",
        MARKING_AID_EVIDENCE: SyncWarning.MARKING_AID_EVIDENCE.message,
        SOURCE_UPDATED: "The SELECTED type also writes the template values to the source learner's plan.",
    }


Plan = tuple[int, dict[ComponentKey, RawTarget]]

OUTCOME_COLUMNS = (
    "row_id",
    "learner_id",
    "is_source",
    "component_id",
    "action",
    "reason",
    "changes",
    "review",
    "warnings",
    "revision",
    "before",
    "undo",
)


def run_choice(run: SyncRun) -> SyncChoice:
    return SyncChoice(
        sync_type=SyncType(run.sync_type),
        statuses=frozenset(run.statuses),
        perms=frozenset(Perm(p) for p in run.perms),
        attributes=frozenset(run.attributes),
        marking_aid_enabled=settings.WAYPOINT_MARKING_AID,
    )


def run_sources(run: SyncRun) -> list[SourceComponent]:
    keys = [(kind, key_id) for kind, key_id in run.keys]
    return gather_sources(enrolment=run.enrolment, by_id=run.by_id, visit_id=run.visit_id, keys=keys)


def summarise(run: SyncRun, sources: list[SourceComponent]) -> None:
    """Decide every pair and store the grid rows and outcomes; replaces an earlier summary of the run."""
    choice = run_choice(run)
    rows = _grid_rows(run, sources, choice)
    plans = gather_target_rows(
        programme_id=run.programme_id,
        learners=Learner.objects.filter(pk__in=run.targets.values("learner_id")),
        keys=[s.key for s in sources],
        fields={f for row in rows for f in row.updates},
        full_keys=[s.key for s in sources if s.deleted],
    )
    decider = _Decider(sources, rows, choice)
    learners = 0
    while chunk := _take(plans, CHUNK):
        learners += len(chunk)
        insert_rows(SyncOutcome, OUTCOME_COLUMNS, [o for plan in chunk for o in decider.outcomes(*plan)])
    source_rows = [
        o for s, row in zip(sources, rows, strict=True) if (o := decider.source_outcome(s, row, run)) is not None
    ]
    insert_rows(SyncOutcome, OUTCOME_COLUMNS, source_rows)
    if connection.vendor == "postgresql":  # fresh statistics, or the planner takes 540,000 rows for a handful
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SyncOutcome._meta.db_table}")
    for row in rows:
        tally = decider.tallies[row.pk]
        if tally.actions:  # the action most learners get (R-SYNC-14)
            row.action = min(tally.actions, key=lambda a: (-tally.actions[a], a))
        row.synchronised, row.not_synchronised = tally.synchronised, tally.not_synchronised
        row.creating = tally.creating
        row.changing = tally.changing + sum(1 for o in source_rows if o[0] == row.pk and o[6] and o[4] == "synchronise")
        row.reasons, row.warnings = dict(tally.reasons), dict(tally.warnings)
    SyncRunComponent.objects.bulk_update(
        rows, ["action", "synchronised", "not_synchronised", "changing", "creating", "reasons", "warnings"]
    )
    run.learner_count = learners
    run.component_count = len(rows)
    run.synchronised = sum(r.synchronised for r in rows)
    run.not_synchronised = sum(r.not_synchronised for r in rows)
    warnings = []
    if run.not_synchronised:
        warnings.append(RunWarning.SOME_NOT_SYNCHRONISED)
    if any(SyncWarning.MARKING_AID_EVIDENCE.name in r.warnings for r in rows):
        warnings.append(RunWarning.MARKING_AID_EVIDENCE)
    if choice.sync_type is SyncType.SELECTED:
        warnings.append(RunWarning.SOURCE_UPDATED)
    run.warnings = warnings
    run.progress_total = run.synchronised


def _grid_rows(run: SyncRun, sources: list[SourceComponent], choice: SyncChoice) -> list[SyncRunComponent]:
    """The grid rows, new or (when the summary is worked out again) the same rows updated: their ids stay."""
    SyncOutcome.objects.filter(row__run=run).delete()
    existing = {(r.key_kind, r.key_id): r.pk for r in run.components.all()}
    rows = [_grid_row(run, s, choice) for s in sources]
    for row in rows:
        row.pk = existing.pop((row.key_kind, row.key_id), None)
    SyncRunComponent.objects.filter(pk__in=existing.values()).delete()
    kept = [r for r in rows if r.pk is not None]
    SyncRunComponent.objects.bulk_create([r for r in rows if r.pk is None])
    fields = [f.name for f in SyncRunComponent._meta.concrete_fields if f.name not in ("id", "run")]
    SyncRunComponent.objects.bulk_update(kept, fields)
    return rows


def _grid_row(run: SyncRun, source: SourceComponent, choice: SyncChoice) -> SyncRunComponent:
    review_at = None
    if source.review is not None and source.review.status == ReviewStatus.SCHEDULED:
        review_at = source.review.scheduled_at
    return SyncRunComponent(
        run=run,
        key_kind=source.key[0],
        key_id=source.key[1],
        position=source.position,
        name=source.name,
        type=source.type,
        source_component_id=source.component_id,
        source_revision=source.revision,
        source_review_at=review_at,
        action=SyncAction.DELETE if source.deleted else SyncAction.SYNCHRONISE,
        last_updated=source.updated_at,
        updates=sync_values(source, choice),
        creates=None if source.deleted else create_values(source, choice),
    )


@dataclass
class _Tally:
    synchronised: int = 0
    not_synchronised: int = 0
    changing: int = 0
    creating: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)


class _Decider:
    """Decides pairs, once per distinct (component, target state), and counts them per grid row."""

    def __init__(self, sources: list[SourceComponent], rows: list[SyncRunComponent], choice: SyncChoice) -> None:
        self.choice = choice
        self.prepared = [(s, row, row.updates) for s, row in zip(sources, rows, strict=True)]
        self.memo: dict[tuple[ComponentKey, Any], tuple[Any, ...]] = {}
        self.tallies = {row.pk: _Tally() for row in rows}

    def outcomes(self, learner_id: int, own: dict[ComponentKey, RawTarget]) -> Iterator[tuple[Any, ...]]:
        for source, row, wanted in self.prepared:
            raw = own.get(source.key)
            memo_key = (source.key, None if raw is None else raw.state)
            shared = self.memo.get(memo_key)
            if shared is None:
                target = None if raw is None else raw.reader.target(raw.row)
                plan = TargetPlan(learner_id=learner_id, components={} if target is None else {source.key: target})
                shared = self.memo[memo_key] = self._shared(decide_with(source, plan, self.choice, wanted))
            self.count(row.pk, shared)
            action, _reason, changes, _review, _warnings, before = shared
            if changes and action == SyncAction.DELETE and raw is not None:
                values = raw.reader.target(raw.row).values
                before = json.dumps({f: values[f] for f in SYNCED_FIELDS})
            component_id, revision = (None, None) if raw is None else (raw.component_id, raw.revision)
            yield _outcome_row(row.pk, learner_id, False, component_id, revision, shared, before)

    def source_outcome(self, source: SourceComponent, row: SyncRunComponent, run: SyncRun) -> tuple[Any, ...] | None:
        """R-SYNC-10: a SELECTED sync also writes the template values to the source learner."""
        decision = decide_source(source, learner_id=run.source_learner_id, choice=self.choice)
        if decision is None:
            return None
        shared = self._shared(decision)
        return _outcome_row(
            row.pk, run.source_learner_id, True, source.component_id, source.revision, shared, shared[5]
        )

    @staticmethod
    def _shared(decision: Decision) -> tuple[Any, ...]:
        """What pairs in the same state share: all of the outcome but the learner and the component ids."""
        changes = decision.changes_anything
        before = None
        if changes and decision.action is SyncAction.SYNCHRONISE:
            before = json.dumps({f: old for f, (old, _new) in decision.diff.items()})
        shared = (
            decision.action.value,
            decision.reason.name if decision.reason else "",
            changes,
            decision.review.value,
            ",".join(w.name for w in decision.warnings),
            before,
        )
        return shared

    def count(self, row_pk: int, shared: tuple[Any, ...]) -> None:
        tally = self.tallies[row_pk]
        action, reason, changes, _review, warnings, _before = shared
        tally.actions[action] += 1
        if changes and action == SyncAction.SYNCHRONISE:
            tally.changing += 1
        elif changes and action == SyncAction.CREATE:
            tally.creating += 1
        if reason:
            tally.not_synchronised += 1
            tally.reasons[reason] += 1
        else:
            tally.synchronised += 1
            if warnings:
                tally.warnings.update(warnings.split(","))


def _outcome_row(
    row_id: int,
    learner_id: int,
    is_source: bool,
    component_id: int | None,
    revision: int | None,
    shared: tuple[Any, ...],
    before: str | None,
) -> tuple[Any, ...]:
    """One SyncOutcome row, in OUTCOME_COLUMNS order."""
    action, reason, changes, review, warnings, _before = shared
    return (
        row_id,
        learner_id,
        is_source,
        component_id,
        action,
        reason,
        changes,
        review,
        warnings,
        revision,
        before,
        "",
    )


def _take(plans: Iterator[Plan], n: int) -> list[Plan]:
    chunk = []
    for plan in plans:
        chunk.append(plan)
        if len(chunk) == n:
            break
    return chunk
