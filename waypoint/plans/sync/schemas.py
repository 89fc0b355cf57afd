"""API shapes of the sync wizard's selection steps (R-SYNC-1…5)."""

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, field_validator

from waypoint.api.schemas import Id, PageQuery, Text100, Text200
from waypoint.people.schemas import Ref
from waypoint.plans.sync.selection import SYNC_EXCLUDED_STATUSES, ComponentChoice, programme_label
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
