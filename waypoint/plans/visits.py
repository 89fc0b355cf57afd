"""Record visits (R-SYNC-12).

Opening a learner record starts a visit; requests to pages inside that record keep it; a page
outside the record ends it. Changes an admin makes are journalled with the visit, so the
changes of the current visit are the admin's "recent changes".
"""

import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from waypoint.people.access import learner_visibility
from waypoint.people.models import Learner
from waypoint.plans.models import RecordVisit

SESSION_KEY = "waypoint_record_visit"
LEARNER_RECORD = re.compile(r"^/learners/(?P<learner_id>\d+)(?:/|$)")
# Requests that are not page navigations never end a visit.
NOT_NAVIGATION = re.compile(r"^/(?:static|api|admin/jsi18n|favicon\.ico|__)")


def record_visit_for(request: HttpRequest, learner_id: int) -> int | None:
    """The id of the open visit of this admin on this learner, starting one if needed."""
    current = request.session.get(SESSION_KEY)
    if current and current["learner"] == learner_id:
        return int(current["id"])
    end_record_visit(request)
    if not Learner.objects.filter(learner_visibility(request.user), pk=learner_id).exists():
        return None  # the view answers 404
    assert request.user.pk is not None  # the middleware only calls this for signed-in users
    visit = RecordVisit.objects.create(admin_id=request.user.pk, learner_id=learner_id)
    request.session[SESSION_KEY] = {"id": visit.pk, "learner": learner_id}
    return visit.pk


def end_record_visit(request: HttpRequest) -> None:
    current = request.session.pop(SESSION_KEY, None)
    if current:
        RecordVisit.objects.filter(pk=current["id"], ended_at__isnull=True).update(ended_at=timezone.now())


def current_record_visit_id(request: HttpRequest, learner_id: int) -> int | None:
    """The session's open visit if it is on this learner (used by the API with session auth)."""
    current = getattr(request, "session", {}).get(SESSION_KEY)
    return int(current["id"]) if current and current["learner"] == learner_id else None


class RecordVisitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.record_visit_id = None  # type: ignore[attr-defined]
        if request.user.is_authenticated and not NOT_NAVIGATION.match(request.path_info):
            if match := LEARNER_RECORD.match(request.path_info):
                learner_id = int(match["learner_id"])
                request.record_visit_id = record_visit_for(request, learner_id)  # type: ignore[attr-defined]
            elif request.method == "GET" and not request.headers.get("HX-Request"):
                end_record_visit(request)
        return self.get_response(request)


def _end_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        end_record_visit(request)


def connect_signals() -> None:
    user_logged_out.connect(_end_on_logout, dispatch_uid="waypoint_end_visit_on_logout")
