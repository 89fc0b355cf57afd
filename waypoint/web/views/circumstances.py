"""Edit Programme Details and the manual changes of circumstance of one enrolment.

Start and planned end dates changed here are sent to the EPA platform; the EPA period is not (R-EPA-6). A break,
return, withdrawal or change of programme applied here by hand is not sent (R-EPA-7): only one applied by approving
a process-automation tracker is. Withdrawal and change of programme cannot be undone, so each asks for confirmation.
"""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from waypoint.core.errors import ApplicationError, NotFound
from waypoint.core.outbox import ChangeKind, Source
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner
from waypoint.plans.permissions import PlanAction, enrolment_change_refusal
from waypoint.plans.services import (
    enrolment_break,
    enrolment_change_programme,
    enrolment_return,
    enrolment_update,
    enrolment_withdraw,
)
from waypoint.plans.services.circumstances import circumstance_refusal
from waypoint.plans.services.enrolments import EnrolmentValues
from waypoint.programmes.models import Enrolment, WithdrawReason
from waypoint.web.forms_people import (
    BreakForm,
    ChangeProgrammeForm,
    ProgrammeDetailsForm,
    ReturnForm,
    WithdrawForm,
    programmes_to_move_to,
)
from waypoint.web.queries import enrolment_get_for
from waypoint.web.views.common import acting_user, learner_or_404, tell_refusal

PICKER_SIZE = 25

_PROGRAMME_DETAIL_LABELS = {
    "start_date": "start date",
    "planned_end_date": "planned end date",
    "epa_period_start": "EPA period start",
    "epa_period_end": "EPA period end",
}


def _enrolment_or_404(learner: Learner, enrolment_id: int) -> Enrolment:
    try:
        return enrolment_get_for(learner, enrolment_id)
    except NotFound as e:
        raise Http404(e.message) from None


def _plan_url(enrolment: Enrolment) -> str:
    return reverse("learner_detail", args=[enrolment.learner_id]) + f"#plan-{enrolment.pk}"


def edit_refusal(request: HttpRequest) -> str | None:
    refusal = enrolment_change_refusal(staff_perms(request.user), PlanAction.EDIT)
    return refusal.message if refusal else None


