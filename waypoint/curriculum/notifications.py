"""Learning Plan notifications by email (R-CUR-10): deadline, registration and assignment.

Each kind has one `NotificationTemplate` an admin edits: subject and body are Django templates rendered with
`plan`, `person`, `milestones` (each with `name`, `metric`, `units`, `due_date` and the `sessions` enrolled in it),
`due_date` and `term` (always "Learning Plan": notifications keep the admin term whatever professionals' pages
call it, R-CUR-12). A template applies to every plan (`all_curricula`) or to the plans it lists.

Deadline reminders: a person assigned a plan whose due date (the assignment's) is at most `days_before` days away
and not yet past gets one reminder for that due date. A run that was missed (a day without the daily task) is
caught up by the next run; a due date changed later earns a reminder for the new date. `NotificationSent` rows
(unique per kind, plan, person and due date) are written before the mail is sent, so a second run, even one
running at the same time, finds them and sends nothing again; a batch the mail server refuses is un-recorded so
that the next run retries it.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone

from waypoint.core.errors import NotFound, PermissionRefused, ValidationFailed
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    EnrolmentStatus,
    Milestone,
    MilestoneProgram,
    NotificationKind,
    NotificationSent,
    NotificationTemplate,
    ProgramEnrolment,
    Registration,
)
from waypoint.curriculum.terms import ADMIN_TERM
from waypoint.people.access import staff_perms, staff_profile
from waypoint.people.models import Perm

BATCH = 500

DEFAULTS: dict[str, dict[str, Any]] = {
    NotificationKind.DEADLINE: {
        "subject": "Learning Plan deadline: {{ plan.name }} is due on {{ due_date|date:'j F Y' }}",
        "body": (
            "Dear {{ person.first_name|default:person.username }},\n\n"
            "Your Learning Plan \"{{ plan.name }}\" is due on {{ due_date|date:'j F Y' }}.\n\n"
            "{% for m in milestones %}- {{ m.name }}{% if m.units %}: {{ m.units }} {{ m.metric }}{% endif %}"
            "{% if m.due_date %} (due {{ m.due_date|date:'j F Y' }}){% endif %}\n{% endfor %}"
        ),
    },
    NotificationKind.REGISTRATION: {
        "subject": "Learning Plan registration: {{ plan.name }}",
        "body": (
            "Dear {{ person.first_name|default:person.username }},\n\n"
            'You registered in the Learning Plan "{{ plan.name }}". What you enrolled in, by milestone:\n\n'
            "{% for m in milestones %}{{ m.name }}\n{% for s in m.sessions %}  - {{ s.program }}"
            "{% if s.starts_at %}, {{ s.starts_at|date:'j F Y H:i' }}{% endif %}\n"
            "{% empty %}  - nothing yet\n{% endfor %}{% endfor %}"
        ),
    },
    NotificationKind.ASSIGNMENT: {
        "subject": "Learning Plan assigned: {{ plan.name }}",
        "body": (
            "Dear {{ person.first_name|default:person.username }},\n\n"
            'You have been assigned the Learning Plan "{{ plan.name }}"'
            "{% if due_date %}, due on {{ due_date|date:'j F Y' }}{% endif %}.\n\n"
            "{% if plan.description %}{{ plan.description }}\n\n{% endif %}"
            "{% for m in milestones %}- {{ m.name }}{% if m.units %}: {{ m.units }} {{ m.metric }}{% endif %}"
            "{% if m.due_date %} (due {{ m.due_date|date:'j F Y' }}){% endif %}\n{% endfor %}"
        ),
    },
}


@dataclass(frozen=True)
class SessionLine:
    program: str
    starts_at: dt.datetime | None
    location: str


@dataclass(frozen=True)
class MilestoneLine:
    id: int
    name: str
    metric: str
    units: Decimal | None
    due_date: dt.date | None
    sessions: tuple[SessionLine, ...] = field(default=())


# -- templates ---------------------------------------------------------------------------------------------------


def notification_templates_ensure() -> None:
    """The three templates, created with their default wording where missing."""
    NotificationTemplate.objects.bulk_create(
        [NotificationTemplate(kind=kind, **values) for kind, values in DEFAULTS.items()], ignore_conflicts=True
    )


def notification_template_list() -> list[NotificationTemplate]:
    notification_templates_ensure()
    return list(NotificationTemplate.objects.prefetch_related("curricula").order_by("kind"))


def notification_template_get(kind: str) -> NotificationTemplate:
    if kind not in NotificationKind.values:
        raise NotFound(f"There is no notification {kind!r}; the kinds are {', '.join(NotificationKind.values)}.")
    notification_templates_ensure()
    return NotificationTemplate.objects.get(kind=kind)


def _template_problem(text: str) -> str | None:
    try:
        Template(text)
    except TemplateSyntaxError as exc:
        return f"The template cannot be read: {exc}"
    return None


@transaction.atomic
def notification_template_update(
    *,
    kind: str,
    by: AbstractBaseUser | AnonymousUser,
    enabled: bool | None = None,
    subject: str | None = None,
    body: str | None = None,
    days_before: int | None = None,
    all_curricula: bool | None = None,
    curricula: Sequence[int] | None = None,
) -> NotificationTemplate:
    """Change what a notification says and for which plans it is sent (R-CUR-10); Supervisors only."""
    if Perm.SUPERVISOR not in staff_perms(by):
        raise PermissionRefused("Only a Supervisor may change Learning Plan notifications.")
    template = notification_template_get(kind)
    problems: dict[str, list[str]] = {}
    for name, text in (("subject", subject), ("body", body)):
        if text is not None:
            problem = "Enter the text." if not text.strip() else _template_problem(text)
            if problem:
                problems[name] = [problem]
    if subject is not None and len(subject) > 200:
        problems["subject"] = ["The subject may be at most 200 characters."]
    if days_before is not None and not 0 <= days_before <= 365:
        problems["days_before"] = ["Days before the deadline must be between 0 and 365."]
    plans: list[Curriculum] = []
    if curricula is not None:
        plans = list(Curriculum.objects.filter(pk__in=set(curricula)))
        missing = sorted(set(curricula) - {p.pk for p in plans})
        if missing:
            problems["curricula"] = [f"No Learning Plan has the id {', '.join(map(str, missing))}."]
    chosen_all = template.all_curricula if all_curricula is None else all_curricula
    selected = plans if curricula is not None else None
    if not chosen_all and selected is not None and not selected:
        problems["curricula"] = ["Choose the Learning Plans this notification is for, or send it for all."]
    if problems:
        raise ValidationFailed("The notification could not be saved.", fields=problems)
    for name, value in (
        ("enabled", enabled),
        ("subject", subject),
        ("body", body),
        ("days_before", days_before),
        ("all_curricula", all_curricula),
    ):
        if value is not None:
            setattr(template, name, value)
    template.save()
    if selected is not None:
        template.curricula.set(selected)
    return template


def _applies(template: NotificationTemplate) -> Q:
    """Assignments (or registrations) of the plans the template is sent for."""
    if template.all_curricula:
        return Q()
    return Q(curriculum__in=template.curricula.values("pk"))


# -- rendering ---------------------------------------------------------------------------------------------------


def _milestones_by_plan(plan_ids: Iterable[int]) -> dict[int, list[MilestoneLine]]:
    by_plan: dict[int, list[MilestoneLine]] = defaultdict(list)
    for m in Milestone.objects.filter(curriculum_id__in=set(plan_ids)).order_by("curriculum_id", "position"):
        by_plan[m.curriculum_id].append(
            MilestoneLine(m.pk, m.name, m.get_metric_display().lower(), m.units, m.due_date)
        )
    return by_plan


def render(template: NotificationTemplate, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body as plain text; the subject on one line."""
    values = Context({**context, "term": ADMIN_TERM}, autoescape=False)
    subject = " ".join(Template(template.subject).render(values).split())
    return subject, Template(template.body).render(values)


