"""/outbox: the EPA platform's messages, what happened to each, and the retry of failed ones (R-EPA-12).

Any staff user sees the messages of learners they may see; retrying needs Supervisor.
"""

from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate
from waypoint.core.models import OutboxMessage, OutboxStatus
from waypoint.core.outbox import Source
from waypoint.epa.delivery import outbox_retry, outbox_retry_message
from waypoint.epa.models import EpaRegistration
from waypoint.epa.registrations import registration_get_for, registration_list_for, registration_register
from waypoint.epa.schemas import OutboxFilter, OutboxMessageDetail, OutboxPage, RegistrationOut, RetriedOut
from waypoint.epa.selectors import outbox_get_for, outbox_list_for
from waypoint.people.selectors import learner_get_for

router = Router(tags=["epa"])


@router.get("/outbox", response={200: OutboxPage, **ERRORS})
def outbox_list(request: HttpRequest, filters: Query[OutboxFilter]) -> dict[str, object]:
    """Messages to the EPA platform, newest first: pending, sending, sent, failed, or coalesced (sent with the
    snapshot of an earlier message of the same registration)."""
    messages = outbox_list_for(
        acting_user(request),
        status=filters.status.value if filters.status else None,
        learner_id=filters.learner_id,
        search=filters.search,
    )
    return paginate(messages, filters)


# Before /outbox/{message_id}: its path would take "retry-failed" for an id.
@router.post("/outbox/retry-failed", response={200: RetriedOut, **ERRORS})
def outbox_retry_failed(request: HttpRequest) -> dict[str, int]:
    """Retry every failed message of learners you may see. Needs Supervisor."""
    user = acting_user(request)
    return {"retried": outbox_retry(by=user, messages=outbox_list_for(user, status=OutboxStatus.FAILED))}


@router.get("/outbox/{message_id}", response={200: OutboxMessageDetail, **ERRORS})
def outbox_read(request: HttpRequest, message_id: PathId) -> OutboxMessage:
    """One message with every delivery attempt and the snapshot sent."""
    return outbox_get_for(acting_user(request), message_id)


@router.post("/outbox/{message_id}/retry", response={200: OutboxMessageDetail, **ERRORS})
def outbox_retry_one(request: HttpRequest, message_id: PathId) -> OutboxMessage:
    """Retry one failed message: due now, at the head of its lane. Needs Supervisor; 409 unless it failed."""
    user = acting_user(request)
    outbox_retry_message(by=user, message=outbox_get_for(user, message_id))
    return outbox_get_for(user, message_id)


# Registrations


@router.get("/learners/{learner_id}/epa/registrations", response={200: list[RegistrationOut], **ERRORS})
def registrations_of_learner(request: HttpRequest, learner_id: PathId) -> list[EpaRegistration]:
    """The learner's EPA registrations, newest first: on a connection (registered), manual, withdrawn or cancelled
    (R-EPA-1, R-EPA-8…11)."""
    user = acting_user(request)
    learner = learner_get_for(user, learner_id)
    return list(registration_list_for(user).filter(learner=learner).order_by("-id"))


@router.post("/epa/registrations/{registration_id}/register", response={200: RegistrationOut, **ERRORS})
def registrations_register(request: HttpRequest, registration_id: PathId) -> EpaRegistration:
    """Register a manual registration on its programme's EPA platform connection (R-EPA-9)."""
    user = acting_user(request)
    registration = registration_register(
        registration=registration_get_for(user, registration_id), by=user, source=Source.API
    )
    return registration_get_for(user, registration.pk)
