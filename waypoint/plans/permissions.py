"""Who may change which component: the matrix of R-SYNC-20…24, as pure functions.

A single edit and a synchronisation obey the same matrix, so both call `plan_change_refusal`.
"""

from collections.abc import Collection
from enum import Enum, StrEnum

from waypoint.people.models import Perm

QA_FLAG = "planned_for_qa"


class PlanAction(StrEnum):
    ADD = "add"
    EDIT = "edit"
    DELETE = "delete"


class Refusal(Enum):
    """Why an admin may not make a change; the value is the message shown to them."""

    ADD = "Adding a component needs Advanced Delivery Management (Add), Supervisor or Compliance QA."
    EDIT = "Editing a non-finished component needs Advanced Delivery Management (Edit), Supervisor or Compliance QA."
    EDIT_FINISHED = (
        "Editing a finished component needs Advanced Delivery Management (Edit) with Edit/Delete Finished "
        "Components, Supervisor or Compliance QA."
    )
    DELETE = (
        "Deleting a non-finished component needs Advanced Delivery Management (Delete), Supervisor or Compliance QA."
    )
    DELETE_FINISHED = (
        "Deleting a finished component needs Advanced Delivery Management (Delete) with Edit/Delete Finished "
        "Components, Supervisor or Compliance QA."
    )

    ENROL = "Enrolling a learner needs Advanced Delivery Management (Add), Supervisor or Compliance QA."
    ENROLMENT_EDIT = "Changing an enrolment needs Advanced Delivery Management (Edit), Supervisor or Compliance QA."

    @property
    def message(self) -> str:
        return str(self.value)


_ALL_POWERFUL = frozenset({Perm.SUPERVISOR, Perm.COMPLIANCE_QA})
SYNC_PERMISSIONS = frozenset(
    {Perm.SUPERVISOR, Perm.COMPLIANCE_QA, Perm.INTERNAL_VERIFIER, Perm.ADM_ADD, Perm.ADM_EDIT, Perm.ADM_DELETE}
)


def plan_change_refusal(
    perms: Collection[Perm], action: PlanAction, *, finished: bool, fields: Collection[str] = ()
) -> Refusal | None:
    """None when an admin holding `perms` may make the change; otherwise why not.

    `finished` is the component's state before the change; `fields` are the attributes an edit changes.
    """
    if _ALL_POWERFUL & set(perms):  # R-SYNC-20
        return None
    if action is PlanAction.ADD:  # R-SYNC-22
        return None if Perm.ADM_ADD in perms else Refusal.ADD
    if action is PlanAction.EDIT:
        if fields and set(fields) <= {QA_FLAG} and Perm.INTERNAL_VERIFIER in perms:  # R-SYNC-21
            return None
        return _needs(perms, Perm.ADM_EDIT, finished, Refusal.EDIT, Refusal.EDIT_FINISHED)  # R-SYNC-23
    return _needs(perms, Perm.ADM_DELETE, finished, Refusal.DELETE, Refusal.DELETE_FINISHED)  # R-SYNC-24


def _needs(
    perms: Collection[Perm], adm: Perm, finished: bool, refusal: Refusal, refusal_finished: Refusal
) -> Refusal | None:
    if adm not in perms:
        return refusal_finished if finished else refusal
    if finished and Perm.EDIT_DELETE_FINISHED not in perms:
        return refusal_finished
    return None


def enrolment_change_refusal(perms: Collection[Perm], action: PlanAction) -> Refusal | None:
    """Enrolling builds a plan, so it needs the add permission; changing dates or status needs edit."""
    if _ALL_POWERFUL & set(perms):
        return None
    if action is PlanAction.ADD:
        return None if Perm.ADM_ADD in perms else Refusal.ENROL
    return None if Perm.ADM_EDIT in perms else Refusal.ENROLMENT_EDIT


def may_sync_anything(perms: Collection[Perm]) -> bool:
    """R-SYNC-1: the Sync action is offered only to admins holding a permission that allows some sync."""
    return bool(SYNC_PERMISSIONS & set(perms))
