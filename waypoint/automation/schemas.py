"""API shapes of process-automation trackers, changes of circumstance and EPA registrations."""

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

from waypoint.api.schemas import Id, PageQuery, Required200
from waypoint.automation.models import TrackerKind, TrackerStatus
from waypoint.automation.services import REJECTION_MAX_LENGTH
from waypoint.plans.schemas import EnrolmentOut, UserRef, user_ref
from waypoint.programmes.models import WithdrawReason
from waypoint.programmes.schemas import ProgrammeSummary


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


RejectionReason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=REJECTION_MAX_LENGTH),
    AfterValidator(_no_nul),
]


# Changes of circumstance applied by hand


class EnrolmentCircumstancesOut(EnrolmentOut):
    actual_end_date: dt.date | None = Field(description="ILR LearnActEndDate: the last day of learning.")
    withdraw_reason: int | None = Field(description="ILR WithdrawReason code, once withdrawn.")
    original_start_date: dt.date | None = Field(
        description="ILR OrigLearnStartDate: the first start, once a return to learning moved the start date."
    )


class BreakIn(Schema):
    effective_date: dt.date = Field(description="The last day of learning before the break.")
    reason: Required200
    expected_return: dt.date | None = None


class ReturnIn(Schema):
    return_date: dt.date = Field(description="The new start date.")
    planned_end_date: dt.date


class WithdrawIn(Schema):
    effective_date: dt.date = Field(description="The last day of learning (a learner on a break keeps the break's).")
    withdraw_reason: WithdrawReason = Field(description="ILR WithdrawReason code (40 is a change of programme).")


class ChangeProgrammeIn(Schema):
    programme_id: Id = Field(description="The new programme; its sub-programmes come with it.")
    start_date: dt.date
    planned_end_date: dt.date


# Trackers


class LearnerRef(Schema):
    id: int
    name: str


class TrackerIn(Schema):
    learner_id: Id
    enrolment_id: Id | None = Field(None, description="Required for a change of circumstance.")
    kind: TrackerKind
    details: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Per kind. change_of_employer: employer, manager (ids), effective_date. change_of_working_conditions: "
            "effective_date, and any of manager (id), hours_per_week, notes. break_in_learning: effective_date "
            "(last day of learning), reason, expected_return. return_to_learning: return_date, planned_end_date. "
            "withdrawal: effective_date, withdraw_reason (ILR code). change_of_programme: programme (id), "
            "start_date, planned_end_date. Dates as YYYY-MM-DD."
        ),
    )


class RejectIn(Schema):
    reason: RejectionReason


class TrackerOut(Schema):
    id: int
    learner: LearnerRef
    enrolment_id: int | None
    programme: ProgrammeSummary | None = Field(description="The programme of the enrolment the change is for.")
    kind: TrackerKind
    status: TrackerStatus
    details: dict[str, Any]
    requested_by: UserRef | None
    requested_at: dt.datetime
    decided_by: UserRef | None
    decided_at: dt.datetime | None
    rejection_reason: str
    previous_status: str = Field(description="A change of programme: the enrolment's status before it was requested.")
    new_enrolment_id: int | None = Field(description="An approved change of programme: the new enrolment.")

    @staticmethod
    def resolve_learner(obj: Any) -> dict[str, Any]:
        return {"id": obj.learner_id, "name": obj.learner.full_name}

    @staticmethod
    def resolve_programme(obj: Any) -> Any:
        return obj.enrolment.programme if obj.enrolment_id else None

    @staticmethod
    def resolve_requested_by(obj: Any) -> dict[str, Any] | None:
        return user_ref(obj.requested_by) if obj.requested_by_id else None

    @staticmethod
    def resolve_decided_by(obj: Any) -> dict[str, Any] | None:
        return user_ref(obj.decided_by) if obj.decided_by_id else None


class TrackerFilter(PageQuery):
    status: TrackerStatus | None = None
    kind: TrackerKind | None = None
    learner_id: Id | None = None


class TrackerPage(Schema):
    items: list[TrackerOut]
    count: int
    page: int
    page_size: int


# EPA registrations
