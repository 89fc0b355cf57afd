"""A professional's registration in a learning plan, milestone by milestone, and Add to My Learning (R-CUR-3, 8).

- Enforced: the person enrols in every requirement, then selects Complete on the review summary to be registered.
  With auto-register on, milestones whose required sessions equal the offerings linked to them (`auto_registers`)
  are enrolled in automatically, so the person goes straight to the next milestone needing a choice, or to the
  summary when every milestone qualifies (R-CUR-3).
- Non-enforced: the person enrols as they go; the registration becomes Registered at its first enrolment, and
  Complete may be selected at any time (nothing is required).
- Disabled: there is no registration; everything is visible from the plan's preview.

Enrolments made through the workflow carry the registration and the milestone, so that deleting the registration
un-enrols exactly those (R-CUR-8). Electives and waived milestones are never steps: a person may still choose in
them, but nothing requires it.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, NotFound, ValidationFailed
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    EnrolmentStatus,
    Milestone,
    MilestoneAction,
    MilestoneProgram,
    MilestoneStatus,
    Program,
    ProgramEnrolment,
    ProgramKind,
    Registration,
    RegistrationStatus,
    RegistrationType,
    Session,
)
from waypoint.curriculum.notifications import registration_notification_send
from waypoint.curriculum.progress import MilestoneFacts, requirements_from_json, units_done
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.curriculum.rules import auto_registers
from waypoint.people.services.checks import require_supervisor

OPEN = (RegistrationStatus.STARTED, RegistrationStatus.REGISTERED)
OPEN_ENROLMENT = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)


@dataclass(frozen=True)
class MilestoneSummary:
    """Where the person stands in one milestone: what is required (None: nothing) and what they are enrolled in."""

    milestone_id: int
    name: str
    metric: str
    required: Decimal | None
    enrolled: Decimal
    program_ids: tuple[int, ...]

    @property
    def satisfied(self) -> bool:
        return self.required is None or self.enrolled >= self.required


@dataclass(frozen=True)
class Step:
    """The next step of the workflow: a milestone needing manual enrolment, or the review summary."""

    kind: Literal["milestone", "summary"]
    registration: Registration
    milestone: Milestone | None
    milestones: tuple[MilestoneSummary, ...] = field(default=())


@dataclass(frozen=True)
class _Plan:
    milestones: list[Milestone]
    links: dict[int, list[Program]]
    required: dict[int, Decimal | None]
    enrolled_program_ids: set[int]

    def facts(self, milestone: Milestone) -> MilestoneFacts:
        credits = {p.pk: p.credits for p in self.links[milestone.pk]}
        return MilestoneFacts(milestone.pk, milestone.metric, milestone.units, milestone.due_date, credits)

    def enrolled(self, milestone: Milestone) -> Decimal:
        return units_done(self.facts(milestone), frozenset(self.enrolled_program_ids))

    def summary(self) -> tuple[MilestoneSummary, ...]:
        return tuple(
            MilestoneSummary(
                m.pk,
                m.name,
                m.metric,
                self.required[m.pk],
                self.enrolled(m),
                tuple(p.pk for p in self.links[m.pk] if p.pk in self.enrolled_program_ids),
            )
            for m in self.milestones
        )


def _gather(registration: Registration) -> _Plan:
    """The plan's milestones and linked programs, the person's requirements and open enrolments: five queries."""
    milestones = list(Milestone.objects.filter(curriculum_id=registration.curriculum_id).order_by("position"))
    links: dict[int, list[Program]] = {m.pk: [] for m in milestones}
    for link in (
        MilestoneProgram.objects.filter(milestone__in=milestones)
        .select_related("program")
        .order_by("milestone_id", "position")
    ):
        links[link.milestone_id].append(link.program)
    required: dict[int, Decimal | None] = {m.pk: None if m.metric == "none" else m.units for m in milestones}
    assignment = Assignment.objects.filter(
        curriculum_id=registration.curriculum_id, person_id=registration.person_id
    ).first()
    if assignment is not None:
        for pk, units in requirements_from_json(assignment.requirements).items():
            if pk in required and required[pk] is not None:
                required[pk] = units
        for status in MilestoneStatus.objects.filter(assignment=assignment):
            if status.action == MilestoneAction.WAIVED:
                required[status.milestone_id] = None
            elif status.units is not None and required.get(status.milestone_id) is not None:
                required[status.milestone_id] = status.units
    enrolled = set(
        ProgramEnrolment.objects.filter(person_id=registration.person_id, status__in=OPEN_ENROLMENT).values_list(
            "program_id", flat=True
        )
    )
    return _Plan(milestones, links, required, enrolled)


def _open_registration(registration: Registration) -> Registration:
    """The registration, fresh and locked for the rest of the transaction; a cancelled one is refused."""
    fresh = (
        Registration.objects.select_for_update(of=("self",)).select_related("curriculum").filter(pk=registration.pk)
    ).first()
    if fresh is None or fresh.status not in OPEN:
        raise Conflict("This registration has been cancelled; start a new registration to enrol.")
    return fresh


def sessions_with_room(sessions: "QuerySet[Session]", now: dt.datetime) -> "QuerySet[Session]":
    """Of these sessions, those that have not started and have a place left. The sessions are locked first, so
    that two people cannot take the last place at once (PostgreSQL; SQLite writes one at a time anyway)."""
    list(sessions.select_for_update().values_list("pk", flat=True))
    taken = Count("enrolments", filter=~Q(enrolments__status=EnrolmentStatus.CANCELLED))
    return (
        sessions.filter(starts_at__gt=now)
        .annotate(taken=taken)
        .filter(Q(capacity__isnull=True) | Q(capacity__gt=F("taken")))
    )


def _first_sessions_with_room(program_ids: Sequence[int], now: dt.datetime) -> dict[int, Session]:
    """The first session with a place left of each of these programs."""
    first: dict[int, Session] = {}
    for session in sessions_with_room(Session.objects.filter(program_id__in=program_ids), now).order_by(
        "program_id", "starts_at", "pk"
    ):
        first.setdefault(session.program_id, session)
    return first


def _enrol(
    registration: Registration, milestone: Milestone, programs: Sequence[Program], sessions: dict[int, Session]
) -> list[ProgramEnrolment]:
    """One INSERT for every chosen program (a session for programs, none for activities)."""
    try:
        with transaction.atomic():
            made = ProgramEnrolment.objects.bulk_create(
                ProgramEnrolment(
                    person_id=registration.person_id,
                    program=program,
                    session=sessions.get(program.pk),
                    registration=registration,
                    milestone=milestone,
                )
                for program in programs
            )
    except IntegrityError as exc:
        raise Conflict("You are already enrolled in one of these programs; reload the page and choose again.") from exc
    if registration.status == RegistrationStatus.STARTED and (
        registration.curriculum.registration_type == RegistrationType.NON_ENFORCED
    ):
        _mark_registered(registration)
    return made


def _refresh(registration: Registration) -> None:
    """The registration's (plan, person) report row shows it (R-CUR-8, R-CUR-11)."""
    report_rows_refresh(plans=[registration.curriculum_id], people=[registration.person_id])


