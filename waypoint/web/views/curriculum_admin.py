"""Learning plan administration (seed 002, R-CUR-1…11): the hub, a plan and its milestones, Manage Users, reports.

Staff pages: they always say "Learning Plan"; the renameable term is for professionals' pages only (R-CUR-12).
"""

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from waypoint.core.errors import ApplicationError, PermissionRefused
from waypoint.curriculum import exports, reports
from waypoint.curriculum.models import (
    Assignment,
    Catalog,
    Curriculum,
    Milestone,
    MilestoneStatus,
    ProfessionalGroup,
    Program,
    Registration,
    RegistrationType,
)
from waypoint.curriculum.notifications import assignment_notifications_send, assignments_for_manual_send
from waypoint.curriculum.selectors import assigned_users_list, registered_users_list
from waypoint.curriculum.services import (
    CurriculumValues,
    MilestoneValues,
    catalogs_add,
    catalogs_remove,
    curriculum_create,
    curriculum_duplicate,
    curriculum_update,
    milestone_create,
    milestone_link_programs,
    milestone_reorder_programs,
    milestone_update,
    milestones_reorder,
)
from waypoint.curriculum.services.assignments import (
    assignment_override_milestone,
    curriculum_assign,
)
from waypoint.curriculum.services.registrations import registration_delete
from waypoint.people.access import staff_perms, staff_profile
from waypoint.web.forms_curriculum import (
    AssignForm,
    CatalogsForm,
    CurriculumForm,
    DuplicateForm,
    MilestoneForm,
    OverrideForm,
)
from waypoint.web.views.common import PAGE_SIZE, acting_user, submit, tell_refusal


def require_staff_page(request: HttpRequest) -> None:
    """Admin pages are for staff; a professional is refused."""
    if staff_profile(request.user) is None and not staff_perms(request.user):
        raise PermissionDenied("Learning plan administration is for staff.")


def _plan_or_404(curriculum_id: int) -> Curriculum:
    found = Curriculum.objects.filter(pk=curriculum_id).first()
    if found is None:
        raise Http404("No such learning plan.")
    return found


def _milestone_or_404(curriculum: Curriculum, milestone_id: int) -> Milestone:
    found = Milestone.objects.filter(pk=milestone_id, curriculum=curriculum).first()
    if found is None:
        raise Http404("No such milestone in this learning plan.")
    return found


def _attempt(request: HttpRequest, action: Any, success: str) -> bool:
    """Run one service call; tell the admin it worked, or why it was refused."""
    try:
        action()
    except ApplicationError as e:
        tell_refusal(request, e)
        return False
    messages.success(request, success)
    return True


# The hub


