"""Process-automation trackers: request → approve (apply) or reject.

Any staff user who may see a learner may request a change; someone holding Process Automation (Approve) decides it.
Approving applies the change through the services that make it by hand, as the approver and with
`source=Source.AUTOMATION`, all in one transaction: what the EPA platform hears of it follows from that source
(R-EPA-4, R-EPA-5, R-EPA-7), and a refusal from the applied service leaves the tracker requested and nothing
changed. A request is checked against the same rules when it is made, so that approvers see only changes that
could be applied; they are checked again when approved, against the learner as they are then.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from waypoint.automation.details import detail_date, details_clean
from waypoint.automation.models import Tracker, TrackerKind, TrackerStatus
from waypoint.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from waypoint.core.outbox import ChangeKind, Source
from waypoint.core.validation import refuse
from waypoint.people.access import learner_visibility, staff_perms
from waypoint.people.models import Employer, Learner, Manager, Perm
from waypoint.people.services import learner_update, require_staff
from waypoint.plans.services.circumstances import (
    break_problems,
    change_programme_problems,
    circumstance_refusal,
    enrolment_break,
    enrolment_change_programme,
    enrolment_return,
    enrolment_withdraw,
    episode_of,
    return_problems,
    withdraw_problems,
)
from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus

REJECTION_MAX_LENGTH = 1000

# The change of circumstance each tracker kind applies.
CHANGE_KINDS: dict[TrackerKind, ChangeKind] = {
    TrackerKind.BREAK_IN_LEARNING: ChangeKind.BREAK_IN_LEARNING,
    TrackerKind.RETURN_TO_LEARNING: ChangeKind.RETURN_TO_LEARNING,
    TrackerKind.WITHDRAWAL: ChangeKind.WITHDRAWAL,
    TrackerKind.CHANGE_OF_PROGRAMME: ChangeKind.CHANGE_OF_PROGRAMME,
}

# The rules a change of circumstance is checked against when requested, and the service that applies it when
# approved; both take the same values, `_circumstance_values`.
_PROBLEMS: dict[TrackerKind, Callable[..., dict[str, list[str]]]] = {
    TrackerKind.BREAK_IN_LEARNING: break_problems,
    TrackerKind.RETURN_TO_LEARNING: return_problems,
    TrackerKind.WITHDRAWAL: withdraw_problems,
    TrackerKind.CHANGE_OF_PROGRAMME: change_programme_problems,
}
_SERVICES: dict[TrackerKind, Callable[..., Enrolment]] = {
    TrackerKind.BREAK_IN_LEARNING: enrolment_break,
    TrackerKind.RETURN_TO_LEARNING: enrolment_return,
    TrackerKind.WITHDRAWAL: enrolment_withdraw,
    TrackerKind.CHANGE_OF_PROGRAMME: enrolment_change_programme,
}

APPROVE_NEEDED = "Deciding a process-automation tracker needs the Process Automation (Approve) permission."


class TrackerDecided(Conflict):
    """The tracker was approved or rejected already."""

    code = "tracker_decided"


class TrackerOpen(Conflict):
    """Another tracker for the same change is waiting for a decision."""

    code = "tracker_open"


class TrackerRefused(Conflict):
    """The learner's state does not allow the requested change."""

    code = "tracker_refused"


def tracker_request(
    *,
    learner: Learner,
    enrolment: Enrolment | None,
    kind: str,
    details: Mapping[str, Any],
    by: AbstractBaseUser,
) -> Tracker:
    """Request a change for approval. A change of programme puts the enrolment in Pending Change of Programme
    until it is decided."""
    require_staff(by)
    _require_visible(by, learner)
    tracker_kind = _kind(kind)
    clean, errors = details_clean(tracker_kind, details)
    if errors:
        refuse("tracker", errors)
    with transaction.atomic():
        current = Learner.objects.select_for_update().get(pk=learner.pk)
        episode = _enrolment_for(tracker_kind, current, enrolment)
        _check_request(tracker_kind, current, episode, clean)
        tracker = Tracker(
            learner=current,
            enrolment=episode,
            kind=tracker_kind,
            details=clean,
            requested_by_id=by.pk,
            requested_at=timezone.now(),
        )
        if tracker_kind == TrackerKind.CHANGE_OF_PROGRAMME and episode is not None:
            tracker.previous_status = episode.status
            episode_of(episode).update(status=ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME, updated_at=timezone.now())
        try:
            with transaction.atomic():
                tracker.save()
        except IntegrityError:
            raise _already_open(tracker_kind, current) from None
    return tracker


