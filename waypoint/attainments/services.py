"""PLR downloads and Update Selected (R-PLR-1, 3, 4, 6, 7, 8).

A download is the admin's session: the selected learners stored as rows, the service's answers stored as grid
rows, nothing written to learner records until Update Selected. The runner calls the service from a thread pool
(the threads never touch the database) and writes each batch's rows in a short transaction of its own, so its
progress is visible to every process as it goes, and its memory does not grow with the number of learners.
"""

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from waypoint.attainments.lrs.client import lrs_client, lrs_configured
from waypoint.attainments.lrs.types import LearnerEvents, LearnerQuery
from waypoint.attainments.models import Attainment, PlrDownload, PlrDownloadLearner, PlrDownloadStatus, PlrRow
from waypoint.attainments.rows import (
    ATTAINMENT_FIELDS,
    CALL_FAILED,
    ROW_VALUE_FIELDS,
    LearnerIdentity,
    UpdateResult,
    answer_rows,
    attainment_values,
    error_row,
    learner_query,
    local_error,
)
from waypoint.attainments.selectors import RowFilter, plr_rows_list
from waypoint.core.bulk import insert_rows
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.people.access import learner_visibility, staff_perms
from waypoint.people.models import Learner, Perm

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser

NO_PLR_PERMISSION = (
    "PLR attainments need the Attainments (PLR) Import permission, or Attainments (PLR) View and Export."
)
NO_IMPORT_PERMISSION = "Updating learners' attainments needs the Attainments (PLR) Import permission."
LRS_NOT_CONFIGURED = (
    "PLR attainments are not available: this installation's connection to the Learning Records Service is not "
    "configured."
)
# Batches whose calls may be under way at once: the next batch's calls start while one batch is written.
BATCHES_IN_FLIGHT = 2
WRITE_ATTEMPTS = 3
WRITE_RETRY_SECONDS = 0.2
UPDATE_CHUNK = 1000


class LearnerEventsSource(Protocol):
    def learner_events(self, query: LearnerQuery) -> LearnerEvents: ...


def plr_refusal(user: AnyUser, *, update: bool = False) -> str | None:
    """Why the user may not use PLR attainments (or, with `update`, write them), or None (R-PLR-1)."""
    if not lrs_configured():
        return LRS_NOT_CONFIGURED
    perms = staff_perms(user)
    if update:
        return None if Perm.PLR_IMPORT in perms else NO_IMPORT_PERMISSION
    return None if perms & {Perm.PLR_IMPORT, Perm.PLR_VIEW} else NO_PLR_PERMISSION


def plr_require(user: AnyUser, *, update: bool = False) -> None:
    if refusal := plr_refusal(user, update=update):
        raise PermissionRefused(refusal)


def _expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=settings.WAYPOINT_PLR_DOWNLOAD_HOURS)


def plr_download_start(*, by: AbstractBaseUser, learners: QuerySet[Learner] | Sequence[int]) -> PlrDownload:
    """A download for any number of learners (R-PLR-8), queued for the task worker once committed.

    `learners` is the Learner Manager's query (stored with one INSERT … SELECT) or chosen ids; either way only
    learners the admin may see are taken, and an id they may not see is refused.
    """
    plr_require(by)
    plr_downloads_expire()
    with transaction.atomic():
        download = PlrDownload.objects.create(owner_id=by.pk, expires_at=_expiry())
        table = PlrDownloadLearner._meta.db_table
        if isinstance(learners, QuerySet):
            visible = learners.filter(learner_visibility(by)).order_by().values("pk").distinct()
            try:
                sql, params = visible.query.sql_with_params()
            except EmptyResultSet:  # a condition that can match no learner
                sql, params = "", ()
            if sql:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {table} (download_id, learner_id) SELECT %s, t.pk FROM ({sql}) t",
                        [download.pk, *params],
                    )
        else:
            insert_rows(
                PlrDownloadLearner, ("download_id", "learner_id"), [(download.pk, i) for i in dict.fromkeys(learners)]
            )
            stored = PlrDownloadLearner.objects.filter(download=download)
            hidden = stored.exclude(learner_id__in=Learner.objects.filter(learner_visibility(by)).values("pk"))
            if count := hidden.count():
                some = ", ".join(
                    str(i) for i in hidden.order_by("learner_id").values_list("learner_id", flat=True)[:10]
                )
                raise ValidationFailed(
                    f"{count} of the selected learners do not exist or you may not see them.",
                    fields={"learners": [f"Unknown: {some}{' …' if count > 10 else ''}."]},
                )
        download.total = PlrDownloadLearner.objects.filter(download=download).count()
        if download.total == 0:
            raise ValidationFailed("Select at least one learner to download.", fields={"learners": ["Required."]})
        download.save(update_fields=["total"])
        _enqueue(download)
    return download


