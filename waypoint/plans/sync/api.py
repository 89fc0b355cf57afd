"""Synchronising learning plans over the API.

The wizard's selection steps, /learners/{learner_id}/sync/… (R-SYNC-1…5), and sync runs, /sync-runs/…: create one
with its summary, read the summary and the learner lists, confirm, undo, list the history (R-SYNC-13…15, 27,
R-PLUS-1…4). Every endpoint refuses (403) an admin who holds none of the permissions that allow any sync
(R-SYNC-1), then answers 404 for a learner or a run the admin may not see.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from waypoint.api.auth import acting_user, uses_session
from waypoint.api.schemas import ERRORS, PageQuery, PathId, paginate, plain
from waypoint.core.csv_stream import csv_response
from waypoint.core.errors import Conflict
from waypoint.people.models import Group
from waypoint.people.schemas import Ref
from waypoint.people.selectors import learner_get_for
from waypoint.plans.models import SyncRun, SyncRunStatus
from waypoint.plans.sync.reports import (
    RunSummary,
    outcome_reason,
    programme_status_label,
    sync_run_get_for,
    sync_run_item,
    sync_run_list_for,
    sync_run_outcomes,
    sync_run_outcomes_iterator,
    sync_run_summary,
)
from waypoint.plans.sync.runs import STALE, sync_run_confirm, sync_run_create, sync_run_undo
from waypoint.plans.sync.schemas import (
    LearnerFilterIn,
    OutcomeFilter,
    OutcomeQuery,
    SyncComponentPage,
    SyncComponentQuery,
    SyncLearnerPage,
    SyncLearnerQuery,
    SyncOptionQuery,
    SyncOutcomePage,
    SyncProgrammesOut,
    SyncRunIn,
    SyncRunOut,
    SyncRunPage,
    SyncRunQuery,
    decode_keys,
    tutor_refs,
)
from waypoint.plans.sync.selection import (
    learners_matching,
    require_sync_permission,
    sync_components_filter,
    sync_components_list,
    sync_filter_groups,
    sync_filter_tutors,
    sync_programmes_list,
    sync_source_get,
)
from waypoint.plans.visits import current_record_visit_id
from waypoint.programmes.models import Enrolment

router = Router(tags=["sync"])

T = TypeVar("T")


def _source(request: HttpRequest, learner_id: int, programme_id: int | None) -> Enrolment:
    return sync_source_get(user=acting_user(request), learner_id=learner_id, programme_id=programme_id)


def _visit_id(request: HttpRequest, learner_id: int) -> int | None:
    """The record visit whose changes are recent (R-SYNC-12); a token has no visit, so no recent changes."""
    return current_record_visit_id(request, learner_id) if uses_session(request) else None


def paginate_list(items: Sequence[T], query: PageQuery) -> dict[str, Any]:
    """`paginate` for a list already in memory."""
    offset = (query.page - 1) * query.page_size
    return {
        "items": list(items[offset : offset + query.page_size]),
        "count": len(items),
        "page": query.page,
        "page_size": query.page_size,
    }


@router.get("/learners/{learner_id}/sync/programmes", response={200: SyncProgrammesOut, **ERRORS})
def sync_programmes(request: HttpRequest, learner_id: PathId) -> dict[str, Any]:
    """The learner's programmes and sub-programmes to synchronise from; the only one is preselected (R-SYNC-2)."""
    user = acting_user(request)
    require_sync_permission(user)
    enrolments = sync_programmes_list(learner_get_for(user, learner_id))
    return {"items": enrolments, "preselected": enrolments[0].programme_id if len(enrolments) == 1 else None}


