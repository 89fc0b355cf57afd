"""Reads of PLR downloads and attainments: each admin sees only their own downloads (404 otherwise)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from waypoint.attainments.models import Attainment, PlrDownload, PlrRow
from waypoint.core.errors import NotFound, ValidationFailed
from waypoint.people.selectors import learner_get_for

# Sort keys of the grid; `-key` sorts descending. Every order ends with the row id, so pages are stable.
ROW_SORTS: dict[str, tuple[str, ...]] = {
    "learner": ("surname", "first_name", "learner_id"),
    "uln": ("uln",),
    "subject": ("subject",),
    "subject_code": ("subject_code",),
    "award_date": ("achievement_award_date",),
    "qualification_type": ("qualification_type",),
    "error_code": ("error_code",),
    "response_code": ("response_code",),
}


@dataclass(frozen=True)
class RowFilter:
    """Filters of the grid. `error_code`/`response_code` match exactly; `has_error` any error at all."""

    error_code: str | None = None
    response_code: str | None = None
    has_events: bool | None = None
    has_error: bool | None = None
    learner_id: int | None = None


def plr_download_get_for(user: AbstractBaseUser | AnonymousUser, download_id: int) -> PlrDownload:
    """A download of this admin's; another admin's is not found (R-PLR-4: a download is its owner's session)."""
    download = PlrDownload.objects.filter(pk=download_id, owner_id=user.pk).first()
    if download is None:
        raise NotFound("No such PLR download, or it is not yours (downloads are discarded after a while).")
    return download


def plr_download_progress(download: PlrDownload) -> tuple[int, int]:
    """(learners done, learners selected); the runner commits after each batch, so any process reads it live."""
    return download.done, download.total


def plr_rows_list(
    download: PlrDownload, *, filters: RowFilter | None = None, sort: str = "learner"
) -> QuerySet[PlrRow]:
    rows = PlrRow.objects.filter(download=download)
    f = filters or RowFilter()
    if f.error_code is not None:
        rows = rows.filter(error_code=f.error_code)
    if f.response_code is not None:
        rows = rows.filter(response_code=f.response_code)
    if f.has_events is not None:
        rows = rows.filter(lrs_event_id__isnull=not f.has_events)
    if f.has_error is not None:
        rows = rows.exclude(error_code="") if f.has_error else rows.filter(error_code="")
    if f.learner_id is not None:
        rows = rows.filter(learner_id=f.learner_id)
    descending = sort.startswith("-")
    columns = ROW_SORTS.get(sort.removeprefix("-"))
    if columns is None:
        raise ValidationFailed(
            f"Unknown sort: {sort}.", fields={"sort": [f"Choose one of: {', '.join(ROW_SORTS)} (- for descending)."]}
        )
    order = [f"-{c}" if descending else c for c in (*columns, "id")]
    return rows.order_by(*order)


def attainment_list_for(user: AbstractBaseUser | AnonymousUser, learner_id: int) -> QuerySet[Attainment]:
    """A learner's attainments, newest award first; 404 for a learner the user may not see."""
    return attainments_of(learner_get_for(user, learner_id).pk)


def attainments_of(learner_id: int) -> QuerySet[Attainment]:
    """The attainments of a learner the caller has already checked access to (the record page: one query)."""
    return Attainment.objects.filter(learner_id=learner_id).order_by("-award_date", "subject", "id")
