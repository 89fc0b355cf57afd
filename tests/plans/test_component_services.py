"""A single edit of a learner's plan obeys the permission matrix of a sync (R-SYNC-20…24)
and is journalled with who, when, field, old and new value and the record visit (R-CORE-9)."""

import datetime as dt
import re

import pytest

from tests import factories as make
from waypoint.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from waypoint.people.models import Perm
from waypoint.plans.models import ChangeAction, Component, ComponentChange, RecordVisit, Review
from waypoint.plans.permissions import Refusal
from waypoint.plans.services import component_add, component_delete, component_readd, component_update

pytestmark = pytest.mark.django_db

NEW_DUE = dt.date(2027, 1, 15)
EDIT_FINISHED = {Perm.ADM_EDIT, Perm.EDIT_DELETE_FINISHED}
DELETE_FINISHED = {Perm.ADM_DELETE, Perm.EDIT_DELETE_FINISHED}


def _due_date_edit(perms: set[Perm], status: str) -> Component:
    component = make.component(status=status)
    return component_update(component=component, by=make.staff(perms), changes={"due_date": NEW_DUE}, visit_id=None)


# R-SYNC-20
@pytest.mark.parametrize("perm", [Perm.SUPERVISOR, Perm.COMPLIANCE_QA])
@pytest.mark.parametrize("status", ["not_started", "completed"])
def test_supervisor_and_compliance_qa_edit_any_component(perm: Perm, status: str) -> None:
    assert _due_date_edit({perm}, status).due_date == NEW_DUE


@pytest.mark.parametrize("perm", [Perm.SUPERVISOR, Perm.COMPLIANCE_QA])
def test_supervisor_and_compliance_qa_delete_a_finished_component(perm: Perm) -> None:
    component = make.component(status="completed")
    component_delete(component=component, by=make.staff({perm}), visit_id=None)
    assert not Component.objects.filter(pk=component.pk).exists()


# R-SYNC-21
@pytest.mark.parametrize("status", ["not_started", "in_progress", "awaiting_marking", "referred", "completed"])
def test_internal_verifier_sets_and_clears_planned_for_qa_in_any_status(status: str) -> None:
    component = make.component(status=status)
    verifier = make.staff({Perm.INTERNAL_VERIFIER})
    component_update(component=component, by=verifier, changes={"planned_for_qa": True}, visit_id=None)
    component.refresh_from_db()
    assert component.planned_for_qa
    component_update(component=component, by=verifier, changes={"planned_for_qa": False}, visit_id=None)
    component.refresh_from_db()
    assert not component.planned_for_qa


def test_internal_verifier_may_not_change_a_due_date() -> None:
    with pytest.raises(PermissionRefused, match=re.escape(Refusal.EDIT.message)):
        _due_date_edit({Perm.INTERNAL_VERIFIER}, "not_started")


# R-SYNC-22
def test_readding_a_removed_template_component_needs_adm_add_supervisor_or_compliance_qa() -> None:
    component = make.component()
    enrolment, template_id = component.enrolment, component.template_id
    assert template_id is not None
    component_delete(component=component, by=make.staff({Perm.SUPERVISOR}), visit_id=None)

    with pytest.raises(PermissionRefused, match=r"Advanced Delivery Management \(Add\)"):
        component_readd(enrolment=enrolment, template_id=template_id, by=make.staff({Perm.ADM_EDIT}), visit_id=None)
    readded = component_readd(
        enrolment=enrolment, template_id=template_id, by=make.staff({Perm.ADM_ADD}), visit_id=None
    )

    assert readded.template_id == template_id
    assert readded.status == "not_started"
    assert readded.due_date == enrolment.start_date + dt.timedelta(days=readded.template.due_offset_days)


def test_readding_a_template_component_still_on_the_plan_is_refused() -> None:
    component = make.component()
    assert component.template_id is not None
    with pytest.raises(Conflict, match="already on this learning plan"):
        component_readd(
            enrolment=component.enrolment,
            template_id=component.template_id,
            by=make.staff({Perm.SUPERVISOR}),
            visit_id=None,
        )


