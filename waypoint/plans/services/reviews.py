"""Scheduling a review: the review entity and its meeting tasks (R-CORE-6)."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from waypoint.core.errors import Conflict, ValidationFailed
from waypoint.plans.models import CalendarTask, ChangeAction, Component, ComponentChange, Review, ReviewStatus
from waypoint.plans.permissions import PlanAction
from waypoint.plans.services.components import _change_fields, _check, _locked
from waypoint.programmes.models import ComponentType

REVIEW_SCHEDULE_FIELD = "review_scheduled_at"


def review_schedule(
    *, component: Component, by: AbstractBaseUser, starts_at: dt.datetime, visit_id: int | None
) -> Review:
    """Schedule (or re-schedule) a review; its meeting tasks for the learner and the admin are re-created."""
    if starts_at.tzinfo is None:
        raise ValidationFailed("The review time needs a time zone.")
    with transaction.atomic():
        current = _locked(component.pk)
        if current.type not in ComponentType.with_review():
            raise ValidationFailed(f"“{current.name}” is not a Review component.")
        _check(by, PlanAction.EDIT, finished=current.is_finished, fields=[REVIEW_SCHEDULE_FIELD])
        review, _ = Review.objects.get_or_create(component=current, defaults={"review_type": current.review_type})
        if review.status == ReviewStatus.COMPLETED:
            raise Conflict("This review is completed; its date can no longer be changed.")
        old = review.scheduled_at.isoformat() if review.scheduled_at else None
        review.status, review.scheduled_at = ReviewStatus.SCHEDULED, starts_at
        review.save(update_fields=["status", "scheduled_at"])
        review.tasks.all().delete()
        # A review is part of its component: a sync summary decided on the old one is now stale (R-SYNC-15).
        current.revision += 1
        current.save(update_fields=["revision"])
        learner = current.learner
        admin_id = current.owner_id or learner.tutor_id
        tasks = [CalendarTask(review=review, learner=learner, title=f"{current.name}", starts_at=starts_at)]
        if admin_id:
            tasks.append(
                CalendarTask(
                    review=review, admin_id=admin_id, title=f"{current.name} with {learner}", starts_at=starts_at
                )
            )
        CalendarTask.objects.bulk_create(tasks)
        ComponentChange.objects.create(
            **_change_fields(
                current,
                by,
                visit_id,
                ChangeAction.UPDATED,
                field=REVIEW_SCHEDULE_FIELD,
                old=old,
                new=starts_at.isoformat(),
            )
        )
    return review