def _enqueue(download: PlrDownload) -> None:
    from waypoint.attainments.tasks import plr_download_task

    download_id = download.pk
    transaction.on_commit(lambda: plr_download_task.enqueue(download_id))


def plr_download_refresh(*, download: PlrDownload, by: AbstractBaseUser) -> PlrDownload:
    """R-PLR-7: ask the service again for the same learners; the old rows go, the new ones replace them."""
    plr_require(by)
    with transaction.atomic():
        locked = PlrDownload.objects.select_for_update().get(pk=download.pk, owner_id=by.pk)
        if locked.status in (PlrDownloadStatus.QUEUED, PlrDownloadStatus.RUNNING):
            raise Conflict("This download is still under way: refresh it once it has finished.")
        PlrRow.objects.filter(download=locked).delete()
        locked.status = PlrDownloadStatus.QUEUED
        locked.done = 0
        locked.error = ""
        locked.started_at = locked.finished_at = None
        locked.expires_at = _expiry()
        locked.save()
        _enqueue(locked)
    return locked


def plr_download_discard(*, download: PlrDownload, by: AbstractBaseUser) -> None:
    """Closing the window: the download and everything it held is gone (R-PLR-4). A runner still going stops at
    its next batch."""
    with transaction.atomic():
        ids = list(
            PlrDownload.objects.select_for_update().filter(pk=download.pk, owner_id=by.pk).values_list("pk", flat=True)
        )
        _delete(ids)


def plr_downloads_expire(now: dt.datetime | None = None) -> int:
    """Discard every download past its expiry; safe to run at any time and again. Returns how many went."""
    with transaction.atomic():
        expired = PlrDownload.objects.select_for_update().filter(expires_at__lt=now or timezone.now())
        ids = list(expired.values_list("pk", flat=True))
        _delete(ids)
    return len(ids)


def _delete(download_ids: list[int]) -> None:
    if not download_ids:
        return
    PlrRow.objects.filter(download_id__in=download_ids).delete()
    PlrDownloadLearner.objects.filter(download_id__in=download_ids).delete()
    PlrDownload.objects.filter(pk__in=download_ids).delete()


# The runner


