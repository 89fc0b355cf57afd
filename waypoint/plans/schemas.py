"""API shapes of enrolments, learners' plan components and the journal."""

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, model_validator

from waypoint.api.schemas import Id, PageQuery, Required200, Text100, plain, reject_nulls
from waypoint.plans.models import ComponentStatus
from waypoint.programmes.models import CompletionMode, ComponentType, ProgrammeStatus, ReviewType
from waypoint.programmes.schemas import AttributesOut, Codes, DocumentNames, LongText, ProgrammeSummary


class UserRef(Schema):
    id: int
    name: str


def user_ref(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


# Enrolments


class EnrolmentOut(Schema):
    id: int
    learner_id: int
    programme: ProgrammeSummary
    parent_programme_id: int | None = Field(description="Set when the programme is a sub-programme.")
    status: str
    start_date: dt.date
    planned_end_date: dt.date
    epa_period_start: dt.date | None
    epa_period_end: dt.date | None
    created_at: dt.datetime

    @staticmethod
    def resolve_parent_programme_id(obj: Any) -> int | None:
        return obj.programme.parent_id


class EnrolmentIn(Schema):
    programme_id: Id = Field(description="A programme enrols on each of its sub-programmes too.")
    start_date: dt.date
    planned_end_date: dt.date
    status: ProgrammeStatus = ProgrammeStatus.ACTIVE


class EnrolmentPatch(Schema):
    status: ProgrammeStatus | None = None
    start_date: dt.date | None = None
    planned_end_date: dt.date | None = None
    epa_period_start: dt.date | None = None
    epa_period_end: dt.date | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"epa_period_start", "epa_period_end"})


# Components


class ReviewOut(Schema):
    status: str
    review_type: str
    scheduled_at: dt.datetime | None


class ComponentOut(AttributesOut):
    id: int
    learner_id: int
    enrolment_id: int
    template_id: int | None = Field(description="Null for a component added to this learner by hand.")
    position: int
    status: str
    is_finished: bool
    due_date: dt.date | None
    owner: UserRef | None
    marking_aid_submitted: bool
    review: ReviewOut | None
    revision: int = Field(description="Send it back with a PATCH to be told (409) of a change made meanwhile.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, Any] | None:
        return user_ref(obj.owner) if obj.owner_id else None

    @staticmethod
    def resolve_review(obj: Any) -> Any:
        return getattr(obj, "review", None)


class ComponentPage(Schema):
    items: list[ComponentOut]
    count: int
    page: int
    page_size: int


class ComponentFilter(PageQuery):
    enrolment_id: Id | None = None
    programme_id: Id | None = Field(None, description="The programme or any of its sub-programmes.")
    type: ComponentType | None = None
    status: ComponentStatus | None = None


class _ComponentFields(Schema):
    status: ComponentStatus | None = None
    due_date: dt.date | None = None
    owner_id: Id | None = Field(None, description="A staff user's id; null leaves it unassigned.")
    completion_mode: CompletionMode | None = None
    criteria_mappings: Codes | None = None
    instructions: LongText | None = None
    evidence_required: bool | None = None
    min_evidence: Annotated[int, Field(ge=0, le=1000)] | None = None
    documents: DocumentNames | None = None
    delivery_via_organisation: bool | None = None
    delivery_via_employer: bool | None = None
    planned_for_qa: bool | None = None
    marking_aid_exercise: Text100 | None = None
    review_type: ReviewType | None = Field(None, description="Review components only.")

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"due_date", "owner_id", "review_type"})


class ComponentIn(_ComponentFields):
    name: Required200
    type: ComponentType


class ComponentPatch(_ComponentFields):
    name: Required200 | None = None
    type: ComponentType | None = None
    revision: Annotated[int, Field(ge=1, le=2**31)] | None = Field(
        None, description="The revision you read; a different current revision answers 409."
    )


def component_values(payload: Schema) -> Any:
    """The attributes sent, as `ComponentValues` (`owner_id` → `owner`, null review type → "")."""
    values = plain(payload.model_dump(exclude_unset=True, exclude={"revision"}))
    if "owner_id" in values:
        values["owner"] = values.pop("owner_id")
    if "review_type" in values:
        values["review_type"] = values["review_type"] or ""
    return values


class ReaddIn(Schema):
    template_id: Id


class ReviewScheduleIn(Schema):
    starts_at: dt.datetime = Field(description="With a time zone, e.g. 2026-10-01T10:00:00+01:00.")


class TemplateRef(Schema):
    id: int
    position: int
    name: str
    type: str


# Journal


class ChangeOut(Schema):
    id: int
    at: dt.datetime
    by: UserRef | None
    enrolment_id: int
    component_id: int | None
    template_id: int | None
    component_name: str
    action: str
    field: str
    old_value: Any
    new_value: Any
    visit_id: int | None

    @staticmethod
    def resolve_by(obj: Any) -> dict[str, Any] | None:
        return user_ref(obj.by) if obj.by_id else None


class ChangePage(Schema):
    items: list[ChangeOut]
    count: int
    page: int
    page_size: int
