"""Every rule of learning-plan synchronisation (SPEC §2) as pure functions over plain values.

`decide` answers, for each target learner and each selected source component, what a sync will do
(Synchronise, Create or Delete, R-SYNC-11), the exact field-by-field diff it will write (R-PLUS-1),
what happens to the review behind a Review component (R-SYNC-18, 19), the warnings to show (R-SYNC-13b)
— or why that pair is not synchronised (R-SYNC-6, 14, 19, 25). No database, no clock: the same inputs
give the same decisions, whatever the order of learners or components.
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ComponentStatus, ReviewStatus
from waypoint.plans.permissions import PlanAction, Refusal, plan_change_refusal
from waypoint.plans.sync.types import (
    ComponentKey,
    Decision,
    NotSynced,
    ReviewEffect,
    SourceComponent,
    SyncAction,
    SyncChoice,
    SyncType,
    SyncWarning,
    TargetComponent,
    TargetPlan,
)
from waypoint.programmes.models import ComponentType

# A component's status is the learner's progress, and the condition a sync is filtered on (R-SYNC-6):
# it is never copied from one learner to another.
SYNCED_FIELDS: tuple[str, ...] = tuple(f for f in EDITABLE_FIELDS if f != "status")

# R-SYNC-10: the only attributes the SELECTED type offers; never the due date.
SELECTABLE_ATTRIBUTES: tuple[str, ...] = (
    "name",
    "completion_mode",
    "criteria_mappings",
    "instructions",
    "evidence_required",
    "min_evidence",
    "documents",
    "delivery_via_organisation",
    "marking_aid_exercise",
)

REVIEW_TYPE_CHANGEABLE = frozenset({ReviewStatus.NOT_SCHEDULED, ReviewStatus.SCHEDULED})

_REFUSALS = {
    Refusal.ADD: NotSynced.NO_ADD_PERMISSION,
    Refusal.EDIT: NotSynced.NO_EDIT_PERMISSION,
    Refusal.EDIT_FINISHED: NotSynced.NO_EDIT_FINISHED_PERMISSION,
    Refusal.DELETE: NotSynced.NO_DELETE_PERMISSION,
    Refusal.DELETE_FINISHED: NotSynced.NO_DELETE_FINISHED_PERMISSION,
}


def selectable_attributes(*, marking_aid_enabled: bool) -> tuple[str, ...]:
    """R-SYNC-10: Marking Aid exercise is offered only where Marking Aid is enabled."""
    if marking_aid_enabled:
        return SELECTABLE_ATTRIBUTES
    return tuple(a for a in SELECTABLE_ATTRIBUTES if a != "marking_aid_exercise")


def only_changes_available(sources: Iterable[SourceComponent]) -> bool:
    """R-SYNC-8: ONLY changes is disabled when nothing was changed, created or deleted recently."""
    return any(s.changed_fields or s.created or s.deleted for s in sources)


def decide(sources: Iterable[SourceComponent], targets: Iterable[TargetPlan], choice: SyncChoice) -> Iterator[Decision]:
    """One decision per target learner and source component."""
    # What a source writes does not depend on the target: work it out once per component.
    prepared = [(source, sync_values(source, choice)) for source in sources]
    for plan in targets:
        for source, wanted in prepared:
            yield decide_with(source, plan, choice, wanted)


def decide_pair(source: SourceComponent, plan: TargetPlan, choice: SyncChoice) -> Decision:
    return decide_with(source, plan, choice, sync_values(source, choice))


def decide_with(source: SourceComponent, plan: TargetPlan, choice: SyncChoice, wanted: Mapping[str, Any]) -> Decision:
    """One pair, with the source's `sync_values` worked out once beforehand."""
    target = plan.components.get(source.key)
    if source.deleted:
        return _delete(source, plan.learner_id, target, choice)
    if target is None:
        return _create(source, plan.learner_id, choice)
    return _synchronise(source, plan.learner_id, target, choice, wanted)


def decide_source(source: SourceComponent, *, learner_id: int, choice: SyncChoice) -> Decision | None:
    """R-SYNC-10: the SELECTED type writes the template values to the source learner too."""
    if choice.sync_type is not SyncType.SELECTED or source.deleted or source.component_id is None:
        return None
    base = Decision(learner_id=learner_id, key=source.key, action=SyncAction.SYNCHRONISE)
    if source.template_values is None:
        return _not(base, NotSynced.NO_TEMPLATE)
    wanted = _selected(source, choice)
    diff = {f: (source.values[f], v) for f, v in wanted.items() if source.values[f] != v}
    finished = source.status in ComponentStatus.finished()
    if diff and (refusal := plan_change_refusal(choice.perms, PlanAction.EDIT, finished=finished, fields=diff)):
        return _not(base, _REFUSALS[refusal])
    return Decision(learner_id=learner_id, key=source.key, action=SyncAction.SYNCHRONISE, diff=diff)


