"""Edit Programme Details and the manual changes of circumstance of one enrolment.

Start and planned end dates changed here are sent to the EPA platform; the EPA period is not (R-EPA-6). A break,
return, withdrawal or change of programme applied here by hand is not sent (R-EPA-7): only one applied by approving
a process-automation tracker is. Withdrawal and change of programme cannot be undone, so each asks for confirmation.
"""

from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from waypoint.core.errors import NotFound
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
from waypoint.plans.services.circumstances import enrolment_circumstance_refusal
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
from waypoint.web.views.common import acting_user, field_labels, learner_or_404, submit, submit_changes

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
    return edit_refusal(request) or enrolment_circumstance_refusal(enrolment, kind)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_edit(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = ProgrammeDetailsForm(
        request.POST if request.method == "POST" else None, initial=ProgrammeDetailsForm.initial_for(enrolment)
    )
    answer = submit_changes(
        request,
        form,
        lambda changes: enrolment_update(
            enrolment=enrolment, by=acting_user(request), changes=cast(EnrolmentValues, changes), source=Source.UI
        ),
        unchanged=f"Nothing to save: no date of {enrolment.programme} was changed.",
        success=lambda _: (
            f"Saved the {field_labels(form.changes(), _PROGRAMME_DETAIL_LABELS)} of {learner.full_name} "
            f"on {enrolment.programme}."
        ),
        to=_plan_url(enrolment),
    )
    if isinstance(answer, HttpResponse):
        return answer
    context = {
        "learner": learner,
        "enrolment": enrolment,
        "form": form,
        "refusal": edit_refusal(request),
        "crumbs": [str(enrolment.programme), "Edit programme details"],
    }
    return render(request, "web/circumstances/programme_details.html", context, status=answer)


@dataclass(frozen=True)
class _ChangePage:
    """The pages of one change of circumstance on an enrolment: its form, and the confirmation a change that cannot
    be undone asks for."""

    learner: Learner
    enrolment: Enrolment
    form: Any
    kind: ChangeKind
    title: str

    def answer(self, request: HttpRequest, answer: HttpResponse | int, **extra: Any) -> HttpResponse:
        """Where `submit` sent the admin, or the form again with the status it answered."""
        if isinstance(answer, HttpResponse):
            return answer
        context = {"kind": self.kind.value, "crumbs": [str(self.enrolment.programme), self.title], **extra}
        return self._render(request, "web/circumstances/change_form.html", context, status=answer)

    def confirm(self, request: HttpRequest, template: str, **extra: Any) -> HttpResponse:
        context = {"crumbs": [str(self.enrolment.programme), self.title, "Confirm"], **extra}
        return self._render(request, template, context, status=200)

    def _render(self, request: HttpRequest, template: str, context: dict[str, Any], *, status: int) -> HttpResponse:
        shared = {"learner": self.learner, "enrolment": self.enrolment, "form": self.form, "title": self.title}
        refusal = change_refusal(request, self.enrolment, self.kind)
        return render(request, template, {**shared, "refusal": refusal, **context}, status=status)


def _unconfirmed(request: HttpRequest, form: Any) -> bool:
    """A valid change posted without the admin's confirmation."""
    return request.method == "POST" and form.is_valid() and request.POST.get("confirmed") != "yes"


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_break_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = BreakForm(request.POST if request.method == "POST" else None)
    page = _ChangePage(learner, enrolment, form, ChangeKind.BREAK_IN_LEARNING, "Break in learning")
    answer = submit(
        request,
        form,
        lambda data: enrolment_break(
            enrolment=enrolment,
            by=acting_user(request),
            effective_date=data["effective_date"],
            reason=data["reason"],
            expected_return=data["expected_return"],
            source=Source.UI,
        ),
        success=lambda _: (
            f"{learner.full_name} is on a break in learning from {enrolment.programme}; "
            f"last day of learning {form.cleaned_data['effective_date']:%-d %b %Y}."
        ),
        to=_plan_url,
    )
    return page.answer(request, answer)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_return_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = ReturnForm(request.POST if request.method == "POST" else None)
    page = _ChangePage(learner, enrolment, form, ChangeKind.RETURN_TO_LEARNING, "Return to learning")
    answer = submit(
        request,
        form,
        lambda data: enrolment_return(
            enrolment=enrolment,
            by=acting_user(request),
            return_date=data["return_date"],
            planned_end_date=data["planned_end_date"],
            source=Source.UI,
        ),
        success=lambda _: (
            f"{learner.full_name} returned to learning on {enrolment.programme} on "
            f"{form.cleaned_data['return_date']:%-d %b %Y}."
        ),
        to=_plan_url,
    )
    return page.answer(request, answer)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_withdraw_view(request: HttpRequest, learner_id: int, enrolment_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    enrolment = _enrolment_or_404(learner, enrolment_id)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    page = _ChangePage(learner, enrolment, form, ChangeKind.WITHDRAWAL, "Withdraw")
    if _unconfirmed(request, form):
        reason_label = WithdrawReason(form.cleaned_data["withdraw_reason"]).label
        return page.confirm(request, "web/circumstances/withdraw_confirm.html", reason_label=reason_label)
    answer = submit(
        request,
        form,
        lambda data: enrolment_withdraw(
            enrolment=enrolment,
            by=acting_user(request),
            effective_date=data["effective_date"],
            withdraw_reason=data["withdraw_reason"],
            source=Source.UI,
        ),
        success=lambda _: f"Withdrew {learner.full_name} from {enrolment.programme}.",
        to=_plan_url,
    )
    return page.answer(request, answer)


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
    page = _ChangePage(learner, enrolment, form, ChangeKind.CHANGE_OF_PROGRAMME, "Change programme")
    if _unconfirmed(request, form):
        new_programme = form.cleaned_data["programme"]
        return page.confirm(request, "web/circumstances/change_programme_confirm.html", new_programme=new_programme)
    answer = submit(
        request,
        form,
        lambda data: enrolment_change_programme(
            enrolment=enrolment,
            new_programme=data["programme"],
            by=acting_user(request),
            start_date=data["start_date"],
            planned_end_date=data["planned_end_date"],
            source=Source.UI,
        ),
        success=lambda new: f"Moved {learner.full_name} from {enrolment.programme} to {new.programme}.",
        to=_plan_url,
    )
    if not isinstance(answer, HttpResponse) and chosen and not any(str(p.pk) == str(chosen) for p in candidates):
        kept = programmes_to_move_to(enrolment).filter(pk=chosen).first() if str(chosen).isdigit() else None
        picker["candidates"] = [kept, *candidates] if kept else candidates
    return page.answer(request, answer, **picker)
