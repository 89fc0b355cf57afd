"""The EPA platform's integration log (R-EPA-12): every message sent, pending or failed, its attempts, and Retry.

The log is the outbox's "epa" topic as the admin may see it (learners of their groups): tabs by delivery state with
their counts, a search by learner name or ULN, filters by kind and source, pages, and a streamed CSV of the same
list. A Supervisor retries one failed message, or every failed message the search and filters match; others see the
buttons disabled with the reason. While messages wait for delivery the page polls a small status element, and
reloads once the counts move on. The learner's record has the same table for that learner, with their EPA
registrations and the offer to register a manual one on its programme's connection (R-EPA-9).
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from waypoint.core.csv_stream import csv_response
from waypoint.core.errors import ApplicationError, NotFound
from waypoint.core.models import OutboxMessage, OutboxSource, OutboxStatus
from waypoint.epa.delivery import outbox_retry
from waypoint.epa.registrations import REGISTER_NEEDED, registration_list_for, registration_register
from waypoint.epa.selectors import outbox_get_for, outbox_list_for
from waypoint.epa.triggers import EVENT_TYPES
from waypoint.people.access import AnyUser, staff_perms
from waypoint.people.models import Learner, Perm
from waypoint.plans.permissions import PlanAction, enrolment_change_refusal
from waypoint.web.queries import user_names
from waypoint.web.views.common import PAGE_SIZE, acting_user, learner_or_404, tell_refusal, visit_id

# The log's tabs: (value, label, the statuses shown). Sent holds the messages sent with a later update too.
TABS: list[tuple[str, str, tuple[str, ...]]] = [
    ("", "All", ()),
    ("pending", "Pending", (OutboxStatus.PENDING, OutboxStatus.SENDING)),
    ("sent", "Sent", (OutboxStatus.SENT, OutboxStatus.COALESCED)),
    ("failed", "Failed", (OutboxStatus.FAILED,)),
]
TAB_STATUSES = {value: statuses for value, _, statuses in TABS}
KIND_LABELS = {
    "registration.created": "Registration",
    "registration.updated": "Update",
    "registration.break_in_learning": "Break in learning",
    "registration.returned_to_learning": "Return to learning",
    "registration.withdrawn": "Withdrawal",
    "registration.programme_changed": "Change of programme",
}
# Whose a changed field is ("tutor.email" is the case owner's email), and the fields people call otherwise.
SUBJECTS = {
    "learner": "",
    "employer": "employer",
    "manager": "manager",
    "tutor": "case owner",
    "enrolment": "programme",
}
FIELD_NAMES = {
    "uln": "ULN",
    "edrs_number": "EDRS number",
    "tutor": "case owner",
    "last_name": "surname",
}
STATUS_BADGES = {
    OutboxStatus.PENDING: "status-scheduled",
    OutboxStatus.SENDING: "status-in-progress",
    OutboxStatus.SENT: "status-completed",
    OutboxStatus.COALESCED: "status-completed",
    OutboxStatus.FAILED: "status-withdrawn",
}
WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
RETRY_NEEDED = "Retrying messages to the EPA platform needs the Supervisor permission."
POLL_TARGET = "epa-status"
LOG_TARGET = "epa-log"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or kind.rpartition(".")[2].replace("_", " ").capitalize()


KINDS = sorted(set(EVENT_TYPES.values()) | set(KIND_LABELS), key=kind_label)


def changed_label(field: str) -> str:
    """A changed field in plain words: "learner.uln" is "ULN", "tutor.email" is "Case owner's email"."""
    subject, _, name = str(field).rpartition(".")
    words = FIELD_NAMES.get(name, name.replace("_", " "))
    owner = SUBJECTS.get(subject, subject.replace("_", " "))
    text = f"{owner}'s {words}" if owner else words
    return text[:1].upper() + text[1:]


def retry_refusal(user: AnyUser) -> str | None:
    """Why the admin may not retry deliveries, or None: the Retry buttons are disabled with this reason."""
    return None if Perm.SUPERVISOR in staff_perms(user) else RETRY_NEEDED


@dataclass(frozen=True)
class LogFilter:
    """The log's tab (a group of statuses), its search by learner name or ULN, and its kind and source filters."""

    tab: str = ""
    search: str = ""
    kind: str = ""
    source: str = ""

    @classmethod
    def parse(cls, data: QueryDict) -> "LogFilter":
        tab, kind, source = data.get("status", ""), data.get("kind", ""), data.get("source", "")
        return cls(
            tab=tab if tab in TAB_STATUSES else "",
            search=data.get("search", "").strip()[:200],
            kind=kind if kind in KINDS else "",
            source=source if source in OutboxSource.values else "",
        )

    def query(self, **changes: str) -> str:
        values = {"status": self.tab, "search": self.search, "kind": self.kind, "source": self.source, **changes}
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def narrowed(self) -> bool:
        """Whether the search or a filter leaves messages out, whatever the tab."""
        return bool(self.search or self.kind or self.source)


