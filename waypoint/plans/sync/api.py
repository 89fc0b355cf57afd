"""The sync wizard's selection steps: /learners/{learner_id}/sync/…

Every endpoint refuses (403) an admin who holds none of the permissions that allow any sync (R-SYNC-1), then
answers 404 for a learner the admin may not see (R-CORE-8).
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user, uses_session
from waypoint.api.schemas import ERRORS, PageQuery, PathId, paginate
from waypoint.people.models import Group
from waypoint.people.schemas import Ref
from waypoint.people.selectors import learner_get_for
from waypoint.plans.sync.schemas import (
    SyncComponentPage,
    SyncComponentQuery,
    SyncLearnerPage,
    SyncLearnerQuery,
    SyncOptionQuery,
    SyncProgrammesOut,
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
