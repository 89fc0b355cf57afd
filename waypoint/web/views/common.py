"""What every page view shares: the acting user, the record visit, access to a learner, error display."""

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest

from waypoint.core.errors import ApplicationError, NotFound
from waypoint.people.models import Learner
from waypoint.people.selectors import learner_get_for

PAGE_SIZE = 50


def acting_user(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    assert isinstance(user, AbstractBaseUser), "views that write require login"
    return user


def visit_id(request: HttpRequest) -> int | None:
    """The record visit RecordVisitMiddleware opened for this request (R-SYNC-12)."""
    value: int | None = getattr(request, "record_visit_id", None)
    return value


def learner_or_404(request: HttpRequest, learner_id: int) -> Learner:
    try:
        return learner_get_for(request.user, learner_id)
    except NotFound as e:
        raise Http404(e.message) from None


def tell_refusal(request: HttpRequest, error: ApplicationError) -> None:
    """Show why a write was refused; the form shows `error.fields` beside the fields."""
    messages.error(request, error.message)