def _mark_registered(registration: Registration) -> None:
    """Registered now; the registration notice (R-CUR-10) is mailed once committed, and a mail server that fails
    is logged without undoing the registration."""
    now = timezone.now()
    Registration.objects.filter(pk=registration.pk).update(
        status=RegistrationStatus.REGISTERED, completed_at=now, updated_at=now
    )
    registration.status, registration.completed_at = RegistrationStatus.REGISTERED, now
    _refresh(registration)
    registered = Registration.objects.select_related("curriculum", "person").filter(pk=registration.pk)
    transaction.on_commit(lambda: registration_notification_send(registered.get()), robust=True)


def registration_start(*, curriculum: Curriculum, person: AbstractBaseUser) -> Registration:
    """Start (or resume) the person's registration in the plan (R-CUR-8); refused when registration is Disabled."""
    if curriculum.registration_type == RegistrationType.DISABLED:
        raise ValidationFailed(
            "This learning plan has no registration: its programs are open to you from the plan's preview."
        )
    with transaction.atomic():
        existing = Registration.objects.filter(curriculum=curriculum, person_id=person.pk, status__in=OPEN).first()
        if existing is not None:
            if existing.status == RegistrationStatus.REGISTERED:
                raise Conflict("You are already registered in this learning plan.")
            return existing
        try:
            with transaction.atomic():
                made = Registration.objects.create(curriculum=curriculum, person_id=person.pk)
        except IntegrityError as exc:
            raise Conflict("Your registration was started elsewhere a moment ago; reload the page.") from exc
        _refresh(made)
        return made


