"""The rules of SPEC §2 as `decide` applies them to plain values (no database)."""

import datetime as dt
from typing import Any

from waypoint.people.models import Perm
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.sync.decide import (
    SELECTABLE_ATTRIBUTES,
    decide,
    decide_pair,
    decide_source,
    only_changes_available,
    selectable_attributes,
    tally,
)
from waypoint.plans.sync.types import (
    NotSynced,
    ReviewEffect,
    ReviewState,
    SourceComponent,
    SyncAction,
    SyncChoice,
    SyncType,
    SyncWarning,
    TargetComponent,
    TargetPlan,
    hand_made_key,
    template_key,
)

KEY = template_key(7)
ALL_STATUSES = frozenset({"not_started", "in_progress", "awaiting_marking", "referred", "completed"})
SUPERVISOR = frozenset({Perm.SUPERVISOR})
CASE_OWNER, OTHER_ADMIN, TARGET_OWNER = 11, 12, 13
SCHEDULED_AT = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)


def values(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Portfolio review",
        "type": "learning_activity",
        "status": "not_started",
        "due_date": "2027-01-15",
        "owner": CASE_OWNER,
        "completion_mode": "tutor",
        "criteria_mappings": ["K1"],
        "instructions": "",
        "evidence_required": False,
        "min_evidence": 0,
        "documents": [],
        "delivery_via_organisation": False,
        "delivery_via_employer": False,
        "planned_for_qa": False,
        "marking_aid_exercise": "",
        "review_type": "",
    }
    assert set(base) == set(EDITABLE_FIELDS)
    base.update(overrides)
    return base


def source(**fields: Any) -> SourceComponent:
    vals = values(**fields.pop("values", {}))
    return SourceComponent(
        key=fields.pop("key", KEY),
        name=vals["name"],
        type=vals["type"],
        status=fields.pop("status", "in_progress"),
        values=vals,
        component_id=fields.pop("component_id", 100),
        template_values=fields.pop("template_values", values(name="Template name", instructions="From the template")),
        **fields,
    )


def target(status: str = "in_progress", **fields: Any) -> TargetComponent:
    return TargetComponent(component_id=200, status=status, values=values(**fields.pop("values", {})), **fields)


def plan(component: TargetComponent | None = None, learner_id: int = 1) -> TargetPlan:
    return TargetPlan(learner_id=learner_id, components={KEY: component} if component else {})


def choice(sync_type: SyncType = SyncType.ALL, **fields: Any) -> SyncChoice:
    fields.setdefault("statuses", ALL_STATUSES)
    fields.setdefault("perms", SUPERVISOR)
    return SyncChoice(sync_type=sync_type, **fields)


# R-SYNC-7, R-SYNC-8


def test_only_changes_is_available_only_with_recent_changes() -> None:  # R-SYNC-8
    assert not only_changes_available([source(), source(key=template_key(8))])
    assert only_changes_available([source(changed_fields=frozenset({"due_date"}))])
    assert only_changes_available([source(created=True)])
    assert only_changes_available([source(deleted=True)])


def test_only_changes_applies_exactly_the_fields_changed_in_the_visit() -> None:  # R-SYNC-8
    changed = source(
        values={"due_date": "2027-02-01", "instructions": "New", "planned_for_qa": True, "delivery_via_employer": True},
        changed_fields=frozenset({"due_date", "planned_for_qa", "delivery_via_employer"}),
    )
    decision = decide_pair(changed, plan(target()), choice(SyncType.ONLY_CHANGES))
    assert decision.synchronised
    assert decision.diff == {
        "due_date": ("2027-01-15", "2027-02-01"),
        "planned_for_qa": (False, True),
        "delivery_via_employer": (False, True),
    }


def test_a_selected_component_without_recent_changes_is_not_synchronised_by_only_changes() -> None:  # R-SYNC-8
    decision = decide_pair(source(values={"name": "Other"}), plan(target()), choice(SyncType.ONLY_CHANGES))
    assert decision.reason is NotSynced.NO_RECENT_CHANGES


def test_only_changes_creates_only_components_that_are_part_of_the_recent_changes() -> None:  # R-SYNC-8, 11
    only = choice(SyncType.ONLY_CHANGES)
    assert decide_pair(source(), plan(), only).reason is NotSynced.NO_RECENT_CHANGES
    assert decide_pair(source(created=True), plan(), only).synchronised
    readded_and_changed = source(changed_fields=frozenset({"due_date"}))
    assert decide_pair(readded_and_changed, plan(), only).action is SyncAction.CREATE
    assert decide_pair(readded_and_changed, plan(), only).synchronised


