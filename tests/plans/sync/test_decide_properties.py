"""Properties of the synchronisation rule engine (SPEC §2), checked over generated plans and choices.

`decide` is pure, so every property is stated over plain values: source components with their recent
changes, target learners' plans, and what the admin chose in the wizard. No database is involved.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from waypoint.people.models import Perm
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ComponentStatus, ReviewStatus
from waypoint.plans.permissions import PlanAction, plan_change_refusal
from waypoint.plans.sync.decide import (
    SELECTABLE_ATTRIBUTES,
    SYNCED_FIELDS,
    decide,
    decide_source,
    selectable_attributes,
    tally,
)
from waypoint.plans.sync.types import (
    ComponentKey,
    Decision,
    NotSynced,
    ReviewState,
    SourceComponent,
    SyncAction,
    SyncChoice,
    SyncType,
    TargetComponent,
    TargetPlan,
    hand_made_key,
    template_key,
)
from waypoint.programmes.models import CompletionMode, ComponentType, ReviewType

EXAMPLES = 50

# Small value domains, so that a target often already holds the source's value and diffs stay partial.
CRITERIA_CODES = ("K1", "K2", "S1", "S3", "B2")
DOCUMENT_CODES = ("policy", "handbook", "ilp")
NAMES = ("Induction", "Progress review 1", "Gateway", "Exam prep", "")

FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(NAMES),
    "type": st.sampled_from(ComponentType.values),
    "status": st.sampled_from(ComponentStatus.values),
    "due_date": st.sampled_from((None, "2025-01-06", "2025-02-03", "2025-03-31")),
    "owner": st.sampled_from((None, 1, 2, 3)),
    "completion_mode": st.sampled_from(CompletionMode.values),
    "criteria_mappings": st.lists(st.sampled_from(CRITERIA_CODES), max_size=3, unique=True),
    "instructions": st.sampled_from(("", "Read the handbook.", "Upload your log.")),
    "evidence_required": st.booleans(),
    "min_evidence": st.integers(0, 3),
    "documents": st.lists(st.sampled_from(DOCUMENT_CODES), max_size=2, unique=True),
    "delivery_via_organisation": st.booleans(),
    "delivery_via_employer": st.booleans(),
    "planned_for_qa": st.booleans(),
    "marking_aid_exercise": st.sampled_from(("", "EX-1", "EX-2")),
    "review_type": st.sampled_from(["", *ReviewType.values]),
}
assert set(FIELD_VALUES) == set(EDITABLE_FIELDS)

# R-SYNC-10, as the spec lists them: the only attributes the SELECTED type may write.
TEMPLATE_ATTRIBUTES = frozenset(
    {
        "name",
        "completion_mode",
        "criteria_mappings",
        "instructions",
        "evidence_required",
        "min_evidence",
        "documents",
        "delivery_via_organisation",
        "marking_aid_exercise",
    }
)

statuses = st.sampled_from(ComponentStatus.values)
attribute_values = st.fixed_dictionaries(FIELD_VALUES)
reviews = st.one_of(
    st.none(),
    st.builds(
        ReviewState,
        status=st.sampled_from(ReviewStatus.values),
        scheduled_at=st.one_of(st.none(), st.just(dt.datetime(2025, 1, 6, 10, 0, tzinfo=dt.UTC))),
    ),
)
ANY_SYNC_TYPE = st.sampled_from(SyncType)
# Biased towards admins who may do a lot, so that plenty of pairs get as far as a diff.
ANY_PERMS = st.one_of(
    st.just(frozenset({Perm.SUPERVISOR})),
    st.frozensets(st.sampled_from(Perm)),
    st.frozensets(st.sampled_from(Perm), min_size=4),
)
ANY_STATUSES = st.one_of(st.just(frozenset(ComponentStatus.values)), st.frozensets(statuses))
one_in_four = st.integers(0, 3).map(lambda n: n == 0)
component_keys = st.one_of(st.builds(template_key, st.integers(1, 6)), st.builds(hand_made_key, st.integers(1, 6)))


@st.composite
def source_components(draw: st.DrawFn) -> SourceComponent:
    key = draw(component_keys)
    status = draw(statuses)
    values = {**draw(attribute_values), "status": status}
    deleted = draw(one_in_four)
    from_template = key[0] == "template"
    return SourceComponent(
        key=key,
        name=values["name"],
        type=values["type"],
        status=status,
        values=values,
        component_id=None if deleted else key[1] + 100,
        template_values=None if not from_template or draw(one_in_four) else draw(attribute_values),
        changed_fields=draw(st.frozensets(st.sampled_from(EDITABLE_FIELDS))),
        created=draw(st.booleans()),
        deleted=deleted,
        review=draw(reviews),
        owned_by_case_owner=draw(st.booleans()),
    )


@st.composite
def target_components(draw: st.DrawFn, source: SourceComponent, learner_id: int) -> TargetComponent:
    """A target component that keeps some of the source's values and differs on others."""
    status = draw(statuses)
    values = dict(source.values)
    for f in draw(st.frozensets(st.sampled_from(SYNCED_FIELDS))):
        values[f] = draw(FIELD_VALUES[f])
    values["status"] = status
    return TargetComponent(
        component_id=learner_id * 1000 + len(source.key[0]) * 10 + source.key[1],
        status=status,
        values=values,
        review=draw(reviews),
        marking_aid_submitted=draw(st.booleans()),
    )