def plr_download_run(download_id: int, client: LearnerEventsSource | None = None) -> None:
    """Download a queued download's rows (the task worker's job). A learner's failure is a row; a failure of
    the run itself marks the download failed with the reason."""
    claimed = PlrDownload.objects.filter(pk=download_id, status=PlrDownloadStatus.QUEUED).update(
        status=PlrDownloadStatus.RUNNING, started_at=timezone.now(), done=0, error=""
    )
    if not claimed:
        return  # discarded, or already taken by another worker
    try:
        PlrRow.objects.filter(download_id=download_id).delete()
        finished = _download(download_id, client or lrs_client())
    except Exception as exc:
        logger.exception("PLR download %s failed", download_id)
        PlrDownload.objects.filter(pk=download_id, status=PlrDownloadStatus.RUNNING).update(
            status=PlrDownloadStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return
    if finished:
        PlrDownload.objects.filter(pk=download_id, status=PlrDownloadStatus.RUNNING).update(
            status=PlrDownloadStatus.DONE, finished_at=timezone.now()
        )


@dataclass
class _Batch:
    learners: list[LearnerIdentity]
    calls: dict[int, Future[LearnerEvents]]  # by learner id; learners with a local error make no call


def _download(download_id: int, client: LearnerEventsSource) -> bool:
    size = max(1, settings.WAYPOINT_LRS_BATCH_SIZE)
    in_flight: deque[_Batch] = deque()
    with ThreadPoolExecutor(max_workers=max(1, settings.WAYPOINT_LRS_CONCURRENCY), thread_name_prefix="plr") as pool:
        try:
            for learners in _learner_chunks(download_id, size):
                calls = {
                    one.learner_id: pool.submit(client.learner_events, learner_query(one))
                    for one in learners
                    if local_error(one) is None
                }
                in_flight.append(_Batch(learners, calls))
                if len(in_flight) >= BATCHES_IN_FLIGHT and not _write(download_id, in_flight.popleft()):
                    return False
            while in_flight:
                if not _write(download_id, in_flight.popleft()):
                    return False
        finally:
            for batch in in_flight:
                for call in batch.calls.values():
                    call.cancel()
    return True


def _learner_chunks(download_id: int, size: int) -> Iterator[list[LearnerIdentity]]:
    """The selected learners, `size` at a time (keyset paging: one short query per chunk)."""
    last = 0
    selected = PlrDownloadLearner.objects.filter(download_id=download_id).order_by("pk")
    while True:
        chunk = list(
            selected.filter(pk__gt=last).values_list(
                "pk",
                "learner_id",
                "learner__uln",
                "learner__first_name",
                "learner__surname",
                "learner__date_of_birth",
                "learner__sex",
            )[:size]
        )
        if not chunk:
            return
        last = chunk[-1][0]
        yield [LearnerIdentity(*row[1:]) for row in chunk]


def _answer(call: Future[LearnerEvents], one: LearnerIdentity) -> list[dict[str, Any]]:
    try:
        return answer_rows(one, call.result())
    except Exception as exc:  # the client never raises; if it does, that learner's row says so
        logger.warning("LRS call for learner %s failed: %r", one.learner_id, exc)
        return [error_row(one, CALL_FAILED)]


def _write(download_id: int, batch: _Batch) -> bool:
    """Wait for a batch's answers and store them with the progress; False when the download has gone. A write the
    database refuses for the moment (a lock, a deadlock) is tried again: the answers are already paid for."""
    values: list[dict[str, Any]] = []
    for one in batch.learners:
        call = batch.calls.get(one.learner_id)
        if call is None:
            values.append(error_row(one, local_error(one) or CALL_FAILED))
        else:
            values.extend(_answer(call, one))
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return _store(download_id, len(batch.learners), values)
        except OperationalError as exc:
            if attempt == WRITE_ATTEMPTS:
                raise
            logger.warning("PLR download %s: writing a batch failed (%s); trying again", download_id, exc)
            time.sleep(WRITE_RETRY_SECONDS * attempt)
    return False  # not reached: the last attempt returns or raises


def _store(download_id: int, learners: int, values: list[dict[str, Any]]) -> bool:
    with transaction.atomic():
        still_running = PlrDownload.objects.filter(pk=download_id, status=PlrDownloadStatus.RUNNING).update(
            done=F("done") + learners
        )
        if not still_running:
            return False
        PlrRow.objects.bulk_create([PlrRow(download_id=download_id, **v) for v in values])
    return True


# Update Selected (R-PLR-6)


def plr_rows_update_selected(
    *,
    download: PlrDownload,
    by: AbstractBaseUser,
    row_ids: Sequence[int] | None = None,
    filters: RowFilter | None = None,
) -> UpdateResult:
    """Write the selected rows into the learners' attainments, keyed by (learner, LRS event ID).

    The selection is every row (no `row_ids`, no `filters`), the rows of a page (`row_ids`), or the rows a
    filter matches. Rows without an event (errors, no events) are skipped; an attainment that already holds the
    row's values is not written again, so a second identical update changes nothing.
    """
    plr_require(by, update=True)
    if download.owner_id != by.pk:
        raise PermissionRefused("Only the admin who made this download can update from it.")
    if download.status != PlrDownloadStatus.DONE:
        raise Conflict("Update Selected is available once the download has finished.")
    selected = plr_rows_list(download, filters=filters).order_by()
    if row_ids is not None:
        selected = selected.filter(pk__in=list(dict.fromkeys(row_ids)))
    attainment_type = settings.WAYPOINT_PLR_ATTAINMENT_TYPE
    processed = updated = unchanged = 0
    with transaction.atomic():
        processed = selected.count()
        with_events = selected.filter(lrs_event_id__isnull=False)
        last = 0
        while True:
            chunk = list(with_events.filter(pk__gt=last).order_by("pk").values("pk", *ROW_VALUE_FIELDS)[:UPDATE_CHUNK])
            if not chunk:
                break
            first, last = chunk[0]["pk"], chunk[-1]["pk"]
            learners = with_events.filter(pk__gte=first, pk__lte=last).values("learner_id")
            existing = {
                (a["learner_id"], a["lrs_event_id"]): a
                for a in Attainment.objects.filter(learner_id__in=learners).values(
                    "learner_id", "lrs_event_id", *ATTAINMENT_FIELDS
                )
            }
            writes: dict[tuple[int, int], dict[str, Any]] = {}
            for row in chunk:
                key = (row["learner_id"], row["lrs_event_id"])
                wanted = attainment_values(row, attainment_type)
                have = writes.get(key) or existing.get(key)
                if have is not None and all(have[f] == wanted[f] for f in ATTAINMENT_FIELDS):
                    unchanged += 1
                    continue
                if key not in writes:
                    updated += 1
                writes[key] = {"learner_id": key[0], "lrs_event_id": key[1], **wanted}
            if writes:
                Attainment.objects.bulk_create(
                    [Attainment(updated_by_id=by.pk, **w) for w in writes.values()],
                    update_conflicts=True,
                    unique_fields=["learner", "lrs_event_id"],
                    update_fields=[*ATTAINMENT_FIELDS, "updated_at", "updated_by"],
                )
    return UpdateResult(
        processed=processed, updated=updated, unchanged=unchanged, skipped=processed - updated - unchanged
    )
