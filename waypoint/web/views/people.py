"""People pages: a learner's details, employers and their contacts (managers), and staff members.

A change to any of them is recorded for the EPA platform by the service, with `Source.UI` (R-EPA-2…5).
"""

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from waypoint.core.errors import ApplicationError
from waypoint.core.outbox import Source
from waypoint.people.access import AnyUser, learner_visibility, staff_perms
from waypoint.people.models import Employer, Learner, Manager, Perm
from waypoint.people.selectors import employer_list as employer_search
from waypoint.people.selectors import manager_list, staff_list
from waypoint.people.services import (
    EmployerValues,
    LearnerValues,
    ManagerValues,
    StaffValues,
    employer_update,
    learner_update,
    manager_create,
    manager_update,
    require_staff,
    staff_update,
)
from waypoint.web.forms_people import (
    LEARNER_FIELD_LABELS,
    EmployerForm,
    LearnerDetailsForm,
    ManagerForm,
    SearchForm,
    StaffForm,
    managers_of,
)
from waypoint.web.views.common import PAGE_SIZE, acting_user, field_labels, learner_or_404, submit, submit_changes

STAFF_EDIT_REFUSAL = "Changing another staff member's details needs the Supervisor permission."


def staff_refusal(request: HttpRequest) -> str | None:
    """Why the signed-in user may not change people's records, if they may not."""
    try:
        require_staff(acting_user(request))
    except ApplicationError as e:
        return e.message
    return None


def _is_partial(request: HttpRequest, target: str) -> bool:
    return bool(request.headers.get("HX-Request")) and request.headers.get("HX-Target") == target


def _count(model: Any, field: str, extra: Any = None) -> Coalesce:
    """A correlated count of `model` rows whose `field` is the outer row: one subquery, however many rows."""
    rows = model.objects.filter(**{field: OuterRef("pk")})
    if extra is not None:
        rows = rows.filter(extra)
    counted = rows.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# A learner's details


