"""Learning plan set-up (seed 002): programs and their sessions with their rosters, catalogs, professional groups and
their members, notifications (R-CUR-10) and the term professionals see (R-CUR-12).

Staff pages, like the rest of learning plan administration: they always say "Learning Plan".
"""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from waypoint.core.csv_stream import csv_response
from waypoint.core.errors import ApplicationError, NotFound
from waypoint.curriculum.models import (
    Catalog,
    EnrolmentStatus,
    NotificationKind,
    ProfessionalGroup,
    Program,
    ProgramEnrolment,
    ProgramKind,
    Session,
)
from waypoint.curriculum.notifications import (
    notification_template_get,
    notification_template_list,
    notification_template_update,
)
from waypoint.curriculum.selectors import matching_words, roster
from waypoint.curriculum.services import (
    CatalogValues,
    MembersChange,
    ProgramValues,
    SessionValues,
    catalog_create,
    catalog_delete,
    catalog_update,
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_plans_assign,
    group_rename,
    program_create,
    program_update,
    session_create,
    session_delete,
    session_update,
)
from waypoint.curriculum.services.enrolments import enrolments_set_completed
from waypoint.curriculum.services.groups import group_plans
from waypoint.curriculum.terms import ADMIN_TERM, TERM_MAX_LENGTH, plan_term, term_update
from waypoint.web.forms_curriculum import AssignForm
from waypoint.web.forms_curriculum_setup import (
    CatalogForm,
    CompletionsForm,
    GroupForm,
    NotificationForm,
    ProgramForm,
    SessionForm,
    TermForm,
)
from waypoint.web.views.common import PAGE_SIZE, acting_user, submit, tell_refusal
from waypoint.web.views.curriculum_admin import require_staff_page

SETUP = "web/curriculum/setup/"


def _chosen_people(request: HttpRequest) -> QuerySet[Any]:
    ids = [int(v) for v in request.POST.getlist("people") if v.isdigit()]
    return get_user_model().objects.filter(pk__in=ids)


# Programs and sessions


def _program_or_404(program_id: int) -> Program:
    found = Program.objects.filter(pk=program_id).first()
    if found is None:
        raise Http404("No such program.")
    return found


def _session_or_404(program: Program, session_id: int) -> Session:
    found = Session.objects.select_related("program").filter(pk=session_id, program=program).first()
    if found is None:
        raise Http404("No such session of this program.")
    return found


