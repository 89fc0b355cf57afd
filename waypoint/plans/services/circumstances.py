"""Changes of circumstance on a learner's programme episode: break in learning, return to learning, withdrawal and
change of programme (R-CORE-3, R-EPA-7).

Each is one transaction. The episode (the programme's enrolment, and the learner's enrolments on its sub-programmes
that are in the same status) changes in one statement and keeps the ILR facts the change produces:
- a break closes learning: Break in Learning (CompStatus 6) with the last day of learning (LearnActEndDate);
- a return opens it again: Active with a new start and planned end date, the first start kept (OrigLearnStartDate);
- a withdrawal: Withdrawn (CompStatus 3) with LearnActEndDate and WithdrawReason; a learner who never comes back
  from a break keeps the break's LearnActEndDate;
- a change of programme withdraws the old episode with WithdrawReason 40 and starts one on the new programme.
The change is then recorded in the outbox with where it came from. The EPA platform hears of it only when an
approved process automation applied it (`Source.AUTOMATION`); applied by hand, through the UI or the API, nothing
is sent (R-EPA-7).

The rules are pure functions (`circumstance_refusal`, `*_problems`) so that process automation checks a request
against the same rules before anyone approves it, and the pages say why a change may not be made before it is tried.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from waypoint.core.errors import Conflict, PermissionRefused
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.core.validation import refuse
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner
from waypoint.plans.permissions import PlanAction, enrolment_change_refusal
from waypoint.plans.services.enrolments import _episode_enrol
from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus, WithdrawReason

# A change of programme withdraws the old episode as "transferred to a new learning aim with the same provider".
CHANGE_OF_PROGRAMME_REASON = WithdrawReason.NEW_LEARNING_AIM
REASON_MAX_LENGTH = 200

_ACTIVE, _BREAK = ProgrammeStatus.ACTIVE, ProgrammeStatus.BREAK_IN_LEARNING
_PENDING = ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME

# The statuses each change may be made from.
ALLOWED_FROM: dict[ChangeKind, frozenset[str]] = {
    ChangeKind.BREAK_IN_LEARNING: frozenset({_ACTIVE}),
    ChangeKind.RETURN_TO_LEARNING: frozenset({_BREAK}),
    ChangeKind.WITHDRAWAL: frozenset({_ACTIVE, _BREAK}),
    ChangeKind.CHANGE_OF_PROGRAMME: frozenset({_ACTIVE, _BREAK}),
}

_WHAT = {
    ChangeKind.BREAK_IN_LEARNING: "A break in learning",
    ChangeKind.RETURN_TO_LEARNING: "A return to learning",
    ChangeKind.WITHDRAWAL: "A withdrawal",
    ChangeKind.CHANGE_OF_PROGRAMME: "A change of programme",
}


class CircumstanceRefused(Conflict):
    """The enrolment's programme status does not allow the change."""

    code = "circumstance_refused"


# The rules


def circumstance_refusal(kind: ChangeKind, status: str, *, approving: bool = False) -> str | None:
    """None when an enrolment in `status` may take the change `kind`; otherwise why not, in words for the admin.

    `approving`: the change is being applied by approving its process-automation tracker, the one thing that
    settles a Pending Change of Programme.
    """
    if status == _PENDING:
        if approving and kind == ChangeKind.CHANGE_OF_PROGRAMME:
            return None
        return (
            "A change of programme is awaiting approval in process automation for this enrolment: "
            "approve or reject it first."
        )
    allowed = ALLOWED_FROM[kind]
    if status in allowed:
        return None
    needed = " or ".join(ProgrammeStatus(s).label for s in sorted(allowed))
    return f"{_WHAT[kind]} needs the learner to be {needed} on the programme; they are {ProgrammeStatus(status).label}."


def enrolment_circumstance_refusal(enrolment: Enrolment, kind: ChangeKind, *, approving: bool = False) -> str | None:
    """`circumstance_refusal` for `enrolment`, which must be on a programme: a sub-programme follows its programme."""
    if enrolment.programme.parent_id is not None:
        return (
            f"{enrolment.programme} is a sub-programme: change the circumstances on its programme, and the "
            "sub-programme follows."
        )
    return circumstance_refusal(kind, enrolment.status, approving=approving)


