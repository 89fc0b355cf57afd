"""API shapes of the Learner Manager and PLR attainments (R-PLR-1…8)."""

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field, model_validator

from waypoint.api.schemas import Id, PageQuery, Text30
from waypoint.attainments.models import PlrDownloadStatus
from waypoint.attainments.selectors import ROW_SORTS, RowFilter
from waypoint.people.schemas import Ref

CONDITION_DESCRIPTION = (
    "A group `{logic: and|or, conditions: [...]}` whose conditions are `{field, operator, value}` or groups. "
    "Fields: programme, programme_status, group, tutor, employer (ids with equals/not_equals/in, names with "
    "contains/starts_with, is_empty/is_not_empty), uln, first_name, surname (text). Omitted: every learner."
)
SORTS = ", ".join([*ROW_SORTS, *(f"-{s}" for s in ROW_SORTS)])


class LearnerManagerQuery(PageQuery):
    condition: dict[str, Any] | None = Field(None, description=CONDITION_DESCRIPTION)


class ManagedLearnerOut(Schema):
    id: int
    first_name: str
    surname: str
    uln: str
    date_of_birth: dt.date | None
    employer: Ref | None
    tutor: Ref | None = Field(description="The case owner.")

    @staticmethod
    def resolve_employer(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.employer.pk, "name": obj.employer.name} if obj.employer_id else None

    @staticmethod
    def resolve_tutor(obj: Any) -> dict[str, Any] | None:
        if not obj.tutor_id:
            return None
        return {"id": obj.tutor.pk, "name": obj.tutor.get_full_name() or obj.tutor.get_username()}


class ManagedLearnerPage(Schema):
    items: list[ManagedLearnerOut]
    count: int
    page: int
    page_size: int


class PlrDownloadIn(Schema):
    """Either the Learner Manager's condition (every learner it matches) or chosen learner ids."""

    condition: dict[str, Any] | None = Field(None, description=CONDITION_DESCRIPTION)
    learner_ids: list[Id] | None = Field(None, description="Chosen learners; any number (R-PLR-8).")

    @model_validator(mode="after")
    def _one_selection(self) -> "PlrDownloadIn":
        if (self.condition is None) == (self.learner_ids is None):
            raise ValueError("Send either a condition or learner_ids.")
        return self


class PlrDownloadOut(Schema):
    id: int
    status: PlrDownloadStatus
    done: int = Field(description="Learners downloaded so far.")
    total: int = Field(description="Learners selected.")
    created_at: dt.datetime
    expires_at: dt.datetime = Field(description="When the download is discarded if it is not closed before.")
    finished_at: dt.datetime | None
    error: str = Field(description="Why the download failed.")
    row_count: int


class RowFilterQuery(Schema):
    error_code: Text30 | None = Field(None, description="Rows with exactly this error code ('' for none).")
    response_code: Text30 | None = Field(None, description="Rows with exactly this response code.")
    has_events: bool | None = Field(None, description="true: learning events only; false: rows without one.")
    has_error: bool | None = None
    learner: Id | None = None

    def row_filter(self) -> RowFilter:
        return RowFilter(
            error_code=self.error_code,
            response_code=self.response_code,
            has_events=self.has_events,
            has_error=self.has_error,
            learner_id=self.learner,
        )


class RowQuery(PageQuery, RowFilterQuery):
    sort: str = Field("learner", description=f"One of: {SORTS}.")


class ExportQuery(RowFilterQuery):
    sort: str = Field("learner", description=f"One of: {SORTS}.")


class PlrRowOut(Schema):
    id: int
    learner_id: int
    uln: str
    first_name: str
    surname: str
    found_uln: str
    lrs_event_id: int | None
    achievement_award_date: str
    achievement_provider_name: str
    achievement_provider_ukprn: str
    awarding_organisation_name: str
    awarding_organisation_ukprn: str
    collection_type: str
    credits: int | None
    date_loaded: str
    grade: str
    language_for_assessment: str
    level: str
    participation_end_date: str
    participation_start_date: str
    qualification_type: str
    restriction: str
    return_number: str
    source: str
    status: str
    subject: str
    subject_code: str
    under_data_challenge: str
    error_code: str
    error_description: str
    response_code: str
    response_description: str


class PlrRowPage(Schema):
    items: list[PlrRowOut]
    count: int
    page: int
    page_size: int


class UpdateSelectedIn(Schema):
    """The rows to write: `all`, the `row_ids` of a page, or every row a `filter` matches."""

    all: bool = False
    row_ids: list[Id] | None = Field(None, max_length=1000)
    filter: RowFilterQuery | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> "UpdateSelectedIn":
        if sum([self.all, self.row_ids is not None, self.filter is not None]) != 1:
            raise ValueError("Send exactly one of: all (true), row_ids, filter.")
        return self


class UpdateResultOut(Schema):
    processed: int
    updated: int
    unchanged: int = Field(description="Not updated because nothing changed.")
    skipped: int = Field(description="Rows without a learning event (errors, no events).")


class AttainmentOut(Schema):
    id: int
    lrs_event_id: int
    attainment_type: str
    uln: str
    subject: str
    subject_code: str
    qualification_type: str
    level: str
    grade: str
    credits: int | None
    award_date: dt.date | None
    awarding_organisation_name: str
    awarding_organisation_ukprn: str
    provider_name: str
    provider_ukprn: str
    source: str
    status: str
    participation_start_date: dt.date | None
    participation_end_date: dt.date | None
    date_loaded: dt.date | None
    updated_at: dt.datetime
