"""Process automation: request a change to a learner, then approve (apply) or reject it.

An approved tracker applies its change as from process automation, which the EPA platform hears of (R-EPA-4, R-EPA-5,
R-EPA-7); deciding needs Process Automation (Approve).
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from waypoint.automation.details import FIELDS
from waypoint.automation.models import Tracker, TrackerKind, TrackerStatus
from waypoint.automation.selectors import tracker_get_for, tracker_list_for
from waypoint.automation.services import APPROVE_NEEDED, tracker_approve, tracker_reject, tracker_request
from waypoint.core.errors import NotFound
from waypoint.people.access import AnyUser, staff_perms
from waypoint.people.models import Employer, Manager, Perm
from waypoint.people.selectors import learner_list_for
from waypoint.programmes.models import Programme, WithdrawReason
from waypoint.web.forms_people import (
    TRACKER_FORMS,
    TrackerFilterForm,
    TrackerKindForm,
    TrackerRejectForm,
)
from waypoint.web.views.common import PAGE_SIZE, acting_user, learner_or_404, submit
from waypoint.web.views.people import staff_refusal

_DETAIL_LABELS = {
    "employer": "New employer",
    "manager": "New manager",
    "effective_date": "From",
    "hours_per_week": "Hours a week",
    "notes": "Notes",
    "reason": "Reason",
    "expected_return": "Expected return",
    "return_date": "Return date",
    "planned_end_date": "Planned end date",
    "withdraw_reason": "Withdrawal reason",
    "programme": "New programme",
    "start_date": "Start date",
}
_EFFECTIVE_LABELS = {
    TrackerKind.BREAK_IN_LEARNING: "Last day of learning",
    TrackerKind.WITHDRAWAL: "Last day of learning",
}


def approve_refusal(user: AnyUser) -> str | None:
    return None if Perm.AUTOMATION_APPROVE in staff_perms(user) else APPROVE_NEEDED


def _tracker_or_404(request: HttpRequest, tracker_id: int) -> Tracker:
    try:
        return tracker_get_for(request.user, tracker_id)
    except NotFound as e:
        raise Http404(e.message) from None


def _requested_first(trackers: QuerySet[Tracker]) -> QuerySet[Tracker]:
    waiting = Case(When(status=TrackerStatus.REQUESTED, then=Value(0)), default=Value(1), output_field=IntegerField())
    return trackers.order_by(waiting, "-requested_at", "-id")


class _Names:
    """Names of the records trackers' details point to, fetched in one query per kind of record."""

    def __init__(self, trackers: Iterable[Tracker]) -> None:
        ids: dict[str, set[int]] = {"employer": set(), "manager": set(), "programme": set()}
        for tracker in trackers:
            for name, found in ids.items():
                if isinstance(tracker.details.get(name), int):
                    found.add(tracker.details[name])
        self.employers = dict(Employer.objects.filter(pk__in=ids["employer"]).values_list("pk", "name"))
        self.managers = {m.pk: str(m) for m in Manager.objects.filter(pk__in=ids["manager"])}
        self.programmes = dict(Programme.objects.filter(pk__in=ids["programme"]).values_list("pk", "name"))

    def show(self, name: str, value: Any) -> str:
        if name == "employer":
            return str(self.employers.get(value, f"Employer #{value} (deleted)"))
        if name == "manager":
            return self.managers.get(value, f"Manager #{value} (deleted)")
        if name == "programme":
            return str(self.programmes.get(value, f"Programme #{value} (deleted)"))
        if name == "withdraw_reason" and value in WithdrawReason.values:
            return f"{value} · {WithdrawReason(value).label}"
        if isinstance(value, str) and name.endswith(("_date", "_return")):
            return f"{dt.date.fromisoformat(value):%-d %b %Y}"
        return str(value)

    def rows(self, tracker: Tracker) -> list[tuple[str, str]]:
        kind = TrackerKind(tracker.kind)
        labels = {
            **_DETAIL_LABELS,
            **({"effective_date": _EFFECTIVE_LABELS[kind]} if kind in _EFFECTIVE_LABELS else {}),
        }
        order = list(FIELDS[kind])
        present = sorted(tracker.details, key=lambda n: order.index(n) if n in order else len(order))
        return [(labels.get(n, n.replace("_", " ").capitalize()), self.show(n, tracker.details[n])) for n in present]


@login_required
@require_GET
def automation_list(request: HttpRequest) -> HttpResponse:
    form = TrackerFilterForm(request.GET or None)
    filters = form.filters()
    trackers = tracker_list_for(request.user, status=filters["status"] or None, kind=filters["kind"] or None)
    if filters["search"]:
        trackers = trackers.filter(learner__in=learner_list_for(request.user, search=filters["search"]).values("pk"))
    page = Paginator(_requested_first(trackers), PAGE_SIZE).get_page(request.GET.get("page"))
    names = _Names(page.object_list)
    context = {
        "form": form,
        "page": page,
        "rows": [(t, names.rows(t)) for t in page.object_list],
        "waiting": tracker_list_for(request.user, status=TrackerStatus.REQUESTED).count(),
    }
    partial = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "tracker-grid"
    return render(request, "web/automation/_grid.html" if partial else "web/automation/list.html", context)


