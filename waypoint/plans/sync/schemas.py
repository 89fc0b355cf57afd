"""API shapes of the sync wizard: the selection steps (R-SYNC-1…5) and sync runs (R-SYNC-13…15, 27, R-PLUS-1…4)."""

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, field_validator, model_validator

from waypoint.api.schemas import Id, PageQuery, Text30, Text100, Text200
from waypoint.core.errors import ValidationFailed
from waypoint.people.schemas import Ref
from waypoint.plans.models import ComponentStatus, SyncRunStatus
from waypoint.plans.sync.decide import SELECTABLE_ATTRIBUTES
from waypoint.plans.sync.reports import (
    OutcomeItem,
    outcome_diff,
    outcome_reason,
    outcome_warnings,
    programme_status_label,
)
from waypoint.plans.sync.selection import (
    SYNC_EXCLUDED_STATUSES,
    ComponentChoice,
    decode_key,
    encode_key,
    programme_label,
)
from waypoint.plans.sync.types import ComponentKey, SyncType
from waypoint.programmes.models import ComponentType, ProgrammeStatus
from waypoint.programmes.schemas import ProgrammeSummary

MAX_FILTER_VALUES = 1000

ProgrammeParam = Annotated[
    Id | None,
    Field(description="The programme or sub-programme to synchronise; needed when the learner is on several."),
]


def _person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


# Programme (R-SYNC-2)


class SyncProgrammeOut(Schema):
    enrolment_id: int
    programme: ProgrammeSummary
    parent: ProgrammeSummary | None = Field(description="The parent programme of a sub-programme.")
    label: str
    status: str = Field(description="The source learner's programme status.")

    @staticmethod
    def resolve_enrolment_id(obj: Any) -> int:
        return int(obj.pk)

    @staticmethod
    def resolve_parent(obj: Any) -> Any:
        return obj.programme.parent

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return programme_label(obj)


class SyncProgrammesOut(Schema):
    items: list[SyncProgrammeOut]
    preselected: int | None = Field(description="The programme id chosen for you: set when there is only one.")


# Components (R-SYNC-3, R-SYNC-4)


class SyncComponentQuery(PageQuery):
    programme: ProgrammeParam = None
    type: ComponentType | None = None
    search: Text100 = Field("", description="Words that must all occur in the component's name.")


class SyncComponentOut(Schema):
    key: str = Field(description='Stable id for the selection: "t12" (template 12) or "c345" (hand-made 345).')
    component_id: int | None = Field(description="Null for a component deleted in your recent changes.")
    name: str
    type: str
    status: str
    updated_at: dt.datetime | None
    recent: Literal["created", "updated", "deleted"] | None = Field(description="What you did to it recently.")
    preselected: bool

    @staticmethod
    def resolve_key(obj: ComponentChoice) -> str:
        return obj.code


class SyncComponentPage(Schema):
    items: list[SyncComponentOut]
    count: int
    page: int
    page_size: int
    only_changes_available: bool = Field(description="You made recent changes, so ONLY changes may be chosen.")
    preselected: list[str] = Field(
        description="Every preselected key of the plan, on every page, whatever the filters."
    )


# Learners (R-SYNC-5)


class LearnerFilterIn(Schema):
    """Which learners to synchronise: every eligible learner matching all of these ("select all matching")."""

    status: list[ProgrammeStatus] = Field(
        default_factory=list, max_length=len(ProgrammeStatus), description="Programme statuses (any of)."
    )
    group: list[Id] = Field(default_factory=list, max_length=MAX_FILTER_VALUES, description="Group ids (any of).")
    tutor: list[Id] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Case owners' user ids (any of)."
    )
    search: Text200 = Field("", description="Words that must each start a ULN or occur in a name.")

    @field_validator("status")
    @classmethod
    def _eligible_statuses(cls, value: list[ProgrammeStatus]) -> list[ProgrammeStatus]:
        excluded = [ProgrammeStatus(s).label for s in value if s in SYNC_EXCLUDED_STATUSES]
        if excluded:
            raise ValueError(f"Learners in these statuses are never synchronised: {', '.join(excluded)}.")
        return value


class SyncLearnerQuery(LearnerFilterIn, PageQuery):
    programme: ProgrammeParam = None


