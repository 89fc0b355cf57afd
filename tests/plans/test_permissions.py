"""The permission matrix of R-SYNC-20…24 as a pure function, case by case."""

import pytest

from waypoint.people.models import PLAN_PERMISSIONS, Perm
from waypoint.plans.permissions import PlanAction, Refusal, may_sync_anything, plan_change_refusal

ADD, EDIT, DELETE = PlanAction.ADD, PlanAction.EDIT, PlanAction.DELETE
ANY_FIELD = ("due_date",)


@pytest.mark.parametrize("perm", [Perm.SUPERVISOR, Perm.COMPLIANCE_QA])
@pytest.mark.parametrize("action", list(PlanAction))
@pytest.mark.parametrize("finished", [False, True])
def test_supervisor_and_compliance_qa_may_add_edit_and_delete_in_every_case(
    perm: Perm, action: PlanAction, finished: bool
) -> None:  # R-SYNC-20
    assert plan_change_refusal({perm}, action, finished=finished, fields=ANY_FIELD) is None


@pytest.mark.parametrize("finished", [False, True])
def test_internal_verifier_may_set_or_clear_planned_for_qa_in_any_status(finished: bool) -> None:  # R-SYNC-21
    assert plan_change_refusal({Perm.INTERNAL_VERIFIER}, EDIT, finished=finished, fields=["planned_for_qa"]) is None


def test_internal_verifier_may_not_change_other_fields_with_planned_for_qa() -> None:  # R-SYNC-21
    refusal = plan_change_refusal({Perm.INTERNAL_VERIFIER}, EDIT, finished=False, fields=["planned_for_qa", "name"])
    assert refusal is Refusal.EDIT


def test_internal_verifier_may_not_add_or_delete() -> None:  # R-SYNC-21
    assert plan_change_refusal({Perm.INTERNAL_VERIFIER}, ADD, finished=False) is Refusal.ADD
    assert plan_change_refusal({Perm.INTERNAL_VERIFIER}, DELETE, finished=False) is Refusal.DELETE


def test_readding_a_removed_template_component_needs_adm_add() -> None:  # R-SYNC-22
    assert plan_change_refusal({Perm.ADM_ADD}, ADD, finished=False) is None
    for perm in (Perm.ADM_EDIT, Perm.ADM_DELETE, Perm.EDIT_DELETE_FINISHED, Perm.INTERNAL_VERIFIER):
        assert plan_change_refusal({perm}, ADD, finished=False) is Refusal.ADD


def test_editing_a_non_finished_component_needs_adm_edit() -> None:  # R-SYNC-23
    assert plan_change_refusal({Perm.ADM_EDIT}, EDIT, finished=False, fields=ANY_FIELD) is None
    assert plan_change_refusal({Perm.ADM_ADD, Perm.ADM_DELETE}, EDIT, finished=False, fields=ANY_FIELD) is Refusal.EDIT


def test_editing_a_finished_component_needs_adm_edit_and_edit_delete_finished() -> None:  # R-SYNC-23
    both = {Perm.ADM_EDIT, Perm.EDIT_DELETE_FINISHED}
    assert plan_change_refusal(both, EDIT, finished=True, fields=ANY_FIELD) is None
    assert plan_change_refusal({Perm.ADM_EDIT}, EDIT, finished=True, fields=ANY_FIELD) is Refusal.EDIT_FINISHED
    assert (
        plan_change_refusal({Perm.EDIT_DELETE_FINISHED}, EDIT, finished=True, fields=ANY_FIELD) is Refusal.EDIT_FINISHED
    )


def test_deleting_a_non_finished_component_needs_adm_delete() -> None:  # R-SYNC-24
    assert plan_change_refusal({Perm.ADM_DELETE}, DELETE, finished=False) is None
    assert plan_change_refusal({Perm.ADM_EDIT}, DELETE, finished=False) is Refusal.DELETE


def test_deleting_a_finished_component_needs_adm_delete_and_edit_delete_finished() -> None:  # R-SYNC-24
    assert plan_change_refusal({Perm.ADM_DELETE, Perm.EDIT_DELETE_FINISHED}, DELETE, finished=True) is None
    assert plan_change_refusal({Perm.ADM_DELETE}, DELETE, finished=True) is Refusal.DELETE_FINISHED
    assert (
        plan_change_refusal({Perm.ADM_EDIT, Perm.EDIT_DELETE_FINISHED}, DELETE, finished=True)
        is Refusal.DELETE_FINISHED
    )


def test_no_permission_refuses_everything() -> None:
    assert plan_change_refusal(set(), ADD, finished=False) is Refusal.ADD
    assert plan_change_refusal(set(), EDIT, finished=False, fields=ANY_FIELD) is Refusal.EDIT
    assert plan_change_refusal(set(), EDIT, finished=True, fields=ANY_FIELD) is Refusal.EDIT_FINISHED
    assert plan_change_refusal(set(), DELETE, finished=True) is Refusal.DELETE_FINISHED


def test_sync_is_offered_only_with_a_permission_that_allows_some_sync() -> None:  # R-SYNC-1
    assert not may_sync_anything(set())
    assert not may_sync_anything({Perm.EDIT_DELETE_FINISHED})
    for perm in set(PLAN_PERMISSIONS) - {Perm.EDIT_DELETE_FINISHED}:
        assert may_sync_anything({perm})
    assert not may_sync_anything({Perm.PLR_IMPORT, Perm.PLR_VIEW})