def _message(template: NotificationTemplate, person: Any, context: dict[str, Any]) -> EmailMessage:
    subject, body = render(template, {**context, "person": person})
    return EmailMessage(subject=subject, body=body, to=[person.email])


def _send(messages: list[EmailMessage]) -> None:
    if messages:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages(messages)


# -- deadline ------------------------------------------------------------------------------------------------------


def deadline_candidates(today: dt.date, template: NotificationTemplate) -> QuerySet[Assignment]:
    """Assignments due within `days_before` days from `today` (not past) with no reminder for that due date."""
    reminded = NotificationSent.objects.filter(
        kind=NotificationKind.DEADLINE,
        curriculum=OuterRef("curriculum"),
        person=OuterRef("person"),
        about=Cast(OuterRef("due_date"), output_field=CharField()),
    )
    return (
        Assignment.objects.filter(
            _applies(template),
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=template.days_before),
            person__is_active=True,
        )
        .exclude(person__email="")
        .filter(~Exists(reminded))
    )


def deadline_notifications_send(today: dt.date | None = None) -> int:
    """Send every deadline reminder due on `today` (the local date by default); returns how many were sent."""
    today = today or timezone.localdate()
    template = notification_template_get(NotificationKind.DEADLINE)
    if not template.enabled:
        return 0
    sent = 0
    while True:
        batch = list(deadline_candidates(today, template).select_related("curriculum", "person").order_by("pk")[:BATCH])
        if not batch:
            return sent
        stamp = timezone.now()
        with transaction.atomic():
            NotificationSent.objects.bulk_create(
                [
                    NotificationSent(
                        kind=NotificationKind.DEADLINE,
                        curriculum_id=a.curriculum_id,
                        person_id=a.person_id,
                        about=a.due_date.isoformat() if a.due_date else "",
                        sent_at=stamp,
                    )
                    for a in batch
                ],
                ignore_conflicts=True,
            )
            # Rows another run recorded first are not ours to send.
            claimed = set(
                NotificationSent.objects.filter(
                    kind=NotificationKind.DEADLINE,
                    sent_at=stamp,
                    curriculum_id__in={a.curriculum_id for a in batch},
                ).values_list("curriculum_id", "person_id")
            )
        mine = [a for a in batch if (a.curriculum_id, a.person_id) in claimed]
        milestones = _milestones_by_plan(a.curriculum_id for a in mine)
        messages = [
            _message(
                template,
                a.person,
                {"plan": a.curriculum, "due_date": a.due_date, "milestones": milestones[a.curriculum_id]},
            )
            for a in mine
        ]
        try:
            _send(messages)
        except Exception:
            NotificationSent.objects.filter(kind=NotificationKind.DEADLINE, sent_at=stamp).delete()
            raise
        sent += len(messages)


