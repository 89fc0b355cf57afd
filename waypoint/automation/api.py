"""Process automation and changes of circumstance over the API.

- /automation/trackers: request a change, list them, approve or reject (Process Automation (Approve)). Approving
  applies the change as from an approved automation, which the EPA platform hears of (R-EPA-4, 5, 7).
- /learners/{learner_id}/enrolments/{enrolment_id}/break|return|withdraw|change-programme: the same changes
  applied by hand (Advanced Delivery Management (Edit)); the EPA platform is not told (R-EPA-7).
"""

from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate
from waypoint.automation import services
from waypoint.automation.models import Tracker
from waypoint.automation.schemas import (
    BreakIn,
    ChangeProgrammeIn,
    EnrolmentCircumstancesOut,
    RejectIn,
    ReturnIn,
    TrackerFilter,
    TrackerIn,
    TrackerOut,
    TrackerPage,
    WithdrawIn,
)
from waypoint.automation.selectors import tracker_get_for, tracker_list_for
from waypoint.core.errors import NotFound
from waypoint.core.outbox import Source
from waypoint.people.models import Learner
from waypoint.people.selectors import learner_get_for
from waypoint.plans.services import enrolment_break, enrolment_change_programme, enrolment_return, enrolment_withdraw
from waypoint.programmes.models import Enrolment
from waypoint.programmes.selectors import enrolments_of, programme_get

router = Router(tags=["automation"])


def _enrolment_of(learner: Learner, enrolment_id: int) -> Enrolment:
    enrolment = enrolments_of(learner.pk).filter(pk=enrolment_id).first()
    if enrolment is None:
        raise NotFound("No such enrolment for this learner.")
    return enrolment


class _ByHand(TypedDict):
    enrolment: Enrolment
    by: AbstractBaseUser
    source: Source


def _by_hand(request: HttpRequest, learner_id: int, enrolment_id: int) -> _ByHand:
    """What every change of circumstance made over the API is given besides its values: the enrolment, of a learner
    the caller may see (R-CORE-8; any other is answered 404), the caller, and the API as the source."""
    user = acting_user(request)
    enrolment = _enrolment_of(learner_get_for(user, learner_id), enrolment_id)
    return {"enrolment": enrolment, "by": user, "source": Source.API}


def _tracker_out(request: HttpRequest, tracker_id: int) -> Tracker:
    return tracker_get_for(acting_user(request), tracker_id)


# Trackers


@router.get("/automation/trackers", response={200: TrackerPage, **ERRORS})
def trackers_list(request: HttpRequest, filters: Query[TrackerFilter]) -> dict[str, object]:
    """Trackers of the learners you may see, newest request first; filter by status, kind or learner."""
    trackers = tracker_list_for(
        acting_user(request),
        status=filters.status.value if filters.status else None,
        kind=filters.kind.value if filters.kind else None,
        learner_id=filters.learner_id,
    )
    return paginate(trackers, filters)


@router.post("/automation/trackers", response={201: TrackerOut, **ERRORS})
def trackers_request(request: HttpRequest, payload: TrackerIn) -> tuple[int, Tracker]:
    """Request a change for approval. Any staff user who may see the learner may request one; a change of programme
    puts the enrolment in Pending Change of Programme until it is decided."""
    user = acting_user(request)
    learner = learner_get_for(user, payload.learner_id)
    enrolment = _enrolment_of(learner, payload.enrolment_id) if payload.enrolment_id is not None else None
    tracker = services.tracker_request(
        learner=learner, enrolment=enrolment, kind=payload.kind.value, details=payload.details, by=user
    )
    return 201, _tracker_out(request, tracker.pk)


@router.get("/automation/trackers/{tracker_id}", response={200: TrackerOut, **ERRORS})
def trackers_read(request: HttpRequest, tracker_id: PathId) -> Tracker:
    return _tracker_out(request, tracker_id)


@router.post("/automation/trackers/{tracker_id}/approve", response={200: TrackerOut, **ERRORS})
def trackers_approve(request: HttpRequest, tracker_id: PathId) -> Tracker:
    """Approve and apply the change (Process Automation (Approve), and the permission the change itself needs).

    If the change cannot be applied the tracker stays requested and nothing changes.
    """
    tracker = _tracker_out(request, tracker_id)
    services.tracker_approve(tracker=tracker, by=acting_user(request))
    return _tracker_out(request, tracker_id)


@router.post("/automation/trackers/{tracker_id}/reject", response={200: TrackerOut, **ERRORS})
def trackers_reject(request: HttpRequest, tracker_id: PathId, payload: RejectIn) -> Tracker:
    """Reject the change with a reason (Process Automation (Approve)); nothing is applied."""
    tracker = _tracker_out(request, tracker_id)
    services.tracker_reject(tracker=tracker, by=acting_user(request), reason=payload.reason)
    return _tracker_out(request, tracker_id)


# Changes of circumstance applied by hand


_ENROLMENT = "/learners/{learner_id}/enrolments/{enrolment_id}"


@router.post(f"{_ENROLMENT}/break", response={200: EnrolmentCircumstancesOut, **ERRORS})
def enrolments_break(request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: BreakIn) -> Enrolment:
    """Put an Active learner on a break in learning. Not sent to the EPA platform (R-EPA-7)."""
    return enrolment_break(
        **_by_hand(request, learner_id, enrolment_id),
        effective_date=payload.effective_date,
        reason=payload.reason,
        expected_return=payload.expected_return,
    )


@router.post(f"{_ENROLMENT}/return", response={200: EnrolmentCircumstancesOut, **ERRORS})
def enrolments_return(request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: ReturnIn) -> Enrolment:
    """Bring a learner back from a break with new start and planned end dates. Not sent to the EPA platform."""
    return enrolment_return(
        **_by_hand(request, learner_id, enrolment_id),
        return_date=payload.return_date,
        planned_end_date=payload.planned_end_date,
    )


@router.post(f"{_ENROLMENT}/withdraw", response={200: EnrolmentCircumstancesOut, **ERRORS})
def enrolments_withdraw(
    request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: WithdrawIn
) -> Enrolment:
    """Withdraw an Active learner, or one on a break. Not sent to the EPA platform (R-EPA-7)."""
    return enrolment_withdraw(
        **_by_hand(request, learner_id, enrolment_id),
        effective_date=payload.effective_date,
        withdraw_reason=payload.withdraw_reason.value,
    )


@router.post(f"{_ENROLMENT}/change-programme", response={201: EnrolmentCircumstancesOut, **ERRORS})
def enrolments_change_programme(
    request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: ChangeProgrammeIn
) -> tuple[int, Enrolment]:
    """Withdraw the learner from this programme (reason 40) and enrol them on another with its learning plan;
    answers the new enrolment. The EPA platform is not told; a manual registration is made for the new programme,
    which may then be registered where it is connected (R-EPA-7, R-EPA-9)."""
    return 201, enrolment_change_programme(
        **_by_hand(request, learner_id, enrolment_id),
        new_programme=programme_get(payload.programme_id),
        start_date=payload.start_date,
        planned_end_date=payload.planned_end_date,
    )