@login_required
@require_GET
def automation_detail(request: HttpRequest, tracker_id: int) -> HttpResponse:
    tracker = _tracker_or_404(request, tracker_id)
    return _detail(request, tracker, reject_form=TrackerRejectForm(), status=200)


def _detail(request: HttpRequest, tracker: Tracker, *, reject_form: TrackerRejectForm, status: int) -> HttpResponse:
    context = {
        "tracker": tracker,
        "learner": tracker.learner,
        "details": _Names([tracker]).rows(tracker),
        "refusal": approve_refusal(request.user),
        "reject_form": reject_form,
        "outcome_url": _outcome_url(tracker),
    }
    return render(request, "web/automation/detail.html", context, status=status)


def _outcome_url(tracker: Tracker) -> str:
    anchor = f"#plan-{tracker.new_enrolment_id or tracker.enrolment_id}" if tracker.enrolment_id else ""
    return reverse("learner_detail", args=[tracker.learner_id]) + anchor


@login_required
@require_POST
def automation_approve(request: HttpRequest, tracker_id: int) -> HttpResponse:
    tracker = _tracker_or_404(request, tracker_id)
    answer = submit(
        request,
        None,
        lambda _: tracker_approve(tracker=tracker, by=acting_user(request)),
        success=lambda _: f"Approved and applied the {_what(tracker)}.",
        to=_tracker_url,
    )
    if isinstance(answer, HttpResponse):
        return answer
    return _detail(request, tracker, reject_form=TrackerRejectForm(), status=answer)


@login_required
@require_POST
def automation_reject(request: HttpRequest, tracker_id: int) -> HttpResponse:
    tracker = _tracker_or_404(request, tracker_id)
    form = TrackerRejectForm(request.POST)
    answer = submit(
        request,
        form,
        lambda data: tracker_reject(tracker=tracker, by=acting_user(request), reason=data["reason"]),
        success=lambda _: f"Rejected the {_what(tracker)}.",
        to=_tracker_url,
    )
    if isinstance(answer, HttpResponse):
        return answer
    return _detail(request, tracker, reject_form=form, status=answer)


def _what(tracker: Tracker) -> str:
    return f"{tracker.get_kind_display().lower()} for {tracker.learner.full_name}"


def _tracker_url(tracker: Tracker) -> str:
    return reverse("automation_detail", args=[tracker.pk])


@login_required
@require_http_methods(["GET", "POST"])
def learner_tracker_new(request: HttpRequest, learner_id: int) -> HttpResponse:
    """Request a change: choose its kind, then give what that kind needs."""
    learner = learner_or_404(request, learner_id)
    kind_value = (request.POST.get("kind") if request.method == "POST" else request.GET.get("kind")) or ""
    kind_form = TrackerKindForm({"kind": kind_value} if kind_value else None)
    form_class = TRACKER_FORMS.get(kind_value)
    status = 200
    form = None
    if form_class is not None:
        initial = {"enrolment": request.GET.get("enrolment")} if request.GET.get("enrolment") else {}
        form = form_class(request.POST if request.method == "POST" else None, learner=learner, initial=initial)
        answer = submit(
            request,
            form,
            lambda _: tracker_request(
                learner=learner,
                enrolment=form.enrolment(),
                kind=kind_value,
                details=form.details(),
                by=acting_user(request),
            ),
            success=lambda tracker: (
                f"Requested a {_what(tracker)}: it is applied once someone with Process Automation (Approve) "
                "approves it."
            ),
            to=_tracker_url,
            show_fields=form.add_tracker_errors,
        )
        if isinstance(answer, HttpResponse):
            return answer
        status = answer
    elif request.method == "POST":
        status = 422
        kind_form.is_valid()
    context = {
        "learner": learner,
        "kind_form": kind_form,
        "kind": kind_value if form_class else "",
        "kind_label": TrackerKind(kind_value).label if form_class else "",
        "form": form,
        "refusal": staff_refusal(request),
        "crumbs": ["Request process automation"],
    }
    return render(request, "web/automation/request.html", context, status=status)


@login_required
@require_GET
def learner_trackers_pending(request: HttpRequest, learner_id: int) -> HttpResponse:
    """The learner's trackers waiting for a decision (loaded into the learner record by htmx)."""
    learner = learner_or_404(request, learner_id)
    trackers = list(tracker_list_for(request.user, status=TrackerStatus.REQUESTED, learner_id=learner.pk))
    names = _Names(trackers)
    context = {"learner": learner, "rows": [(t, names.rows(t)) for t in trackers]}
    return render(request, "web/automation/_pending.html", context)