def change_refusal(request: HttpRequest, enrolment: Enrolment, kind: ChangeKind) -> str | None:
    """Why this admin may not make the change `kind` on `enrolment` now, if they may not."""
    if refusal := edit_refusal(request):
        return refusal
    if enrolment.programme.parent_id is not None:
        return (
            f"{enrolment.programme} is a sub-programme: change the circumstances on its programme, and the "
            "sub-programme follows."
        )
    return circumstance_refusal(kind, enrolment.status)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_edit(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = ProgrammeDetailsForm(
        request.POST if request.method == "POST" else None, initial=ProgrammeDetailsForm.initial_for(enrolment)
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, f"Nothing to save: no date of {enrolment.programme} was changed.")
            return redirect(_plan_url(enrolment))
        try:
            enrolment_update(
                enrolment=enrolment,
                by=acting_user(request),
                changes=cast(EnrolmentValues, changes),
                source=Source.UI,
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            labels = ", ".join(_PROGRAMME_DETAIL_LABELS[f] for f in changes)
            messages.success(request, f"Saved the {labels} of {learner.full_name} on {enrolment.programme}.")
            return redirect(_plan_url(enrolment))
    elif request.method == "POST":
        status = 422
    context = {
        "learner": learner,
        "enrolment": enrolment,
        "form": form,
        "refusal": edit_refusal(request),
        "crumbs": [str(enrolment.programme), "Edit programme details"],
    }
    return render(request, "web/circumstances/programme_details.html", context, status=status)


def _circumstance_page(
    request: HttpRequest,
    *,
    learner: Learner,
    enrolment: Enrolment,
    form: Any,
    kind: ChangeKind,
    title: str,
    status: int,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "learner": learner,
        "enrolment": enrolment,
        "form": form,
        "kind": kind.value,
        "title": title,
        "refusal": change_refusal(request, enrolment, kind),
        "crumbs": [str(enrolment.programme), title],
        **(extra or {}),
    }
    return render(request, "web/circumstances/change_form.html", context, status=status)


def _confirming(request: HttpRequest) -> bool:
    return request.POST.get("confirmed") == "yes"


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_break_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = BreakForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment_break(
                enrolment=enrolment,
                by=acting_user(request),
                effective_date=data["effective_date"],
                reason=data["reason"],
                expected_return=data["expected_return"],
                source=Source.UI,
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            messages.success(
                request,
                f"{learner.full_name} is on a break in learning from {enrolment.programme}; "
                f"last day of learning {data['effective_date']:%-d %b %Y}.",
            )
            return redirect(_plan_url(enrolment))
    elif request.method == "POST":
        status = 422
    return _circumstance_page(
        request,
        learner=learner,
        enrolment=enrolment,
        form=form,
        kind=ChangeKind.BREAK_IN_LEARNING,
        title="Break in learning",
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_return_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = ReturnForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment_return(
                enrolment=enrolment,
                by=acting_user(request),
                return_date=data["return_date"],
                planned_end_date=data["planned_end_date"],
                source=Source.UI,
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            messages.success(
                request,
                f"{learner.full_name} returned to learning on {enrolment.programme} on "
                f"{data['return_date']:%-d %b %Y}.",
            )
            return redirect(_plan_url(enrolment))
    elif request.method == "POST":
        status = 422
    return _circumstance_page(
        request,
        learner=learner,
        enrolment=enrolment,
        form=form,
        kind=ChangeKind.RETURN_TO_LEARNING,
        title="Return to learning",
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_withdraw_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _confirming(request):
            context = {
                "learner": learner,
                "enrolment": enrolment,
                "form": form,
                "title": "Withdraw",
                "crumbs": [str(enrolment.programme), "Withdraw", "Confirm"],
                "reason_label": WithdrawReason(data["withdraw_reason"]).label,
                "refusal": change_refusal(request, enrolment, ChangeKind.WITHDRAWAL),
            }
            return render(request, "web/circumstances/withdraw_confirm.html", context)
        try:
            enrolment_withdraw(
                enrolment=enrolment,
                by=acting_user(request),
                effective_date=data["effective_date"],
                withdraw_reason=data["withdraw_reason"],
                source=Source.UI,
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            messages.success(request, f"Withdrew {learner.full_name} from {enrolment.programme}.")
            return redirect(_plan_url(enrolment))
    elif request.method == "POST":
        status = 422
    return _circumstance_page(
        request,
        learner=learner,
        enrolment=enrolment,
        form=form,
        kind=ChangeKind.WITHDRAWAL,
        title="Withdraw",
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_change_programme_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    search = (request.GET.get("q") or request.POST.get("q") or "").strip()
    form = ChangeProgrammeForm(request.POST if request.method == "POST" else None, enrolment=enrolment)
    candidates = list(programmes_to_move_to(enrolment, search)[:PICKER_SIZE])
    chosen = form["programme"].value()
    picker = {"candidates": candidates, "chosen": str(chosen or ""), "search": search}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "programme-picker":
        return render(request, "web/circumstances/_programme_picker.html", {"form": form, **picker})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _confirming(request):
            context = {
                "learner": learner,
                "enrolment": enrolment,
                "form": form,
                "new_programme": data["programme"],
                "title": "Change programme",
                "crumbs": [str(enrolment.programme), "Change programme", "Confirm"],
                "refusal": change_refusal(request, enrolment, ChangeKind.CHANGE_OF_PROGRAMME),
            }
            return render(request, "web/circumstances/change_programme_confirm.html", context)
        try:
            new = enrolment_change_programme(
                enrolment=enrolment,
                new_programme=data["programme"],
                by=acting_user(request),
                start_date=data["start_date"],
                planned_end_date=data["planned_end_date"],
                source=Source.UI,
            )
        except ApplicationError as e:
            tell_refusal(request, e)
            form.add_service_errors(e.fields)
            status = e.status
        else:
            messages.success(request, f"Moved {learner.full_name} from {enrolment.programme} to {new.programme}.")
            return redirect(_plan_url(new))
    elif request.method == "POST":
        status = 422
    if chosen and not any(str(p.pk) == str(chosen) for p in candidates):
        kept = programmes_to_move_to(enrolment).filter(pk=chosen).first() if str(chosen).isdigit() else None
        picker["candidates"] = [kept, *candidates] if kept else candidates
    return _circumstance_page(
        request,
        learner=learner,
        enrolment=enrolment,
        form=form,
        kind=ChangeKind.CHANGE_OF_PROGRAMME,
        title="Change programme",
        status=status,
        extra=picker,
    )
