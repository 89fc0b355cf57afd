"""The summary of a sync run (R-SYNC-13, 14, R-PLUS-1): every learner/component pair decided, one decision
per distinct target state.

The database reads every pair's state in one aggregate query (`pairs.py`), `decide` decides each state once
(a sync of 20,000 learners and 27 components has some hundred states), and the summary stores those decisions
with their counts: no row per learner. The learner lists read the pairs live until the run is applied.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from waypoint.people.models import Perm
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ReviewStatus, SyncDecision, SyncRun, SyncRunComponent
from waypoint.plans.sync.decide import create_values, decide_source, decide_with, sync_values
from waypoint.plans.sync.gather import gather_sources
from waypoint.plans.sync.pairs import ENROLMENT, SOURCE, TARGET, aggregate, decode, live_pairs
from waypoint.plans.sync.types import (
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
    """Decide every pair and store the grid rows and decisions; replaces an earlier summary of the run."""
    choice = run_choice(run)
    rows = _grid_rows(run, sources, choice)
    of_row = {row.pk: (source, row) for source, row in zip(sources, rows, strict=True)}
    decisions: list[SyncDecision] = []
    if connection.vendor == "postgresql":  # the targets were just stored: without statistics the planner
        with connection.cursor() as cursor:  # takes 20,000 for a hundred and sorts the pairs on disk
            cursor.execute(f"ANALYZE {TARGET}")
    sql, params = live_pairs(run, rows)
    for row_id, state, count, revisions, components in aggregate(sql, params):
        source, row = of_row[row_id]
        target = decode(state, row.updates)
        plan = TargetPlan(learner_id=0, components={} if target is None else {source.key: target})
        decision = decide_with(source, plan, choice, row.updates)
        decisions.append(_stored(row, state, decision, count, revisions, components))
    for source, row in zip(sources, rows, strict=True):
        decision_or_none = decide_source(source, learner_id=run.source_learner_id, choice=choice)
        if decision_or_none is not None:  # R-SYNC-10: a SELECTED sync also writes the source
            stored = _stored(row, SOURCE, decision_or_none, 1, source.revision or 0, source.component_id or 0)
            stored.before = {f: old for f, (old, _new) in decision_or_none.diff.items()} if stored.changes else None
            decisions.append(stored)
    SyncDecision.objects.bulk_create(decisions)
    tallies = {row.pk: _Tally() for row in rows}
    for d in decisions:
        tallies[d.row_id].count(d)
    for row in rows:
        tally = tallies[row.pk]
        if tally.actions:  # the action most learners get (R-SYNC-14)
            row.action = min(tally.actions, key=lambda a: (-tally.actions[a], a))
        row.synchronised, row.not_synchronised = tally.synchronised, tally.not_synchronised
        row.changing, row.creating = tally.changing, tally.creating
        row.reasons, row.warnings = dict(tally.reasons), dict(tally.warnings)
    SyncRunComponent.objects.bulk_update(
        rows, ["action", "synchronised", "not_synchronised", "changing", "creating", "reasons", "warnings"]
    )
    run.learner_count = _learner_count(run)
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


def _learner_count(run: SyncRun) -> int:
    """The selected learners on the run's programme: every one of them is a target of every grid row."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {TARGET} t JOIN {ENROLMENT} e ON e.learner_id = t.learner_id "
            f"AND e.programme_id = %s WHERE t.run_id = %s",
            [run.programme_id, run.pk],
        )
        return int(cursor.fetchone()[0])


def _stored(
    row: SyncRunComponent, state: int, decision: Decision, count: int, revisions: int, components: int
) -> SyncDecision:
    changes = decision.changes_anything
    return SyncDecision(
        row=row,
        state=state,
        action=decision.action.value,
        reason=decision.reason.name if decision.reason else "",
        changes=changes,
        review=decision.review.value,
        warnings=",".join(w.name for w in decision.warnings),
        fields=[f for f in EDITABLE_FIELDS if f in decision.diff] if changes else [],
        learners=count,
        revisions=revisions,
        components=components,
    )


def _grid_rows(run: SyncRun, sources: list[SourceComponent], choice: SyncChoice) -> list[SyncRunComponent]:
    """The grid rows, new or (when the summary is worked out again) the same rows updated: their ids stay."""
    SyncDecision.objects.filter(row__run=run).delete()
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
    """A grid row's counts (R-SYNC-14), from its decisions and how many learners share each."""

    synchronised: int = 0
    not_synchronised: int = 0
    changing: int = 0
    creating: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)

    def count(self, d: SyncDecision) -> None:
        n = d.learners
        if d.changes and d.action == SyncAction.SYNCHRONISE:
            self.changing += n  # the source's own change too: the confirm's update writes it
        elif d.changes and d.action == SyncAction.CREATE:
            self.creating += n
        if d.state == SOURCE:
            return
        self.actions[d.action] += n
        if d.reason:
            self.not_synchronised += n
            self.reasons[d.reason] += n
        else:
            self.synchronised += n
            for w in filter(None, d.warnings.split(",")):
                self.warnings[w] += n
