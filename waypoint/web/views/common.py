"""What every page view shares: the acting user, the record visit, access to a learner, error display, and the
answer to an edit form."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from waypoint.core.errors import ApplicationError, NotFound
from waypoint.people.models import Learner
from waypoint.people.selectors import learner_get_for

PAGE_SIZE = 50

Saved = TypeVar("Saved")


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


def field_labels(names: Iterable[str], labels: Mapping[str, str] | None = None) -> str:
    """The fields `names` in words, for a message: their `labels`, or the names with spaces."""
    return ", ".join((labels or {}).get(n, n.replace("_", " ")) for n in names)


def submit(
    request: HttpRequest,
    form: Any,
    save: Callable[[dict[str, Any]], Saved],
    *,
    success: Callable[[Saved], str],
    to: str | Callable[[Saved], str],
    show_fields: Callable[[Mapping[str, list[str]]], None] | None = None,
) -> HttpResponse | int:
    """Answer an edit page: a valid posted `form` is saved by `save(form.cleaned_data)`, one service call.

    Saved, the admin is told `success(saved)` and sent `to` a page; refused, they are told why, with the refusal's
    field problems beside the fields (`show_fields`, by default the form's `add_service_errors`). Anything else
    answers the status to show the page with: 200 unposted, 422 invalid, or the refusal's. A form of None is a
    button that posts nothing.
    """
    if request.method != "POST":
        return 200
    if form is not None and not form.is_valid():
        return 422
    try:
        saved = save(form.cleaned_data if form is not None else {})
    except ApplicationError as e:
        tell_refusal(request, e)
        if form is not None:
            (show_fields or form.add_service_errors)(e.fields)
        return e.status
    messages.success(request, success(saved))
    return redirect(to if isinstance(to, str) else to(saved))


def submit_changes(
    request: HttpRequest,
    form: Any,
    save: Callable[[dict[str, Any]], Saved],
    *,
    unchanged: str,
    success: Callable[[Saved], str],
    to: str,
) -> HttpResponse | int:
    """`submit` for a form that sends the service only what the admin changed (`form.changes()`): when that is
    nothing, nothing is saved and the admin is told `unchanged`."""
    if request.method == "POST" and form.is_valid() and not form.changes():
        messages.info(request, unchanged)
        return redirect(to)
    return submit(request, form, lambda _: save(form.changes()), success=success, to=to)
