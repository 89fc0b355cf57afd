"""Reads of the EPA connector: what a batch of messages sends (one query, whatever the batch's size) and the outbox
as staff users may see it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from waypoint.core.errors import NotFound
from waypoint.core.models import OutboxMessage
from waypoint.epa.capture import TOPIC
from waypoint.epa.models import DeliveryAttempt, EpaRegistration
from waypoint.epa.payloads import (
    EmployerState,
    LearnerState,
    ManagerState,
    ProgrammeState,
    RegistrationFacts,
    TutorState,
)
from waypoint.people.access import AnyUser, learner_visibility
from waypoint.people.models import Learner


@dataclass(frozen=True)
class ConnectionFacts:
    connection_id: int
    name: str
    base_url: str
    credential_setting: str
    active: bool


@dataclass(frozen=True)
class Gathered:
    """A registration as the deliverer needs it: what it sends and where."""

    facts: RegistrationFacts
    connection: ConnectionFacts | None


# The states whose every field is the column of the same name under one relation.
_Copied = TypeVar("_Copied", LearnerState, EmployerState)


def _columns(state: type[_Copied], prefix: str) -> list[str]:
    return [prefix + field.name for field in fields(state)]


def _state(state: type[_Copied], row: Mapping[str, Any], prefix: str) -> _Copied:
    return state(**{field.name: row[prefix + field.name] for field in fields(state)})


_GATHERED = (
    "id",
    "version",
    "epao_id",
    "external_ref",
    "connection_id",
    "connection__name",
    "connection__platform",
    "connection__epao_id",
    "connection__base_url",
    "connection__credential_setting",
    "connection__active",
    *_columns(LearnerState, "learner__"),
    "enrolment__start_date",
    "enrolment__planned_end_date",
    "enrolment__status",
    "enrolment__programme__code",
    "enrolment__programme__name",
    "enrolment__programme__standard_code",
    "learner__employer_id",
    *_columns(EmployerState, "learner__employer__"),
    "learner__manager_id",
    "learner__manager__first_name",
    "learner__manager__surname",
    "learner__manager__email",
    "learner__manager__phone",
    "learner__tutor_id",
    "learner__tutor__username",
    "learner__tutor__first_name",
    "learner__tutor__last_name",
    "learner__tutor__email",
    "learner__tutor__staff__job_title",
)


def delivery_gather(registration_ids: Iterable[int]) -> dict[int, Gathered]:
    """The registrations of a batch of claimed messages with their learner, programme, employer, manager, case
    owner and connection: one query of plain values. A registration that no longer exists is absent."""
    rows = EpaRegistration.objects.filter(pk__in=list(registration_ids)).order_by().values(*_GATHERED)
    return {row["id"]: _gathered(row) for row in rows}


def _gathered(row: dict[str, Any]) -> Gathered:
    tutor_name = " ".join(
        part for part in (row["learner__tutor__first_name"], row["learner__tutor__last_name"]) if part
    )
    facts = RegistrationFacts(
        registration_id=row["id"],
        version=row["version"],
        platform=row["connection__platform"] or "",
        epao_id=row["epao_id"] or row["connection__epao_id"] or "",
        external_ref=row["external_ref"],
        learner=_state(LearnerState, row, "learner__"),
        programme=ProgrammeState(
            code=row["enrolment__programme__code"],
            name=row["enrolment__programme__name"],
            standard_code=row["enrolment__programme__standard_code"],
            start_date=row["enrolment__start_date"],
            planned_end_date=row["enrolment__planned_end_date"],
            status=row["enrolment__status"],
        ),
        employer=_state(EmployerState, row, "learner__employer__") if row["learner__employer_id"] is not None else None,
        manager=ManagerState(
            name=f"{row['learner__manager__first_name']} {row['learner__manager__surname']}",
            email=row["learner__manager__email"],
            phone=row["learner__manager__phone"],
        )
        if row["learner__manager_id"] is not None
        else None,
        tutor=TutorState(
            name=tutor_name or row["learner__tutor__username"],
            email=row["learner__tutor__email"],
            job_title=row["learner__tutor__staff__job_title"] or "",
        )
        if row["learner__tutor_id"] is not None
        else None,
    )
    connection = (
        ConnectionFacts(
            connection_id=row["connection_id"],
            name=row["connection__name"],
            base_url=row["connection__base_url"],
            credential_setting=row["connection__credential_setting"],
            active=row["connection__active"],
        )
        if row["connection_id"] is not None
        else None
    )
    return Gathered(facts=facts, connection=connection)


def outbox_list_for(
    user: AnyUser, *, status: str | None = None, learner_id: int | None = None, search: str = ""
) -> QuerySet[OutboxMessage]:
    """The EPA platform's messages of learners the user may see, newest first, with the learner's name.

    Every word of `search` must match the learner's name or ULN, the message's kind or reason, or its last error.
    """
    learner_name = Learner.objects.filter(pk=OuterRef("learner_id")).annotate(
        name=Concat(F("first_name"), Value(" "), F("surname"))
    )
    messages = (
        OutboxMessage.objects.filter(topic=TOPIC)
        .filter(learner_visibility(user, "learner_id"))
        .annotate(learner_name=Subquery(learner_name.values("name")[:1]))
        .order_by("-id")
    )
    if status:
        messages = messages.filter(status=status)
    if learner_id is not None:
        messages = messages.filter(learner_id=learner_id)
    for word in search.split():
        learners = Learner.objects.filter(
            Q(first_name__icontains=word) | Q(surname__icontains=word) | Q(uln__startswith=word)
        )
        messages = messages.filter(
            Q(learner_id__in=learners.values("pk"))
            | Q(kind__icontains=word)
            | Q(reason__icontains=word)
            | Q(last_error__icontains=word)
        )
    return messages


def outbox_get_for(user: AnyUser, message_id: int) -> OutboxMessage:
    """One message with its delivery attempts, oldest first, or NotFound."""
    message = (
        outbox_list_for(user)
        .prefetch_related(Prefetch("attempts_made", queryset=DeliveryAttempt.objects.order_by("id")))
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound("No such EPA message, or it is about a learner you may not see.")
    return message
