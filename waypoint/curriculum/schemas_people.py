"""API shapes of learning-plan assignments, milestone statuses, Manage Users, registration (R-CUR-5…8), and a
professional's own enrolments made without a registration."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

from waypoint.api.schemas import Id, PageQuery
from waypoint.curriculum.models import EnrolmentStatus, ProgramKind, RegistrationStatus
from waypoint.plans.schemas import UserRef, user_ref

MAX_PEOPLE_PER_REQUEST = 1000


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


Notes = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
Search = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_no_nul)]


class AssignIn(Schema):
    person_ids: Annotated[list[Id], Field(max_length=MAX_PEOPLE_PER_REQUEST)] | None = Field(
        default=None, description="Professionals to assign; or give group_id."
    )
    group_id: Id | None = Field(default=None, description="A professional group whose members to assign.")


class AssignOut(Schema):
    assigned: int = Field(description="How many people were assigned now.")
    conflicts: list[str] = Field(
        description="Names of people already assigned: not reassigned; their due date and requirements stay."
    )


class OverrideAction(StrEnum):
    NO_ACTION = "no_action"
    WAIVED = "waived"
    ADJUSTED = "adjusted"


class MilestoneStatusIn(Schema):
    action: OverrideAction
    units: Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=2)] | None = None
    due_date: dt.date | None = None
    notes: Notes = ""
    confirm_detach: bool = Field(
        default=False,
        description="On an assignment through a group: the change removes the group link (R-CUR-6); confirm it.",
    )


class MilestoneStatusOut(Schema):
    milestone_id: int
    action: str = Field(description="no_action, waived or adjusted.")
    units: Decimal | None = None
    due_date: dt.date | None = None
    notes: str = ""
    group_id: int | None = Field(description="The assignment's group; null once maintained individually.")


class UsersFilter(PageQuery):
    search: Search = ""


class AssignmentOut(Schema):
    id: int
    person: UserRef
    group_id: int | None
    group_name: str | None
    due_date: dt.date | None
    requirements: dict[str, Any]
    assigned_at: dt.datetime

    @staticmethod
    def resolve_person(obj: Any) -> dict[str, Any] | None:
        return user_ref(obj.person)

    @staticmethod
    def resolve_group_name(obj: Any) -> str | None:
        return obj.group.name if obj.group_id else None

    @staticmethod
    def resolve_assigned_at(obj: Any) -> dt.datetime:
        return obj.created_at


class AssignmentPage(Schema):
    items: list[AssignmentOut]
    count: int
    page: int
    page_size: int


class RegistrationOut(Schema):
    id: int
    person: UserRef
    status: RegistrationStatus
    via_my_learning: bool
    started_at: dt.datetime
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None

    @staticmethod
    def resolve_person(obj: Any) -> dict[str, Any] | None:
        return user_ref(obj.person)

    @staticmethod
    def resolve_started_at(obj: Any) -> dt.datetime:
        return obj.created_at


class RegistrationPage(Schema):
    items: list[RegistrationOut]
    count: int
    page: int
    page_size: int


class MilestoneProgressOut(Schema):
    milestone_id: int
    name: str
    state: str = Field(description="not_started, in_progress, met, waived or elective.")
    required: Decimal | None
    done: Decimal
    due_date: dt.date | None
    overdue: bool


class AssignmentProgressOut(Schema):
    assignment_id: int
    curriculum_id: int
    curriculum_name: str
    group_id: int | None
    due_date: dt.date | None
    state: str = Field(description="not_started, in_progress, completed or overdue.")
    milestones: list[MilestoneProgressOut]


class ChooseIn(Schema):
    session_ids: Annotated[list[Id], Field(max_length=200)] = Field(default_factory=list)
    activity_ids: Annotated[list[Id], Field(max_length=200)] = Field(default_factory=list)


class MilestoneSummaryOut(Schema):
    milestone_id: int
    name: str
    metric: str
    required: Decimal | None = Field(description="Null: nothing required (an elective, or waived).")
    enrolled: Decimal
    program_ids: list[int]


class StepOut(Schema):
    kind: str = Field(description="milestone: choose in `milestone_id` next; summary: review, then Complete.")
    registration_id: int
    registration_status: RegistrationStatus
    milestone_id: int | None
    milestones: list[MilestoneSummaryOut]


class MyEnrolmentIn(Schema):
    session_id: Id | None = Field(
        default=None, description="The session to enrol in; null for an activity (it has no sessions)."
    )


class MyEnrolmentOut(Schema):
    id: int
    program_id: int
    program_name: str
    program_kind: ProgramKind
    session_id: int | None = Field(description="Null for an activity's enrolment.")
    session_starts_at: dt.datetime | None
    session_ends_at: dt.datetime | None
    status: EnrolmentStatus
    registration_id: int | None = Field(
        description="The registration it was made through; null when made directly. Only a direct enrolment may be "
        "cancelled by its owner: one made through a registration ends when the registration is deleted (R-CUR-8)."
    )
    enrolled_at: dt.datetime
    completed_at: dt.datetime | None

    @staticmethod
    def resolve_program_name(obj: Any) -> str:
        return str(obj.program.name)

    @staticmethod
    def resolve_program_kind(obj: Any) -> str:
        return str(obj.program.kind)

    @staticmethod
    def resolve_session_starts_at(obj: Any) -> dt.datetime | None:
        return obj.session.starts_at if obj.session_id else None

    @staticmethod
    def resolve_session_ends_at(obj: Any) -> dt.datetime | None:
        return obj.session.ends_at if obj.session_id else None

    @staticmethod
    def resolve_enrolled_at(obj: Any) -> dt.datetime:
        return obj.created_at


class MyEnrolmentPage(Schema):
    items: list[MyEnrolmentOut]
    count: int
    page: int
    page_size: int


class MyEnrolmentsFilter(PageQuery):
    status: EnrolmentStatus | None = Field(default=None, description="Only enrolments in this status.")