def _matching(user: AnyUser, filters: LogFilter, *, learner_id: int | None = None) -> QuerySet[OutboxMessage]:
    """The messages the search and filters match, in every status, newest first."""
    found = outbox_list_for(user, learner_id=learner_id, search=filters.search)
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.source:
        found = found.filter(source=filters.source)
    return found


def _in_tab(found: QuerySet[OutboxMessage], tab: str) -> QuerySet[OutboxMessage]:
    statuses = TAB_STATUSES[tab]
    return found.filter(status__in=statuses) if statuses else found


def _with_uln(found: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    return found.annotate(learner_uln=Subquery(Learner.objects.filter(pk=OuterRef("learner_id")).values("uln")[:1]))


def tab_counts(found: QuerySet[OutboxMessage]) -> dict[str, int]:
    """How many of `found` each tab shows: one query."""
    figures = found.aggregate(
        everything=Count("pk"),
        **{value: Count("pk", filter=Q(status__in=statuses)) for value, _, statuses in TABS if value},
    )
    return {value: figures[value or "everything"] for value, _, _ in TABS}


def epa_counts(user: AnyUser) -> dict[str, int]:
    """The dashboard's figures: the admin's EPA messages waiting for delivery and failed (one query)."""
    return tab_counts(outbox_list_for(user))


def _row(message: OutboxMessage) -> dict[str, Any]:
    return {
        "m": message,
        "kind": kind_label(message.kind),
        "changed": [changed_label(f) for f in (message.changed or [])],
        "badge": STATUS_BADGES.get(OutboxStatus(message.status), ""),
        "failed": message.status == OutboxStatus.FAILED,
        "waiting": message.status in WAITING,
    }


def _partial(request: HttpRequest, target: str) -> bool:
    return bool(request.headers.get("HX-Request")) and request.headers.get("HX-Target") == target


def _signature(counts: dict[str, int]) -> str:
    return "-".join(str(counts[value]) for value, _, _ in TABS)


def _poll(request: HttpRequest, counts: dict[str, int]) -> HttpResponse | None:
    """The status poll of a page whose counts moved on: the page reloads to show where the messages are now."""
    if _partial(request, POLL_TARGET) and request.GET.get("was", "") != _signature(counts):
        return HttpResponse(headers={"HX-Refresh": "true"})
    return None


def _log_context(request: HttpRequest, found: QuerySet[OutboxMessage], filters: LogFilter) -> dict[str, Any]:
    """The tabs with their counts, the page of messages and what Retry all failed would retry."""
    counts = tab_counts(found)
    page = Paginator(_with_uln(_in_tab(found, filters.tab)), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "filters": filters,
        "counts": counts,
        "signature": _signature(counts),
        "tabs": [
            {"value": value, "label": label, "count": counts[value], "query": filters.query(status=value)}
            for value, label, _ in TABS
        ],
        "page": page,
        "rows": [_row(m) for m in page.object_list],
        "retry_refusal": retry_refusal(request.user),
        "kinds": [(kind, kind_label(kind)) for kind in KINDS],
        "sources": OutboxSource.choices,
    }


# The log


@login_required
@require_GET
def integration_log(request: HttpRequest) -> HttpResponse:
    filters = LogFilter.parse(request.GET)
    found = _matching(request.user, filters)
    if _partial(request, POLL_TARGET):
        counts = tab_counts(found)
        return _poll(request, counts) or render(
            request, "web/integrations/_poll.html", {"counts": counts, "signature": _signature(counts)}
        )
    context = _log_context(request, found, filters)
    context["export_query"] = filters.query()
    template = "web/integrations/_log.html" if _partial(request, LOG_TARGET) else "web/integrations/log.html"
    return render(request, template, context)


@login_required
@require_GET
def integration_log_export(request: HttpRequest) -> StreamingHttpResponse:
    """The log as filtered on the page, as CSV, streamed: thousands of messages never sit in memory at once."""
    filters = LogFilter.parse(request.GET)
    found = _with_uln(_in_tab(_matching(request.user, filters), filters.tab))

    rows = (
        [
            m.pk,
            _stamp(m.created_at),
            m.learner_id or "",
            m.learner_name or "",  # type: ignore[attr-defined]
            m.learner_uln or "",  # type: ignore[attr-defined]
            m.key,
            kind_label(m.kind),
            m.reason,
            "; ".join(changed_label(f) for f in (m.changed or [])),
            m.get_source_display(),
            m.get_status_display(),
            m.attempts,
            _stamp(m.next_attempt_at) if m.status in WAITING else "",
            _stamp(m.sent_at),
            m.coalesced_into or "",
            m.last_error,
            m.idempotency_key,
        ]
        for m in found.iterator(chunk_size=2000)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    headings = [
        "Id",
        "Recorded at",
        "Learner id",
        "Learner",
        "ULN",
        "Registration",
        "Kind",
        "What changed",
        "Changed fields",
        "Source",
        "Status",
        "Attempts",
        "Next attempt at",
        "Sent at",
        "Sent with",
        "Last error",
        "Idempotency key",
    ]
    return csv_response(filename=f"epa-integration-log-{stamp}", headings=headings, rows=rows)


def _stamp(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _back(request: HttpRequest, fallback: str) -> str:
    """Where a form came from (a page of this site), to go back to after a retry."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return fallback


def _message_or_404(request: HttpRequest, message_id: int) -> OutboxMessage:
    try:
        return outbox_get_for(request.user, message_id)
    except NotFound as e:
        raise Http404(e.message) from None


@login_required
@require_POST
def integration_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    """Retry one failed message: it is pending again and the worker is woken."""
    message = _message_or_404(request, message_id)
    back = _back(request, reverse("integration_message", args=[message.pk]))
    try:
        retried = outbox_retry(by=acting_user(request), messages=OutboxMessage.objects.filter(pk=message.pk))
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(back)
    if retried:
        messages.success(request, f"Message #{message.pk} will be sent again shortly.")
    else:
        messages.info(request, f"Message #{message.pk} has not failed (it is {message.get_status_display()}).")
    return redirect(back)


@login_required
@require_POST
def integration_retry_failed(request: HttpRequest) -> HttpResponse:
    """Retry all failed: every failed message the search and filters match (of one learner, from their record)."""
    filters = LogFilter.parse(request.POST)
    learner_id = request.POST.get("learner", "")
    learner = learner_or_404(request, int(learner_id)) if learner_id.isdigit() else None
    back = _back(request, f"{reverse('integration_log')}?{filters.query()}")
    failed = _matching(request.user, filters, learner_id=learner.pk if learner else None)
    try:
        retried = outbox_retry(by=acting_user(request), messages=failed)
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(back)
    if retried:
        plural = "s" if retried != 1 else ""
        messages.success(request, f"{retried:,} failed message{plural} will be sent again shortly.")
    else:
        messages.info(request, "No failed messages to retry.")
    return redirect(back)


# One message


@login_required
@require_GET
def integration_message(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message_or_404(request, message_id)
    if _partial(request, POLL_TARGET):
        if request.GET.get("was", "") != message.status:
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "web/integrations/_message_poll.html", {"m": message})
    registration = registration_list_for(request.user).filter(pk=message.key).first()
    carried = list(
        outbox_list_for(request.user).filter(coalesced_into=message.pk).order_by("id").values_list("pk", flat=True)
    )
    creator = user_names([message.created_by_id]) if message.created_by_id else {}
    context = {
        **_row(message),
        "registration": registration,
        "attempts": list(message.attempts_made.all()),
        "carried": carried,
        "created_by": creator.get(message.created_by_id or 0),
        "payload": json.dumps(message.payload, indent=2, ensure_ascii=False) if message.payload is not None else None,
        "event": json.dumps(message.event, indent=2, ensure_ascii=False) if message.event else None,
        "retry_refusal": retry_refusal(request.user),
    }
    return render(request, "web/integrations/message.html", context)


# The learner's EPA platform page


@login_required
@require_GET
def learner_epa(request: HttpRequest, learner_id: int) -> HttpResponse:
    learner = learner_or_404(request, learner_id)
    filters = LogFilter.parse(request.GET)
    found = _matching(request.user, filters, learner_id=learner.pk)
    if _partial(request, POLL_TARGET):
        counts = tab_counts(found)
        return _poll(request, counts) or render(
            request, "web/integrations/_poll.html", {"counts": counts, "signature": _signature(counts)}
        )
    registrations = list(registration_list_for(request.user).filter(learner=learner).order_by("-id"))
    register_refusal = REGISTER_NEEDED if enrolment_change_refusal(staff_perms(request.user), PlanAction.EDIT) else None
    context = {
        **_log_context(request, found, filters),
        "learner": learner,
        "registrations": registrations,
        "register_refusal": register_refusal,
        "crumbs": ["EPA platform"],
        "visit_id": visit_id(request),
    }
    template = "web/integrations/_log.html" if _partial(request, LOG_TARGET) else "web/integrations/learner.html"
    return render(request, template, context)


@login_required
@require_POST
def learner_epa_register(request: HttpRequest, learner_id: int, registration_id: int) -> HttpResponse:
    """Register on <connection> (R-EPA-9): a manual registration whose programme now has a connection."""
    learner = learner_or_404(request, learner_id)
    registration = registration_list_for(request.user).filter(pk=registration_id, learner=learner).first()
    if registration is None:
        raise Http404("No such EPA registration on this learner's record.")
    try:
        registered = registration_register(registration=registration, by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
    else:
        messages.success(request, f"Registered on {registered.connection}: the platform will be told shortly.")
    return redirect("learner_epa", learner.pk)