@login_required
@require_http_methods(["GET", "POST"])
def learner_edit(request: HttpRequest, learner_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    form = LearnerDetailsForm(request.POST if request.method == "POST" else None, learner=learner)
    answer = submit_changes(
        request,
        form,
        lambda changes: learner_update(
            learner=learner, by=acting_user(request), changes=cast(LearnerValues, changes), source=Source.UI
        ),
        unchanged=f"Nothing to save: no detail of {learner.full_name} was changed.",
        success=lambda saved: f"Saved {saved.full_name}'s {field_labels(form.changes(), LEARNER_FIELD_LABELS)}.",
        to=reverse("learner_detail", args=[learner.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    refusal = staff_refusal(request)
    context = {"learner": learner, "form": form, "refusal": refusal, "crumbs": ["Edit details"]}
    return render(request, "web/people/learner_form.html", context, status=answer)


@login_required
@require_GET
def manager_options(request: HttpRequest) -> HttpResponse:
    """The manager select's options for the employer chosen on the learner form (htmx)."""
    raw = request.GET.get("employer") or ""
    managers = managers_of(int(raw) if raw.isdigit() else None)
    options = format_html_join(
        "", '<option value="{}">{} {}</option>', ((m.pk, m.first_name, m.surname) for m in managers)
    )
    return HttpResponse(mark_safe('<option value="">None</option>') + options)


# Employers and managers


@login_required
@require_GET
def employer_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    employers = employer_search(search=form.search()).annotate(
        manager_count=_count(Manager, "employer"),
        learner_count=_count(Learner, "employer", learner_visibility(request.user)),
    )
    page = Paginator(employers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page}
    template = (
        "web/people/_employer_grid.html" if _is_partial(request, "employer-grid") else "web/people/employers.html"
    )
    return render(request, template, context)


def _manager_url(manager: Manager) -> str:
    return reverse("employer_detail", args=[manager.employer_id]) + f"#manager-{manager.pk}"


def _employer_or_404(employer_id: int) -> Employer:
    employer = Employer.objects.filter(pk=employer_id).first()
    if employer is None:
        raise Http404("No such employer.")
    return employer


@login_required
@require_http_methods(["GET", "POST"])
def employer_detail(request: HttpRequest, employer_id: int) -> HttpResponse:
    employer = _employer_or_404(employer_id)
    form = EmployerForm(request.POST if request.method == "POST" else None, initial=EmployerForm.initial_for(employer))
    answer = submit_changes(
        request,
        form,
        lambda changes: employer_update(
            employer=employer, by=acting_user(request), changes=cast(EmployerValues, changes), source=Source.UI
        ),
        unchanged=f"Nothing to save: no detail of {employer.name} was changed.",
        success=lambda saved: f"Saved {saved.name}: {field_labels(form.changes(), {'edrs_number': 'EDRS number'})}.",
        to=reverse("employer_detail", args=[employer.pk]),
    )
    if isinstance(answer, HttpResponse):
        return answer
    managers = manager_list(employer_id=employer.pk).annotate(learner_count=_count(Learner, "manager"))
    context = {
        "employer": employer,
        "form": form,
        "managers": list(managers),
        "learner_count": Learner.objects.filter(learner_visibility(request.user), employer_id=employer.pk).count(),
        "learner_total": Learner.objects.filter(employer_id=employer.pk).count(),
        "refusal": staff_refusal(request),
    }
    return render(request, "web/people/employer_detail.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def manager_new(request: HttpRequest, employer_id: int) -> HttpResponse:
    employer = _employer_or_404(employer_id)
    form = ManagerForm(request.POST if request.method == "POST" else None)
    answer = submit(
        request,
        form,
        lambda data: manager_create(
            by=acting_user(request), values=cast(ManagerValues, {"employer": employer.pk, **data})
        ),
        success=lambda manager: f"Added {manager} as a contact of {employer.name}.",
        to=_manager_url,
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {"employer": employer, "form": form, "manager": None, "refusal": staff_refusal(request)}
    return render(request, "web/people/manager_form.html", context, status=answer)


@login_required
@require_http_methods(["GET", "POST"])
def manager_edit(request: HttpRequest, manager_id: int) -> HttpResponse:
    manager = Manager.objects.select_related("employer").filter(pk=manager_id).first()
    if manager is None:
        raise Http404("No such manager.")
    form = ManagerForm(request.POST if request.method == "POST" else None, initial=ManagerForm.initial_for(manager))
    answer = submit_changes(
        request,
        form,
        lambda changes: manager_update(
            manager=manager, by=acting_user(request), changes=cast(ManagerValues, changes), source=Source.UI
        ),
        unchanged=f"Nothing to save: no detail of {manager} was changed.",
        success=lambda saved: f"Saved {saved}'s {field_labels(form.changes())}.",
        to=_manager_url(manager),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {
        "employer": manager.employer,
        "manager": manager,
        "form": form,
        "learner_count": Learner.objects.filter(manager_id=manager.pk).count(),
        "refusal": staff_refusal(request),
    }
    return render(request, "web/people/manager_form.html", context, status=answer)


# Staff


def may_edit_staff(by: AnyUser, user: Any) -> str | None:
    """Why `by` may not change `user`'s details, if they may not: their own, or anyone's with Supervisor."""
    if by.pk == user.pk or Perm.SUPERVISOR in staff_perms(by):
        return None
    return STAFF_EDIT_REFUSAL


@login_required
@require_GET
def staff_list_view(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    staff = staff_list(search=form.search()).annotate(
        learner_count=_count(Learner, "tutor", learner_visibility(request.user))
    )
    page = Paginator(staff, PAGE_SIZE).get_page(request.GET.get("page"))
    supervisor = Perm.SUPERVISOR in staff_perms(request.user)
    context = {
        "form": form,
        "page": page,
        "rows": [(u, None if supervisor or u.pk == request.user.pk else STAFF_EDIT_REFUSAL) for u in page],
    }
    template = "web/people/_staff_grid.html" if _is_partial(request, "staff-grid") else "web/people/staff.html"
    return render(request, template, context)


def _staff_member_or_404(user_id: int) -> Any:
    users: QuerySet[Any] = get_user_model().objects.select_related("staff")
    user = users.filter(pk=user_id, staff__isnull=False).first()
    if user is None:
        raise Http404("No such staff member.")
    return user


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    member = _staff_member_or_404(user_id)
    form = StaffForm(request.POST if request.method == "POST" else None, initial=StaffForm.initial_for(member))
    name = _name(member)
    answer = submit_changes(
        request,
        form,
        lambda changes: staff_update(
            user=member, by=acting_user(request), changes=cast(StaffValues, changes), source=Source.UI
        ),
        unchanged=f"Nothing to save: no detail of {name} was changed.",
        success=lambda saved: (
            f"Saved {_whose(request, saved)} {field_labels(form.changes(), {'last_name': 'surname'})}."
        ),
        to=reverse("staff_list"),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {
        "member": member,
        "name": name,
        "form": form,
        "refusal": may_edit_staff(request.user, member),
        "learner_count": Learner.objects.filter(tutor_id=member.pk).count(),
    }
    return render(request, "web/people/staff_form.html", context, status=answer)


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def _whose(request: HttpRequest, user: Any) -> str:
    return "your" if user.pk == request.user.pk else f"{_name(user)}'s"