def test_readding_a_template_of_another_programme_is_refused() -> None:
    component = make.component()
    other = make.programme(templates=1).templates.get()
    with pytest.raises(NotFound):
        component_readd(
            enrolment=component.enrolment, template_id=other.pk, by=make.staff({Perm.ADM_ADD}), visit_id=None
        )


def test_adding_a_component_by_hand_needs_the_add_permission() -> None:
    enrolment = make.enrolment()
    values = {"name": "Extra maths support", "type": "learning_activity"}
    with pytest.raises(PermissionRefused):
        component_add(enrolment=enrolment, by=make.staff({Perm.ADM_EDIT}), values=values, visit_id=None)  # type: ignore[arg-type]
    added = component_add(enrolment=enrolment, by=make.staff({Perm.ADM_ADD}), values=values, visit_id=None)  # type: ignore[arg-type]
    assert added.template_id is None
    assert added.owner_id == enrolment.learner.tutor_id


# R-SYNC-23
def test_adm_edit_edits_a_non_finished_component() -> None:
    assert _due_date_edit({Perm.ADM_EDIT}, "in_progress").due_date == NEW_DUE


def test_adm_edit_alone_may_not_edit_a_finished_component() -> None:
    with pytest.raises(PermissionRefused, match=re.escape(Refusal.EDIT_FINISHED.message)):
        _due_date_edit({Perm.ADM_EDIT}, "completed")


def test_adm_edit_with_edit_delete_finished_edits_a_finished_component() -> None:
    assert _due_date_edit(EDIT_FINISHED, "completed").due_date == NEW_DUE


def test_edit_delete_finished_alone_edits_nothing() -> None:
    with pytest.raises(PermissionRefused):
        _due_date_edit({Perm.EDIT_DELETE_FINISHED}, "completed")


def test_finished_means_the_status_before_the_edit() -> None:
    """Completing a component is an edit of a non-finished one; reopening it is an edit of a finished one."""
    component = make.component(status="in_progress")
    editor = make.staff({Perm.ADM_EDIT})
    component_update(component=component, by=editor, changes={"status": "completed"}, visit_id=None)
    with pytest.raises(PermissionRefused, match=re.escape(Refusal.EDIT_FINISHED.message)):
        component_update(component=component, by=editor, changes={"status": "in_progress"}, visit_id=None)


# R-SYNC-24
def test_adm_delete_deletes_a_non_finished_component() -> None:
    component = make.component(status="referred")
    component_delete(component=component, by=make.staff({Perm.ADM_DELETE}), visit_id=None)
    assert not Component.objects.filter(pk=component.pk).exists()


def test_adm_delete_alone_may_not_delete_a_finished_component() -> None:
    component = make.component(status="completed")
    with pytest.raises(PermissionRefused, match=re.escape(Refusal.DELETE_FINISHED.message)):
        component_delete(component=component, by=make.staff({Perm.ADM_DELETE}), visit_id=None)
    assert Component.objects.filter(pk=component.pk).exists()


def test_adm_delete_with_edit_delete_finished_deletes_a_finished_component() -> None:
    component = make.component(status="completed")
    component_delete(component=component, by=make.staff(DELETE_FINISHED), visit_id=None)
    assert not Component.objects.filter(pk=component.pk).exists()


def test_adm_edit_may_not_delete() -> None:
    component = make.component()
    with pytest.raises(PermissionRefused, match=re.escape(Refusal.DELETE.message)):
        component_delete(component=component, by=make.staff({Perm.ADM_EDIT}), visit_id=None)