class SyncLearnerOut(Schema):
    id: int
    first_name: str
    surname: str
    full_name: str
    uln: str
    programme_status: str = Field(description="The learner's status on the programme.")
    tutor: Ref | None = Field(description="The case owner.")
    groups: list[Ref]

    @staticmethod
    def resolve_tutor(obj: Any) -> dict[str, Any] | None:
        return _person(obj.tutor) if obj.tutor_id else None

    @staticmethod
    def resolve_groups(obj: Any) -> list[dict[str, Any]]:
        return [{"id": g.pk, "name": g.name} for g in obj.groups.all()]


class SyncLearnerPage(Schema):
    items: list[SyncLearnerOut]
    count: int = Field(description="Every learner matching the filters, on every page.")
    page: int
    page_size: int


class SyncOptionQuery(Schema):
    programme: ProgrammeParam = None
    search: Text100 = ""


def tutor_refs(users: Any) -> list[dict[str, Any]]:
    return [_person(u) for u in users]


# Sync runs (R-SYNC-13…15, 27, R-PLUS-1…3)

MAX_LEARNER_IDS = 100_000
MAX_COMPONENT_KEYS = 10_000


class LearnerSelectionIn(Schema):
    """Exactly one of: every eligible learner matching filters, or chosen learners by id."""

    all_matching: LearnerFilterIn | None = Field(
        None, description='"Select all matching": the Select Learners filters; `{}` is every eligible learner.'
    )
    ids: list[Id] | None = Field(
        None,
        max_length=MAX_LEARNER_IDS,
        description="Chosen learners; each must be eligible (R-SYNC-5). For more, use `all_matching`.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "LearnerSelectionIn":
        if (self.all_matching is None) == (self.ids is None):
            raise ValueError('Send exactly one of "all_matching" (filters) or "ids" (learner ids).')
        if self.ids is not None and not self.ids:
            raise ValueError("Select at least one learner.")
        return self


class SyncRunIn(Schema):
    learner: Id = Field(description="The source learner, whose plan is synchronised to the others.")
    programme: ProgrammeParam = None
    components: list[Text30] = Field(
        min_length=1,
        max_length=MAX_COMPONENT_KEYS,
        description='Keys from GET /learners/{id}/sync/components: "t12" (template 12), "c345" (hand-made 345).',
    )
    learners: LearnerSelectionIn
    statuses: list[ComponentStatus] = Field(
        min_length=1,
        max_length=len(ComponentStatus),
        description="The target component statuses the sync applies to (R-SYNC-6).",
    )
    sync_type: SyncType = Field(SyncType.ONLY_CHANGES, description="R-SYNC-7…10.")
    attributes: list[Text30] = Field(
        default_factory=list,
        max_length=len(SELECTABLE_ATTRIBUTES),
        description=f"SELECTED only: template attributes to write, of {', '.join(SELECTABLE_ATTRIBUTES)}.",
    )


def decode_keys(codes: Sequence[str]) -> list[ComponentKey]:
    """The body's component keys; every malformed one is named in one 422."""
    keys, bad = [], []
    for code in codes:
        try:
            keys.append(decode_key(code))
        except ValidationFailed:
            bad.append(code)
    if bad:
        raise ValidationFailed(
            "Component keys are t<template id> or c<component id>, e.g. t12, as GET /learners/{id}/sync/components "
            "lists them.",
            fields={"components": [f"Not a component key: {', '.join(repr(b) for b in bad[:10])}."]},
        )
    return keys


class ChoiceOut(Schema):
    code: str
    label: str


class MessageOut(Schema):
    code: str
    message: str


class CountedOut(Schema):
    code: str
    message: str
    count: int = Field(description="Learners it concerns.")


class ProgrammeRefOut(Schema):
    id: int
    name: str
    parent: str | None = Field(description="The parent programme's name, for a sub-programme.")
    label: str


class ProgressOut(Schema):
    done: int
    total: int = Field(description="Learner/component changes to write.")


class GridRowOut(Schema):
    id: int = Field(description="The grid row: filter the learner lists with ?component=<id>.")
    key: str
    name: str
    type: ChoiceOut
    action: ChoiceOut = Field(description="What most learners get: Synchronise, Create or Delete.")
    last_updated: dt.datetime | None
    synchronised: int = Field(description="Target learners it will be (or was) synchronised for.")
    not_synchronised: int
    reasons: list[CountedOut] = Field(description="Why not, with how many learners each.")
    warnings: list[CountedOut] = Field(description="E.g. reviews and their tasks re-created.")


class SyncRunItemOut(Schema):
    id: int
    status: ChoiceOut
    by: Ref
    created_at: dt.datetime
    summarised_at: dt.datetime
    source_learner: Ref
    programme: ProgrammeRefOut
    component_count: int
    learner_count: int
    synchronised: int = Field(description="Learner/component pairs to synchronise.")
    not_synchronised: int
    statuses: list[ChoiceOut]
    sync_type: ChoiceOut
    attributes: list[str]
    warnings: list[MessageOut] = Field(description="Run-wide warnings (R-SYNC-13 a, b, c).")
    progress: ProgressOut
    applied_at: dt.datetime | None
    undone_at: dt.datetime | None
    undo_restored: int = Field(description="After an undo: changes put back.")
    undo_conflicts: int = Field(description="After an undo: changes left alone, because changed since.")
    error: str


class SyncRunOut(SyncRunItemOut):
    rows: list[GridRowOut] = Field(description="The summary grid, in plan order (R-SYNC-14).")


class SyncRunPage(Schema):
    items: list[SyncRunItemOut]
    count: int
    page: int
    page_size: int


class SyncRunQuery(PageQuery):
    status: SyncRunStatus | None = None
    learner: Id | None = Field(None, description="Runs from this source learner.")
    since: dt.datetime | None = Field(None, description="Runs created at or after this time.")
    search: Text100 = Field("", description="Words that must each occur in the admin's or source learner's name.")


class OutcomeFilter(Schema):
    component: Id | None = Field(None, description="A grid row id.")
    synchronised: bool | None = Field(None, description="true: the synchronised list; false: the other.")
    learner: Id | None = None


class OutcomeQuery(OutcomeFilter, PageQuery):
    pass


class OutcomeLearnerOut(Schema):
    id: int
    first_name: str
    surname: str
    full_name: str
    uln: str
    programme_status: ChoiceOut = Field(description="The learner's status on the run's programme.")


class OutcomeComponentOut(Schema):
    row: int = Field(description="The grid row id.")
    key: str
    name: str
    type: str
    component_id: int | None = Field(description="The learner's component; for a Create, once applied.")


class FieldChangeOut(Schema):
    field: str
    old: Any = Field(description="The learner's value before the sync (null for a Create).")
    new: Any = Field(description="The value the sync writes (null for a Delete).")


class SyncOutcomeOut(Schema):
    learner: OutcomeLearnerOut
    is_source: bool = Field(description="The source learner, updated by a SELECTED sync (R-SYNC-10).")
    component: OutcomeComponentOut
    action: str
    synchronised: bool
    reason: MessageOut | None = Field(description="Why not synchronised (R-SYNC-14, R-SYNC-25).")
    warnings: list[MessageOut]
    review: str = Field(description="What happens to the review: none, create, recreate, keep_completed, delete.")
    diff: list[FieldChangeOut] = Field(description="Exactly what is written, field by field (R-PLUS-1).")
    undo: str = Field(description='After an undo: "restored" or "conflict".')

    @staticmethod
    def resolve_learner(obj: OutcomeItem) -> dict[str, Any]:
        learner = obj.learner
        status = obj.programme_status
        return {
            "id": learner.pk,
            "first_name": learner.first_name,
            "surname": learner.surname,
            "full_name": learner.full_name,
            "uln": learner.uln,
            "programme_status": {"code": status, "label": programme_status_label(status)},
        }

    @staticmethod
    def resolve_component(obj: OutcomeItem) -> dict[str, Any]:
        row = obj.row
        return {
            "row": row.pk,
            "key": encode_key((row.key_kind, row.key_id)),
            "name": row.name,
            "type": row.type,
            "component_id": obj.component_id,
        }

    @staticmethod
    def resolve_action(obj: OutcomeItem) -> str:
        return obj.decision.action

    @staticmethod
    def resolve_synchronised(obj: OutcomeItem) -> bool:
        return not obj.decision.reason

    @staticmethod
    def resolve_reason(obj: OutcomeItem) -> Any:
        return outcome_reason(obj)

    @staticmethod
    def resolve_warnings(obj: OutcomeItem) -> Any:
        return outcome_warnings(obj)

    @staticmethod
    def resolve_review(obj: OutcomeItem) -> str:
        return obj.decision.review

    @staticmethod
    def resolve_diff(obj: OutcomeItem) -> Any:
        return outcome_diff(obj)


class SyncOutcomePage(Schema):
    items: list[SyncOutcomeOut]
    count: int
    page: int
    page_size: int