def registration_next_step(registration: Registration) -> Step:
    """The next milestone needing manual enrolment, or the review summary (R-CUR-3).

    With auto-register on an Enforced plan, a milestone where `auto_registers` holds is enrolled in automatically:
    each linked activity, and the first session with a place left of each linked program. A milestone whose
    sessions are full is left for the person to choose in.
    """
    with transaction.atomic():
        registration = _open_registration(registration)
        curriculum = registration.curriculum
        plan = _gather(registration)
        automatic = curriculum.registration_type == RegistrationType.ENFORCED and curriculum.auto_register
        for milestone in plan.milestones:
            required = plan.required[milestone.pk]
            if required is None or plan.enrolled(milestone) >= required:
                continue
            linked = plan.links[milestone.pk]
            if automatic and auto_registers(milestone.metric, required, len(linked)):
                missing = [p for p in linked if p.pk not in plan.enrolled_program_ids]
                wanting = [p.pk for p in missing if p.kind == ProgramKind.PROGRAM]
                sessions = _first_sessions_with_room(wanting, timezone.now())
                if all(pk in sessions for pk in wanting):
                    _enrol(registration, milestone, missing, sessions)
                    plan.enrolled_program_ids.update(p.pk for p in missing)
                    continue
            return Step("milestone", registration, milestone, plan.summary())
        return Step("summary", registration, None, plan.summary())


def registration_choose(
    *,
    registration: Registration,
    milestone: Milestone,
    sessions: Sequence[Session] = (),
    activities: Sequence[Program] = (),
) -> list[ProgramEnrolment]:
    """Enrol the person in sessions and activities of one milestone through the workflow.

    Refused, changing nothing, when: the plan has no registration; the milestone is not the plan's; a session or
    activity is not linked to the milestone; two sessions of one program are chosen; a session has started or is
    full; the plan enforces milestone order and an earlier milestone's requirement is not yet enrolled for; the
    milestone enforces program order and an earlier linked program is neither enrolled in nor chosen.
    """
    if not sessions and not activities:
        raise ValidationFailed("Choose at least one session or activity.")
    with transaction.atomic():
        registration = _open_registration(registration)
        curriculum = registration.curriculum
        if curriculum.registration_type == RegistrationType.DISABLED:
            raise ValidationFailed("This learning plan has no registration; enrol in its programs directly.")
        if milestone.curriculum_id != curriculum.pk:
            raise ValidationFailed("That milestone belongs to another learning plan.")
        plan = _gather(registration)
        linked = plan.links[milestone.pk]
        linked_ids = {p.pk: p for p in linked}
        session_programs = [s.program_id for s in sessions]
        if len(set(session_programs)) != len(session_programs):
            raise ValidationFailed("Choose one session per program.")
        for session in sessions:
            program = linked_ids.get(session.program_id)
            if program is None or program.kind != ProgramKind.PROGRAM:
                raise ValidationFailed(f"The session {session} is not of a program linked to {milestone.name}.")
        for activity in activities:
            if activity.pk not in linked_ids or activity.kind != ProgramKind.ACTIVITY:
                raise ValidationFailed(f"{activity} is not an activity linked to {milestone.name}.")
        chosen = [linked_ids[pk] for pk in session_programs] + [linked_ids[a.pk] for a in activities]
        already = [p.name for p in chosen if p.pk in plan.enrolled_program_ids]
        if already:
            raise Conflict(f"You are already enrolled in {', '.join(already)}.")
        if curriculum.milestone_order_enforced:
            for earlier in plan.milestones:
                if earlier.position >= milestone.position:
                    break
                required = plan.required[earlier.pk]
                if required is not None and plan.enrolled(earlier) < required:
                    raise ValidationFailed(
                        f"This learning plan takes its milestones in order: enrol in {earlier.name} first."
                    )
        if milestone.program_order_enforced:
            chosen_ids = {p.pk for p in chosen}
            last = max(index for index, p in enumerate(linked) if p.pk in chosen_ids)
            skipped = [p.name for p in linked[:last] if p.pk not in chosen_ids | plan.enrolled_program_ids]
            if skipped:
                raise ValidationFailed(
                    f"{milestone.name} takes its programs in order: enrol in {', '.join(skipped)} first."
                )
        chosen_sessions = Session.objects.filter(pk__in=[s.pk for s in sessions])
        with_room = set(sessions_with_room(chosen_sessions, timezone.now()).values_list("pk", flat=True))
        unavailable = [str(s) for s in sessions if s.pk not in with_room]
        if unavailable:
            full = "; ".join(unavailable)
            raise Conflict(f"These sessions are full or have started: {full}. Choose another session.")
        return _enrol(registration, milestone, chosen, {s.program_id: s for s in sessions})