@login_required
@require_http_methods(["GET", "POST"])
def plan_list(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    if request.method == "POST":
        form = CatalogsForm(request.POST)
        chosen = Curriculum.objects.filter(pk__in=[int(v) for v in request.POST.getlist("plans") if v.isdigit()])
        if not form.is_valid():
            messages.error(request, "Choose at least one catalog, and Add or Remove.")
        else:
            catalogs = Catalog.objects.filter(pk__in=[c.pk for c in form.cleaned_data["catalogs"]])
            if form.cleaned_data["action"] == "add":
                _attempt(
                    request,
                    lambda: catalogs_add(curricula=chosen, catalogs=catalogs, by=acting_user(request)),
                    "Added the chosen learning plans to the chosen catalogs.",
                )
            else:
                _attempt(
                    request,
                    lambda: catalogs_remove(curricula=chosen, catalogs=catalogs, by=acting_user(request)),
                    "Removed the chosen learning plans from the chosen catalogs.",
                )
        return redirect(request.get_full_path())
    search = request.GET.get("q", "").strip()
    registration = request.GET.get("registration_type", "")
    plans = Curriculum.objects.annotate(
        milestone_count=Count("milestones", distinct=True),
        assigned_count=Count("assignments", distinct=True),
    ).order_by("name", "pk")
    for word in search.split():
        plans = plans.filter(Q(name__icontains=word) | Q(description__icontains=word))
    if registration in RegistrationType.values:
        plans = plans.filter(registration_type=registration)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "registration": registration,
        "registration_types": RegistrationType.choices,
        "catalogs_form": CatalogsForm(),
    }
    return render(request, "web/curriculum/plan_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    form = CurriculumForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda _: curriculum_create(by=acting_user(request), values=cast(CurriculumValues, form.values())),
        success=lambda plan: f"Created the learning plan {plan.name}. Next, add its milestones.",
        to=lambda plan: reverse("curriculum_edit", args=[plan.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    return render(request, "web/curriculum/plan_form.html", {"form": form, "plan": None}, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    form = CurriculumForm(request.POST if request.method == "POST" else None, initial=CurriculumForm.initial_for(plan))
    answer = submit(
        request,
        form,
        lambda _: curriculum_update(
            curriculum=plan, by=acting_user(request), changes=cast(CurriculumValues, form.values())
        ),
        success=lambda saved: f"Saved the learning plan {saved.name}.",
        to=reverse("curriculum_edit", args=[plan.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    milestones = list(plan.milestones.order_by("position").prefetch_related("links__program"))
    context = {
        "form": form,
        "plan": plan,
        "milestones": milestones,
        "duplicate_form": DuplicateForm(),
        "milestone_form": MilestoneForm(),
    }
    return render(request, "web/curriculum/plan_form.html", context, status=answer)


@login_required
@require_POST
def plan_duplicate(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    form = DuplicateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to duplicate.")
        return redirect("curriculum_edit", plan.pk)
    try:
        copy = curriculum_duplicate(curriculum=plan, mode=form.cleaned_data["mode"], by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect("curriculum_edit", plan.pk)
    messages.success(request, f"Duplicated {plan.name} as {copy.name}.")
    return redirect("curriculum_edit", copy.pk)


# Milestones


@login_required
@require_http_methods(["GET", "POST"])
def milestone_new(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    form = MilestoneForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda data: milestone_create(curriculum=plan, by=acting_user(request), values=cast(MilestoneValues, data)),
        success=lambda m: f"Added the milestone {m.name}.",
        to=lambda m: reverse("curriculum_milestone_edit", args=[plan.pk, m.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"form": form, "plan": plan, "milestone": None}
    return render(request, "web/curriculum/milestone_form.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, curriculum_id: int, milestone_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    milestone = _milestone_or_404(plan, milestone_id)
    form = MilestoneForm(
        request.POST if request.method == "POST" else None, initial=MilestoneForm.initial_for(milestone)
    )
    answer = submit(
        request,
        form,
        lambda data: milestone_update(
            milestone=milestone, by=acting_user(request), changes=cast(MilestoneValues, data)
        ),
        success=lambda m: f"Saved the milestone {m.name}.",
        to=reverse("curriculum_milestone_edit", args=[plan.pk, milestone.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    search = request.GET.get("q", "").strip()
    candidates = Program.objects.exclude(links__milestone=milestone).annotate(session_count=Count("sessions"))
    for word in search.split():
        candidates = candidates.filter(Q(name__icontains=word) | Q(code__icontains=word))
    context = {
        "form": form,
        "plan": plan,
        "milestone": milestone,
        "links": list(milestone.links.select_related("program").order_by("position")),
        "candidates": list(candidates.order_by("name", "pk")[:PAGE_SIZE]),
        "search": search,
    }
    return render(request, "web/curriculum/milestone_form.html", context, status=answer)


@login_required
@require_POST
def milestone_link(request: HttpRequest, curriculum_id: int, milestone_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    milestone = _milestone_or_404(plan, milestone_id)
    ids = [int(v) for v in request.POST.getlist("programs") if v.isdigit()]
    chosen = list(Program.objects.filter(pk__in=ids))
    _attempt(
        request,
        lambda: milestone_link_programs(milestone=milestone, programs=chosen, by=acting_user(request)),
        f"Linked {len(chosen)} program(s) to {milestone.name}.",
    )
    return redirect("curriculum_milestone_edit", plan.pk, milestone.pk)


def _moved(ids: list[int], moving: int, direction: str) -> list[int]:
    """`ids` with `moving` one place up or down."""
    if moving not in ids:
        return ids
    at = ids.index(moving)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
    return ids


@login_required
@require_POST
def milestone_move(request: HttpRequest, curriculum_id: int, milestone_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    milestone = _milestone_or_404(plan, milestone_id)
    ids = _moved(
        list(plan.milestones.order_by("position").values_list("pk", flat=True)),
        milestone.pk,
        request.POST.get("direction", ""),
    )
    _attempt(
        request,
        lambda: milestones_reorder(curriculum=plan, milestone_ids=ids, by=acting_user(request)),
        f"Moved {milestone.name} {request.POST.get('direction', '')}.",
    )
    return redirect("curriculum_edit", plan.pk)


@login_required
@require_POST
def milestone_program_move(
    request: HttpRequest, curriculum_id: int, milestone_id: int, program_id: int
) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    milestone = _milestone_or_404(plan, milestone_id)
    ids = _moved(
        list(milestone.links.order_by("position").values_list("program_id", flat=True)),
        program_id,
        request.POST.get("direction", ""),
    )
    _attempt(
        request,
        lambda: milestone_reorder_programs(milestone=milestone, program_ids=ids, by=acting_user(request)),
        "Changed the order of the linked programs.",
    )
    return redirect("curriculum_milestone_edit", plan.pk, milestone.pk)


def _reorder_answer(request: HttpRequest, save: Callable[[list[int]], str]) -> JsonResponse:
    """Answer a drag-to-reorder request: `save(ids)` puts the posted `order` ids in place (one service call) and
    says what it did. JSON, because the page's script shows the message or restores the previous order on refusal;
    a refused or malformed order changes nothing."""
    if staff_profile(request.user) is None and not staff_perms(request.user):
        return JsonResponse({"error": "Learning plan administration is for staff."}, status=403)
    posted = request.POST.getlist("order")
    if not all(value.isascii() and value.isdigit() for value in posted):
        return JsonResponse({"error": "The new order must list ids only, as whole numbers."}, status=400)
    try:
        message = save([int(value) for value in posted])
    except Http404 as e:
        return JsonResponse({"error": str(e)}, status=404)
    except PermissionRefused as e:
        return JsonResponse({"error": e.message}, status=403)
    except ApplicationError as e:
        stale = {"milestone_ids", "program_ids"} & set(e.fields)
        hint = " It may have changed since this page was shown: reload the page." if stale else ""
        return JsonResponse({"error": e.message + hint}, status=400)
    return JsonResponse({"message": message})


@login_required
@require_POST
def milestones_order(request: HttpRequest, curriculum_id: int) -> JsonResponse:
    """Put every milestone of a plan in the posted order (R-CUR-2: drag to reorder). Milestones always have an
    order, whether or not the plan enforces it: professionals see them numbered and register in them in turn."""

    def save(ids: list[int]) -> str:
        plan = _plan_or_404(curriculum_id)
        milestones_reorder(curriculum=plan, milestone_ids=ids, by=acting_user(request))
        return f"Saved the new order of the milestones of {plan.name}."

    return _reorder_answer(request, save)


@login_required
@require_POST
def milestone_programs_order(request: HttpRequest, curriculum_id: int, milestone_id: int) -> JsonResponse:
    """Put every program linked to a milestone in the posted order; refused unless the milestone enforces program
    order (R-CUR-2: drag to reorder when order is enforced)."""

    def save(ids: list[int]) -> str:
        milestone = _milestone_or_404(_plan_or_404(curriculum_id), milestone_id)
        milestone_reorder_programs(milestone=milestone, program_ids=ids, by=acting_user(request))
        return f"Saved the new order of the programs linked to {milestone.name}."

    return _reorder_answer(request, save)


@login_required
@require_POST
def plan_catalogs(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    """Add this plan to, or remove it from, the chosen catalogs (R-CUR-9)."""
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    form = CatalogsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose at least one catalog.")
        return redirect("curriculum_edit", plan.pk)
    plans = Curriculum.objects.filter(pk=plan.pk)
    catalogs = Catalog.objects.filter(pk__in=[c.pk for c in form.cleaned_data["catalogs"]])
    verb = catalogs_add if form.cleaned_data["action"] == "add" else catalogs_remove
    _attempt(
        request,
        lambda: verb(curricula=plans, catalogs=catalogs, by=acting_user(request)),
        "Added to the chosen catalogs." if verb is catalogs_add else "Removed from the chosen catalogs.",
    )
    return redirect("curriculum_edit", plan.pk)


# Manage Users (R-CUR-5…8)


@login_required
@require_http_methods(["GET", "POST"])
def plan_users(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    form = AssignForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            people, group = form.cleaned_data.get("people"), form.cleaned_data.get("group")
            try:
                result = curriculum_assign(
                    curriculum=plan,
                    people=people if people else None,
                    group=group,
                    by=acting_user(request),
                )
            except ApplicationError as e:
                tell_refusal(request, e)
                form.add_service_errors(e.fields)
                status = e.status
            else:
                messages.success(request, f"Assigned {plan.name} to {result.assigned} people.")
                if result.conflicts:
                    messages.warning(
                        request,
                        "Already assigned, so not reassigned (their due date and requirements stay as first "
                        f"assigned): {', '.join(result.conflicts)}.",
                    )
                return redirect("curriculum_users", plan.pk)
        else:
            status = 422
    tab = "registered" if request.GET.get("tab") == "registered" else "assigned"
    search = request.GET.get("q", "").strip()
    find = request.GET.get("find", "").strip()
    rows = (
        registered_users_list(plan, search=search) if tab == "registered" else assigned_users_list(plan, search=search)
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    milestones = list(plan.milestones.order_by("position"))
    assigned_rows: list[tuple[Any, list[tuple[Milestone, str]]]] = []
    if tab == "assigned":
        shown = MilestoneStatus.objects.filter(assignment__in=[a.pk for a in page.object_list])
        statuses = {
            (s.assignment_id, s.milestone_id): s.get_action_display()
            for s in shown.only("assignment_id", "milestone_id", "action")
        }
        assigned_rows = [(a, [(m, statuses.get((a.pk, m.pk), "")) for m in milestones]) for a in page.object_list]
    context = {
        "plan": plan,
        "form": form,
        "tab": tab,
        "search": search,
        "find": find,
        "candidates": _people_matching(find),
        "page": page,
        "assigned_rows": assigned_rows,
    }
    return render(request, "web/curriculum/plan_users.html", context, status=status)


def _people_matching(find: str) -> list[Any]:
    """The professionals whose name, username or email contains every word of `find`: the assign picker."""
    if not find:
        return []
    people = AssignForm.base_fields["people"].queryset  # type: ignore[attr-defined]
    for word in find.split():
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    return list(people[:PAGE_SIZE])


@login_required
@require_POST
def plan_notify(request: HttpRequest, curriculum_id: int) -> HttpResponse:
    """Send the assignment notification from Manage Users: to the people chosen, or to everyone assigned (R-CUR-10)."""
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    everyone = request.POST.get("to") == "everyone"
    people = None if everyone else [int(v) for v in request.POST.getlist("people") if v.isdigit()]
    if people == []:
        messages.error(request, "Choose the people to notify, or send to everyone assigned.")
        return redirect("curriculum_users", plan.pk)
    try:
        sent = assignment_notifications_send(assignments_for_manual_send(plan.pk, people), by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
    else:
        messages.success(request, f"Sent the assignment notification to {sent} people.")
    return redirect("curriculum_users", plan.pk)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_milestone(
    request: HttpRequest, curriculum_id: int, assignment_id: int, milestone_id: int
) -> HttpResponse:
    """No Action / Waived / Adjust Requirements for one person's milestone (R-CUR-6, R-CUR-7)."""
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    assignment = Assignment.objects.select_related("person", "group").filter(pk=assignment_id, curriculum=plan).first()
    if assignment is None:
        raise Http404("No such assignment.")
    milestone = _milestone_or_404(plan, milestone_id)
    current = assignment.milestone_statuses.filter(milestone=milestone).first()
    initial = (
        {"action": current.action, "units": current.units, "due_date": current.due_date, "notes": current.notes}
        if current
        else {"action": "no_action"}
    )
    form = OverrideForm(request.POST if request.method == "POST" else None, initial=initial)
    answer = submit(
        request,
        form,
        lambda data: assignment_override_milestone(
            assignment=assignment,
            milestone=milestone,
            action=data["action"],
            units=data["units"],
            due_date=data["due_date"],
            notes=data["notes"],
            confirm_detach=data["confirm_detach"],
            by=acting_user(request),
        ),
        success=lambda _: f"Saved {milestone.name} for {assignment.person.get_full_name()}.",
        to=reverse("curriculum_users", args=[plan.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"plan": plan, "assignment": assignment, "milestone": milestone, "form": form}
    return render(request, "web/curriculum/assignment_milestone.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def registration_remove(request: HttpRequest, curriculum_id: int, registration_id: int) -> HttpResponse:
    """Delete a registration, after a confirmation: un-enrols its workflow enrolments (R-CUR-8)."""
    require_staff_page(request)
    plan = _plan_or_404(curriculum_id)
    registration = Registration.objects.select_related("person").filter(pk=registration_id, curriculum=plan).first()
    if registration is None:
        raise Http404("No such registration.")
    answer = submit(
        request,
        None,
        lambda _: registration_delete(registration=registration, by=acting_user(request)),
        success=lambda n: (
            f"Deleted the registration of {registration.person.get_full_name()}; un-enrolled from {n} session(s)."
        ),
        to=reverse("curriculum_users", args=[plan.pk]) + "?tab=registered",
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"plan": plan, "registration": registration}
    return render(request, "web/curriculum/registration_delete.html", context, status=answer)


# Reports (R-CUR-11)

REPORTS = {
    "status-highlights": ("Learning Plan Status Highlights", reports.status_highlights_page),
    "people": ("People by Learning Plan", reports.people_by_plan_page),
}


def _report_filter(request: HttpRequest) -> reports.ReportFilter:
    def number(name: str) -> int | None:
        raw = request.GET.get(name, "")
        return int(raw) if raw.isdigit() else None

    status = request.GET.get("status", "")
    return reports.ReportFilter(
        plan=number("plan"),
        group=number("group"),
        status=status if status in reports.STATUSES else None,
        search=request.GET.get("q", "").strip(),
    )


@login_required
@require_GET
def report(request: HttpRequest, report: str) -> HttpResponse:
    require_staff_page(request)
    if report not in REPORTS:
        raise Http404("No such report.")
    title, page_of = REPORTS[report]
    flt = _report_filter(request)
    raw_page = request.GET.get("page", "")
    number = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    result = page_of(flt, page=number, page_size=PAGE_SIZE, chart=True)
    page = Paginator(range(result.count), PAGE_SIZE).get_page(result.page)
    counts = result.status_counts or {}
    total = sum(counts.values()) or 1
    chart = [
        (key, label, counts.get(key, 0), round(100 * counts.get(key, 0) / total), 22 * i)
        for i, (key, label) in enumerate(reports.STATUSES.items())
    ]
    context = {
        "report": report,
        "title": title,
        "result": result,
        "page": page,
        "chart": chart,
        "chart_height": 22 * len(chart),
        "rows": [(row, reports.STATUSES.get(row.status, row.status)) for row in result.rows],
        "plans": Curriculum.objects.order_by("name", "pk").only("pk", "name"),
        "groups": ProfessionalGroup.objects.order_by("name").only("pk", "name"),
        "statuses": reports.STATUSES.items(),
        "flt": flt,
        "query": request.GET.urlencode(),
    }
    return render(request, "web/curriculum/report.html", context)


@login_required
@require_GET
def report_download(request: HttpRequest, report: str, kind: str) -> HttpResponseBase:
    require_staff_page(request)
    if report not in REPORTS:
        raise Http404("No such report.")
    title = REPORTS[report][0]
    flt = _report_filter(request)
    filename = title.lower().replace(" ", "-")
    if kind == "csv":
        return exports.report_csv_response(report, flt, filename)
    return exports.report_xlsx_response(report, flt, filename, title)
