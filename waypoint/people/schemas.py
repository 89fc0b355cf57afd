"""API shapes of people: learners, employers, managers, groups."""

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, model_validator

from waypoint.api.schemas import (
    Id,
    PageQuery,
    Required100,
    Required120,
    Required200,
    Text9,
    Text10,
    Text30,
    Text100,
    Text200,
    Text254,
    plain,
    reject_nulls,
)
from waypoint.core.ilr import Ethnicity, Sex

UlnText = Annotated[str, Field(max_length=10, description="10 digits with a valid check digit, or empty.")]


class Ref(Schema):
    id: int
    name: str


class LearnerFilter(PageQuery):
    search: Text200 = ""
    programme_id: Id | None = None
    status: Text30 | None = None
    group_id: Id | None = None
    tutor_id: Id | None = None


class LearnerOut(Schema):
    id: int
    first_name: str
    surname: str
    full_name: str
    date_of_birth: dt.date | None
    uln: str
    sex: str = Field(description="ILR sex code: F, M, or empty.")
    ethnicity: int | None = Field(description="ILR ethnicity code.")
    email: str
    employer: Ref | None
    manager_id: int | None
    tutor: Ref | None = Field(description="The case owner.")
    group_ids: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_employer(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.employer.pk, "name": obj.employer.name} if obj.employer_id else None

    @staticmethod
    def resolve_tutor(obj: Any) -> dict[str, Any] | None:
        if not obj.tutor_id:
            return None
        return {"id": obj.tutor.pk, "name": obj.tutor.get_full_name() or obj.tutor.get_username()}

    @staticmethod
    def resolve_group_ids(obj: Any) -> list[int]:
        return [g.pk for g in obj.groups.all()]


class LearnerPage(Schema):
    items: list[LearnerOut]
    count: int
    page: int
    page_size: int


class _LearnerFields(Schema):
    date_of_birth: dt.date | None = None
    uln: UlnText = ""
    sex: Sex | None = Field(None, description="ILR sex code F or M; null for not recorded.")
    ethnicity: Ethnicity | None = Field(None, description="ILR ethnicity code (31 to 47, 98, 99).")
    email: Text254 = ""
    employer_id: Id | None = None
    manager_id: Id | None = Field(None, description="A contact of the learner's employer.")
    tutor_id: Id | None = Field(None, description="The case owner: a staff user's id.")
    group_ids: list[Id] = Field(default_factory=list, max_length=1000)


class LearnerIn(_LearnerFields):
    first_name: Required100
    surname: Required100


class LearnerPatch(_LearnerFields):
    first_name: Required100 | None = None
    surname: Required100 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(
            data, nullable={"date_of_birth", "sex", "ethnicity", "employer_id", "manager_id", "tutor_id"}
        )


def learner_values(payload: Schema, *, partial: bool) -> Any:
    """Schema fields → the service's values (`employer_id` → `employer`, null sex → "")."""
    data = payload.model_dump(exclude_unset=partial)
    renames = {"employer_id": "employer", "manager_id": "manager", "tutor_id": "tutor", "group_ids": "groups"}
    values = plain({renames.get(k, k): v for k, v in data.items()})
    if "sex" in values:
        values["sex"] = values["sex"] or ""
    return values


class EmployerFilter(PageQuery):
    search: Text200 = ""


class EmployerOut(Schema):
    id: int
    name: str
    edrs_number: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str
    created_at: dt.datetime
    updated_at: dt.datetime


class EmployerPage(Schema):
    items: list[EmployerOut]
    count: int
    page: int
    page_size: int


class _EmployerFields(Schema):
    edrs_number: Text9 = ""
    address_line_1: Text200 = ""
    address_line_2: Text200 = ""
    town: Text100 = ""
    postcode: Text10 = ""


class EmployerIn(_EmployerFields):
    name: Required200


class EmployerPatch(_EmployerFields):
    name: Required200 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable=())


class ManagerFilter(PageQuery):
    search: Text200 = ""
    employer_id: Id | None = None


class ManagerOut(Schema):
    id: int
    employer_id: int
    first_name: str
    surname: str
    email: str
    phone: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ManagerPage(Schema):
    items: list[ManagerOut]
    count: int
    page: int
    page_size: int


class _ManagerFields(Schema):
    email: Text254 = ""
    phone: Text30 = ""


class ManagerIn(_ManagerFields):
    employer_id: Id
    first_name: Required100
    surname: Required100


class ManagerPatch(_ManagerFields):
    employer_id: Id | None = None
    first_name: Required100 | None = None
    surname: Required100 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable=())


def renamed(payload: Schema, *, partial: bool, renames: dict[str, str] | None = None) -> Any:
    """The payload as a service's values (a TypedDict), with fields renamed; `partial` keeps only those sent."""
    data = payload.model_dump(exclude_unset=partial)
    renames = renames or {}
    return plain({renames.get(k, k): v for k, v in data.items()})


class GroupFilter(PageQuery):
    search: Text200 = ""


class GroupOut(Schema):
    id: int
    name: str


class GroupPage(Schema):
    items: list[GroupOut]
    count: int
    page: int
    page_size: int


class GroupIn(Schema):
    name: Required120


class StaffFilter(PageQuery):
    search: Text200 = ""


class StaffOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    job_title: str
    is_tutor: bool

    @staticmethod
    def resolve_job_title(obj: Any) -> str:
        return str(obj.staff.job_title)

    @staticmethod
    def resolve_is_tutor(obj: Any) -> bool:
        return bool(obj.staff.is_tutor)


class StaffPage(Schema):
    items: list[StaffOut]
    count: int
    page: int
    page_size: int


class StaffPatch(Schema):
    first_name: Text100 | None = None
    last_name: Text100 | None = None
    email: Text254 | None = None
    job_title: Text100 | None = None

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return reject_nulls(data, nullable=())
