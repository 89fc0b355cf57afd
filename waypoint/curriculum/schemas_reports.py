"""API shapes of Learning Plan reports, notifications and the term (R-CUR-10, 11, 12)."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

from waypoint.api.schemas import Id, PageQuery, Text100
from waypoint.curriculum.reports import STATUSES, ReportFilter


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


class ReportStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    COMPLETED = "completed"


class NotificationKindIn(StrEnum):
    DEADLINE = "deadline"
    REGISTRATION = "registration"
    ASSIGNMENT = "assignment"


Subject = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20000), AfterValidator(_no_nul)]
Term = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]


class ReportFilterQuery(Schema):
    plan: Id | None = Field(None, description="Only this Learning Plan.")
    group: Id | None = Field(None, description="Only members of this professional group.")
    status: ReportStatus | None = Field(None, description=f"One of: {', '.join(STATUSES)}.")
    search: Text100 = Field("", description="Part of the person's name, username or email, or the plan's name.")

    def report_filter(self) -> ReportFilter:
        return ReportFilter(
            plan=self.plan,
            group=self.group,
            status=self.status.value if self.status else None,
            search=self.search,
        )


class ReportPageQuery(PageQuery, ReportFilterQuery):
    chart: bool = Field(False, description="Also count the rows per status (every filter but the status).")


class StatusBarOut(Schema):
    status: str
    label: str
    count: int
    percent: int = Field(description="Share of the filtered rows (all statuses), for the progress chart.")


class MilestoneOut(Schema):
    milestone_id: int
    name: str
    position: int
    metric: str
    status: str
    units_done: Decimal
    units_required: Decimal | None
    due_date: dt.date | None


class HighlightOut(Schema):
    plan_id: int
    plan: str
    person_id: int
    person: str
    username: str
    email: str
    assigned: bool
    group: str
    registration: str
    milestones_met: int
    milestones_total: int
    progress: int
    due_date: dt.date | None
    status: str
    status_label: str


class PersonPlanOut(HighlightOut):
    units_done: Decimal
    units_required: Decimal
    milestones: list[MilestoneOut]


class HighlightPage(Schema):
    items: list[HighlightOut]
    count: int
    page: int
    page_size: int
    chart: list[StatusBarOut] | None


class PersonPlanPage(Schema):
    items: list[PersonPlanOut]
    count: int
    page: int
    page_size: int
    chart: list[StatusBarOut] | None


class NotificationTemplateOut(Schema):
    kind: str
    name: str
    enabled: bool
    subject: str
    body: str
    days_before: int
    all_curricula: bool
    curricula: list[int]


class NotificationTemplateIn(Schema):
    enabled: bool | None = None
    subject: Subject | None = None
    body: Body | None = None
    days_before: Annotated[int, Field(ge=0, le=365)] | None = None
    all_curricula: bool | None = None
    curricula: Annotated[list[Id], Field(max_length=1000)] | None = None


class AssignmentNoticeIn(Schema):
    people: Annotated[list[Id], Field(max_length=1000)] | None = Field(
        None, description="The assigned people to notify; omitted: everyone assigned the plan."
    )


class SentOut(Schema):
    sent: int


class TermOut(Schema):
    value: str
    admin_term: str
    max_length: int


class TermIn(Schema):
    value: Term
