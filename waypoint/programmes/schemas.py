"""API shapes of programmes, sub-programmes and their templates."""

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, model_validator

from waypoint.api.schemas import (
    Id,
    PageQuery,
    Required30,
    Required200,
    Text10,
    Text100,
    Text200,
    plain,
    reject_nulls,
)
from waypoint.programmes.models import CompletionMode, ComponentTemplate, ComponentType, ReviewType

Codes = Annotated[list[Text10], Field(max_length=500)]
DocumentNames = Annotated[list[Text200], Field(max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]


class AttributesOut(Schema):
    """The attributes a template component and a learner's component share (R-CORE-4)."""

    name: str
    type: str
    completion_mode: str
    criteria_mappings: list[str]
    instructions: str
    evidence_required: bool
    min_evidence: int
    documents: list[str]
    delivery_via_organisation: bool
    delivery_via_employer: bool
    planned_for_qa: bool
    marking_aid_exercise: str
    review_type: str


class TemplateOut(AttributesOut):
    id: int
    programme_id: int
    position: int
    due_offset_days: int


class _TemplateFields(Schema):
    completion_mode: CompletionMode = CompletionMode.TUTOR
    criteria_mappings: Codes = Field(default_factory=list)
    instructions: LongText = ""
    evidence_required: bool = False
    min_evidence: Annotated[int, Field(ge=0, le=1000)] = 0
    documents: DocumentNames = Field(default_factory=list)
    delivery_via_organisation: bool = False
    delivery_via_employer: bool = False
    planned_for_qa: bool = False
    marking_aid_exercise: Text100 = ""
    review_type: ReviewType | None = Field(None, description="Review components only.")
    position: Annotated[int, Field(ge=1, le=100_000)] | None = Field(None, description="Default: last.")
    due_offset_days: Annotated[int, Field(ge=0, le=10_000)] = 0


class TemplateIn(_TemplateFields):
    name: Required200
    type: ComponentType


class TemplatePatch(_TemplateFields):
    name: Required200 | None = None
    type: ComponentType | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"review_type"})


def template_values(payload: Schema, *, partial: bool) -> Any:
    values = plain(payload.model_dump(exclude_unset=partial))
    if "review_type" in values:
        values["review_type"] = values["review_type"] or ""
    if values.get("position", 0) is None:
        del values["position"]
    return values


class ProgrammeSummary(Schema):
    id: int
    name: str
    code: str


class SubProgrammeOut(ProgrammeSummary):
    standard_code: str
    epao_id: str
    criteria: list[str]
    templates: list[TemplateOut]

    @staticmethod
    def resolve_templates(obj: Any) -> list[ComponentTemplate]:
        return list(obj.templates.all())


class ProgrammeOut(SubProgrammeOut):
    parent: ProgrammeSummary | None
    sub_programmes: list[SubProgrammeOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_sub_programmes(obj: Any) -> list[Any]:
        return list(obj.sub_programmes.all())


class ProgrammePage(Schema):
    items: list[ProgrammeOut]
    count: int
    page: int
    page_size: int


class ProgrammeFilter(PageQuery):
    search: Text200 = ""
    top_level_only: bool = False


class _ProgrammeFields(Schema):
    parent_id: Id | None = Field(None, description="Makes this a sub-programme of that programme.")
    standard_code: Text10 = ""
    epao_id: Annotated[str, Field(max_length=8, description="EPA0001, or an 8-digit UKPRN.")] = ""
    criteria: Codes = Field(default_factory=list)


class ProgrammeIn(_ProgrammeFields):
    name: Required200
    code: Required30


class ProgrammePatch(_ProgrammeFields):
    name: Required200 | None = None
    code: Required30 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"parent_id"})


def programme_values(payload: Schema, *, partial: bool) -> Any:
    values = payload.model_dump(exclude_unset=partial)
    if "parent_id" in values:
        values["parent"] = values.pop("parent_id")
    return values