def _delete(source: SourceComponent, learner_id: int, target: TargetComponent | None, choice: SyncChoice) -> Decision:
    base = Decision(learner_id=learner_id, key=source.key, action=SyncAction.DELETE, target=target)
    if target is None:
        return _not(base, NotSynced.ALREADY_ABSENT)
    if target.status not in choice.statuses:
        return _not(base, NotSynced.STATUS_NOT_SELECTED)
    finished = target.status in ComponentStatus.finished()
    if refusal := plan_change_refusal(choice.perms, PlanAction.DELETE, finished=finished):
        return _not(base, _REFUSALS[refusal])
    warnings = (SyncWarning.MARKING_AID_EVIDENCE,) if _has_evidence(target) else ()
    return Decision(
        learner_id=learner_id,
        key=source.key,
        action=SyncAction.DELETE,
        target=target,
        diff={f: (target.values[f], None) for f in SYNCED_FIELDS},
        review=ReviewEffect.DELETE if target.review is not None else ReviewEffect.NONE,
        warnings=warnings,
    )


def _create(source: SourceComponent, learner_id: int, choice: SyncChoice) -> Decision:
    """R-SYNC-11: the target lacks the component. Status conditions filter existing components only."""
    base = Decision(learner_id=learner_id, key=source.key, action=SyncAction.CREATE)
    if choice.sync_type is SyncType.SELECTED and source.template_values is None:
        return _not(base, NotSynced.NO_TEMPLATE)
    if choice.sync_type is SyncType.ONLY_CHANGES and not _recently_changed(source):  # R-SYNC-8
        return _not(base, NotSynced.NO_RECENT_CHANGES)
    if refusal := plan_change_refusal(choice.perms, PlanAction.ADD, finished=False):
        return _not(base, _REFUSALS[refusal])
    values = create_values(source, choice)
    has_review = values["type"] in ComponentType.with_review()
    return Decision(
        learner_id=learner_id,
        key=source.key,
        action=SyncAction.CREATE,
        diff={f: (None, v) for f, v in values.items()},
        review=ReviewEffect.CREATE if has_review else ReviewEffect.NONE,  # R-SYNC-18
    )


def _synchronise(
    source: SourceComponent, learner_id: int, target: TargetComponent, choice: SyncChoice, wanted: Mapping[str, Any]
) -> Decision:
    base = Decision(learner_id=learner_id, key=source.key, action=SyncAction.SYNCHRONISE, target=target)
    if choice.sync_type is SyncType.SELECTED and source.template_values is None:
        return _not(base, NotSynced.NO_TEMPLATE)
    if target.status not in choice.statuses:  # R-SYNC-6
        return _not(base, NotSynced.STATUS_NOT_SELECTED)
    if choice.sync_type is SyncType.ONLY_CHANGES and not (source.changed_fields & set(SYNCED_FIELDS)):
        return _not(base, NotSynced.NO_RECENT_CHANGES)  # R-SYNC-8
    diff = {f: (target.values[f], v) for f, v in wanted.items() if target.values[f] != v}
    if (
        choice.sync_type is SyncType.ONLY_CHANGES
        and "review_type" in diff
        and target.review is not None
        and target.review.status not in REVIEW_TYPE_CHANGEABLE
    ):  # R-SYNC-19
        return _not(base, NotSynced.REVIEW_TYPE_LOCKED)
    finished = target.status in ComponentStatus.finished()
    if diff and (refusal := plan_change_refusal(choice.perms, PlanAction.EDIT, finished=finished, fields=diff)):
        return _not(base, _REFUSALS[refusal])  # R-SYNC-20…25
    review = _review_effect(target, diff)
    warnings: list[SyncWarning] = []
    if "marking_aid_exercise" in diff and _has_evidence(target):  # R-SYNC-13b
        warnings.append(SyncWarning.MARKING_AID_EVIDENCE)
    if review is ReviewEffect.RECREATE:  # R-SYNC-14
        warnings.append(SyncWarning.REVIEW_TASKS_RECREATED)
    return Decision(
        learner_id=learner_id,
        key=source.key,
        action=SyncAction.SYNCHRONISE,
        target=target,
        diff=diff,
        review=review,
        warnings=tuple(warnings),
    )


