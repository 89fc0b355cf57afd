"""Background work of Learning Plan notifications (R-CUR-10)."""

import datetime as dt

from django_tasks import task

from waypoint.curriculum.models import Assignment, Registration
from waypoint.curriculum.notifications import (
    assignment_notifications_send,
    deadline_notifications_send,
    registration_notification_send,
)


@task()
def deadline_notifications_task(today: str | None = None) -> int:
    """The daily run of deadline reminders; `today` as YYYY-MM-DD, the local date when omitted."""
    return deadline_notifications_send(dt.date.fromisoformat(today) if today else None)


@task()
def registration_notification_task(registration_id: int) -> bool:
    registration = Registration.objects.select_related("curriculum", "person").filter(pk=registration_id).first()
    return registration_notification_send(registration) if registration else False


@task()
def assignment_notifications_task(curriculum_id: int, person_ids: list[int]) -> int:
    """The automatic notice for assignments just made (enqueue it once the assignment is committed)."""
    return assignment_notifications_send(
        Assignment.objects.filter(curriculum_id=curriculum_id, person_id__in=person_ids)
    )