def registration_complete(*, registration: Registration) -> Registration:
    """Submit the registration from the review summary: the person is Registered (R-CUR-8).

    On an Enforced plan this is refused, changing nothing, until every requirement is enrolled for (R-CUR-1).
    """
    with transaction.atomic():
        registration = _open_registration(registration)
        if registration.status == RegistrationStatus.REGISTERED:
            return registration
        if registration.curriculum.registration_type == RegistrationType.ENFORCED:
            plan = _gather(registration)
            missing = [s.name for s in plan.summary() if not s.satisfied]
            if missing:
                raise ValidationFailed(
                    "Registration in this learning plan needs an enrolment in every requirement; still to choose: "
                    f"{', '.join(missing)}."
                )
        _mark_registered(registration)
    return registration


def registration_delete(*, registration: Registration, by: AbstractBaseUser) -> int:
    """Delete a person's registration from Manage Users (R-CUR-8): every enrolment made through its workflow that is
    still open is un-enrolled (one UPDATE), and only those; enrolments made any other way stay. Completed
    enrolments are history and stay completed. The registration shows as cancelled in reports.

    Returns the number of enrolments un-enrolled.
    """
    require_supervisor(by, "Deleting a registration")
    with transaction.atomic():
        registration = _open_registration(registration)
        now = timezone.now()
        unenrolled = ProgramEnrolment.objects.filter(registration=registration, status=EnrolmentStatus.ENROLLED).update(
            status=EnrolmentStatus.CANCELLED, updated_at=now
        )
        Registration.objects.filter(pk=registration.pk).update(
            status=RegistrationStatus.CANCELLED, cancelled_at=now, updated_at=now
        )
        _refresh(registration)
    return unenrolled


def _offers_my_learning(curriculum: Curriculum) -> None:
    if curriculum.registration_type == RegistrationType.ENFORCED:
        raise ValidationFailed(
            "This learning plan needs registration in every requirement; register for it instead of adding it to "
            "My Learning."
        )
    if not curriculum.add_to_my_learning:
        raise ValidationFailed("This learning plan does not offer Add to My Learning.")


def my_learning_add(*, curriculum: Curriculum, person: AbstractBaseUser) -> Registration:
    """Add the plan to the person's My Learning (R-CUR-8): a started registration, shown as such in reports.

    Only on a plan that is not Enforced and shows the button. A person already registered keeps their registration.
    """
    _offers_my_learning(curriculum)
    with transaction.atomic():
        existing = Registration.objects.filter(curriculum=curriculum, person_id=person.pk, status__in=OPEN).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                made = Registration.objects.create(curriculum=curriculum, person_id=person.pk, via_my_learning=True)
        except IntegrityError as exc:
            raise Conflict("This learning plan was added to your My Learning a moment ago; reload the page.") from exc
        _refresh(made)
        return made


def my_learning_remove(*, curriculum: Curriculum, person: AbstractBaseUser) -> Registration:
    """Remove the plan from the person's My Learning (R-CUR-8): the registration is cancelled, shown as such in
    reports. Removing a bookmark is not un-enrolling: enrolments the person made stay (an administrator deletes the
    registration to un-enrol them). A registration made through the workflow is not removed this way."""
    _offers_my_learning(curriculum)
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .filter(curriculum=curriculum, person_id=person.pk, status__in=OPEN)
            .first()
        )
        if registration is None:
            raise NotFound("This learning plan is not in your My Learning.")
        if not registration.via_my_learning:
            raise Conflict(
                "You registered in this learning plan through its registration workflow; ask an administrator to "
                "delete the registration."
            )
        now = timezone.now()
        Registration.objects.filter(pk=registration.pk).update(
            status=RegistrationStatus.CANCELLED, cancelled_at=now, updated_at=now
        )
        registration.status, registration.cancelled_at = RegistrationStatus.CANCELLED, now
        _refresh(registration)
    return registration