def create_values(source: SourceComponent, choice: SyncChoice) -> dict[str, Any]:
    """Every attribute of a component a sync creates on a target (R-SYNC-11)."""
    values = {f: source.values[f] for f in SYNCED_FIELDS}
    # R-SYNC-16 (and the same for a creation by ONLY changes): a component the source's case owner owns
    # is created unassigned, since the target learner has a case owner of their own.
    if source.owned_by_case_owner:
        values["owner"] = None
    if choice.sync_type is SyncType.SELECTED and source.template_values is not None:
        values.update(_selected(source, choice))
    return values


def sync_values(source: SourceComponent, choice: SyncChoice) -> dict[str, Any]:
    """The values a sync of this type writes onto an existing target component: the same for every target."""
    if source.deleted or (choice.sync_type is SyncType.SELECTED and source.template_values is None):
        return {}
    if choice.sync_type is SyncType.ONLY_CHANGES:
        # R-SYNC-8, R-SYNC-17: only what the admin changed; the owner only if they changed it.
        return {f: source.values[f] for f in SYNCED_FIELDS if f in source.changed_fields}
    if choice.sync_type is SyncType.SELECTED:
        return _selected(source, choice)
    wanted = {f: source.values[f] for f in SYNCED_FIELDS if f != "owner"}
    if not source.owned_by_case_owner:  # R-SYNC-16: otherwise the target keeps its owner
        wanted["owner"] = source.values["owner"]
    return wanted


def _selected(source: SourceComponent, choice: SyncChoice) -> dict[str, Any]:
    """R-SYNC-10: the template's values of the ticked attributes."""
    assert source.template_values is not None
    offered = selectable_attributes(marking_aid_enabled=choice.marking_aid_enabled)
    return {f: source.template_values[f] for f in offered if f in choice.attributes}


def _review_effect(target: TargetComponent, diff: Mapping[str, tuple[Any, Any]]) -> ReviewEffect:
    if "type" in diff:
        becomes_review = diff["type"][1] in ComponentType.with_review()
        if becomes_review and target.review is None:
            return ReviewEffect.CREATE
        if not becomes_review and target.review is not None:
            return ReviewEffect.DELETE
    if target.review is None or not diff:
        return ReviewEffect.NONE
    if target.review.status == ReviewStatus.COMPLETED:  # R-SYNC-19: it keeps its date and time
        return ReviewEffect.KEEP_COMPLETED
    return ReviewEffect.RECREATE


def _recently_changed(source: SourceComponent) -> bool:
    """Part of the admin's recent changes: created, or with a synced attribute changed (R-SYNC-8)."""
    return source.created or bool(source.changed_fields & set(SYNCED_FIELDS))


def _has_evidence(target: TargetComponent) -> bool:
    return target.marking_aid_submitted and bool(target.values.get("marking_aid_exercise"))


def _not(base: Decision, reason: NotSynced) -> Decision:
    return Decision(learner_id=base.learner_id, key=base.key, action=base.action, target=base.target, reason=reason)


@dataclass(frozen=True)
class ComponentTally:
    """One row of the summary grid (R-SYNC-14)."""

    key: ComponentKey
    action: SyncAction
    synchronised: int
    not_synchronised: int
    reasons: Mapping[NotSynced, int]
    warnings: Mapping[SyncWarning, int]


def tally(decisions: Iterable[Decision]) -> dict[ComponentKey, ComponentTally]:
    """Counts per component for the summary grid; the action is the one most pairs take."""
    actions: dict[ComponentKey, Counter[SyncAction]] = {}
    synced: Counter[ComponentKey] = Counter()
    not_synced: Counter[ComponentKey] = Counter()
    reasons: dict[ComponentKey, Counter[NotSynced]] = {}
    warnings: dict[ComponentKey, Counter[SyncWarning]] = {}
    for d in decisions:
        actions.setdefault(d.key, Counter())[d.action] += 1
        reasons.setdefault(d.key, Counter())
        warnings.setdefault(d.key, Counter()).update(d.warnings)
        if d.reason is None:
            synced[d.key] += 1
        else:
            not_synced[d.key] += 1
            reasons[d.key][d.reason] += 1
    return {
        key: ComponentTally(
            key=key,
            action=min(counts, key=lambda a: (-counts[a], a.value)),
            synchronised=synced[key],
            not_synchronised=not_synced[key],
            reasons=dict(reasons[key]),
            warnings=dict(warnings[key]),
        )
        for key, counts in actions.items()
    }