# -- registration --------------------------------------------------------------------------------------------------


def _enrolled_by_milestone(registration: Registration, milestones: list[MilestoneLine]) -> list[MilestoneLine]:
    """Each milestone with the sessions (or activities) enrolled in through this registration."""
    links = MilestoneProgram.objects.filter(milestone__curriculum_id=registration.curriculum_id)
    milestone_of_program = {link.program_id: link.milestone_id for link in links}
    sessions: dict[int, list[SessionLine]] = defaultdict(list)
    enrolments = (
        ProgramEnrolment.objects.filter(registration=registration)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .select_related("program", "session")
        .order_by("session__starts_at", "program__name", "pk")
    )
    for e in enrolments:
        milestone_id = e.milestone_id or milestone_of_program.get(e.program_id)
        if milestone_id is not None:
            s = e.session
            sessions[milestone_id].append(
                SessionLine(e.program.name, s.starts_at if s else None, s.location if s else "")
            )
    return [
        MilestoneLine(m.id, m.name, m.metric, m.units, m.due_date, tuple(sessions.get(m.id, ()))) for m in milestones
    ]


def registration_notification_send(registration: Registration) -> bool:
    """Tell a professional what they enrolled in, per milestone, when they register (R-CUR-10)."""
    template = notification_template_get(NotificationKind.REGISTRATION)
    plan = registration.curriculum
    if not template.enabled:
        return False
    if not template.all_curricula and not template.curricula.filter(pk=plan.pk).exists():
        return False
    person = registration.person
    if not person.email or not person.is_active:
        return False
    milestones = _enrolled_by_milestone(registration, _milestones_by_plan([plan.pk])[plan.pk])
    assignment = Assignment.objects.filter(curriculum=plan, person=person).first()
    due_date = (assignment.due_date if assignment else None) or plan.due_date
    _send([_message(template, person, {"plan": plan, "due_date": due_date, "milestones": milestones})])
    NotificationSent.objects.create(
        kind=NotificationKind.REGISTRATION,
        curriculum=plan,
        person=person,
        about=f"registration {registration.pk}",
        sent_at=timezone.now(),
    )
    return True