def break_problems(
    enrolment: Enrolment, *, effective_date: dt.date, reason: str, expected_return: dt.date | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if effective_date < enrolment.start_date:
        errors["effective_date"] = [f"The break cannot start before the learner started ({enrolment.start_date})."]
    if not reason.strip():
        errors["reason"] = ["Give the reason for the break."]
    elif len(reason.strip()) > REASON_MAX_LENGTH:
        errors["reason"] = [f"At most {REASON_MAX_LENGTH} characters."]
    elif "\x00" in reason:
        errors["reason"] = ["Text may not contain NUL characters."]
    if expected_return is not None and expected_return <= effective_date:
        errors["expected_return"] = ["The expected return must be after the last day of learning."]
    return errors


def return_problems(enrolment: Enrolment, *, return_date: dt.date, planned_end_date: dt.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    last_day = enrolment.actual_end_date
    if last_day is not None and return_date <= last_day:
        errors["return_date"] = [f"The learner returns after their last day of learning ({last_day})."]
    if planned_end_date < return_date:
        errors["planned_end_date"] = ["The planned end date cannot be before the return date."]
    return errors


def withdraw_problems(enrolment: Enrolment, *, effective_date: dt.date, withdraw_reason: int) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    first_possible = enrolment.actual_end_date or enrolment.start_date
    if effective_date < first_possible:
        errors["effective_date"] = [f"The withdrawal cannot be before {first_possible}."]
    if withdraw_reason not in WithdrawReason.values:
        codes = ", ".join(str(v) for v in WithdrawReason.values)
        errors["withdraw_reason"] = [f"Not an ILR withdrawal reason; one of {codes}."]
    elif withdraw_reason == CHANGE_OF_PROGRAMME_REASON:
        errors["withdraw_reason"] = ["Reason 40 (a new learning aim with the same provider) is a change of programme."]
    return errors


def change_programme_problems(
    enrolment: Enrolment, *, new_programme: Programme, start_date: dt.date, planned_end_date: dt.date
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if new_programme.pk == enrolment.programme_id:
        errors["programme"] = ["The learner is already on this programme."]
    elif new_programme.parent_id is not None:
        errors["programme"] = ["Choose a programme, not a sub-programme: its sub-programmes come with it."]
    # An Active learner ends the old programme the day before the new one starts; one on a break already ended it.
    if enrolment.actual_end_date is not None and start_date <= enrolment.actual_end_date:
        errors["start_date"] = [
            f"The new programme starts after the last day of learning ({enrolment.actual_end_date})."
        ]
    elif start_date <= enrolment.start_date:
        errors["start_date"] = [f"The new programme starts after the old one started ({enrolment.start_date})."]
    if planned_end_date < start_date:
        errors["planned_end_date"] = ["The planned end date cannot be before the start date."]
    return errors


def _last_day_on_change(enrolment: Enrolment, start_date: dt.date) -> dt.date:
    """LearnActEndDate of the old episode: the break's, for a learner on a break; else the day before the new start."""
    return enrolment.actual_end_date or start_date - dt.timedelta(days=1)


# The services


def enrolment_break(
    *,
    enrolment: Enrolment,
    by: AbstractBaseUser,
    effective_date: dt.date,
    reason: str,
    expected_return: dt.date | None = None,
    source: Source = Source.UI,
) -> Enrolment:
    """Put an Active learner on a break in learning from `effective_date`, their last day of learning."""
    kind = ChangeKind.BREAK_IN_LEARNING
    problems = partial(break_problems, effective_date=effective_date, reason=reason, expected_return=expected_return)
    with transaction.atomic():
        current = _locked(enrolment, kind, by=by, source=source, problems=problems)
        episode_of(current).update(status=_BREAK, actual_end_date=effective_date, updated_at=timezone.now())
        event = {
            "effective_date": effective_date.isoformat(),
            "reason": reason.strip(),
            "expected_return": expected_return.isoformat() if expected_return else None,
        }
        _record(current, kind, source=source, by=by, event=event)
    return _fresh(current)


def enrolment_return(
    *,
    enrolment: Enrolment,
    by: AbstractBaseUser,
    return_date: dt.date,
    planned_end_date: dt.date,
    source: Source = Source.UI,
) -> Enrolment:
    """Bring a learner back from a break: Active again, starting on `return_date` with a new planned end date."""
    kind = ChangeKind.RETURN_TO_LEARNING
    problems = partial(return_problems, return_date=return_date, planned_end_date=planned_end_date)
    with transaction.atomic():
        current = _locked(enrolment, kind, by=by, source=source, problems=problems)
        episode_of(current).update(
            status=_ACTIVE,
            original_start_date=Coalesce(F("original_start_date"), F("start_date")),
            start_date=return_date,
            planned_end_date=planned_end_date,
            actual_end_date=None,
            updated_at=timezone.now(),
        )
        event = {
            "effective_date": return_date.isoformat(),
            "return_date": return_date.isoformat(),
            "planned_end_date": planned_end_date.isoformat(),
            "original_start_date": (current.original_start_date or current.start_date).isoformat(),
            "break_last_day": current.actual_end_date.isoformat() if current.actual_end_date else None,
        }
        _record(current, kind, source=source, by=by, event=event)
    return _fresh(current)


def enrolment_withdraw(
    *,
    enrolment: Enrolment,
    by: AbstractBaseUser,
    effective_date: dt.date,
    withdraw_reason: int,
    source: Source = Source.UI,
) -> Enrolment:
    """Withdraw an Active learner, or one on a break, with an ILR WithdrawReason."""
    kind = ChangeKind.WITHDRAWAL
    problems = partial(withdraw_problems, effective_date=effective_date, withdraw_reason=withdraw_reason)
    with transaction.atomic():
        current = _locked(enrolment, kind, by=by, source=source, problems=problems)
        last_day = current.actual_end_date or effective_date
        episode_of(current).update(
            status=ProgrammeStatus.WITHDRAWN,
            actual_end_date=last_day,
            withdraw_reason=withdraw_reason,
            updated_at=timezone.now(),
        )
        event = {
            "effective_date": effective_date.isoformat(),
            "withdraw_reason": withdraw_reason,
            "actual_end_date": last_day.isoformat(),
        }
        _record(current, kind, source=source, by=by, event=event)
    return _fresh(current)


def enrolment_change_programme(
    *,
    enrolment: Enrolment,
    new_programme: Programme,
    by: AbstractBaseUser,
    start_date: dt.date,
    planned_end_date: dt.date,
    source: Source = Source.UI,
) -> Enrolment:
    """Move a learner to another programme: the old episode is withdrawn (reason 40) and a new one starts on
    `new_programme` (with its sub-programmes) and its learning plan. Returns the new programme's enrolment.

    The EPA registration follows the switching rules R-EPA-8…11 when the change comes from process automation.
    """
    kind = ChangeKind.CHANGE_OF_PROGRAMME
    problems = partial(
        change_programme_problems, new_programme=new_programme, start_date=start_date, planned_end_date=planned_end_date
    )
    with transaction.atomic():
        current = _locked(enrolment, kind, by=by, source=source, problems=problems)
        last_day = _last_day_on_change(current, start_date)
        episode_of(current).update(
            status=ProgrammeStatus.WITHDRAWN,
            actual_end_date=Coalesce(F("actual_end_date"), Value(last_day)),
            withdraw_reason=CHANGE_OF_PROGRAMME_REASON,
            updated_at=timezone.now(),
        )
        new = _episode_enrol(
            learner=current.learner,
            programme=new_programme,
            start_date=start_date,
            planned_end_date=planned_end_date,
            by=by,
            status=_ACTIVE,
        )
        event = {
            "effective_date": start_date.isoformat(),
            "start_date": start_date.isoformat(),
            "planned_end_date": planned_end_date.isoformat(),
            "actual_end_date": last_day.isoformat(),
        }
        _record(current, kind, source=source, by=by, event=event, new_enrolment_id=new.pk)
    return _fresh(new)


# Helpers


def _locked(
    enrolment: Enrolment,
    kind: ChangeKind,
    *,
    by: AbstractBaseUser,
    source: Source,
    problems: Callable[[Enrolment], Mapping[str, list[str]]],
) -> Enrolment:
    """The enrolment as it is now, locked until the change commits, if `by` may make the change `kind` on it and
    the change's values have no `problems` with it."""
    refusal = enrolment_change_refusal(staff_perms(by), PlanAction.EDIT)
    if refusal is not None:
        raise PermissionRefused(refusal.message)
    current = Enrolment.objects.select_for_update().select_related("programme", "learner").get(pk=enrolment.pk)
    if status_refusal := enrolment_circumstance_refusal(current, kind, approving=source == Source.AUTOMATION):
        raise CircumstanceRefused(status_refusal)
    if errors := problems(current):
        refuse(_WHAT[kind].removeprefix("A ").lower(), errors)
    return current


def episode_of(enrolment: Enrolment) -> QuerySet[Enrolment]:
    """The enrolment and the learner's enrolments on its sub-programmes that are in step with it."""
    subs = Q(learner_id=enrolment.learner_id, programme__parent_id=enrolment.programme_id, status=enrolment.status)
    return Enrolment.objects.filter(Q(pk=enrolment.pk) | subs)


def _record(
    enrolment: Enrolment,
    kind: ChangeKind,
    *,
    source: Source,
    by: AbstractBaseUser,
    event: dict[str, Any],
    new_enrolment_id: int | None = None,
) -> None:
    change = Change(
        kind,
        source,
        by.pk,
        enrolment_id=enrolment.pk,
        new_enrolment_id=new_enrolment_id,
        event={"kind": kind.value, **event},
    )
    outbox_record(learners=Learner.objects.filter(pk=enrolment.learner_id), change=change)


def _fresh(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.select_related("programme", "programme__parent", "learner").get(pk=enrolment.pk)
