"""The Sync Activities wizard (R-SYNC-1…15, R-PLUS-1…3) and the history of sync runs (R-SYNC-27, R-PLUS-2).

The wizard's pages are under the learner's record (/learners/<id>/sync/…), so moving through it keeps the record
visit and its recent changes (R-SYNC-12). Its state is a draft `SyncRun`: every step reads it and every choice
is saved into it at once, so Back, Next and a reload lose nothing.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from waypoint.core.errors import ApplicationError, Conflict, NotFound, PermissionRefused
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner
from waypoint.plans.models import ComponentStatus, SyncRun, SyncRunStatus, SyncTarget
from waypoint.plans.permissions import may_sync_anything
from waypoint.plans.sync.decide import only_changes_available, selectable_attributes
from waypoint.plans.sync.reports import (
    SYNC_TYPE_LABELS,
    outcome_diff,
    outcome_reason,
    outcome_warnings,
    programme_status_label,
    sync_run_get_for,
    sync_run_item,
    sync_run_list_for,
    sync_run_outcomes,
    sync_run_summary,
)
from waypoint.plans.sync.runs import STALE, sync_run_confirm, sync_run_progress, sync_run_undo
from waypoint.plans.sync.selection import (
    SYNC_ELIGIBLE_STATUSES,
    programme_name,
    require_sync_permission,
    sync_components_filter,
    sync_components_list,
    sync_filter_groups,
    sync_filter_tutors,
    sync_learners_list,
    sync_programmes_list,
)
from waypoint.plans.sync.summarise import run_sources
from waypoint.plans.sync.types import SyncType
from waypoint.plans.sync.wizard import (
    SavedFilters,
    saved_filters,
    sync_draft_components,
    sync_draft_components_matching,
    sync_draft_conditions,
    sync_draft_filters,
    sync_draft_get_for,
    sync_draft_learners,
    sync_draft_learners_clear,
    sync_draft_learners_matching,
    sync_draft_programme,
    sync_draft_reopen,
    sync_draft_start,
    sync_draft_summarise,
    sync_draft_type,
)
from waypoint.programmes.models import ComponentType, ProgrammeStatus
from waypoint.web.queries import user_names
from waypoint.web.values import display_value, field_label
from waypoint.web.views.common import PAGE_SIZE, acting_user, learner_or_404, tell_refusal, visit_id

STEPS = [
    ("components", "Select Components"),
    ("learners", "Select Learners"),
    ("conditions", "Select Conditions"),
    ("type", "Select Type"),
    ("summary", "Summary"),
]
ATTRIBUTE_LABELS = {
    "name": "Component name",
    "completion_mode": "Completion mode",
    "criteria_mappings": "Criteria mappings",
    "instructions": "Instructions",
    "evidence_required": "Evidence required",
    "min_evidence": "Minimum number of evidence",
    "documents": "Documents",
    "delivery_via_organisation": "Delivery via Organisation",
    "marking_aid_exercise": "Marking Aid exercise",
}
TYPE_HELP = {
    SyncType.ONLY_CHANGES: "Only the changes you made to this plan since opening the learner's record, including "
    "Planned for QA and Delivery via Employer, and the components you created or deleted.",
    SyncType.ALL: "Every attribute of the selected components, overwriting the learners' own values (for example "
    "a changed Review Type).",
    SyncType.SELECTED: "The ticked attributes from the programme template, on the selected learners and on this "
    "learner too.",
}
LEARNER_PAGE_SIZE = 25
OUTCOME_PAGE_SIZE = 20

View = Callable[..., HttpResponse]


def wizard_view(view: View) -> View:
    """Login, the learner (404), the admin's own run from that learner (404), and a refusal shown, not raised."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, learner_id: int, run_id: int, **kwargs: Any) -> HttpResponse:
        learner = learner_or_404(request, learner_id)
        try:
            run = sync_draft_get_for(request.user, learner_id=learner.pk, run_id=run_id)
        except NotFound as e:
            raise Http404(e.message) from None
        except PermissionRefused as e:
            return render(request, "403.html", {"exception": e.message}, status=403)
        return view(request, learner, run, **kwargs)

    return wrapper


def _context(request: HttpRequest, learner: Learner, run: SyncRun, step: str, **extra: Any) -> dict[str, Any]:
    names = [s for s, _ in STEPS]
    return {
        "learner": learner,
        "run": run,
        "step": step,
        "steps": [(s, label, names.index(s) < names.index(step)) for s, label in STEPS],
        "crumbs": ["Sync Activities"],
        "programme_label": programme_name(run.enrolment),
        "selected_components": len(run.keys),
        "visit_id": visit_id(request),
        **extra,
    }