def tracker_approve(*, tracker: Tracker, by: AbstractBaseUser) -> Tracker:
    """Approve a requested change and apply it, as `by`, with source AUTOMATION."""
    _require_approver(by)
    with transaction.atomic():
        current = _open(tracker, by)
        current.new_enrolment = _apply(current, by)
        _decide(current, by, TrackerStatus.APPROVED)
    return current


def tracker_reject(*, tracker: Tracker, by: AbstractBaseUser, reason: str) -> Tracker:
    """Reject a requested change with the reason; a change of programme gives the enrolment its status back."""
    _require_approver(by)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give the reason for rejecting the request.", fields={"reason": ["Required."]})
    if len(reason) > REJECTION_MAX_LENGTH:
        raise ValidationFailed(
            f"The reason is at most {REJECTION_MAX_LENGTH} characters.",
            fields={"reason": [f"At most {REJECTION_MAX_LENGTH} characters."]},
        )
    with transaction.atomic():
        current = _open(tracker, by)
        if current.kind == TrackerKind.CHANGE_OF_PROGRAMME and current.enrolment_id is not None:
            enrolment = Enrolment.objects.select_for_update().get(pk=current.enrolment_id)
            # Only while it still waits for this decision: a status changed since is not the tracker's to undo.
            if enrolment.status == ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME and current.previous_status:
                episode_of(enrolment).update(status=current.previous_status, updated_at=timezone.now())
        current.rejection_reason = reason
        _decide(current, by, TrackerStatus.REJECTED)
    return current


# Requests


def _kind(kind: str) -> TrackerKind:
    try:
        return TrackerKind(kind)
    except ValueError:
        kinds = ", ".join(TrackerKind.values)
        raise ValidationFailed(f"No such kind of tracker; one of {kinds}.", fields={"kind": ["Unknown."]}) from None


def _enrolment_for(kind: TrackerKind, learner: Learner, enrolment: Enrolment | None) -> Enrolment | None:
    """The learner's enrolment the change is for, locked; a change of circumstance needs one."""
    if enrolment is None:
        if kind in TrackerKind.circumstances():
            raise ValidationFailed(
                f"A {kind.label.lower()} is for one of the learner's enrolments: choose it.",
                fields={"enrolment": ["Required."]},
            )
        return None
    current = (
        Enrolment.objects.select_for_update()
        .select_related("programme")
        .filter(pk=enrolment.pk, learner_id=learner.pk)
        .first()
    )
    if current is None:
        raise NotFound("No such enrolment for this learner.")
    return current


def _check_request(kind: TrackerKind, learner: Learner, enrolment: Enrolment | None, details: dict[str, Any]) -> None:
    """Whether the change could be applied to the learner as they are now: the rules of the applying services."""
    if kind == TrackerKind.CHANGE_OF_EMPLOYER:
        _check_employer_change(learner, details)
        return
    if kind == TrackerKind.CHANGE_OF_WORKING_CONDITIONS:
        _check_working_conditions(learner, details)
        return
    assert enrolment is not None
    refusal = circumstance_refusal(CHANGE_KINDS[kind], enrolment.status)
    if refusal is not None:
        raise TrackerRefused(refusal)
    if enrolment.programme.parent_id is not None:
        raise TrackerRefused(
            f"{enrolment.programme} is a sub-programme: request the change on its programme, and the "
            "sub-programme follows."
        )
    errors = _PROBLEMS[kind](enrolment, **_circumstance_values(kind, details))
    if (
        kind == TrackerKind.CHANGE_OF_PROGRAMME
        and Enrolment.objects.filter(learner_id=learner.pk, programme_id=details["programme"]).exists()
    ):
        errors.setdefault("programme", []).append("The learner is already enrolled on this programme.")
    if errors:
        refuse("tracker", {f"details.{field}": messages for field, messages in errors.items()})