# R-CORE-9 journal
def test_an_edit_journals_each_changed_field_with_who_old_new_and_the_visit() -> None:
    component = make.component()
    admin = make.staff({Perm.SUPERVISOR})
    visit = RecordVisit.objects.create(admin=admin, learner=component.learner)
    old_due = component.due_date

    component_update(
        component=component,
        by=admin,
        changes={"due_date": NEW_DUE, "name": component.name, "instructions": "Bring your portfolio."},
        visit_id=visit.pk,
    )

    rows = {c.field: c for c in ComponentChange.objects.filter(component=component)}
    assert set(rows) == {"due_date", "instructions"}  # the unchanged name is not journalled
    due = rows["due_date"]
    assert (due.old_value, due.new_value) == (old_due.isoformat() if old_due else None, "2027-01-15")
    assert (due.by, due.visit_id, due.learner_id, due.action) == (admin, visit.pk, component.learner_id, "updated")


def test_an_edit_that_changes_nothing_writes_nothing() -> None:
    component = make.component()
    component_update(
        component=component, by=make.staff({Perm.SUPERVISOR}), changes={"name": component.name}, visit_id=None
    )
    component.refresh_from_db()
    assert component.revision == 1
    assert not ComponentChange.objects.exists()


def test_a_deletion_is_journalled_with_the_component_as_it_was() -> None:
    component = make.component()
    admin = make.staff({Perm.SUPERVISOR})
    component_delete(component=component, by=admin, visit_id=None)
    change = ComponentChange.objects.get(component_id=component.pk)
    assert change.action == ChangeAction.DELETED
    assert change.old_value["name"] == component.name
    assert change.template_id == component.template_id


def test_a_refused_edit_changes_nothing_and_journals_nothing() -> None:
    component = make.component(status="completed")
    with pytest.raises(PermissionRefused):
        component_update(
            component=component, by=make.staff({Perm.ADM_EDIT}), changes={"due_date": NEW_DUE}, visit_id=None
        )
    component.refresh_from_db()
    assert component.due_date != NEW_DUE
    assert not ComponentChange.objects.exists()


def test_invalid_values_are_refused_with_a_message_per_field_and_change_nothing() -> None:
    component = make.component()
    with pytest.raises(ValidationFailed) as refused:
        component_update(
            component=component,
            by=make.staff({Perm.SUPERVISOR}),
            changes={"status": "lost", "review_type": "progress", "instructions": "ok"},
            visit_id=None,
        )
    assert set(refused.value.fields) == {"status", "review_type"}
    component.refresh_from_db()
    assert component.instructions == ""
    assert not ComponentChange.objects.exists()


def test_unknown_attributes_are_refused() -> None:
    component = make.component()
    with pytest.raises(ValidationFailed, match="cannot be set on a component: learner"):
        component_update(
            component=component,
            by=make.staff({Perm.SUPERVISOR}),
            changes={"learner": 1},  # type: ignore[typeddict-unknown-key]
            visit_id=None,
        )


def test_an_owner_must_be_an_active_staff_user() -> None:
    component = make.component()
    with pytest.raises(ValidationFailed, match="owner"):
        component_update(
            component=component, by=make.staff({Perm.SUPERVISOR}), changes={"owner": 999_999}, visit_id=None
        )


def test_a_stale_edit_is_refused_with_a_conflict() -> None:
    component = make.component()
    admin = make.staff({Perm.SUPERVISOR})
    component_update(component=component, by=admin, changes={"instructions": "v2"}, visit_id=None, expected_revision=1)
    with pytest.raises(Conflict, match="changed by someone else"):
        component_update(
            component=component, by=admin, changes={"instructions": "v3"}, visit_id=None, expected_revision=1
        )


def test_changing_a_component_into_a_review_gives_it_a_review_entity_and_back_removes_it() -> None:  # R-CORE-6
    component = make.component()
    admin = make.staff({Perm.SUPERVISOR})
    component_update(
        component=component, by=admin, changes={"type": "review", "review_type": "tripartite"}, visit_id=None
    )
    assert Review.objects.get(component=component).review_type == "tripartite"
    component_update(component=component, by=admin, changes={"type": "exam", "review_type": ""}, visit_id=None)
    assert not Review.objects.filter(component=component).exists()
