"""Professionals' learning plan pages (seed 002): dashboard, My Learning, Program Catalog, plan preview and details,
the registration workflow, Add/Remove to My Learning, and, where a plan's registration is Disabled, enrolling in
its programs' sessions and activities from the plan's details (and cancelling such an enrolment).

These pages call a learning plan by the renameable term (`{% plan_term %}`, R-CUR-12).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from waypoint.core.errors import ApplicationError
from waypoint.curriculum.models import (
    Curriculum,
    EnrolmentStatus,
    Milestone,
    Program,
    ProgramEnrolment,
    ProgramKind,
    Registration,
    RegistrationStatus,
    RegistrationType,
    Session,
)
from waypoint.curriculum.selectors import AssignmentProgress, assignments_with_progress, plans_visible_to
from waypoint.curriculum.services.enrolments import enrolment_cancel, program_enrol
from waypoint.curriculum.services.registrations import (
    my_learning_add,
    my_learning_remove,
    registration_choose,
    registration_complete,
    registration_next_step,
    registration_start,
)
from waypoint.web.views.common import PAGE_SIZE, acting_user, tell_refusal

OPEN = (RegistrationStatus.STARTED, RegistrationStatus.REGISTERED)


def _visible_plans(user: Any) -> Any:
    return plans_visible_to(user.pk)


def _plan_or_404(request: HttpRequest, curriculum_id: int) -> Curriculum:
    found = _visible_plans(request.user).filter(pk=curriculum_id).first()
    if found is None:
        raise Http404("No such learning plan.")
    return found


def _open_registration(user: Any, plan: Curriculum) -> Registration | None:
    return Registration.objects.filter(curriculum=plan, person_id=user.pk, status__in=OPEN).first()


def professional_dashboard(request: HttpRequest) -> HttpResponse:
    """A professional's dashboard: their assigned plans with progress (called by the dashboard view)."""
    context = {"assigned": assignments_with_progress(acting_user(request).pk)}
    return render(request, "web/curriculum/pro_dashboard.html", context)


@login_required
@require_GET
def my_learning(request: HttpRequest) -> HttpResponse:
    assigned = assignments_with_progress(acting_user(request).pk)
    assigned_ids = {a.assignment.curriculum_id for a in assigned}
    registrations = list(
        Registration.objects.filter(person_id=acting_user(request).pk, status__in=OPEN)
        .exclude(curriculum_id__in=assigned_ids)
        .select_related("curriculum")
        .order_by("curriculum__name", "pk")
    )
    registered = dict(
        Registration.objects.filter(person_id=acting_user(request).pk, status__in=OPEN).values_list(
            "curriculum_id", "status"
        )
    )
    context = {"assigned": assigned, "registrations": registrations, "registered": registered}
    return render(request, "web/curriculum/my_learning.html", context)


@login_required
@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    plans = Curriculum.objects.filter(catalogs__isnull=False).distinct().order_by("name", "pk")
    for word in search.split():
        plans = plans.filter(Q(name__icontains=word) | Q(description__icontains=word))
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/curriculum/catalog.html", {"page": page, "search": search})


def _progress_for(user: Any, plan: Curriculum) -> AssignmentProgress | None:
    return next((a for a in assignments_with_progress(user.pk) if a.assignment.curriculum_id == plan.pk), None)


@dataclass(frozen=True)
class SessionOffer:
    """A session still to come, with its places left (None: no limit)."""

    session: Session
    places_left: int | None

    @property
    def full(self) -> bool:
        return self.places_left is not None and self.places_left <= 0


@dataclass(frozen=True)
class ProgramOffer:
    """A linked program as the person sees it: their open enrolment in it, and its sessions to come (shown where the
    plan's registration is Disabled)."""

    program: Program
    enrolment: ProgramEnrolment | None
    sessions: list[SessionOffer]
    now: dt.datetime

    @property
    def cancellable(self) -> bool:
        """A direct enrolment not yet completed whose session (if any) is still to come."""
        e = self.enrolment
        return (
            e is not None
            and e.status == EnrolmentStatus.ENROLLED
            and e.registration_id is None
            and (e.session is None or e.session.starts_at > self.now)
        )


