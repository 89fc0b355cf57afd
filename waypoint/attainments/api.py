"""The Learner Manager and PLR attainments over the API (R-PLR-1…8).

/learner-manager/search lists learners by a condition (R-PLR-2). /plr/downloads… start a download for a
condition or chosen learners, poll it, page, filter, sort and export its rows, update selected rows into the
learners' attainments, refresh and discard it. Every PLR endpoint answers 403 with the reason when the LRS
connection is not configured or the admin holds neither PLR permission (Update Selected needs Import), and 404
for another admin's download.
"""

from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate
from waypoint.attainments.conditions import condition_parse, learner_manager_list
from waypoint.attainments.exports import rows_csv_response, rows_xlsx_response
from waypoint.attainments.models import Attainment, PlrDownload
from waypoint.attainments.rows import UpdateResult
from waypoint.attainments.schemas import (
    AttainmentOut,
    ExportQuery,
    LearnerManagerQuery,
    ManagedLearnerPage,
    PlrDownloadIn,
    PlrDownloadOut,
    PlrRowPage,
    RowQuery,
    UpdateResultOut,
    UpdateSelectedIn,
)
from waypoint.attainments.selectors import (
    RowFilter,
    attainment_list_for,
    plr_download_get_for,
    plr_rows_list,
)
from waypoint.attainments.services import (
    plr_download_discard,
    plr_download_refresh,
    plr_download_start,
    plr_require,
    plr_rows_update_selected,
)

router = Router(tags=["attainments"])


def _download(request: HttpRequest, download_id: int) -> PlrDownload:
    user = acting_user(request)
    plr_require(user)
    return plr_download_get_for(user, download_id)


def _out(download: PlrDownload) -> dict[str, Any]:
    return {
        "id": download.pk,
        "status": download.status,
        "done": download.done,
        "total": download.total,
        "created_at": download.created_at,
        "expires_at": download.expires_at,
        "finished_at": download.finished_at,
        "error": download.error,
        "row_count": download.rows.count(),
    }


@router.post("/learner-manager/search", response={200: ManagedLearnerPage, **ERRORS})
def learner_manager_search(request: HttpRequest, payload: LearnerManagerQuery) -> dict[str, Any]:
    """The learners you may see that match the condition, by surname, paged (R-PLR-2). `count` is every match:
    send the same condition to POST /plr/downloads to download them all."""
    return paginate(learner_manager_list(acting_user(request), condition_parse(payload.condition)), payload)


@router.post("/plr/downloads", response={202: PlrDownloadOut, **ERRORS})
def plr_downloads_create(request: HttpRequest, payload: PlrDownloadIn) -> tuple[int, dict[str, Any]]:
    """Download the PLR of every learner the condition matches, or of the chosen learners, any number (R-PLR-8).
    The task worker does it: poll GET /plr/downloads/{id} for progress (done/total)."""
    user = acting_user(request)
    plr_require(user)
    if payload.learner_ids is not None:
        learners: Any = payload.learner_ids
    else:
        learners = learner_manager_list(user, condition_parse(payload.condition))
    return 202, _out(plr_download_start(by=user, learners=learners))


@router.get("/plr/downloads/{download_id}", response={200: PlrDownloadOut, **ERRORS})
def plr_downloads_read(request: HttpRequest, download_id: PathId) -> dict[str, Any]:
    """The download's status and progress: learners done of total (R-PLR-8)."""
    return _out(_download(request, download_id))


@router.get("/plr/downloads/{download_id}/rows", response={200: PlrRowPage, **ERRORS})
def plr_downloads_rows(request: HttpRequest, download_id: PathId, query: Query[RowQuery]) -> dict[str, Any]:
    """The grid: one row per learning event and one per learner without events, with Error Code, Error
    Description, Response Code and Response Description (R-PLR-3, R-PLR-4); filtered, sorted, paged."""
    download = _download(request, download_id)
    return paginate(plr_rows_list(download, filters=query.row_filter(), sort=query.sort), query)


@router.get("/plr/downloads/{download_id}/rows.csv", response={200: None, **ERRORS})
def plr_downloads_rows_csv(
    request: HttpRequest, download_id: PathId, query: Query[ExportQuery]
) -> StreamingHttpResponse:
    """The grid as CSV, streamed, with the same filters and sort (R-PLR-5)."""
    download = _download(request, download_id)
    rows = plr_rows_list(download, filters=query.row_filter(), sort=query.sort)
    return rows_csv_response(rows, f"plr-download-{download.pk}")


@router.get("/plr/downloads/{download_id}/rows.xlsx", response={200: None, **ERRORS})
def plr_downloads_rows_xlsx(request: HttpRequest, download_id: PathId, query: Query[ExportQuery]) -> FileResponse:
    """The grid as an Excel workbook, with the same filters and sort (R-PLR-5)."""
    download = _download(request, download_id)
    rows = plr_rows_list(download, filters=query.row_filter(), sort=query.sort)
    return rows_xlsx_response(rows, f"plr-download-{download.pk}")


@router.post("/plr/downloads/{download_id}/update", response={200: UpdateResultOut, **ERRORS})
def plr_downloads_update(request: HttpRequest, download_id: PathId, payload: UpdateSelectedIn) -> UpdateResult:
    """Update Selected: write the selected rows into the learners' attainments and say how many were processed,
    updated, and not updated because nothing changed (R-PLR-6). Needs the Attainments (PLR) Import permission."""
    download = _download(request, download_id)
    filters: RowFilter | None = payload.filter.row_filter() if payload.filter is not None else None
    return plr_rows_update_selected(
        download=download, by=acting_user(request), row_ids=payload.row_ids, filters=filters
    )


@router.post("/plr/downloads/{download_id}/refresh", response={202: PlrDownloadOut, **ERRORS})
def plr_downloads_refresh(request: HttpRequest, download_id: PathId) -> tuple[int, dict[str, Any]]:
    """Ask the service again for the same learners (R-PLR-7); 409 while the download is under way."""
    download = _download(request, download_id)
    return 202, _out(plr_download_refresh(download=download, by=acting_user(request)))


@router.delete("/plr/downloads/{download_id}", response={204: None, **ERRORS})
def plr_downloads_discard(request: HttpRequest, download_id: PathId) -> tuple[int, None]:
    """Close the download: its rows are discarded (R-PLR-4)."""
    user = acting_user(request)
    plr_download_discard(download=plr_download_get_for(user, download_id), by=user)
    return 204, None


@router.get("/learners/{learner_id}/attainments", response={200: list[AttainmentOut], **ERRORS})
def learner_attainments(request: HttpRequest, learner_id: PathId) -> list[Attainment]:
    """The learner's attainments, newest award first (R-PLR-6)."""
    return list(attainment_list_for(acting_user(request), learner_id))