@router.get("/learners/{learner_id}/sync/components", response={200: SyncComponentPage, **ERRORS})
def sync_components(request: HttpRequest, learner_id: PathId, query: Query[SyncComponentQuery]) -> dict[str, Any]:
    """The source plan's components (and those you deleted), in plan order, paged (R-SYNC-3).

    What you created, updated or deleted since opening the learner record is preselected (R-SYNC-4, R-SYNC-12);
    with a token there is no record visit, so nothing is.
    """
    enrolment = _source(request, learner_id, query.programme)
    choices = sync_components_list(
        enrolment=enrolment, by_id=acting_user(request).pk, visit_id=_visit_id(request, learner_id)
    )
    shown = sync_components_filter(choices, type=query.type.value if query.type else None, search=query.search)
    preselected = [c.code for c in choices if c.preselected]
    return {**paginate_list(shown, query), "only_changes_available": bool(preselected), "preselected": preselected}


@router.get("/learners/{learner_id}/sync/learners", response={200: SyncLearnerPage, **ERRORS})
def sync_learners(request: HttpRequest, learner_id: PathId, query: Query[SyncLearnerQuery]) -> dict[str, Any]:
    """Learners on the same programme you may synchronise, by surname (R-SYNC-5).

    The source learner and learners Pending Change of Programme, Expired, Cancelled or Archived are left out.
    `count` is every learner matching the filters: send the same filters to select them all.
    """
    enrolment = _source(request, learner_id, query.programme)
    return paginate(learners_matching(acting_user(request), enrolment, query), query)


@router.get("/learners/{learner_id}/sync/groups", response={200: list[Ref], **ERRORS})
def sync_groups(request: HttpRequest, learner_id: PathId, query: Query[SyncOptionQuery]) -> QuerySet[Group]:
    """The groups of the learners you may synchronise: the group filter's options (R-SYNC-5)."""
    enrolment = _source(request, learner_id, query.programme)
    return sync_filter_groups(user=acting_user(request), enrolment=enrolment, search=query.search)


@router.get("/learners/{learner_id}/sync/tutors", response={200: list[Ref], **ERRORS})
def sync_tutors(request: HttpRequest, learner_id: PathId, query: Query[SyncOptionQuery]) -> list[dict[str, Any]]:
    """The case owners of the learners you may synchronise: the tutor filter's options (R-SYNC-5)."""
    enrolment = _source(request, learner_id, query.programme)
    return tutor_refs(sync_filter_tutors(user=acting_user(request), enrolment=enrolment, search=query.search))


# Sync runs (R-SYNC-13…15, 27, R-PLUS-1…3)


def _run(request: HttpRequest, run_id: int) -> SyncRun:
    """A run the caller may see (404 otherwise), once they may sync at all (403, R-SYNC-1)."""
    user = acting_user(request)
    require_sync_permission(user)
    return sync_run_get_for(user, run_id)


def _summary(request: HttpRequest, run_id: int) -> RunSummary:
    return sync_run_summary(_run(request, run_id))


@router.post("/sync-runs", response={201: SyncRunOut, **ERRORS})
def sync_runs_create(request: HttpRequest, payload: SyncRunIn) -> tuple[int, RunSummary]:
    """Work out a sync and its summary (R-SYNC-13, 14); nothing changes until it is confirmed (R-SYNC-15).

    With a browser session on the source learner's record, your changes in that visit are the recent changes
    ONLY changes applies (R-SYNC-12); a token has none.
    """
    user = acting_user(request)
    enrolment = sync_source_get(user=user, learner_id=payload.learner, programme_id=payload.programme)
    selection = payload.learners
    run = sync_run_create(
        by=user,
        enrolment=enrolment,
        keys=decode_keys(payload.components),
        learners=learners_matching(user, enrolment, selection.all_matching or LearnerFilterIn.model_validate({})),
        learner_ids=selection.ids,
        sync_type=payload.sync_type.value,
        statuses=[s.value for s in payload.statuses],
        attributes=payload.attributes,
        visit_id=_visit_id(request, payload.learner),
    )
    return 201, _summary(request, run.pk)


@router.get("/sync-runs", response={200: SyncRunPage, **ERRORS})
def sync_runs_list(request: HttpRequest, query: Query[SyncRunQuery]) -> dict[str, Any]:
    """The history, newest first: your runs; every run for a Supervisor (R-SYNC-27)."""
    user = acting_user(request)
    require_sync_permission(user)
    filters = plain(query.model_dump(include={"status", "since", "search"}))
    page = paginate(sync_run_list_for(user, source_learner=query.learner, **filters), query)
    return {**page, "items": [sync_run_item(r) for r in page["items"]]}


