"""Reads of process-automation trackers, scoped to the learners the acting user may see (R-CORE-8)."""

from django.db.models import QuerySet

from waypoint.automation.models import Tracker
from waypoint.core.errors import NotFound
from waypoint.people.access import AnyUser, learner_visibility


def tracker_list_for(
    user: AnyUser, *, status: str | None = None, kind: str | None = None, learner_id: int | None = None
) -> QuerySet[Tracker]:
    """Trackers of learners the user may see, newest request first."""
    trackers = Tracker.objects.filter(learner_visibility(user, "learner")).select_related(
        "learner", "enrolment__programme", "new_enrolment__programme", "requested_by", "decided_by"
    )
    if status:
        trackers = trackers.filter(status=status)
    if kind:
        trackers = trackers.filter(kind=kind)
    if learner_id is not None:
        trackers = trackers.filter(learner_id=learner_id)
    return trackers


def tracker_get_for(user: AnyUser, tracker_id: int) -> Tracker:
    tracker = tracker_list_for(user).filter(pk=tracker_id).first()
    if tracker is None:
        raise NotFound("No such tracker, or you may not see its learner.")
    return tracker