# R-SYNC-9


def test_all_attributes_copies_every_attribute_but_the_status() -> None:  # R-SYNC-9
    src = source(values={"review_type": "", "instructions": "Bring ID", "documents": ["Brief.pdf"], "status": "x"})
    decision = decide_pair(src, plan(target(values={"instructions": "Old"})), choice())
    assert decision.diff == {"instructions": ("Old", "Bring ID"), "documents": ([], ["Brief.pdf"])}
    assert "status" not in decision.diff


def test_all_attributes_syncs_a_review_type_change() -> None:  # R-SYNC-9
    src = source(values={"type": "review", "review_type": "gateway"})
    tgt = target(values={"type": "review", "review_type": "progress"}, review=ReviewState("in_progress", None))
    decision = decide_pair(src, plan(tgt), choice())
    assert decision.diff["review_type"] == ("progress", "gateway")
    assert decision.synchronised


# R-SYNC-10


def test_selected_attributes_are_the_listed_ones_and_never_the_due_date() -> None:  # R-SYNC-10
    assert "due_date" not in SELECTABLE_ATTRIBUTES
    assert set(SELECTABLE_ATTRIBUTES) == {
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
    assert "marking_aid_exercise" not in selectable_attributes(marking_aid_enabled=False)


def test_selected_writes_the_template_values_of_the_ticked_attributes_to_the_targets() -> None:  # R-SYNC-10
    picked = choice(SyncType.SELECTED, attributes=frozenset({"name", "due_date"}))
    decision = decide_pair(source(values={"name": "Edited"}), plan(target(values={"name": "Edited"})), picked)
    assert decision.diff == {"name": ("Edited", "Template name")}


def test_selected_updates_the_source_learner_too() -> None:  # R-SYNC-10, R-SYNC-13c
    picked = choice(SyncType.SELECTED, attributes=frozenset({"instructions"}))
    decision = decide_source(source(values={"instructions": "Mine"}), learner_id=5, choice=picked)
    assert decision is not None
    assert decision.synchronised
    assert decision.diff == {"instructions": ("Mine", "From the template")}
    assert decide_source(source(), learner_id=5, choice=choice(SyncType.ALL)) is None


def test_selected_marking_aid_exercise_is_ignored_where_marking_aid_is_disabled() -> None:  # R-SYNC-10
    picked = choice(SyncType.SELECTED, attributes=frozenset({"marking_aid_exercise"}), marking_aid_enabled=False)
    src = source(template_values=values(marking_aid_exercise="MA-9"))
    assert decide_pair(src, plan(target()), picked).diff == {}


def test_a_hand_made_component_cannot_take_template_values() -> None:  # R-SYNC-10
    src = source(key=hand_made_key(100), template_values=None)
    picked = choice(SyncType.SELECTED, attributes=frozenset({"name"}))
    assert decide_pair(src, plan(), picked).reason is NotSynced.NO_TEMPLATE


# R-SYNC-11


def test_a_target_lacking_the_component_gets_it_created() -> None:  # R-SYNC-11
    decision = decide_pair(source(values={"name": "Safeguarding"}), plan(), choice())
    assert decision.action is SyncAction.CREATE
    assert decision.synchronised
    assert decision.diff["name"] == (None, "Safeguarding")
    assert "status" not in decision.diff  # a created component starts Not Started


def test_a_component_deleted_on_the_source_is_deleted_from_the_target() -> None:  # R-SYNC-11
    decision = decide_pair(source(deleted=True, component_id=None), plan(target()), choice(SyncType.ONLY_CHANGES))
    assert decision.action is SyncAction.DELETE
    assert decision.synchronised
    assert decision.diff["name"] == ("Portfolio review", None)


def test_deleting_what_the_target_does_not_have_is_reported_not_synchronised() -> None:  # R-SYNC-11
    decision = decide_pair(source(deleted=True), plan(), choice())
    assert decision.reason is NotSynced.ALREADY_ABSENT


def test_a_component_on_both_plans_is_synchronised() -> None:  # R-SYNC-11
    assert decide_pair(source(), plan(target()), choice()).action is SyncAction.SYNCHRONISE


# R-SYNC-6


def test_a_target_component_in_a_status_not_selected_is_not_synchronised() -> None:  # R-SYNC-6
    only_open = choice(statuses=frozenset({"not_started", "in_progress"}))
    decision = decide_pair(source(values={"name": "New"}), plan(target(status="completed")), only_open)
    assert decision.reason is NotSynced.STATUS_NOT_SELECTED
    assert decision.diff == {}


def test_status_conditions_do_not_stop_a_creation() -> None:  # R-SYNC-6: they filter existing components
    assert decide_pair(source(), plan(), choice(statuses=frozenset())).synchronised


# R-SYNC-16, R-SYNC-17 owner


def test_all_leaves_the_target_owner_when_the_source_owner_is_the_case_owner() -> None:  # R-SYNC-16
    tgt = target(values={"owner": TARGET_OWNER})
    assert "owner" not in decide_pair(source(owned_by_case_owner=True), plan(tgt), choice()).diff


def test_all_creates_unassigned_when_the_source_owner_is_the_case_owner() -> None:  # R-SYNC-16
    assert decide_pair(source(owned_by_case_owner=True), plan(), choice()).diff["owner"] == (None, None)


def test_all_copies_any_other_owner() -> None:  # R-SYNC-16
    src = source(values={"owner": OTHER_ADMIN})
    assert decide_pair(src, plan(target(values={"owner": TARGET_OWNER})), choice()).diff["owner"] == (
        TARGET_OWNER,
        OTHER_ADMIN,
    )
    assert decide_pair(src, plan(), choice()).diff["owner"] == (None, OTHER_ADMIN)


def test_only_changes_leaves_the_owner_unless_the_admin_changed_it() -> None:  # R-SYNC-17
    tgt = plan(target(values={"owner": TARGET_OWNER}))
    unchanged = source(values={"owner": OTHER_ADMIN, "name": "N"}, changed_fields=frozenset({"name"}))
    assert "owner" not in decide_pair(unchanged, tgt, choice(SyncType.ONLY_CHANGES)).diff
    changed = source(values={"owner": OTHER_ADMIN}, changed_fields=frozenset({"owner"}), owned_by_case_owner=True)
    assert decide_pair(changed, tgt, choice(SyncType.ONLY_CHANGES)).diff == {"owner": (TARGET_OWNER, OTHER_ADMIN)}


# R-SYNC-18, R-SYNC-19 reviews

REVIEW = {"type": "review", "review_type": "progress"}


def test_creating_a_review_component_creates_its_review() -> None:  # R-SYNC-18
    src = source(values=REVIEW, review=ReviewState("scheduled", SCHEDULED_AT))
    decision = decide_pair(src, plan(), choice())
    assert decision.review is ReviewEffect.CREATE


def test_updating_a_review_component_recreates_its_review_and_tasks_with_a_warning() -> None:  # R-SYNC-19
    src = source(values={**REVIEW, "due_date": "2027-05-01"})
    tgt = target(values=REVIEW, review=ReviewState("scheduled", SCHEDULED_AT))
    decision = decide_pair(src, plan(tgt), choice())
    assert decision.review is ReviewEffect.RECREATE
    assert SyncWarning.REVIEW_TASKS_RECREATED in decision.warnings


def test_a_completed_review_keeps_its_date_while_the_component_changes() -> None:  # R-SYNC-19
    src = source(values={**REVIEW, "due_date": "2027-05-01"})
    tgt = target(status="completed", values=REVIEW, review=ReviewState("completed", SCHEDULED_AT))
    decision = decide_pair(src, plan(tgt), choice())
    assert decision.review is ReviewEffect.KEEP_COMPLETED
    assert decision.diff == {"due_date": ("2027-01-15", "2027-05-01")}


def test_review_type_by_only_changes_is_refused_for_reviews_in_progress_or_completed() -> None:  # R-SYNC-19
    src = source(values={**REVIEW, "review_type": "gateway"}, changed_fields=frozenset({"review_type"}))
    for status in ("in_progress", "completed"):
        tgt = target(values=REVIEW, review=ReviewState(status, None))
        assert decide_pair(src, plan(tgt), choice(SyncType.ONLY_CHANGES)).reason is NotSynced.REVIEW_TYPE_LOCKED
    for status in ("not_scheduled", "scheduled"):
        tgt = target(values=REVIEW, review=ReviewState(status, None))
        assert decide_pair(src, plan(tgt), choice(SyncType.ONLY_CHANGES)).synchronised


# R-SYNC-13b marking aid


def test_changing_an_exercise_with_submitted_evidence_warns() -> None:  # R-SYNC-13b
    src = source(values={"marking_aid_exercise": "MA-2"})
    tgt = target(values={"marking_aid_exercise": "MA-1"}, marking_aid_submitted=True)
    assert SyncWarning.MARKING_AID_EVIDENCE in decide_pair(src, plan(tgt), choice()).warnings
    quiet = target(values={"marking_aid_exercise": "MA-1"})
    assert decide_pair(src, plan(quiet), choice()).warnings == ()


# R-SYNC-20…25 permissions


def test_internal_verifier_syncs_planned_for_qa_on_a_completed_component() -> None:  # R-SYNC-21
    src = source(values={"planned_for_qa": True}, changed_fields=frozenset({"planned_for_qa"}))
    iv = choice(SyncType.ONLY_CHANGES, perms=frozenset({Perm.INTERNAL_VERIFIER}))
    decision = decide_pair(src, plan(target(status="completed")), iv)
    assert decision.synchronised
    assert decision.diff == {"planned_for_qa": (False, True)}


def test_internal_verifier_may_not_sync_other_fields() -> None:  # R-SYNC-21
    src = source(values={"name": "New"}, changed_fields=frozenset({"name"}))
    iv = choice(SyncType.ONLY_CHANGES, perms=frozenset({Perm.INTERNAL_VERIFIER}))
    assert decide_pair(src, plan(target()), iv).reason is NotSynced.NO_EDIT_PERMISSION


def test_adm_edit_without_edit_delete_finished_is_refused_on_a_finished_component() -> None:  # R-SYNC-23, 25
    adm_edit = choice(perms=frozenset({Perm.ADM_EDIT}))
    src = source(values={"name": "New"})
    assert decide_pair(src, plan(target(status="completed")), adm_edit).reason is NotSynced.NO_EDIT_FINISHED_PERMISSION
    assert decide_pair(src, plan(target(status="in_progress")), adm_edit).synchronised


def test_readding_needs_adm_add() -> None:  # R-SYNC-22
    assert decide_pair(source(), plan(), choice(perms=frozenset({Perm.ADM_EDIT}))).reason is NotSynced.NO_ADD_PERMISSION
    assert decide_pair(source(), plan(), choice(perms=frozenset({Perm.ADM_ADD}))).synchronised


def test_deleting_a_finished_component_needs_edit_delete_finished() -> None:  # R-SYNC-24
    gone = source(deleted=True)
    finished = plan(target(status="completed"))
    assert decide_pair(gone, finished, choice(perms=frozenset({Perm.ADM_DELETE}))).reason is (
        NotSynced.NO_DELETE_FINISHED_PERMISSION
    )
    both = frozenset({Perm.ADM_DELETE, Perm.EDIT_DELETE_FINISHED})
    assert decide_pair(gone, finished, choice(perms=both)).synchronised


def test_a_refused_pair_does_not_stop_the_others() -> None:  # R-SYNC-25
    adm_edit = choice(perms=frozenset({Perm.ADM_EDIT}))
    targets = [plan(target(status="completed"), learner_id=1), plan(target(status="referred"), learner_id=2)]
    decisions = list(decide([source(values={"name": "New"})], targets, adm_edit))
    assert [d.synchronised for d in decisions] == [False, True]


def test_an_unchanged_pair_needs_no_permission_and_changes_nothing() -> None:  # R-SYNC-25
    decision = decide_pair(source(), plan(target()), choice(perms=frozenset()))
    assert decision.synchronised
    assert not decision.changes_anything


# R-SYNC-14 summary counts


def test_the_summary_counts_synchronised_and_not_synchronised_learners_per_component() -> None:  # R-SYNC-14
    only_open = choice(statuses=frozenset({"in_progress"}))
    targets = [plan(target(status="in_progress"), learner_id=i) for i in range(3)]
    targets.append(plan(target(status="completed"), learner_id=9))
    rows = tally(decide([source(values={"name": "New"})], targets, only_open))
    row = rows[KEY]
    assert (row.action, row.synchronised, row.not_synchronised) == (SyncAction.SYNCHRONISE, 3, 1)
    assert row.reasons == {NotSynced.STATUS_NOT_SELECTED: 1}