@router.get("/sync-runs/{run_id}", response={200: SyncRunOut, **ERRORS})
def sync_runs_read(request: HttpRequest, run_id: PathId) -> RunSummary:
    """The summary and its grid (R-SYNC-13, 14), the status and the progress of an apply (R-PLUS-3)."""
    return _summary(request, run_id)


@router.get("/sync-runs/{run_id}/learners", response={200: SyncOutcomePage, **ERRORS})
def sync_runs_learners(request: HttpRequest, run_id: PathId, query: Query[OutcomeQuery]) -> dict[str, Any]:
    """A grid row's two learner lists (R-SYNC-14), each learner with the reason, the warnings and the exact diff
    (R-PLUS-1), by surname. With SELECTED the source learner is listed too (`is_source`), though the grid's counts
    are of target learners only."""
    run = _run(request, run_id)
    page = sync_run_outcomes(
        run,
        row_id=query.component,
        synchronised=query.synchronised,
        learner_id=query.learner,
        page=query.page,
        page_size=query.page_size,
    )
    return {"items": page.items, "count": page.count, "page": query.page, "page_size": query.page_size}


@router.get("/sync-runs/{run_id}/learners.csv", response={200: None, **ERRORS})
def sync_runs_learners_csv(request: HttpRequest, run_id: PathId, query: Query[OutcomeFilter]) -> StreamingHttpResponse:
    """The learner lists as CSV, streamed: `?synchronised=false` is the not-synchronised list with reasons."""
    run = _run(request, run_id)
    outcomes = sync_run_outcomes_iterator(
        run, row_id=query.component, synchronised=query.synchronised, learner_id=query.learner
    )

    rows = (
        [
            item.learner.full_name,
            item.learner.uln,
            programme_status_label(item.programme_status),
            item.row.name,
            item.decision.action,
            "no" if (reason := outcome_reason(item)) else "yes",
            reason.message if reason else "",
        ]
        for item in outcomes
    )
    headings = ["Learner", "ULN", "Programme status", "Component", "Action", "Synchronised", "Reason"]
    return csv_response(filename=f"sync-run-{run.pk}-learners", headings=headings, rows=rows)


@router.post("/sync-runs/{run_id}/confirm", response={200: SyncRunOut, 202: SyncRunOut, **ERRORS})
def sync_runs_confirm(request: HttpRequest, run_id: PathId) -> tuple[int, RunSummary]:
    """Apply exactly the summary (R-SYNC-15): 200 once applied; 202 when queued for the worker (R-PLUS-3) — GET
    the run for its progress. If a plan changed since the summary, nothing is applied and the answer is 409: the
    summary has been worked out again; GET the run to see it, then confirm again. Confirming twice applies once."""
    run = _run(request, run_id)
    try:
        run = sync_run_confirm(run=run, by=acting_user(request))
    except Conflict as e:
        if e.message != STALE:
            raise
        raise Conflict(e.message, fields={"summary": [f"GET /api/v1/sync-runs/{run.pk} for the fresh summary."]}) from e
    return (202 if run.status == SyncRunStatus.QUEUED else 200), _summary(request, run.pk)


@router.post("/sync-runs/{run_id}/undo", response={200: SyncRunOut, 202: SyncRunOut, **ERRORS})
def sync_runs_undo(request: HttpRequest, run_id: PathId) -> tuple[int, RunSummary]:
    """Put back every before-value of an applied run (R-PLUS-2); what changed since is left and counted in
    `undo_conflicts`. 200 once undone; 202 when a run of more than `WAYPOINT_SYNC_BACKGROUND_FROM` learners is
    queued for the worker (`status` "undoing") — GET the run until it is "undone"."""
    run = sync_run_undo(run=_run(request, run_id), by=acting_user(request))
    return (202 if run.status == SyncRunStatus.UNDOING else 200), _summary(request, run.pk)