@st.composite
def target_plans(draw: st.DrawFn, sources: list[SourceComponent]) -> list[TargetPlan]:
    learner_ids = draw(st.lists(st.integers(1, 500), unique=True, min_size=1, max_size=3))
    plans = []
    for learner_id in learner_ids:
        components: dict[ComponentKey, TargetComponent] = {}
        for source in sources:
            if draw(st.booleans()):
                components[source.key] = draw(target_components(source, learner_id))
        plans.append(TargetPlan(learner_id=learner_id, components=components))
    return plans


def sync_choices(
    sync_types: st.SearchStrategy[SyncType] = ANY_SYNC_TYPE,
    perms: st.SearchStrategy[frozenset[Perm]] = ANY_PERMS,
    attributes: tuple[str, ...] = SELECTABLE_ATTRIBUTES,
) -> st.SearchStrategy[SyncChoice]:
    return st.builds(
        SyncChoice,
        sync_type=sync_types,
        statuses=ANY_STATUSES,
        perms=perms,
        attributes=st.frozensets(st.sampled_from(attributes)),
        marking_aid_enabled=st.booleans(),
    )


class Scenario(NamedTuple):
    sources: list[SourceComponent]
    targets: list[TargetPlan]
    choice: SyncChoice


@st.composite
def scenarios(draw: st.DrawFn, choices: st.SearchStrategy[SyncChoice] | None = None) -> Scenario:
    sources = draw(st.lists(source_components(), unique_by=lambda s: s.key, max_size=4))
    targets = draw(target_plans(sources))
    choice = draw(choices if choices is not None else sync_choices())
    return Scenario(sources, targets, choice)


def decisions_of(scenario: Scenario) -> list[Decision]:
    return list(decide(scenario.sources, scenario.targets, scenario.choice))


def sources_by_key(scenario: Scenario) -> dict[ComponentKey, SourceComponent]:
    return {s.key: s for s in scenario.sources}


