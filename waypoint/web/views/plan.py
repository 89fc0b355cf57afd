"""Changing one learner's plan: edit, add, re-add, delete a component, schedule a review.

Every page lives under /learners/<id>/ so that it stays inside the record visit (R-SYNC-12), and every
write goes through a plans service with that visit.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from waypoint.core.errors import ApplicationError, NotFound
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import Component
from waypoint.plans.permissions import QA_FLAG, PlanAction, plan_change_refusal
from waypoint.plans.services import component_add, component_delete, component_readd, component_update
from waypoint.plans.services.reviews import REVIEW_SCHEDULE_FIELD, review_schedule
from waypoint.programmes.models import ComponentType, Enrolment
from waypoint.web.forms import ComponentForm, ReaddForm, ReviewScheduleForm, editable_fields
from waypoint.web.queries import component_get_for, enrolment_get_for
from waypoint.web.views.common import acting_user, learner_or_404, tell_refusal, visit_id


def _component_or_404(learner: Learner, component_id: int) -> Component:
    try:
        return component_get_for(learner, component_id)
    except NotFound as e:
        raise Http404(e.message) from None


def _enrolment_or_404(learner: Learner, enrolment_id: int) -> Enrolment:
    try:
        return enrolment_get_for(learner, enrolment_id)
    except NotFound as e:
        raise Http404(e.message) from None


def _record_url(learner: Learner) -> str:
    return reverse("learner_detail", args=[learner.pk])


@login_required
@require_http_methods(["GET", "POST"])
def component_edit(request: HttpRequest, learner_id: int, component_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    component = _component_or_404(learner, component_id)
    perms = staff_perms(request.user)
    others = [f for f in EDITABLE_FIELDS if f != QA_FLAG]
    full = plan_change_refusal(perms, PlanAction.EDIT, finished=component.is_finished, fields=others)
    qa = plan_change_refusal(perms, PlanAction.EDIT, finished=component.is_finished, fields=[QA_FLAG])
    editable = editable_fields(full_refusal=full, qa_refusal=qa)
    # With nothing open to this admin, a submission is still parsed in full so that the service refuses it
    # and says why, rather than the form silently dropping every value.
    form = ComponentForm(
        request.POST if request.method == "POST" else None,
        initial=ComponentForm.initial_for(component),
        criteria=component.enrolment.programme.criteria,
        editable=editable or EDITABLE_FIELDS,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = component_update(
                component=component,
                by=acting_user(request),
                changes=form.values(),
                visit_id=visit_id(request),
                expected_revision=form.cleaned_data.get("revision"),
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            if saved.revision == component.revision:
                messages.info(request, f"Nothing to save: no attribute of “{component.name}” was changed.")
            else:
                messages.success(request, f"Saved “{saved.name}”.")
            return redirect(_record_url(learner) + f"#component-{component.pk}")
    elif request.method == "POST":
        status = 422
    form.lock(open_fields=editable)
    context = {
        "learner": learner,
        "component": component,
        "form": form,
        "refusal": full.message if full else None,
        "qa_only": editable == (QA_FLAG,),
        "crumbs": [component.name, "Edit"],
        "may_submit": bool(editable),
    }
    return render(request, "web/plan/component_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def component_create(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    refusal = plan_change_refusal(staff_perms(request.user), PlanAction.ADD, finished=False)
    initial = {"owner": learner.tutor_id, "type": ComponentType.LEARNING_ACTIVITY, "min_evidence": 0}
    form = ComponentForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        criteria=enrolment.programme.criteria,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            component = component_add(
                enrolment=enrolment, by=acting_user(request), values=form.values(), visit_id=visit_id(request)
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            messages.success(request, f"Added “{component.name}” to the learning plan.")
            return redirect(_record_url(learner) + f"#component-{component.pk}")
    elif request.method == "POST":
        status = 422
    if refusal:
        form.lock(open_fields=())
    context = {
        "learner": learner,
        "enrolment": enrolment,
        "form": form,
        "crumbs": ["Add a component"],
        "refusal": refusal.message if refusal else None,
        "may_submit": refusal is None,
    }
    return render(request, "web/plan/component_form.html", context, status=status)


@login_required
@require_POST
def component_readd_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = ReaddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a removed template component to add back.")
        return redirect(_record_url(learner))
    try:
        component = component_readd(
            enrolment=enrolment,
            template_id=form.cleaned_data["template"],
            by=acting_user(request),
            visit_id=visit_id(request),
        )
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(_record_url(learner))
    messages.success(request, f"Added “{component.name}” back to the learning plan.")
    return redirect(_record_url(learner) + f"#component-{component.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def component_delete_view(request: HttpRequest, learner_id: int, component_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    component = _component_or_404(learner, component_id)
    refusal = plan_change_refusal(staff_perms(request.user), PlanAction.DELETE, finished=component.is_finished)
    status = 200
    if request.method == "POST":
        try:
            component_delete(component=component, by=acting_user(request), visit_id=visit_id(request))
        except ApplicationError as e:
            tell_refusal(request, e)
            status = e.status
        else:
            messages.success(request, f"Deleted “{component.name}” from the learning plan.")
            return redirect(_record_url(learner))
    context = {
        "learner": learner,
        "component": component,
        "refusal": refusal.message if refusal else None,
        "crumbs": [component.name, "Delete"],
    }
    return render(request, "web/plan/component_delete.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def review_schedule_view(request: HttpRequest, learner_id: int, component_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    component = _component_or_404(learner, component_id)
    if component.type not in ComponentType.with_review():
        raise Http404("That component is not a Review.")
    review = getattr(component, "review", None)
    refusal = plan_change_refusal(
        staff_perms(request.user), PlanAction.EDIT, finished=component.is_finished, fields=[REVIEW_SCHEDULE_FIELD]
    )
    initial = {"starts_at": review.scheduled_at} if review and review.scheduled_at else {}
    form = ReviewScheduleForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            review_schedule(
                component=component,
                by=acting_user(request),
                starts_at=form.cleaned_data["starts_at"],
                visit_id=visit_id(request),
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            status = e.status
        else:
            messages.success(request, f"Scheduled “{component.name}”.")
            return redirect(_record_url(learner) + f"#component-{component.pk}")
    elif request.method == "POST":
        status = 422
    context = {
        "learner": learner,
        "component": component,
        "review": review,
        "form": form,
        "crumbs": [component.name, "Schedule review"],
        "refusal": refusal.message if refusal else None,
    }
    return render(request, "web/plan/review_schedule.html", context, status=status)