@login_required
@require_http_methods(["GET"])
def program_list(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    search = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    programs = Program.objects.annotate(session_count=Count("sessions")).order_by("name", "pk")
    programs = matching_words(programs, search, "name", "code")
    if kind in ProgramKind.values:
        programs = programs.filter(kind=kind)
    page = Paginator(programs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "kind": kind, "kinds": ProgramKind.choices}
    return render(request, SETUP + "program_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def program_new(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    form = ProgramForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda data: program_create(by=acting_user(request), values=cast(ProgramValues, data)),
        success=lambda program: f"Created the program {program.name}.",
        to=lambda program: reverse("curriculum_program", args=[program.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    return render(request, SETUP + "program_form.html", {"form": form, "program": None}, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def program_edit(request: HttpRequest, program_id: int) -> HttpResponse:
    """The program's details, and its sessions with how many are enrolled in each."""
    require_staff_page(request)
    program = _program_or_404(program_id)
    form = ProgramForm(request.POST if request.method == "POST" else None, initial=ProgramForm.initial_for(program))
    answer = submit(
        request,
        form,
        lambda data: program_update(program=program, by=acting_user(request), changes=cast(ProgramValues, data)),
        success=lambda saved: f"Saved the program {saved.name}.",
        to=reverse("curriculum_program", args=[program.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    sessions = program.sessions.annotate(
        enrolled=Count("enrolments", filter=~Q(enrolments__status=EnrolmentStatus.CANCELLED))
    ).order_by("starts_at", "pk")
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    # A program's enrolments without a session (e.g. from when it was an activity) have their own roster.
    unscheduled = 0 if program.kind == ProgramKind.ACTIVITY else program.enrolments.filter(session=None).count()
    context = {"form": form, "program": program, "page": page, "unscheduled": unscheduled}
    return render(request, SETUP + "program_form.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, program_id: int) -> HttpResponse:
    require_staff_page(request)
    program = _program_or_404(program_id)
    form = SessionForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda data: session_create(program=program, by=acting_user(request), values=cast(SessionValues, data)),
        success=lambda session: f"Added the session of {session.starts_at:%d %b %Y %H:%M}.",
        to=reverse("curriculum_program", args=[program.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"form": form, "program": program, "session": None}
    return render(request, SETUP + "session_form.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, program_id: int, session_id: int) -> HttpResponse:
    require_staff_page(request)
    program = _program_or_404(program_id)
    session = _session_or_404(program, session_id)
    form = SessionForm(request.POST if request.method == "POST" else None, initial=SessionForm.initial_for(session))
    answer = submit(
        request,
        form,
        lambda data: session_update(session=session, by=acting_user(request), changes=cast(SessionValues, data)),
        success=lambda saved: f"Saved the session of {saved.starts_at:%d %b %Y %H:%M}.",
        to=reverse("curriculum_program", args=[program.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"form": form, "program": program, "session": session}
    return render(request, SETUP + "session_form.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def session_remove(request: HttpRequest, program_id: int, session_id: int) -> HttpResponse:
    """Delete a session, after a confirmation; refused while anyone is enrolled in it."""
    require_staff_page(request)
    program = _program_or_404(program_id)
    session = _session_or_404(program, session_id)
    answer = submit(
        request,
        None,
        lambda _: session_delete(session=session, by=acting_user(request)),
        success=lambda _: f"Deleted the session of {session.starts_at:%d %b %Y %H:%M}.",
        to=reverse("curriculum_program", args=[program.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"program": program, "session": session, "enrolments": session.enrolments.count()}
    return render(request, SETUP + "session_delete.html", context, status=answer)


# Rosters: who is enrolled in a session, or in an activity, and recording that they completed it (progress counts
# completed programs, R-CUR-2; the reports follow, R-CUR-11)


def _roster(program: Program, session: Session | None) -> QuerySet[ProgramEnrolment]:
    """A session's enrolments; with no session, the program's enrolments without one (an activity's)."""
    return ProgramEnrolment.objects.filter(program=program, session=session)


def _roster_rows(
    request: HttpRequest, enrolments: QuerySet[ProgramEnrolment]
) -> tuple[QuerySet[ProgramEnrolment], str, str]:
    """The roster as searched (every word in the person's name, username or email) and filtered by status."""
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    status = status if status in EnrolmentStatus.values else ""
    return roster(enrolments, search=search, status=status), search, status


def _completions_message(changed: int, chosen: int, completed: bool) -> str:
    state = "completed" if completed else "not completed"
    text = f"Marked {changed} enrolment(s) {state}; Learning Plan progress and reports now count them."
    if chosen > changed:
        text += f" {chosen - changed} of those chosen already were {state}."
    return text


def _roster_page(request: HttpRequest, program: Program, session: Session | None) -> HttpResponse:
    """The roster, searchable and paged; posted, the chosen enrolments are marked completed or not completed in one
    service call, and the admin comes back to the same page of the roster."""
    roster = _roster(program, session)
    form = CompletionsForm(request.POST if request.method == "POST" else None, roster=roster)
    chosen = len(set(request.POST.getlist("enrolments")))
    answer = submit(
        request,
        form,
        lambda data: enrolments_set_completed(
            enrolments=data["enrolments"], completed=form.completed, by=acting_user(request)
        ),
        success=lambda changed: _completions_message(changed, chosen, form.completed),
        to=request.get_full_path(),
        show_fields=lambda fields: None,  # the refusal's message names the enrolments; nothing to show per field
    )
    if isinstance(answer, HttpResponse):
        return answer
    rows, search, status = _roster_rows(request, roster)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = roster.aggregate(**{value: Count("pk", filter=Q(status=value)) for value in EnrolmentStatus.values})
    if session is None:
        csv_url = reverse("curriculum_program_roster_csv", args=[program.pk])
    else:
        csv_url = reverse("curriculum_session_roster_csv", args=[program.pk, session.pk])
    context = {
        "program": program,
        "session": session,
        "form": form,
        "page": page,
        "search": search,
        "status": status,
        "statuses": EnrolmentStatus.choices,
        "counts": [(label, counts[value]) for value, label in EnrolmentStatus.choices],
        "csv_url": csv_url,
        "query": request.GET.urlencode(),
    }
    return render(request, SETUP + "roster.html", context, status=answer)


ROSTER_HEADINGS = ["Person", "Username", "Email", "Status", "Enrolled On", "Completed On"]


def _roster_csv(request: HttpRequest, program: Program, session: Session | None) -> StreamingHttpResponse:
    """The roster as searched and filtered on the page, streamed: a large roster never sits in memory at once."""
    rows, _, _ = _roster_rows(request, _roster(program, session))

    lines = (
        [
            e.person.get_full_name() or e.person.get_username(),
            e.person.get_username(),
            e.person.email,
            e.get_status_display(),
            timezone.localdate(e.created_at),
            timezone.localdate(e.completed_at) if e.completed_at else None,
        ]
        for e in rows.iterator(chunk_size=2000)
    )
    name = f"roster-{slugify(program.code) or program.pk}"
    if session is not None:
        name += f"-{timezone.localtime(session.starts_at):%Y%m%d-%H%M}"
    return csv_response(filename=name, headings=ROSTER_HEADINGS, rows=lines)


@login_required
@require_http_methods(["GET", "POST"])
def session_roster(request: HttpRequest, program_id: int, session_id: int) -> HttpResponse:
    """The people enrolled in a session; mark the chosen ones completed or not completed."""
    require_staff_page(request)
    program = _program_or_404(program_id)
    return _roster_page(request, program, _session_or_404(program, session_id))


@login_required
@require_GET
def session_roster_csv(request: HttpRequest, program_id: int, session_id: int) -> StreamingHttpResponse:
    require_staff_page(request)
    program = _program_or_404(program_id)
    return _roster_csv(request, program, _session_or_404(program, session_id))


@login_required
@require_http_methods(["GET", "POST"])
def program_roster(request: HttpRequest, program_id: int) -> HttpResponse:
    """The people enrolled without a session: an activity's roster."""
    require_staff_page(request)
    return _roster_page(request, _program_or_404(program_id), None)


@login_required
@require_GET
def program_roster_csv(request: HttpRequest, program_id: int) -> StreamingHttpResponse:
    require_staff_page(request)
    return _roster_csv(request, _program_or_404(program_id), None)


# Catalogs (R-CUR-9)


def _catalog_or_404(catalog_id: int) -> Catalog:
    found = Catalog.objects.filter(pk=catalog_id).first()
    if found is None:
        raise Http404("No such catalog.")
    return found


@login_required
@require_http_methods(["GET"])
def catalog_list(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    search = request.GET.get("q", "").strip()
    catalogs = matching_words(
        Catalog.objects.annotate(plan_count=Count("curricula")).order_by("name", "pk"), search, "name"
    )
    page = Paginator(catalogs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, SETUP + "catalog_list.html", {"page": page, "search": search})


@login_required
@require_http_methods(["GET", "POST"])
def catalog_new(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    form = CatalogForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda data: catalog_create(by=acting_user(request), values=cast(CatalogValues, data)),
        success=lambda catalog: f"Created the catalog {catalog.name}.",
        to=lambda catalog: reverse("curriculum_catalog", args=[catalog.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    return render(request, SETUP + "catalog_form.html", {"form": form, "catalog": None}, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def catalog_edit(request: HttpRequest, catalog_id: int) -> HttpResponse:
    """Rename the catalog or change its description; the learning plans it lists."""
    require_staff_page(request)
    catalog = _catalog_or_404(catalog_id)
    form = CatalogForm(request.POST if request.method == "POST" else None, initial=CatalogForm.initial_for(catalog))
    answer = submit(
        request,
        form,
        lambda data: catalog_update(catalog=catalog, by=acting_user(request), changes=cast(CatalogValues, data)),
        success=lambda saved: f"Saved the catalog {saved.name}.",
        to=reverse("curriculum_catalog", args=[catalog.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    plans = catalog.curricula.order_by("name", "pk").only("pk", "name", "registration_type", "due_date")
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "catalog": catalog, "page": page}
    return render(request, SETUP + "catalog_form.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def catalog_remove(request: HttpRequest, catalog_id: int) -> HttpResponse:
    """Delete a catalog, after a confirmation; refused while it lists learning plans."""
    require_staff_page(request)
    catalog = _catalog_or_404(catalog_id)
    answer = submit(
        request,
        None,
        lambda _: catalog_delete(catalog=catalog, by=acting_user(request)),
        success=lambda _: f"Deleted the catalog {catalog.name}.",
        to=reverse("curriculum_catalog_list"),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"catalog": catalog, "plan_count": catalog.curricula.count()}
    return render(request, SETUP + "catalog_delete.html", context, status=answer)


# Professional groups (R-CUR-5, R-CUR-6)


def _group_or_404(group_id: int) -> ProfessionalGroup:
    found = ProfessionalGroup.objects.filter(pk=group_id).first()
    if found is None:
        raise Http404("No such professional group.")
    return found


@login_required
@require_http_methods(["GET"])
def group_list(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    search = request.GET.get("q", "").strip()
    groups = ProfessionalGroup.objects.annotate(member_count=Count("members")).order_by("name", "pk")
    page = Paginator(matching_words(groups, search, "name"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, SETUP + "group_list.html", {"page": page, "search": search})


@login_required
@require_http_methods(["GET", "POST"])
def group_new(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    form = GroupForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda data: group_create(by=acting_user(request), name=data["name"]),
        success=lambda group: f"Created the group {group.name}. Next, add its members.",
        to=lambda group: reverse("curriculum_group", args=[group.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    return render(request, SETUP + "group_form.html", {"form": form, "group": None}, status=answer)


def _people_matching(find: str, group: ProfessionalGroup) -> list[Any]:
    """Professionals not yet in the group whose name, username or email contains every word of `find`."""
    if not find:
        return []
    people = AssignForm.base_fields["people"].queryset.exclude(professional_groups=group)  # type: ignore[attr-defined]
    people = matching_words(people, find, "first_name", "last_name", "username", "email")
    return list(people[:PAGE_SIZE])


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, group_id: int) -> HttpResponse:
    """Rename the group; its members (searchable, paged), the people picker to add more, and its plans."""
    require_staff_page(request)
    group = _group_or_404(group_id)
    form = GroupForm(request.POST if request.method == "POST" else None, initial={"name": group.name})
    answer = submit(
        request,
        form,
        lambda data: group_rename(group=group, by=acting_user(request), name=data["name"]),
        success=lambda saved: f"Renamed the group to {saved.name}.",
        to=reverse("curriculum_group", args=[group.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    search = request.GET.get("q", "").strip()
    find = request.GET.get("find", "").strip()
    members = matching_words(
        group.members.order_by("last_name", "first_name", "pk"), search, "first_name", "last_name", "username", "email"
    )
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    member_count = group.members.count()
    plans = list(
        group_plans(group)
        .annotate(assigned=Count("assignments", filter=Q(assignments__person__professional_groups=group)))
        .order_by("name", "pk")
        .only("pk", "name")
    )
    context = {
        "form": form,
        "group": group,
        "page": page,
        "search": search,
        "find": find,
        "candidates": _people_matching(find, group),
        "member_count": member_count,
        "plans": [(plan, member_count - plan.assigned) for plan in plans],
        "lacking": any(member_count > plan.assigned for plan in plans),
    }
    return render(request, SETUP + "group_form.html", context, status=answer)


def _members_added(group: ProfessionalGroup, change: MembersChange) -> str:
    text = f"Added {change.changed} people to {group.name}."
    if change.unchanged:
        text += f" {change.unchanged} already were members."
    return text


@login_required
@require_POST
def group_members_add_view(request: HttpRequest, group_id: int) -> HttpResponse:
    """Add the chosen people. No plan is assigned by this; the group's page offers to."""
    require_staff_page(request)
    group = _group_or_404(group_id)
    try:
        change = group_members_add(group=group, people=_chosen_people(request), by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect("curriculum_group", group.pk)
    messages.success(request, _members_added(group, change))
    if change.changed and group_plans(group).exists():
        messages.info(
            request,
            "Adding members does not assign them the group's learning plans; "
            "use “Assign the group's plans to members who lack them” to do so.",
        )
    return redirect("curriculum_group", group.pk)


@login_required
@require_POST
def group_members_remove_view(request: HttpRequest, group_id: int) -> HttpResponse:
    """Remove the chosen members, after a confirmation step that names them and says what happens to their plans."""
    require_staff_page(request)
    group = _group_or_404(group_id)
    people = _chosen_people(request).filter(professional_groups=group)
    if request.POST.get("confirm") != "yes":
        chosen = list(people.order_by("last_name", "first_name", "pk")[:PAGE_SIZE])
        if not chosen:
            messages.error(request, "Choose at least one member to remove.")
            return redirect("curriculum_group", group.pk)
        return render(request, SETUP + "group_members_remove.html", {"group": group, "people": chosen})
    try:
        change = group_members_remove(group=group, people=people, by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect("curriculum_group", group.pk)
    text = f"Removed {change.changed} people from {group.name}."
    if change.detached:
        text += f" They keep {change.detached} learning plan assignment(s), now maintained individually."
    messages.success(request, text)
    return redirect("curriculum_group", group.pk)


@login_required
@require_POST
def group_assign_plans(request: HttpRequest, group_id: int) -> HttpResponse:
    """Give the members who lack them the learning plans assigned through the group."""
    require_staff_page(request)
    group = _group_or_404(group_id)
    try:
        assigned = group_plans_assign(group=group, by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
    else:
        messages.success(request, f"Made {assigned} assignment(s) of {group.name}'s learning plans.")
    return redirect("curriculum_group", group.pk)


@login_required
@require_http_methods(["GET", "POST"])
def group_remove(request: HttpRequest, group_id: int) -> HttpResponse:
    """Delete a group, after a confirmation; its members keep their plans, maintained individually."""
    require_staff_page(request)
    group = _group_or_404(group_id)
    answer = submit(
        request,
        None,
        lambda _: group_delete(group=group, by=acting_user(request)),
        success=lambda kept: (
            f"Deleted the group {group.name}."
            + (f" {kept} learning plan assignment(s) are now maintained individually." if kept else "")
        ),
        to=reverse("curriculum_groups"),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {
        "group": group,
        "member_count": group.members.count(),
        "assignment_count": group.assignments.count(),
    }
    return render(request, SETUP + "group_delete.html", context, status=answer)


# Notifications (R-CUR-10)


@login_required
@require_http_methods(["GET"])
def notification_list(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    return render(request, SETUP + "notification_list.html", {"templates": notification_template_list()})


@login_required
@require_http_methods(["GET", "POST"])
def notification_edit(request: HttpRequest, kind: str) -> HttpResponse:
    require_staff_page(request)
    try:
        template = notification_template_get(kind)
    except NotFound as e:
        raise Http404(e.message) from None
    form = NotificationForm(
        request.POST if request.method == "POST" else None, initial=NotificationForm.initial_for(template)
    )
    answer = submit(
        request,
        form,
        lambda _: notification_template_update(kind=template.kind, by=acting_user(request), **form.values()),
        success=lambda saved: f"Saved the notification {saved.get_kind_display()}.",
        to=reverse("curriculum_notifications"),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"form": form, "template": template, "is_deadline": template.kind == NotificationKind.DEADLINE}
    return render(request, SETUP + "notification_form.html", context, status=answer)


# The term professionals see (R-CUR-12)


@login_required
@require_http_methods(["GET", "POST"])
def term_edit(request: HttpRequest) -> HttpResponse:
    require_staff_page(request)
    form = TermForm(request.POST if request.method == "POST" else None, initial={"value": plan_term()})
    answer = submit(
        request,
        form,
        lambda data: term_update(value=data["value"], by=acting_user(request)),
        success=lambda saved: f"Professionals' pages now say “{saved.learning_plan}”.",
        to=reverse("curriculum_term"),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"form": form, "admin_term": ADMIN_TERM, "max_length": TERM_MAX_LENGTH, "current": plan_term()}
    return render(request, SETUP + "term_form.html", context, status=answer)