def applied(values: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    """The target's attributes after `apply` writes the decision's new values."""
    return {**values, **{f: new for f, (_old, new) in decision.diff.items()}}


def in_order(decisions: list[Decision]) -> list[Decision]:
    return sorted(decisions, key=lambda d: (d.learner_id, d.key))


PLAN_ACTIONS = {
    SyncAction.CREATE: PlanAction.ADD,
    SyncAction.SYNCHRONISE: PlanAction.EDIT,
    SyncAction.DELETE: PlanAction.DELETE,
}


@settings(max_examples=EXAMPLES)
@given(scenarios())
def test_a_target_component_in_a_status_that_was_not_selected_is_never_changed(scenario: Scenario) -> None:
    # R-SYNC-6: the conditions filter existing target components; the pair is listed with that reason.
    for d in decisions_of(scenario):
        if d.target is None or d.target.status in scenario.choice.statuses:
            continue
        assert not d.synchronised
        assert not d.changes_anything
        assert d.diff == {}
        # R-SYNC-10: under SELECTED a hand-made component has no template values for any learner,
        # which is reported first so that the whole row carries one reason.
        no_template = scenario.choice.sync_type is SyncType.SELECTED and d.action is SyncAction.SYNCHRONISE
        if no_template and sources_by_key(scenario)[d.key].template_values is None:
            assert d.reason is NotSynced.NO_TEMPLATE
        else:
            assert d.reason is NotSynced.STATUS_NOT_SELECTED


@settings(max_examples=EXAMPLES)
@given(scenarios(sync_choices(sync_types=st.just(SyncType.ALL))))
def test_after_an_all_sync_every_synchronised_pair_equals_the_source_on_the_synced_fields(scenario: Scenario) -> None:
    # R-SYNC-9: every attribute is copied; R-SYNC-16: a case owner's component leaves the target's owner alone.
    source_of = sources_by_key(scenario)
    for d in decisions_of(scenario):
        if not d.synchronised or d.action is SyncAction.DELETE:
            continue
        source = source_of[d.key]
        assert "status" not in d.diff  # a learner's progress is never copied
        if d.action is SyncAction.SYNCHRONISE:
            assert d.target is not None
            after = applied(d.target.values, d)
            expected_owner = d.target.values["owner"] if source.owned_by_case_owner else source.values["owner"]
            assert after["status"] == d.target.values["status"]
        else:  # R-SYNC-16: created unassigned when the source's case owner owns it
            after = applied({}, d)
            expected_owner = None if source.owned_by_case_owner else source.values["owner"]
            assert set(d.diff) == set(SYNCED_FIELDS)
        for f in SYNCED_FIELDS:
            if f != "owner":
                assert after[f] == source.values[f], f
        assert after["owner"] == expected_owner


@settings(max_examples=EXAMPLES)
@given(scenarios(sync_choices(sync_types=st.just(SyncType.ONLY_CHANGES))))
def test_only_changes_never_writes_a_field_the_admin_did_not_change(scenario: Scenario) -> None:
    # R-SYNC-8: only the fields changed recently; R-SYNC-17: the owner only if the admin changed it.
    # Creations and deletions write or remove the whole component (R-SYNC-8, R-SYNC-11), but only for a
    # component that is part of the recent changes; Synchronise decisions are held to the changed fields.
    source_of = sources_by_key(scenario)
    for d in decisions_of(scenario):
        if d.action is SyncAction.CREATE and d.changes_anything:
            source = source_of[d.key]
            assert source.created or source.changed_fields & set(SYNCED_FIELDS)
        if d.action is not SyncAction.SYNCHRONISE:
            continue
        source = source_of[d.key]
        assert set(d.diff) <= source.changed_fields
        assert "status" not in d.diff
        if "owner" not in source.changed_fields:
            assert "owner" not in d.diff
        for f, (_old, new) in d.diff.items():
            assert new == source.values[f]
        if not source.changed_fields & set(SYNCED_FIELDS):
            assert not d.changes_anything


@settings(max_examples=EXAMPLES)
@given(
    scenarios(
        sync_choices(
            sync_types=st.just(SyncType.SELECTED),
            # A stray tick on the due date (never offered) must be ignored as well.
            attributes=(*SELECTABLE_ATTRIBUTES, "due_date"),
        )
    )
)
def test_selected_writes_only_ticked_offered_attributes_with_the_template_values(scenario: Scenario) -> None:
    # R-SYNC-10: only the listed attributes, never the due date, the Marking Aid exercise only where enabled,
    # and the template's values — to the targets and to the source learner.
    choice = scenario.choice
    offered = TEMPLATE_ATTRIBUTES if choice.marking_aid_enabled else TEMPLATE_ATTRIBUTES - {"marking_aid_exercise"}
    assert set(selectable_attributes(marking_aid_enabled=choice.marking_aid_enabled)) == offered
    writable = offered & choice.attributes
    source_of = sources_by_key(scenario)
    for d in decisions_of(scenario):
        source = source_of[d.key]
        if not d.synchronised or d.action is SyncAction.DELETE:
            continue
        assert source.template_values is not None
        if d.action is SyncAction.SYNCHRONISE:
            assert d.target is not None
            assert set(d.diff) <= writable
            after = applied(d.target.values, d)
            for f in writable:
                assert after[f] == source.template_values[f], f
        else:  # a creation copies the source, then takes the template's values of the ticked attributes
            after = applied({}, d)
            for f in SYNCED_FIELDS:
                if f in writable:
                    assert after[f] == source.template_values[f], f
                elif f != "owner":
                    assert after[f] == source.values[f], f
            assert after["due_date"] == source.values["due_date"]
    for source in scenario.sources:
        own = decide_source(source, learner_id=1, choice=choice)
        if source.deleted:
            assert own is None
            continue
        assert own is not None
        if own.synchronised:
            assert source.template_values is not None
            assert set(own.diff) <= writable
            for f in writable:
                assert applied(source.values, own)[f] == source.template_values[f], f


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_decisions_do_not_depend_on_the_order_of_learners_or_components(data: st.DataObject) -> None:
    # decide.py: the same inputs give the same decisions, whatever the order (R-SYNC-15 relies on it).
    scenario = data.draw(scenarios())
    shuffled_sources = data.draw(st.permutations(scenario.sources))
    shuffled_targets = data.draw(st.permutations(scenario.targets))
    reordered = list(decide(shuffled_sources, shuffled_targets, scenario.choice))
    original = decisions_of(scenario)
    assert in_order(reordered) == in_order(original)
    assert tally(reordered) == tally(original)


@settings(max_examples=EXAMPLES)
@given(scenarios())
def test_every_change_a_sync_makes_is_one_the_admin_is_permitted_to_make(scenario: Scenario) -> None:
    # R-SYNC-20…24: the same matrix as a single edit; R-SYNC-25: otherwise the pair is not synchronised.
    for d in decisions_of(scenario):
        if not d.changes_anything:
            continue
        finished = d.target is not None and d.target.status in ComponentStatus.finished()
        refusal = plan_change_refusal(scenario.choice.perms, PLAN_ACTIONS[d.action], finished=finished, fields=d.diff)
        assert refusal is None


@settings(max_examples=EXAMPLES)
@given(scenarios(sync_choices(perms=st.just(frozenset()))))
def test_an_admin_without_any_permission_never_changes_anything(scenario: Scenario) -> None:
    # R-SYNC-1, R-SYNC-25: with none of the permissions every pair that would change is refused.
    for d in decisions_of(scenario):
        assert not d.changes_anything


@settings(max_examples=EXAMPLES)
@given(scenarios())
def test_a_synchronise_diff_lists_exactly_the_fields_whose_values_change(scenario: Scenario) -> None:
    # R-PLUS-1: the dry-run diff is exact — old is the target's current value and differs from new.
    for d in decisions_of(scenario):
        if d.action is not SyncAction.SYNCHRONISE:
            continue
        assert d.target is not None
        for f, (old, new) in d.diff.items():
            assert old == d.target.values[f]
            assert old != new
    for source in scenario.sources:
        own = decide_source(source, learner_id=1, choice=scenario.choice)
        if own is not None:
            for f, (old, new) in own.diff.items():
                assert old == source.values[f]
                assert old != new


@settings(max_examples=EXAMPLES)
@given(scenarios())
def test_the_summary_counts_every_learner_once_for_every_component(scenario: Scenario) -> None:
    # R-SYNC-14: per component, synchronised + not synchronised is the number of selected learners.
    decisions = decisions_of(scenario)
    rows = tally(decisions)
    assert set(rows) == {s.key for s in scenario.sources}
    assert tally(decide(scenario.sources, [], scenario.choice)) == {}
    for key, row in rows.items():
        assert row.synchronised + row.not_synchronised == len(scenario.targets)
        assert row.synchronised == sum(1 for d in decisions if d.key == key and d.synchronised)
        assert sum(row.reasons.values()) == row.not_synchronised
