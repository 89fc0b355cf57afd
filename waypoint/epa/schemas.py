"""API shapes of the EPA platform's outbox (R-EPA-12)."""

import datetime as dt
import uuid
from typing import Any

from ninja import Schema
from pydantic import Field

from waypoint.api.schemas import Id, PageQuery, Text200
from waypoint.core.models import OutboxStatus
from waypoint.people.schemas import Ref
from waypoint.programmes.schemas import ProgrammeSummary


class OutboxFilter(PageQuery):
    status: OutboxStatus | None = Field(None, description="pending, sending, sent, failed or coalesced.")
    learner_id: Id | None = None
    search: Text200 = Field(
        "", description="Every word must match the learner's name or ULN, the kind, the reason or the last error."
    )


class OutboxMessageOut(Schema):
    id: int
    kind: str = Field(description="What is sent, e.g. registration.updated or registration.break_in_learning.")
    reason: str
    source: str = Field(description="Where the change came from: ui, api, automation or system.")
    status: str
    status_label: str
    registration_id: int = Field(description="The ordering lane: messages of one registration go in order.")
    learner: Ref | None
    changed: list[str] = Field(description="What changed, e.g. learner.uln.")
    idempotency_key: uuid.UUID = Field(description="Sent as the Idempotency-Key header and the snapshot's event_id.")
    attempts: int
    next_attempt_at: dt.datetime = Field(description="When a pending message is due to be tried (again).")
    created_at: dt.datetime
    sent_at: dt.datetime | None
    coalesced_into: int | None = Field(description="The message whose snapshot carried this plain update.")
    last_error: str = Field(description="In plain words.")
    created_by_id: int | None

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(OutboxStatus(obj.status).label)

    @staticmethod
    def resolve_registration_id(obj: Any) -> int:
        return int(obj.key)

    @staticmethod
    def resolve_learner(obj: Any) -> dict[str, Any] | None:
        if obj.learner_id is None:
            return None
        return {"id": obj.learner_id, "name": getattr(obj, "learner_name", None) or f"Learner {obj.learner_id}"}


class DeliveryAttemptOut(Schema):
    attempted_at: dt.datetime
    duration_ms: int
    outcome: str = Field(description="delivered, transient (tried again later), rejected or exhausted.")
    http_status: int | None
    error: str


class OutboxMessageDetail(OutboxMessageOut):
    event: dict[str, Any] = Field(description="A change of circumstance's details.")
    payload: dict[str, Any] | None = Field(description="The snapshot sent (or being sent).")
    attempt_log: list[DeliveryAttemptOut] = Field(description="Every try, oldest first.")

    @staticmethod
    def resolve_attempt_log(obj: Any) -> list[Any]:
        return list(obj.attempts_made.all())


class OutboxPage(Schema):
    items: list[OutboxMessageOut]
    count: int
    page: int
    page_size: int


class RetriedOut(Schema):
    retried: int = Field(description="Failed messages put back in their lanes, due now.")


class RegistrationOut(Schema):
    id: int
    learner_id: int
    enrolment_id: int
    programme: ProgrammeSummary
    connection_id: int | None
    epao_id: str
    state: str
    can_register: bool
    updated_at: dt.datetime

    @staticmethod
    def resolve_programme(obj: Any) -> Any:
        return obj.enrolment.programme
