"""Builders shared by the process-automation and EPA change-of-circumstance tests."""

from typing import Any

from django.contrib.auth.models import AbstractUser

from tests import factories
from waypoint.automation.models import Tracker
from waypoint.automation.services import tracker_approve, tracker_request
from waypoint.core.models import OutboxMessage
from waypoint.epa.models import EpaConnection
from waypoint.people.models import Learner, Perm
from waypoint.programmes.models import Enrolment, Programme


def connect(epao_id: str = "EPA0001") -> EpaConnection:
    """An EPA platform connection for the EPAO (R-EPA-1)."""
    return EpaConnection.objects.create(name=f"epaPRO {epao_id}", epao_id=epao_id, base_url="http://emulator.invalid")


def programme(epao_id: str = "EPA0001", **values: Any) -> Programme:
    made = factories.programme(**values)
    Programme.objects.filter(pk=made.pk).update(epao_id=epao_id)
    made.refresh_from_db()
    return made


def enrolled(programme_: Programme, learner: Learner | None = None) -> Enrolment:
    return factories.enrolment(learner or factories.learner(), programme_)


def approver() -> AbstractUser:
    """May decide trackers and make the changes they apply."""
    return factories.staff([Perm.AUTOMATION_APPROVE, Perm.ADM_EDIT])


def requester() -> AbstractUser:
    """A staff user with no permission beyond seeing every learner."""
    return factories.staff([])


def messages(**filters: Any) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="epa", **filters).order_by("id"))


def messages_after(mark: int, **filters: Any) -> list[OutboxMessage]:
    return messages(id__gt=mark, **filters)


def mark() -> int:
    """The last outbox message so far: what a test sends comes after it."""
    last = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def requested(
    enrolment: Enrolment | None, kind: str, details: dict[str, Any], *, learner: Learner | None = None
) -> Tracker:
    if learner is None:
        assert enrolment is not None
        learner = enrolment.learner
    return tracker_request(
        learner=learner,
        enrolment=enrolment,
        kind=kind,
        details=details,
        by=requester(),
    )


def approved(
    enrolment: Enrolment | None, kind: str, details: dict[str, Any], *, learner: Learner | None = None
) -> Tracker:
    """A tracker requested by one staff user and approved by another."""
    return tracker_approve(tracker=requested(enrolment, kind, details, learner=learner), by=approver())
