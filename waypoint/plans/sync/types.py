"""The plain values `decide` works on: what `gather` loads and what `apply` writes. No database here."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from waypoint.people.models import Perm

# A component's identity across learners: its template, or for a component added by hand on the source,
# the source component it was (or will be) copied from.
ComponentKey = tuple[str, int]


def template_key(template_id: int) -> ComponentKey:
    return ("template", template_id)


def hand_made_key(source_component_id: int) -> ComponentKey:
    return ("component", source_component_id)


class SyncType(StrEnum):
    """R-SYNC-7: exactly one of the three."""

    ONLY_CHANGES = "only_changes"
    ALL = "all"
    SELECTED = "selected"


class SyncAction(StrEnum):
    """R-SYNC-11."""

    SYNCHRONISE = "synchronise"
    CREATE = "create"
    DELETE = "delete"


class ReviewEffect(StrEnum):
    """What a sync does to the review entity behind a Review component (R-SYNC-18, R-SYNC-19)."""

    NONE = "none"
    CREATE = "create"  # a new review, Not Scheduled; tasks where the source review is scheduled
    RECREATE = "recreate"  # the review and its tasks are made again from the source
    KEEP_COMPLETED = "keep_completed"  # a completed review keeps its date; only the component changes
    DELETE = "delete"


class NotSynced(Enum):
    """Why a learner/component pair is not synchronised (R-SYNC-14, R-SYNC-25); the value is the message."""

    STATUS_NOT_SELECTED = "The learner's component is in a status that was not selected."
    ALREADY_ABSENT = "The component is not on this learner's plan, so there is nothing to delete."
    NO_RECENT_CHANGES = "This component has no recent changes to apply."
    NO_TEMPLATE = "This component was not made from the programme template, so it has no template values."
    REVIEW_TYPE_LOCKED = "The review type cannot change: the learner's review is already in progress or completed."
    NO_ADD_PERMISSION = "Adding a component needs Advanced Delivery Management (Add), Supervisor or Compliance QA."
    NO_EDIT_PERMISSION = (
        "Editing a non-finished component needs Advanced Delivery Management (Edit), Supervisor or Compliance QA."
    )
    NO_EDIT_FINISHED_PERMISSION = (
        "Editing a finished component needs Advanced Delivery Management (Edit) with Edit/Delete Finished "
        "Components, Supervisor or Compliance QA."
    )
    NO_DELETE_PERMISSION = (
        "Deleting a non-finished component needs Advanced Delivery Management (Delete), Supervisor or Compliance QA."
    )
    NO_DELETE_FINISHED_PERMISSION = (
        "Deleting a finished component needs Advanced Delivery Management (Delete) with Edit/Delete Finished "
        "Components, Supervisor or Compliance QA."
    )

    @property
    def message(self) -> str:
        return str(self.value)


class SyncWarning(Enum):
    """Shown with a pair that will be synchronised (R-SYNC-13b, R-SYNC-14)."""

    MARKING_AID_EVIDENCE = (
        "Marking Aid evidence has been submitted for this component; changing or removing its exercise "
        "removes access to that submission."
    )
    REVIEW_TASKS_RECREATED = "The learner's review and its calendar tasks will be re-created."

    @property
    def message(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class ReviewState:
    status: str
    scheduled_at: dt.datetime | None


@dataclass(frozen=True)
class SourceComponent:
    """One selected component of the source learner's plan, with what the admin did to it recently."""

    key: ComponentKey
    name: str
    type: str
    status: str
    values: Mapping[str, Any]  # every attribute of EDITABLE_FIELDS as JSON values (the deleted state if deleted)
    component_id: int | None = None  # None once deleted
    template_values: Mapping[str, Any] | None = None  # the template's attributes; None for a hand-made one
    changed_fields: frozenset[str] = frozenset()  # attributes changed in the admin's recent changes
    created: bool = False  # created in the recent changes
    deleted: bool = False  # deleted in the recent changes
    review: ReviewState | None = None
    owned_by_case_owner: bool = False  # the owner is the source learner's case owner (R-SYNC-16)
    revision: int | None = None
    position: int = 0
    updated_at: dt.datetime | None = None  # for a deleted one, when it was deleted


@dataclass(frozen=True)
class TargetComponent:
    component_id: int
    status: str
    values: Mapping[str, Any]
    review: ReviewState | None = None
    marking_aid_submitted: bool = False
    revision: int = 1


@dataclass(frozen=True)
class TargetPlan:
    """One target learner and their components for the programme, by component key."""

    learner_id: int
    components: Mapping[ComponentKey, TargetComponent]


@dataclass(frozen=True)
class SyncChoice:
    """What the admin chose in the wizard, and who they are."""

    sync_type: SyncType
    statuses: frozenset[str]  # R-SYNC-6: target component statuses the sync applies to
    perms: frozenset[Perm]
    attributes: frozenset[str] = frozenset()  # SELECTED type only (R-SYNC-10)
    marking_aid_enabled: bool = True


@dataclass(frozen=True)
class Decision:
    """The outcome for one learner and one component: exactly what `apply` will write, or why not."""

    learner_id: int
    key: ComponentKey
    action: SyncAction
    reason: NotSynced | None = None
    target: TargetComponent | None = None
    # field -> (old, new); for a creation every attribute with old None; for a deletion new is None.
    diff: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    review: ReviewEffect = ReviewEffect.NONE
    warnings: tuple[SyncWarning, ...] = ()

    @property
    def synchronised(self) -> bool:
        return self.reason is None

    @property
    def changes_anything(self) -> bool:
        return self.synchronised and (bool(self.diff) or self.action is not SyncAction.SYNCHRONISE)
