"""Recording that professionals completed the programs they were enrolled in: the facts progress is counted from
(R-CUR-2: a Sessions milestone counts completed programs, a Credits milestone sums their credits).

A professional's own enrolments made without a registration, where a plan's registration is Disabled: enrolling
in a session or an activity, and cancelling such an enrolment. Only completions count towards progress and the
reports, so these leave the report rows as they are."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, NotFound, ValidationFailed
from waypoint.curriculum.models import (
    EnrolmentStatus,
    Program,
    ProgramEnrolment,
    ProgramKind,
    RegistrationType,
    Session,
)
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.curriculum.selectors import plans_visible_to
from waypoint.curriculum.services.registrations import sessions_with_room
from waypoint.people.services.checks import require_supervisor


def enrolments_set_completed(*, enrolments: QuerySet[ProgramEnrolment], completed: bool, by: AbstractBaseUser) -> int:
    """Mark the chosen enrolments completed (or, to correct a mistake, back to enrolled), in one UPDATE, and rewrite
    the report rows of the people concerned. Refused, changing nothing, when nothing is chosen or a chosen enrolment
    was cancelled (un-enrolled enrolments are history). Returns how many changed; already-completed ones stay as
    they were, with their completion date."""
    require_supervisor(by, "Recording program completions")
    with transaction.atomic():
        chosen = ProgramEnrolment.objects.select_for_update().filter(pk__in=enrolments.values("pk"))
        rows = list(chosen.select_related("person", "program").order_by("pk"))
        if not rows:
            raise ValidationFailed("Choose at least one enrolment.", fields={"enrolments": ["Choose one."]})
        cancelled = [
            f"{e.person.get_full_name() or e.person.get_username()} ({e.program})"
            for e in rows
            if e.status == EnrolmentStatus.CANCELLED
        ]
        if cancelled:
            raise ValidationFailed(
                f"These enrolments were cancelled, so they cannot be completed: {', '.join(cancelled)}.",
                fields={"enrolments": ["Cancelled."]},
            )
        now = timezone.now()
        if completed:
            changed = chosen.filter(status=EnrolmentStatus.ENROLLED).update(
                status=EnrolmentStatus.COMPLETED, completed_at=now, updated_at=now
            )
        else:
            changed = chosen.filter(status=EnrolmentStatus.COMPLETED).update(
                status=EnrolmentStatus.ENROLLED, completed_at=None, updated_at=now
            )
        report_rows_refresh(people=sorted({e.person_id for e in rows}))
    return changed


def _open_directly(person: AbstractBaseUser, program: Program) -> bool:
    """Whether the person may enrol in the program without a registration: it is linked to a plan whose
    registration is Disabled and that the person may open (published in a catalog, assigned to them, or in their
    My Learning), as the plan's preview shows it."""
    return (
        plans_visible_to(person.pk)
        .filter(registration_type=RegistrationType.DISABLED, milestones__links__program=program)
        .exists()
    )


def _refuse_if_already_enrolled(person: AbstractBaseUser, program: Program) -> None:
    held = ProgramEnrolment.objects.filter(person_id=person.pk, program=program).exclude(
        status=EnrolmentStatus.CANCELLED
    )
    status = held.values_list("status", flat=True).first()
    if status == EnrolmentStatus.COMPLETED:
        raise Conflict(f"You have already completed {program.name}.")
    if status is not None:
        raise Conflict(f"You are already enrolled in {program.name}.")


def program_enrol(*, person: AbstractBaseUser, program: Program, session: Session | None = None) -> ProgramEnrolment:
    """Enrol the person in one of the program's sessions, or in an activity (no session), without a registration.

    Refused, changing nothing, when: a session is given for an activity, or none for a program delivered in
    sessions; the session is another program's; the program is not open for direct enrolment (`_open_directly`);
    the person already holds an enrolment in the program that is not cancelled (enrolled or completed); the
    session has started or is full. A session's places are the enrolments in it that are not cancelled, as in the
    registration workflow; the session is locked first, so two people cannot take its last place at once.
    """
    if program.kind == ProgramKind.ACTIVITY and session is not None:
        raise ValidationFailed(
            f"{program.name} is an activity: it has no sessions; enrol in it without choosing one.",
            fields={"session_id": ["An activity has no sessions."]},
        )
    if program.kind == ProgramKind.PROGRAM and session is None:
        raise ValidationFailed(
            f"{program.name} is delivered in sessions: choose a session to enrol in.",
            fields={"session_id": ["Choose a session."]},
        )
    if session is not None and session.program_id != program.pk:
        raise ValidationFailed(
            f"That session is not one of {program.name}'s.", fields={"session_id": ["Not a session of this program."]}
        )
    if not _open_directly(person, program):
        raise ValidationFailed(f"{program.name} is not open for direct enrolment: enrol in it through a registration.")
    with transaction.atomic():
        now = timezone.now()
        if session is not None:
            chosen = Session.objects.filter(pk=session.pk)
            with_room = sessions_with_room(chosen, now)  # locks the session: the registration workflow's capacity rule
            fresh = chosen.first()
            if fresh is None:
                raise NotFound("That session no longer exists; reload the page and choose again.")
            if fresh.starts_at <= now:
                raise Conflict(f"The session {fresh} has started: choose another session.")
            if not with_room.exists():
                raise Conflict(f"The session {fresh} is full: choose another session.")
            session = fresh
        _refuse_if_already_enrolled(person, program)
        try:
            with transaction.atomic():
                return ProgramEnrolment.objects.create(person_id=person.pk, program=program, session=session)
        except IntegrityError as exc:
            raise Conflict(f"You are already enrolled in {program.name}; reload the page.") from exc


def enrolment_cancel(*, person: AbstractBaseUser, enrolment: ProgramEnrolment) -> ProgramEnrolment:
    """The person un-enrols themself from an enrolment they made directly: it becomes cancelled, freeing its place.

    Refused, changing nothing, when the enrolment is not theirs (as if it did not exist), is completed or already
    cancelled, was made through a registration (those end when an administrator deletes the registration,
    R-CUR-8), or its session has started.
    """
    with transaction.atomic():
        fresh = (
            ProgramEnrolment.objects.select_for_update(of=("self",))
            .select_related("program", "session")
            .filter(pk=enrolment.pk, person_id=person.pk)
            .first()
        )
        if fresh is None:
            raise NotFound("You have no such enrolment.")
        name = fresh.program.name
        if fresh.status == EnrolmentStatus.COMPLETED:
            raise Conflict(f"You have completed {name}: a completed enrolment cannot be cancelled.")
        if fresh.status == EnrolmentStatus.CANCELLED:
            raise Conflict(f"Your enrolment in {name} is already cancelled.")
        if fresh.registration_id is not None:
            raise Conflict(
                f"You enrolled in {name} through a registration: an administrator un-enrols you by deleting the "
                "registration."
            )
        now = timezone.now()
        if fresh.session is not None and fresh.session.starts_at <= now:
            raise Conflict(f"The session {fresh.session} has started: the enrolment can no longer be cancelled.")
        ProgramEnrolment.objects.filter(pk=fresh.pk).update(status=EnrolmentStatus.CANCELLED, updated_at=now)
        fresh.status, fresh.updated_at = EnrolmentStatus.CANCELLED, now
        return fresh