def _step_url(run: SyncRun, step: str) -> str:
    return reverse(f"sync_{step}", args=[run.source_learner_id, run.pk])


def _partial(request: HttpRequest, target: str) -> bool:
    return bool(request.headers.get("HX-Request")) and request.headers.get("HX-Target") == target


def _not_draft(run: SyncRun) -> HttpResponse | None:
    """A run past its choices shows its summary instead of a choice step."""
    return None if run.status == SyncRunStatus.DRAFT else redirect(_step_url(run, "summary"))


# Start (R-SYNC-1, 2)


@login_required
@require_http_methods(["GET", "POST"])
def sync_start(request: HttpRequest, learner_id: int) -> HttpResponse:
    """Sync Activities: a new draft on the learner's programme, or first the programme when there are several."""
    learner = learner_or_404(request, learner_id)
    try:
        require_sync_permission(request.user)
    except PermissionRefused as e:
        return render(request, "403.html", {"exception": e.message}, status=403)
    enrolments = sync_programmes_list(learner)
    chosen = request.POST.get("programme") if request.method == "POST" else None
    enrolment = next((e for e in enrolments if str(e.programme_id) == chosen), None)
    if enrolment is None and len(enrolments) == 1:
        enrolment = enrolments[0]  # R-SYNC-2
    if enrolment is None or request.method != "POST":
        context = {
            "learner": learner,
            "crumbs": ["Sync Activities"],
            "enrolments": [(e, programme_name(e)) for e in enrolments],
            "preselected": enrolment.programme_id if enrolment else None,
            "steps": [(s, label, False) for s, label in STEPS],
            "step": "components",
        }
        return render(request, "web/sync/start.html", context)
    run = sync_draft_start(by=acting_user(request), enrolment=enrolment, visit_id=visit_id(request))
    return redirect(_step_url(run, "components"))


# Select Components (R-SYNC-3, 4)