def _check_employer_change(learner: Learner, details: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not Employer.objects.filter(pk=details["employer"]).exists():
        errors["details.employer"] = ["No such employer."]
    manager = Manager.objects.filter(pk=details["manager"]).first()
    if manager is None:
        errors["details.manager"] = ["No such manager."]
    elif manager.employer_id != details["employer"]:
        errors["details.manager"] = ["The manager must be a contact of the new employer."]
    if errors:
        refuse("tracker", errors)
    if (learner.employer_id, learner.manager_id) == (details["employer"], details["manager"]):
        raise ValidationFailed(
            "This changes nothing: the learner already works for this employer with this manager.",
            fields={"details.employer": ["The learner's employer already."]},
        )


def _check_working_conditions(learner: Learner, details: dict[str, Any]) -> None:
    manager_id = details.get("manager")
    if manager_id is not None:
        manager = Manager.objects.filter(pk=manager_id).first()
        if manager is None:
            refuse("tracker", {"details.manager": ["No such manager."]})
        if learner.employer_id is None or manager.employer_id != learner.employer_id:
            refuse("tracker", {"details.manager": ["The manager must be a contact of the learner's employer."]})
    new_manager = manager_id is not None and manager_id != learner.manager_id
    if not (new_manager or "hours_per_week" in details or "notes" in details):
        raise ValidationFailed(
            "This changes nothing: give a new manager, the new hours or a note of what changes.",
            fields={"details": ["Nothing changes."]},
        )


def _already_open(kind: TrackerKind, learner: Learner) -> TrackerOpen:
    if kind in TrackerKind.of_employment():
        return TrackerOpen(f"A {kind.label.lower()} for {learner} is already waiting for a decision.")
    return TrackerOpen(f"A change of circumstance on this enrolment of {learner} is already waiting for a decision.")


# Decisions


def _require_approver(by: AbstractBaseUser) -> None:
    if Perm.AUTOMATION_APPROVE not in staff_perms(by):
        raise PermissionRefused(APPROVE_NEEDED)


def _require_visible(by: AbstractBaseUser, learner: Learner) -> None:
    if not Learner.objects.filter(learner_visibility(by), pk=learner.pk).exists():
        raise NotFound("No such learner, or you may not see them.")


def _open(tracker: Tracker, by: AbstractBaseUser) -> Tracker:
    """The tracker, locked, if it still waits for a decision that `by` may make."""
    current = Tracker.objects.select_for_update().filter(pk=tracker.pk).first()
    if current is None:
        raise NotFound("No such tracker.")
    _require_visible(by, current.learner)
    if current.status != TrackerStatus.REQUESTED:
        raise TrackerDecided(f"This tracker was {current.get_status_display().lower()} already.")
    return current


def _decide(tracker: Tracker, by: AbstractBaseUser, status: TrackerStatus) -> None:
    tracker.status = status
    tracker.decided_by_id = by.pk
    tracker.decided_at = timezone.now()
    tracker.save()


def _apply(tracker: Tracker, by: AbstractBaseUser) -> Enrolment | None:
    """Make the change through the service that makes it by hand; returns a change of programme's new enrolment."""
    details, source = tracker.details, Source.AUTOMATION
    kind = TrackerKind(tracker.kind)
    if kind == TrackerKind.CHANGE_OF_EMPLOYER:
        learner_update(
            learner=tracker.learner,
            by=by,
            changes={"employer": details["employer"], "manager": details["manager"]},
            source=source,
        )
        return None
    if kind == TrackerKind.CHANGE_OF_WORKING_CONDITIONS:
        if details.get("manager") is not None:
            learner_update(learner=tracker.learner, by=by, changes={"manager": details["manager"]}, source=source)
        return None
    enrolment = tracker.enrolment
    assert enrolment is not None  # a database constraint: every change of circumstance names its enrolment
    applied = _SERVICES[kind](enrolment=enrolment, by=by, source=source, **_circumstance_values(kind, details))
    return applied if kind == TrackerKind.CHANGE_OF_PROGRAMME else None


def _circumstance_values(kind: TrackerKind, details: Mapping[str, Any]) -> dict[str, Any]:
    """The values a change of circumstance's details give its rules and its service, by argument name."""
    if kind == TrackerKind.BREAK_IN_LEARNING:
        return {
            "effective_date": _date(details, "effective_date"),
            "reason": details["reason"],
            "expected_return": detail_date(details, "expected_return"),
        }
    if kind == TrackerKind.RETURN_TO_LEARNING:
        return {"return_date": _date(details, "return_date"), "planned_end_date": _date(details, "planned_end_date")}
    if kind == TrackerKind.WITHDRAWAL:
        return {"effective_date": _date(details, "effective_date"), "withdraw_reason": details["withdraw_reason"]}
    return {
        "new_programme": _programme(details),
        "start_date": _date(details, "start_date"),
        "planned_end_date": _date(details, "planned_end_date"),
    }


def _date(details: Mapping[str, Any], name: str) -> dt.date:
    value = detail_date(details, name)
    assert value is not None, f"{name} is a required detail"
    return value


def _programme(details: Mapping[str, Any]) -> Programme:
    programme = Programme.objects.filter(pk=details["programme"]).first()
    if programme is None:
        refuse("tracker", {"details.programme": ["No such programme."]})
    return programme