# -- assignment ----------------------------------------------------------------------------------------------------


def assignment_notifications_send(
    assignments: QuerySet[Assignment] | Iterable[Assignment], by: AbstractBaseUser | AnonymousUser | None = None
) -> int:
    """Tell each assigned professional about the plan (R-CUR-10); returns how many were sent.

    Without `by` it is the automatic notice on assignment, sent only when the template is enabled and applies to
    the plan. With `by` an admin sends it from Manage Users: it goes even when the automatic notice is off, but
    still only for the plans the template applies to.
    """
    if by is not None and staff_profile(by) is None and not getattr(by, "is_superuser", False):
        raise PermissionRefused("Only an admin may send Learning Plan notifications.")
    template = notification_template_get(NotificationKind.ASSIGNMENT)
    if by is None and not template.enabled:
        return 0
    if isinstance(assignments, QuerySet):
        chosen = assignments
    else:
        chosen = Assignment.objects.filter(pk__in=[a.pk for a in assignments])
    sent = 0
    about = "automatic" if by is None else f"sent by {by.get_username()}"
    queryset = chosen.filter(_applies(template), person__is_active=True).exclude(person__email="")
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).select_related("curriculum", "person").order_by("pk")[:BATCH])
        if not batch:
            return sent
        last = batch[-1].pk
        milestones = _milestones_by_plan(a.curriculum_id for a in batch)
        messages = [
            _message(
                template,
                a.person,
                {
                    "plan": a.curriculum,
                    "due_date": a.due_date or a.curriculum.due_date,
                    "milestones": milestones[a.curriculum_id],
                    "group": a.group,
                },
            )
            for a in batch
        ]
        _send(messages)
        now = timezone.now()
        NotificationSent.objects.bulk_create(
            [
                NotificationSent(
                    kind=NotificationKind.ASSIGNMENT,
                    curriculum_id=a.curriculum_id,
                    person_id=a.person_id,
                    about=about,
                    sent_at=now,
                )
                for a in batch
            ]
        )
        sent += len(messages)


def assignments_for_manual_send(plan_id: int, people: Sequence[int] | None) -> QuerySet[Assignment]:
    """The assignments of a plan an admin chose in Manage Users: the people listed, or everyone assigned."""
    if not Curriculum.objects.filter(pk=plan_id).exists():
        raise NotFound("No such Learning Plan.")
    chosen = Assignment.objects.filter(curriculum_id=plan_id)
    if people is not None:
        chosen = chosen.filter(person_id__in=set(people))
        found = set(chosen.values_list("person_id", flat=True))
        missing = sorted(set(people) - found)
        if missing:
            raise ValidationFailed(
                "Some of the people chosen are not assigned this Learning Plan.",
                fields={"people": [f"Not assigned: {', '.join(map(str, missing))}."]},
            )
    return chosen