@wizard_view
@require_http_methods(["GET", "POST"])
def sync_components(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    if moved := _not_draft(run):
        return moved
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        try:
            if "programme" in request.POST:
                run = sync_draft_programme(run=run, programme_id=_int(request.POST["programme"]))
                return redirect(_step_url(run, "components"))
            select = request.POST.get("selected") == "1"
            action = request.POST.get("action", "")
            if action == "matching":
                run = sync_draft_components_matching(
                    run=run, type=data.get("type") or None, search=data.get("search", ""), selected=select
                )
            elif action in ("one", "page"):
                codes = request.POST.getlist("code" if action == "one" else "page_code")[:PAGE_SIZE]
                run = sync_draft_components(run=run, codes=codes, selected=select)
        except ApplicationError as e:
            tell_refusal(request, e)
        if request.POST.get("action") == "next":
            if run.keys:
                return redirect(_step_url(run, "learners"))
            messages.error(request, "Select at least one component to synchronise.")
        if not request.headers.get("HX-Request"):
            query = urlencode({k: data[k] for k in ("type", "search", "page") if data.get(k)})
            return redirect(f"{_step_url(run, 'components')}{'?' + query if query else ''}")
    type_filter = data.get("type") or None
    if type_filter not in ComponentType.values:
        type_filter = None
    search = data.get("search", "").strip()[:200]
    choices = sync_components_list(enrolment=run.enrolment, by_id=run.by_id, visit_id=run.visit_id)
    # What was changed in the visit comes first, so the preselected components are on the first page.
    shown = sorted(sync_components_filter(choices, type=type_filter, search=search), key=lambda c: c.recent is None)
    page = Paginator(shown, PAGE_SIZE).get_page(data.get("page"))
    selected = {tuple(k) for k in run.keys}
    context = _context(
        request,
        learner,
        run,
        "components",
        enrolments=[(e, programme_name(e)) for e in sync_programmes_list(learner)],
        page=page,
        rows=[(c, c.key in selected) for c in page.object_list],
        page_all_selected=bool(page.object_list) and all(c.key in selected for c in page.object_list),
        matching=len(shown),
        matching_selected=sum(1 for c in shown if c.key in selected),
        type_filter=type_filter,
        search=search,
        type_choices=[(t, ComponentType(t).label) for t in ComponentType.values if any(c.type == t for c in choices)],
        type_labels=dict(ComponentType.choices),
        status_labels=dict(ComponentStatus.choices),
    )
    template = "web/sync/_components_grid.html" if _partial(request, "component-grid") else "web/sync/components.html"
    return render(request, template, context)


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# Select Learners (R-SYNC-5)


def _filters_from(data: Any, run: SyncRun) -> SavedFilters:
    """The filters of the request, or the draft's saved ones when the request brings none."""
    if not any(k in data for k in ("status", "group", "tutor", "search", "filtered")):
        return saved_filters(run)
    eligible = {s.value for s in SYNC_ELIGIBLE_STATUSES}
    return SavedFilters(
        status=[s for s in data.getlist("status") if s in eligible],
        group=[g for g in (_int(v) for v in data.getlist("group")) if g > 0][:1000],
        tutor=[t for t in (_int(v) for v in data.getlist("tutor")) if t > 0][:1000],
        search=data.get("search", "").strip()[:200],
    )


@wizard_view
@require_http_methods(["GET", "POST"])
def sync_learners(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    if moved := _not_draft(run):
        return moved
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    filters = _filters_from(data, run)
    if request.method == "POST":
        action = request.POST.get("action", "")
        selected = request.POST.get("selected") == "1"
        try:
            if action == "matching":
                sync_draft_learners_matching(run=run, by=user, filters=filters, selected=selected)
            elif action == "clear":
                sync_draft_learners_clear(run=run)
            elif action in ("one", "page"):
                values = request.POST.getlist("learner" if action == "one" else "page_learner")
                ids = [i for i in (_int(v) for v in values) if i > 0][:LEARNER_PAGE_SIZE]
                sync_draft_learners(run=run, by=user, ids=ids, selected=selected)
        except ApplicationError as e:
            tell_refusal(request, e)
        if action == "next":
            sync_draft_filters(run=run, filters=filters)
            if SyncTarget.objects.filter(run=run).exists():
                return redirect(_step_url(run, "conditions"))
            messages.error(request, "Select at least one learner to synchronise.")
        if action == "back":
            sync_draft_filters(run=run, filters=filters)
            return redirect(_step_url(run, "components"))
        if not request.headers.get("HX-Request"):
            sync_draft_filters(run=run, filters=filters)
            return redirect(_step_url(run, "learners"))
    elif any(k in data for k in ("status", "group", "tutor", "search", "filtered")):
        sync_draft_filters(run=run, filters=filters)
    learners = sync_learners_list(
        user=user,
        enrolment=run.enrolment,
        statuses=filters.status,
        group_ids=filters.group,
        tutor_ids=filters.tutor,
        search=filters.search,
    )
    page = Paginator(learners, LEARNER_PAGE_SIZE).get_page(data.get("page"))
    on_page = list(page.object_list)
    targets = SyncTarget.objects.filter(run=run)
    chosen = set(targets.filter(learner_id__in=[x.pk for x in on_page]).values_list("learner_id", flat=True))
    context = _context(
        request,
        learner,
        run,
        "learners",
        page=page,
        rows=[(x, x.pk in chosen) for x in on_page],
        page_all_selected=bool(on_page) and len(chosen) == len(on_page),
        selected_count=targets.count(),
        filters=filters,
        statuses=[(s.value, s.label) for s in SYNC_ELIGIBLE_STATUSES],
        groups=list(sync_filter_groups(user=user, enrolment=run.enrolment).filter(pk__in=filters.group)),
        tutors=list(sync_filter_tutors(user=user, enrolment=run.enrolment).filter(pk__in=filters.tutor)),
        status_labels=dict(ProgrammeStatus.choices),
    )
    template = "web/sync/_learners_grid.html" if _partial(request, "learner-grid") else "web/sync/learners.html"
    return render(request, template, context)


@wizard_view
@require_GET
def sync_learner_options(request: HttpRequest, learner: Learner, run: SyncRun, kind: str) -> HttpResponse:
    """The group or tutor filter's options matching its own search (R-SYNC-5), at most 50."""
    search = request.GET.get(f"{kind}_search", "").strip()[:100]
    chosen = {_int(v) for v in request.GET.getlist(kind)}
    if kind == "group":
        groups = sync_filter_groups(user=request.user, enrolment=run.enrolment)
        shown = list(groups.filter(pk__in=chosen)) + list(
            sync_filter_groups(user=request.user, enrolment=run.enrolment, search=search).exclude(pk__in=chosen)[:50]
        )
        options = [(g.pk, g.name) for g in shown]
    elif kind == "tutor":
        tutors = sync_filter_tutors(user=request.user, enrolment=run.enrolment)
        found = list(tutors.filter(pk__in=chosen)) + list(
            sync_filter_tutors(user=request.user, enrolment=run.enrolment, search=search).exclude(pk__in=chosen)[:50]
        )
        options = [(t.pk, t.get_full_name() or t.get_username()) for t in found]
    else:
        raise Http404("No such filter.")
    return render(
        request, "web/sync/_options.html", {"kind": kind, "options": options, "chosen": chosen, "search": search}
    )


# Select Conditions (R-SYNC-6) and Select Type (R-SYNC-7…10)


@wizard_view
@require_http_methods(["GET", "POST"])
def sync_conditions(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    if moved := _not_draft(run):
        return moved
    if request.method == "POST":
        try:
            run = sync_draft_conditions(run=run, statuses=request.POST.getlist("status"))
        except ApplicationError as e:
            tell_refusal(request, e)
        else:
            return redirect(_step_url(run, "learners" if request.POST.get("back") else "type"))
    context = _context(
        request, learner, run, "conditions", statuses=ComponentStatus.choices, selected_count=_targets(run)
    )
    return render(request, "web/sync/conditions.html", context)


@wizard_view
@require_http_methods(["GET", "POST"])
def sync_type(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    if moved := _not_draft(run):
        return moved
    if request.method == "POST":
        if request.POST.get("back"):
            return redirect(_step_url(run, "conditions"))
        try:
            run = sync_draft_type(
                run=run, sync_type=request.POST.get("sync_type", ""), attributes=request.POST.getlist("attribute")
            )
            run, left_out = sync_draft_summarise(run=run, by=acting_user(request))
        except ApplicationError as e:
            tell_refusal(request, e)
        else:
            if left_out:
                messages.warning(
                    request,
                    f"{left_out} selected learner{'s are' if left_out != 1 else ' is'} no longer eligible (status, "
                    "programme or visibility changed) and left out of this sync.",
                )
            return redirect(_step_url(run, "summary"))
    only_available = only_changes_available(run_sources(run))
    context = _context(
        request,
        learner,
        run,
        "type",
        types=[(t.value, SYNC_TYPE_LABELS[t], TYPE_HELP[t]) for t in SyncType],
        only_available=only_available,
        chosen_type=run.sync_type if (run.sync_type != SyncType.ONLY_CHANGES or only_available) else SyncType.ALL,
        attributes=[
            (a, ATTRIBUTE_LABELS[a]) for a in selectable_attributes(marking_aid_enabled=settings.WAYPOINT_MARKING_AID)
        ],
        selected_count=_targets(run),
    )
    return render(request, "web/sync/type.html", context)


def _targets(run: SyncRun) -> int:
    return SyncTarget.objects.filter(run=run).count()


# Summary, confirm (R-SYNC-13…15, R-PLUS-1, 3)


@wizard_view
@require_GET
def sync_summary(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    if run.status == SyncRunStatus.DRAFT:
        if run.error:
            messages.error(request, run.error)
        return redirect(_step_url(run, "type"))
    if changed := _status_changed(request, run):
        return changed
    context = _context(request, learner, run, "summary", **_run_context(run))
    template = "web/sync/_status.html" if _partial(request, "run-status") else "web/sync/summary.html"
    return render(request, template, context)


def _status_changed(request: HttpRequest, run: SyncRun) -> HttpResponse | None:
    """The status poll of a page whose run has moved on: the page reloads, to show the summary or the result."""
    was = request.GET.get("was")
    if _partial(request, "run-status") and was and was != run.status:
        return HttpResponse(headers={"HX-Refresh": "true"})
    return None


def _run_context(run: SyncRun) -> dict[str, Any]:
    done, total = sync_run_progress(run)
    working = run.status in (
        SyncRunStatus.SUMMARISING,
        SyncRunStatus.QUEUED,
        SyncRunStatus.APPLYING,
        SyncRunStatus.UNDOING,
    )
    summary = sync_run_summary(run) if run.status != SyncRunStatus.SUMMARISING else None
    return {
        "summary": summary,
        "item": summary or sync_run_item(run),
        "working": working,
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 0,
        "background": run.learner_count > settings.WAYPOINT_SYNC_BACKGROUND_FROM,
    }


@wizard_view
@require_POST
def sync_back(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    try:
        run = sync_draft_reopen(run=run)
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(_step_url(run, "summary"))
    return redirect(_step_url(run, "type"))


@wizard_view
@require_POST
def sync_confirm(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    try:
        run = sync_run_confirm(run=run, by=acting_user(request))
    except Conflict as e:
        if e.message != STALE:
            tell_refusal(request, e)
        else:
            messages.warning(request, STALE)
        return redirect(_step_url(run, "summary"))
    except ApplicationError as e:
        tell_refusal(request, e)
        return redirect(_step_url(run, "summary"))
    return redirect(_step_url(run, "summary"))  # which shows the success message, or the progress


def outcomes_page(request: HttpRequest, run: SyncRun) -> dict[str, Any]:
    """One expanded grid row's learner list, with reasons and diffs (R-SYNC-14, R-PLUS-1)."""
    row_id = _int(request.GET.get("row", ""))
    if not run.components.filter(pk=row_id).exists():
        raise Http404("No such row in this sync run.")
    synchronised = request.GET.get("synchronised") != "0"
    number = max(_int(request.GET.get("page", "1")), 1)
    page = sync_run_outcomes(run, row_id=row_id, synchronised=synchronised, page=number, page_size=OUTCOME_PAGE_SIZE)
    pages = max((page.count + OUTCOME_PAGE_SIZE - 1) // OUTCOME_PAGE_SIZE, 1)
    diffs = [outcome_diff(item) for item in page.items]
    owners = user_names(v for diff in diffs for c in diff if c.field == "owner" for v in (c.old, c.new) if v)
    return {
        "row_id": row_id,
        "synchronised": synchronised,
        "items": [
            {
                "item": item,
                "status": programme_status_label(item.programme_status),
                "reason": outcome_reason(item),
                "warnings": outcome_warnings(item),
                "diff": [
                    (field_label(c.field), display_value(c.field, c.old, owners), display_value(c.field, c.new, owners))
                    for c in diff
                ],
            }
            for item, diff in zip(page.items, diffs, strict=True)
        ],
        "count": page.count,
        "number": number,
        "pages": pages,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
    }


@wizard_view
@require_GET
def sync_outcomes(request: HttpRequest, learner: Learner, run: SyncRun) -> HttpResponse:
    context = {"run": run, **outcomes_page(request, run), "url": _step_url(run, "outcomes")}
    return render(request, "web/sync/_outcomes.html", context)


# History (R-SYNC-27, R-PLUS-2)


def _sync_allowed(request: HttpRequest) -> HttpResponse | None:
    if not may_sync_anything(staff_perms(request.user)):
        return render(
            request, "403.html", {"exception": "Sync runs are shown to admins who may synchronise plans."}, status=403
        )
    return None


@login_required
@require_GET
def sync_run_list(request: HttpRequest) -> HttpResponse:
    if refused := _sync_allowed(request):
        return refused
    status = request.GET.get("status") or None
    if status not in SyncRunStatus.values or status == SyncRunStatus.DRAFT:
        status = None
    search = request.GET.get("search", "").strip()[:200]
    runs = sync_run_list_for(request.user, status=status, search=search)
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "items": [sync_run_item(r) for r in page.object_list],
        "status": status,
        "search": search,
        "statuses": [(s, label) for s, label in SyncRunStatus.choices if s != SyncRunStatus.DRAFT],
    }
    template = "web/sync/_runs_grid.html" if _partial(request, "run-grid") else "web/sync/runs.html"
    return render(request, template, context)


def _history_run(request: HttpRequest, run_id: int) -> SyncRun:
    try:
        return sync_run_get_for(request.user, run_id)
    except NotFound as e:
        raise Http404(e.message) from None


@login_required
@require_GET
def sync_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    if refused := _sync_allowed(request):
        return refused
    run = _history_run(request, run_id)
    if changed := _status_changed(request, run):
        return changed
    context = {
        "run": run,
        **_run_context(run),
        "may_undo": run.status == SyncRunStatus.APPLIED
        and (run.by_id == request.user.pk or getattr(request.user, "is_superuser", False)),
    }
    template = "web/sync/_status.html" if _partial(request, "run-status") else "web/sync/run_detail.html"
    return render(request, template, context)


@login_required
@require_GET
def sync_run_outcomes_view(request: HttpRequest, run_id: int) -> HttpResponse:
    if refused := _sync_allowed(request):
        return refused
    run = _history_run(request, run_id)
    context = {"run": run, **outcomes_page(request, run), "url": reverse("sync_run_outcomes", args=[run.pk])}
    return render(request, "web/sync/_outcomes.html", context)


@login_required
@require_POST
def sync_run_undo_view(request: HttpRequest, run_id: int) -> HttpResponse:
    if refused := _sync_allowed(request):
        return refused
    run = _history_run(request, run_id)
    try:
        run = sync_run_undo(run=run, by=acting_user(request))
    except ApplicationError as e:
        tell_refusal(request, e)
    else:
        if run.status == SyncRunStatus.UNDONE:
            conflicts = (
                f"; {run.undo_conflicts:,} changed since the sync and left as they are" if run.undo_conflicts else ""
            )
            messages.success(request, f"Undone: {run.undo_restored:,} restored{conflicts}.")
    return redirect("sync_run_detail", run_id=run.pk)
