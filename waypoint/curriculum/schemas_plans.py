"""API shapes of learning plans for professionals (curricula), milestones, programs, sessions, their enrolments and
completions, and catalogs."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, model_validator

from waypoint.api.schemas import Id, PageQuery, Required30, Required120, Required200, Text, Text200, reject_nulls
from waypoint.curriculum import rules
from waypoint.curriculum.models import EnrolmentStatus, Metric, ProgramKind, RegistrationType
from waypoint.curriculum.services import DuplicateMode

Units = Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=2)]
Ids = Annotated[list[Id], Field(min_length=1, max_length=1000)]
Description = Annotated[Text, Field(max_length=10_000)]


class Ref(Schema):
    id: int
    name: str


# Programs and sessions


class SessionOut(Schema):
    id: int
    program_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None
    location: str
    online_url: str


class _SessionFields(Schema):
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(None, description="Empty: no limit.")
    location: Text200 = ""
    online_url: Annotated[Text, Field(max_length=300)] = ""


class SessionIn(_SessionFields):
    starts_at: dt.datetime
    ends_at: dt.datetime


class SessionPatch(_SessionFields):
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"capacity"})


class ProgramFilter(PageQuery):
    search: Text200 = Field("", description="Every word must match the name or code.")
    kind: ProgramKind | None = None


class ProgramOut(Schema):
    id: int
    name: str
    code: str
    description: str
    kind: str = Field(description="program (in sessions) or activity (self-paced, counts as one session).")
    credits: Decimal
    sessions: list[SessionOut]

    @staticmethod
    def resolve_sessions(obj: Any) -> list[Any]:
        return list(obj.sessions.all())


class ProgramPage(Schema):
    items: list[ProgramOut]
    count: int
    page: int
    page_size: int


class _ProgramFields(Schema):
    description: Description = ""
    kind: ProgramKind = ProgramKind.PROGRAM
    credits: Units = Decimal(0)


class ProgramIn(_ProgramFields):
    name: Required200
    code: Required30


class ProgramPatch(_ProgramFields):
    name: Required200 | None = None
    code: Required30 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable=())


# Enrolments in programs and sessions, and their completion (R-CUR-2: progress counts completed programs)


class EnrolmentFilter(PageQuery):
    search: Text200 = Field("", description="Every word must match the person's name, username or email.")
    status: EnrolmentStatus | None = None


class EnrolledPersonOut(Schema):
    id: int
    name: str
    username: str
    email: str


class EnrolmentOut(Schema):
    id: int
    program_id: int
    session_id: int | None = Field(description="Null for an enrolment without a session (an activity's).")
    person: EnrolledPersonOut
    status: str = Field(description="enrolled, completed or cancelled.")
    enrolled_at: dt.datetime
    completed_at: dt.datetime | None

    @staticmethod
    def resolve_person(obj: Any) -> dict[str, Any]:
        person = obj.person
        return {
            "id": person.pk,
            "name": person.get_full_name() or person.get_username(),
            "username": person.get_username(),
            "email": person.email,
        }

    @staticmethod
    def resolve_enrolled_at(obj: Any) -> dt.datetime:
        return obj.created_at


class EnrolmentPage(Schema):
    items: list[EnrolmentOut]
    count: int
    page: int
    page_size: int


class CompletionsIn(Schema):
    enrolment_ids: Ids = Field(description="Enrolments of this program: in any of its sessions, or without one.")
    completed: bool = Field(description="true: mark them completed; false: back to enrolled, to correct a mistake.")


class CompletionsOut(Schema):
    changed: int = Field(description="Enrolments whose status changed; those already so stay as they were.")


# Catalogs


class CatalogFilter(PageQuery):
    search: Text200 = ""


class CatalogOut(Schema):
    id: int
    name: str
    description: str


class CatalogPage(Schema):
    items: list[CatalogOut]
    count: int
    page: int
    page_size: int


class CatalogIn(Schema):
    name: Required120
    description: Description = ""


class CatalogPatch(Schema):
    name: Required120 | None = None
    description: Description = ""

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable=())


class CatalogPlacementIn(Schema):
    """R-CUR-9: one or many learning plans, one or many catalogs."""

    curriculum_ids: Ids
    catalog_ids: Ids


class CatalogPlacementOut(Schema):
    changed: int = Field(description="Placements (plan in catalog) added or removed.")


# Milestones


class LinkedProgramOut(Schema):
    position: int
    program_id: int
    name: str
    code: str
    kind: str
    sessions: int


class MilestoneOut(Schema):
    id: int
    curriculum_id: int
    position: int
    name: str
    description: str
    metric: str = Field(description="sessions, credits, or none (elective).")
    units: Decimal | None
    due_date: dt.date | None
    program_order_enforced: bool
    programs: list[LinkedProgramOut]
    auto_registers: bool = Field(
        description="R-CUR-3: a Sessions milestone whose units equal the programs and activities linked to it."
    )

    @staticmethod
    def resolve_programs(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "position": link.position,
                "program_id": link.program_id,
                "name": link.program.name,
                "code": link.program.code,
                "kind": link.program.kind,
                "sessions": len(link.program.sessions.all()),
            }
            for link in obj.links.all()
        ]

    @staticmethod
    def resolve_auto_registers(obj: Any) -> bool:
        return rules.auto_registers(obj.metric, obj.units, len(obj.links.all()))


class _MilestoneFields(Schema):
    description: Description = ""
    units: Units | None = Field(None, description="Sessions or credits required; empty for an elective.")
    due_date: dt.date | None = None
    program_order_enforced: bool = False


class MilestoneIn(_MilestoneFields):
    name: Required200
    metric: Metric = Metric.SESSIONS


class MilestonePatch(_MilestoneFields):
    name: Required200 | None = None
    metric: Metric | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"units", "due_date"})


class MilestoneOrderIn(Schema):
    milestone_ids: Ids = Field(description="Every milestone of the plan, in the new order.")


class ProgramLinksIn(Schema):
    program_ids: Ids = Field(description="Programs or activities to link, appended in this order.")


class ProgramOrderIn(Schema):
    program_ids: Ids = Field(description="Every linked program, in the new order.")


# Curricula


class CurriculumFilter(PageQuery):
    search: Text200 = Field("", description="Every word must match the name or description.")
    catalog_id: Id | None = None
    registration_type: RegistrationType | None = None


class CurriculumOut(Schema):
    id: int
    name: str
    description: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    due_date: dt.date | None
    milestone_order_enforced: bool
    registration_type: str
    auto_register: bool
    add_to_my_learning: bool
    catalogs: list[Ref]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_catalogs(obj: Any) -> list[dict[str, Any]]:
        return [{"id": c.pk, "name": c.name} for c in obj.catalogs.all()]


class CurriculumDetail(CurriculumOut):
    milestones: list[MilestoneOut]

    @staticmethod
    def resolve_milestones(obj: Any) -> list[Any]:
        return list(obj.milestones.all())


class CurriculumPage(Schema):
    items: list[CurriculumOut]
    count: int
    page: int
    page_size: int


class _CurriculumFields(Schema):
    description: Description = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    due_date: dt.date | None = None
    milestone_order_enforced: bool = False
    registration_type: RegistrationType = RegistrationType.NON_ENFORCED
    auto_register: bool = Field(False, description="Only when registration is Enforced (R-CUR-1).")
    add_to_my_learning: bool = Field(False, description="Only when registration is not Enforced (R-CUR-1).")
    catalog_ids: list[Id] = Field(default_factory=list, max_length=1000)


class CurriculumIn(_CurriculumFields):
    name: Required200


class CurriculumPatch(_CurriculumFields):
    name: Required200 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable={"starts_at", "ends_at", "due_date"})


class DuplicateIn(Schema):
    mode: DuplicateMode = Field(
        description="shell: the plan only; milestones: the plan and its milestones; "
        "everything: the plan, its milestones and the programs linked to them (R-CUR-4)."
    )