def _sessions_to_come(program_ids: set[int], now: dt.datetime) -> dict[int, list[SessionOffer]]:
    """The programs' sessions still to come, each with its places left: one query. A place is taken by every
    enrolment in the session that is not cancelled, as the enrolment services count them."""
    offers: dict[int, list[SessionOffer]] = {pk: [] for pk in program_ids}
    taken = Count("enrolments", filter=~Q(enrolments__status=EnrolmentStatus.CANCELLED))
    for session in (
        Session.objects.filter(program_id__in=program_ids, starts_at__gt=now)
        .annotate(taken=taken)
        .order_by("starts_at", "pk")
    ):
        left = None if session.capacity is None else max(session.capacity - session.taken, 0)
        offers[session.program_id].append(SessionOffer(session, left))
    return offers


@login_required
@require_GET
def plan_detail(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    """The plan's preview and details: milestones, their programs, and the person's progress in each. Where the
    plan's registration is Disabled, each program's sessions to come, with Enrol and Cancel enrolment."""
    plan = _plan_or_404(request, curriculum_id)
    milestones = list(plan.milestones.order_by("position").prefetch_related("links__program"))
    assigned = _progress_for(request.user, plan)
    progress = {m.milestone_id: m for m in assigned.progress.milestones} if assigned else {}
    program_ids = {link.program_id for m in milestones for link in m.links.all()}
    enrolments = {
        e.program_id: e
        for e in ProgramEnrolment.objects.filter(person_id=acting_user(request).pk, program_id__in=program_ids)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .select_related("session")
    }
    direct = plan.registration_type == RegistrationType.DISABLED
    now = timezone.now()
    sessions = _sessions_to_come(program_ids, now) if direct else {}
    rows = [
        (
            m,
            progress.get(m.pk),
            [
                ProgramOffer(link.program, enrolments.get(link.program_id), sessions.get(link.program_id, []), now)
                for link in m.links.all()
            ],
        )
        for m in milestones
    ]
    context = {
        "plan": plan,
        "rows": rows,
        "assigned": assigned,
        "registration": _open_registration(request.user, plan),
        "may_register": not direct,
        "direct": direct,
        "offers_my_learning": plan.registration_type != RegistrationType.ENFORCED and plan.add_to_my_learning,
    }
    return render(request, "web/curriculum/plan_detail.html", context)


@login_required
@require_POST
def enrol(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    """Enrol in a session of a program linked to the plan, or in a linked activity, without a registration."""
    plan = _plan_or_404(request, curriculum_id)
    raw_program, raw_session = request.POST.get("program", ""), request.POST.get("session", "")
    program = (
        Program.objects.filter(pk=int(raw_program), links__milestone__curriculum=plan).distinct().first()
        if raw_program.isdigit()
        else None
    )
    if program is None:
        raise Http404("No such program in this plan.")
    session = None
    if raw_session:
        session = Session.objects.filter(pk=int(raw_session)).first() if raw_session.isdigit() else None
        if session is None:
            messages.error(request, "That session no longer exists; choose another.")
            return redirect("learning_plan", plan.pk)
    try:
        made = program_enrol(person=acting_user(request), program=program, session=session)
    except ApplicationError as e:
        tell_refusal(request, e)
    else:
        when = f" on {date_format(timezone.localtime(made.session.starts_at), 'D j M Y H:i')}" if made.session else ""
        messages.success(request, f"You are enrolled in {program.name}{when}.")
    return redirect("learning_plan", plan.pk)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_cancel_confirm(request: HttpRequest, curriculum_id: int, enrolment_id: int) -> HttpResponse:
    """Cancel enrolment, in two steps: this page asks, and posting its Yes cancels."""
    plan = _plan_or_404(request, curriculum_id)
    enrolment = (
        ProgramEnrolment.objects.filter(
            pk=enrolment_id, person_id=acting_user(request).pk, program__links__milestone__curriculum=plan
        )
        .select_related("program", "session")
        .distinct()
        .first()
    )
    if enrolment is None:
        raise Http404("You have no such enrolment in this plan.")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            enrolment_cancel(person=acting_user(request), enrolment=enrolment)
        except ApplicationError as e:
            tell_refusal(request, e)
        else:
            messages.success(request, f"Your enrolment in {enrolment.program.name} is cancelled.")
        return redirect("learning_plan", plan.pk)
    return render(request, "web/curriculum/enrolment_cancel.html", {"plan": plan, "enrolment": enrolment})


@login_required
@require_POST
def register_start(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    plan = _plan_or_404(request, curriculum_id)
    try:
        registration_start(curriculum=plan, person=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect("learning_plan", plan.pk)
    return redirect("learning_plan_register", plan.pk)


def _choices(milestone: Milestone) -> list[tuple[Program, list[Session]]]:
    """The milestone's linked programs, each with its sessions still to come."""
    now = timezone.now()
    links = list(milestone.links.select_related("program").order_by("position"))
    sessions: dict[int, list[Session]] = {link.program_id: [] for link in links}
    for session in Session.objects.filter(program_id__in=sessions, starts_at__gt=now).order_by("starts_at", "pk"):
        sessions[session.program_id].append(session)
    return [(link.program, sessions[link.program_id]) for link in links]


@login_required
@require_http_methods(["GET", "POST"])
def register_step(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    """The registration workflow, milestone by milestone, then the Review Summary (R-CUR-3)."""
    plan = _plan_or_404(request, curriculum_id)
    registration = _open_registration(request.user, plan)
    if registration is None:
        messages.info(request, "Start your registration first.")
        return redirect("learning_plan", plan.pk)
    status = 200
    if request.method == "POST":
        raw = request.POST.get("milestone", "")
        milestone = plan.milestones.filter(pk=int(raw)).first() if raw.isdigit() else None
        if milestone is None:
            raise Http404("No such milestone in this plan.")
        session_ids = [
            int(v) for k in request.POST if k.startswith("session_") for v in [request.POST.get(k, "")] if v.isdigit()
        ]
        activity_ids = [int(v) for v in request.POST.getlist("activities") if v.isdigit()]
        sessions = list(Session.objects.filter(pk__in=session_ids))
        activities = list(Program.objects.filter(pk__in=activity_ids, kind=ProgramKind.ACTIVITY))
        try:
            registration_choose(
                registration=registration, milestone=milestone, sessions=sessions, activities=activities
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            status = e.status
        else:
            messages.success(request, f"Enrolled for {milestone.name}.")
            return redirect("learning_plan_register", plan.pk)
    try:
        step = registration_next_step(registration)
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect("learning_plan", plan.pk)
    context = {
        "plan": plan,
        "step": step,
        "choices": _choices(step.milestone) if step.milestone else [],
        "registration": registration,
    }
    return render(request, "web/curriculum/register.html", context, status=status)


@login_required
@require_POST
def register_complete(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    plan = _plan_or_404(request, curriculum_id)
    registration = _open_registration(request.user, plan)
    if registration is None:
        raise Http404("No registration in progress.")
    try:
        registration_complete(registration=registration)
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect("learning_plan_register", plan.pk)
    messages.success(request, f"You are registered in {plan.name}.")
    return redirect("learning_plan", plan.pk)


@login_required
@require_POST
def my_learning_toggle(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    """Add the plan to, or remove it from, My Learning (R-CUR-8)."""
    plan = _plan_or_404(request, curriculum_id)
    adding = request.POST.get("action") == "add"
    try:
        if adding:
            my_learning_add(curriculum=plan, person=acting_user(request))
        else:
            my_learning_remove(curriculum=plan, person=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
    else:
        messages.success(
            request, f"{'Added' if adding else 'Removed'} {plan.name} {'to' if adding else 'from'} My Learning."
        )
    return redirect("learning_plan", plan.pk)
