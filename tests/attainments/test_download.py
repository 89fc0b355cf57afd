"""PLR downloads: who may start one, the rows the runner writes, its concurrency, progress and cost
(R-PLR-1, 3, 4, 7, 8)."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.attainments.conftest import FakeLrs, exact_match
from waypoint.attainments import services
from waypoint.attainments.lrs.types import NOT_SHARED, LearnerEvents, LearnerQuery
from waypoint.attainments.models import (
    Attainment,
    PlrDownload,
    PlrDownloadLearner,
    PlrDownloadStatus,
    PlrRow,
)
from waypoint.attainments.rows import CALL_FAILED, INVALID_ULN, MISSING_NAME, MISSING_ULN
from waypoint.attainments.services import (
    LRS_NOT_CONFIGURED,
    NO_PLR_PERMISSION,
    plr_download_discard,
    plr_download_refresh,
    plr_download_run,
    plr_download_start,
    plr_downloads_expire,
)
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.people.models import Group, Learner, Perm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lrs_on")]


def _start(by: object, learners: list[Learner]) -> PlrDownload:
    return plr_download_start(by=by, learners=[x.pk for x in learners])  # type: ignore[arg-type]


def test_only_admins_with_a_plr_permission_may_download_r_plr_1() -> None:
    learner = factories.learner()
    with pytest.raises(PermissionRefused) as refused:
        _start(factories.staff([Perm.SUPERVISOR]), [learner])
    assert refused.value.message == NO_PLR_PERMISSION
    assert _start(factories.staff([Perm.PLR_VIEW]), [learner]).total == 1
    assert _start(factories.staff([Perm.PLR_IMPORT]), [learner]).total == 1


def test_nothing_can_be_downloaded_when_the_lrs_connection_is_not_configured_r_plr_1(settings: object) -> None:
    settings.WAYPOINT_LRS_URL = ""  # type: ignore[attr-defined]
    with pytest.raises(PermissionRefused) as refused:
        _start(factories.staff([Perm.PLR_IMPORT]), [factories.learner()])
    assert refused.value.message == LRS_NOT_CONFIGURED
    assert not PlrDownload.objects.exists()


def test_a_download_takes_only_learners_the_admin_may_see() -> None:
    mine = Group.objects.create(name="Mine")
    admin = factories.staff([Perm.PLR_IMPORT], all_groups=False, groups=[mine])
    visible, hidden = factories.learner(groups=[mine]), factories.learner()
    with pytest.raises(ValidationFailed):
        _start(admin, [visible, hidden])
    assert not PlrDownloadLearner.objects.exists()
    download = plr_download_start(by=admin, learners=Learner.objects.all())
    assert list(download.learners.values_list("learner_id", flat=True)) == [visible.pk]


def test_a_download_needs_at_least_one_learner() -> None:
    with pytest.raises(ValidationFailed):
        plr_download_start(by=factories.staff([Perm.PLR_IMPORT]), learners=Learner.objects.none())


def test_a_download_is_queued_for_the_worker_once_committed(django_capture_on_commit_callbacks: object) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        download = _start(factories.staff([Perm.PLR_IMPORT]), [factories.learner()])
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [download.pk]
    assert download.status == PlrDownloadStatus.QUEUED


def test_learners_missing_a_uln_or_a_name_or_with_a_bad_check_digit_get_a_local_error_and_no_call_r_plr_3() -> None:
    ok = factories.learner()
    no_uln = factories.learner(uln="")
    no_first_name = factories.learner(first_name=" ")
    no_surname = factories.learner(surname="")
    bad_digit = factories.learner(uln=ok.uln[:9] + str((int(ok.uln[9]) + 1) % 10))
    download = _start(factories.staff([Perm.PLR_IMPORT]), [ok, no_uln, no_first_name, no_surname, bad_digit])
    lrs = FakeLrs()
    plr_download_run(download.pk, client=lrs)

    assert lrs.ulns == [ok.uln]
    codes = dict(
        PlrRow.objects.filter(download=download, lrs_event_id__isnull=True).values_list("learner_id", "error_code")
    )
    assert codes == {
        no_uln.pk: MISSING_ULN,
        no_first_name.pk: MISSING_NAME,
        no_surname.pk: MISSING_NAME,
        bad_digit.pk: INVALID_ULN,
    }
    assert all(
        PlrRow.objects.filter(download=download, error_code__startswith="WP_").values_list(
            "error_description", flat=True
        )
    )


def test_the_grid_has_a_row_per_learning_event_and_one_per_learner_without_events_r_plr_4() -> None:
    with_events, not_shared = factories.learner(), factories.learner()

    def answer(query: LearnerQuery) -> LearnerEvents:
        if query.uln == not_shared.uln:
            return LearnerEvents(incoming_uln=query.uln, found_uln=query.uln, response_code=NOT_SHARED)
        return exact_match(query, events=3)

    download = _start(factories.staff([Perm.PLR_VIEW]), [with_events, not_shared])
    plr_download_run(download.pk, client=FakeLrs(answer))

    download.refresh_from_db()
    assert (download.status, download.done, download.total) == (PlrDownloadStatus.DONE, 2, 2)
    rows = PlrRow.objects.filter(download=download)
    assert rows.filter(learner=with_events).count() == 3
    first = rows.filter(learner=with_events).order_by("lrs_event_id").first()
    assert first is not None
    assert (first.uln, first.first_name, first.surname) == (with_events.uln, "Alex", with_events.surname)
    assert (first.subject, first.credits, first.response_code) == (f"Subject 0 of {with_events.uln}", 10, "WSRC0004")
    assert first.response_description.startswith("Exact match")
    lone = rows.get(learner=not_shared)
    assert (lone.lrs_event_id, lone.response_code, lone.error_code) == (None, NOT_SHARED, "")
    assert "not agreed to share" in lone.response_description
    assert not Attainment.objects.exists()  # held for the session only, not in learner records


def test_the_call_gets_the_learners_identity() -> None:
    learner = factories.learner(first_name=" Sam ", sex="M", date_of_birth=dt.date(2001, 2, 3))
    lrs = FakeLrs()
    plr_download_run(_start(factories.staff([Perm.PLR_IMPORT]), [learner]).pk, client=lrs)
    assert lrs.calls == [LearnerQuery(learner.uln, "Sam", learner.surname, dt.date(2001, 2, 3), "1")]


def test_a_failing_call_is_a_row_not_a_crash() -> None:
    learners = [factories.learner() for _ in range(3)]

    def answer(query: LearnerQuery) -> LearnerEvents:
        if query.uln == learners[1].uln:
            raise RuntimeError("boom")
        return exact_match(query, events=1)

    download = _start(factories.staff([Perm.PLR_IMPORT]), learners)
    plr_download_run(download.pk, client=FakeLrs(answer))
    download.refresh_from_db()
    assert download.status == PlrDownloadStatus.DONE
    assert PlrRow.objects.get(download=download, learner=learners[1]).error_code == CALL_FAILED
    assert PlrRow.objects.filter(download=download).count() == 3


def test_a_batch_the_database_refuses_for_the_moment_is_written_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock while writing one batch does not fail the download: the batch is stored on the next attempt."""
    learners = [factories.learner() for _ in range(3)]
    store, refusals = services._store, []

    def refuse_once(download_id: int, count: int, values: list[dict[str, Any]]) -> bool:
        if not refusals:
            refusals.append(download_id)
            raise OperationalError("database is locked")
        return store(download_id, count, values)

    monkeypatch.setattr(services, "_store", refuse_once)
    monkeypatch.setattr(services, "WRITE_RETRY_SECONDS", 0)
    download = _start(factories.staff([Perm.PLR_IMPORT]), learners)
    plr_download_run(download.pk, client=FakeLrs(lambda q: exact_match(q, events=1)))
    download.refresh_from_db()
    assert refusals == [download.pk]
    assert (download.status, download.done) == (PlrDownloadStatus.DONE, 3)
    assert PlrRow.objects.filter(download=download).count() == 3


def test_a_batch_refused_every_time_fails_the_download_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(download_id: int, count: int, values: list[dict[str, Any]]) -> bool:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_store", refuse)
    monkeypatch.setattr(services, "WRITE_RETRY_SECONDS", 0)
    download = _start(factories.staff([Perm.PLR_IMPORT]), [factories.learner()])
    plr_download_run(download.pk, client=FakeLrs(lambda q: exact_match(q, events=1)))
    download.refresh_from_db()
    assert download.status == PlrDownloadStatus.FAILED
    assert "database is locked" in download.error


def test_a_run_that_cannot_start_is_marked_failed_with_the_reason(settings: object) -> None:
    download = _start(factories.staff([Perm.PLR_IMPORT]), [factories.learner()])
    settings.WAYPOINT_LRS_URL = ""  # type: ignore[attr-defined]
    plr_download_run(download.pk)  # the real client: not configured any more
    download.refresh_from_db()
    assert download.status == PlrDownloadStatus.FAILED
    assert "LrsNotConfigured" in download.error


def test_calls_run_at_most_the_configured_number_at_once(settings: object) -> None:
    settings.WAYPOINT_LRS_CONCURRENCY = 3  # type: ignore[attr-defined]
    settings.WAYPOINT_LRS_BATCH_SIZE = 5  # type: ignore[attr-defined]
    learners = [factories.learner() for _ in range(24)]
    lrs = FakeLrs(delay=0.02)
    plr_download_run(_start(factories.staff([Perm.PLR_IMPORT]), learners).pk, client=lrs)
    assert len(lrs.calls) == 24
    assert lrs.max_active == 3


def test_any_number_of_learners_can_be_downloaded_with_progress_r_plr_8(settings: object) -> None:
    settings.WAYPOINT_LRS_BATCH_SIZE = 50  # type: ignore[attr-defined]
    Learner.objects.bulk_create(
        Learner(first_name="Bulk", surname=f"Learner{n}", uln=factories.valid_uln(50_000 + n)) for n in range(1200)
    )
    download = plr_download_start(by=factories.staff([Perm.PLR_IMPORT]), learners=Learner.objects.all())
    assert download.total == 1200  # no cap of 1,000 (R-PLR-8)
    lrs = FakeLrs(lambda q: exact_match(q, events=1))
    plr_download_run(download.pk, client=lrs)
    download.refresh_from_db()
    assert (download.status, download.done) == (PlrDownloadStatus.DONE, 1200)
    assert len(lrs.calls) == 1200
    assert PlrRow.objects.filter(download=download).count() == 1200


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_connections_while_the_download_runs(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WAYPOINT_LRS_BATCH_SIZE = 2
    learners = [factories.learner() for _ in range(8)]
    download = _start(factories.staff([Perm.PLR_IMPORT]), learners)
    seen: list[tuple[int, str]] = []
    original = services._write

    def read_elsewhere() -> None:
        from django.db import connections

        try:  # this thread has a database connection of its own: it sees only what the runner committed
            seen.append(PlrDownload.objects.values_list("done", "status").get(pk=download.pk))
        finally:
            connections.close_all()

    def write_then_look(download_id: int, batch: services._Batch) -> bool:
        written = original(download_id, batch)
        reader = threading.Thread(target=read_elsewhere)
        reader.start()
        reader.join()
        return written

    monkeypatch.setattr(services, "_write", write_then_look)
    plr_download_run(download.pk, client=FakeLrs())
    assert seen == [(2, "running"), (4, "running"), (6, "running"), (8, "running")]


def _queries_of_a_run(count: int) -> int:
    Learner.objects.all().delete()
    learners = [factories.learner() for _ in range(count)]
    download = _start(factories.staff([Perm.PLR_IMPORT]), learners)
    with CaptureQueriesContext(connection) as queries:
        plr_download_run(download.pk, client=FakeLrs())
    assert PlrRow.objects.filter(download=download).count() == 2 * count
    return len(queries)


def test_the_runner_sends_the_same_statements_per_batch_whatever_the_number_of_learners(settings: object) -> None:
    settings.WAYPOINT_LRS_BATCH_SIZE = 10  # type: ignore[attr-defined]
    for_10, for_100 = _queries_of_a_run(10), _queries_of_a_run(100)
    per_batch = (for_100 - for_10) / 9
    assert per_batch == int(per_batch)
    assert per_batch <= 5  # read the batch's learners, mark progress, insert its rows (+ savepoint)
    assert for_10 - per_batch <= 8  # claim, clear, the last empty read, finish


def test_refresh_calls_the_service_again_for_the_same_learners_r_plr_7() -> None:
    learners = [factories.learner(), factories.learner()]
    admin = factories.staff([Perm.PLR_IMPORT])
    download = _start(admin, learners)
    plr_download_run(download.pk, client=FakeLrs(lambda q: exact_match(q, events=1)))
    assert PlrRow.objects.filter(download=download).count() == 2

    download = plr_download_refresh(download=download, by=admin)
    assert download.status == PlrDownloadStatus.QUEUED
    assert not PlrRow.objects.filter(download=download).exists()
    lrs = FakeLrs(lambda q: exact_match(q, events=3))
    plr_download_run(download.pk, client=lrs)
    assert lrs.ulns == sorted(x.uln for x in learners)
    assert PlrRow.objects.filter(download=download).count() == 6


def test_a_download_under_way_cannot_be_refreshed() -> None:
    admin = factories.staff([Perm.PLR_IMPORT])
    download = _start(admin, [factories.learner()])
    with pytest.raises(Conflict):
        plr_download_refresh(download=download, by=admin)


def test_closing_the_window_discards_the_download_r_plr_4() -> None:
    admin = factories.staff([Perm.PLR_IMPORT])
    download = _start(admin, [factories.learner()])
    plr_download_run(download.pk, client=FakeLrs())
    plr_download_discard(download=download, by=admin)
    assert not PlrDownload.objects.exists()
    assert not PlrRow.objects.exists()
    assert not PlrDownloadLearner.objects.exists()


def test_a_runner_stops_when_its_download_is_discarded_meanwhile(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WAYPOINT_LRS_BATCH_SIZE = 1  # type: ignore[attr-defined]
    settings.WAYPOINT_LRS_CONCURRENCY = 1  # type: ignore[attr-defined]
    admin = factories.staff([Perm.PLR_IMPORT])
    download = _start(admin, [factories.learner() for _ in range(6)])
    runner = threading.current_thread()

    class DiscardingLrs(FakeLrs):
        def learner_events(self, query: LearnerQuery) -> LearnerEvents:
            if len(self.calls) == 2:
                discard_now.set()
            return super().learner_events(query)

    discard_now = threading.Event()
    lrs = DiscardingLrs()
    original = services._write

    def write_then_maybe_discard(download_id: int, batch: services._Batch) -> bool:
        assert threading.current_thread() is runner  # the database is touched from the runner's thread only
        if discard_now.is_set():
            plr_download_discard(download=download, by=admin)
        return original(download_id, batch)

    monkeypatch.setattr(services, "_write", write_then_maybe_discard)
    plr_download_run(download.pk, client=lrs)
    assert not PlrDownload.objects.exists()
    assert not PlrRow.objects.exists()
    assert len(lrs.calls) < 6


def test_downloads_expire_on_their_own_and_expiring_twice_is_harmless() -> None:
    admin = factories.staff([Perm.PLR_IMPORT])
    old, fresh = _start(admin, [factories.learner()]), _start(admin, [factories.learner()])
    plr_download_run(old.pk, client=FakeLrs())
    PlrDownload.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert plr_downloads_expire() == 1
    assert plr_downloads_expire() == 0
    assert list(PlrDownload.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not PlrRow.objects.filter(download_id=old.pk).exists()


def test_a_download_expires_a_day_after_it_was_made_by_default() -> None:
    download = _start(factories.staff([Perm.PLR_IMPORT]), [factories.learner()])
    assert abs((download.expires_at - download.created_at) - dt.timedelta(hours=24)) < dt.timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)
def test_a_download_through_the_real_client_against_the_emulator_over_http(settings: Any, live_server: Any) -> None:
    from waypoint.attainments.lrs import emulator

    settings.ROOT_URLCONF = "tests.attainments.lrs.urls"  # the project's URLs with the emulator mounted
    settings.WAYPOINT_LRS_URL = f"{live_server.url}/emulators/lrs/LearnerServiceR9.svc"
    settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS = 0
    settings.WAYPOINT_LRS_EMULATOR_FAULT_RATE = 0.0
    emulator.reset()
    ada = factories.learner(first_name="Ada", surname="Lovelace", uln=emulator.EXACT_WITH_EVENTS)
    not_shared = factories.learner(first_name="Ada", surname="Lovelace", uln=emulator.NOT_SHARED)
    no_uln = factories.learner(uln="")
    download = _start(factories.staff([Perm.PLR_IMPORT]), [ada, not_shared, no_uln])

    plr_download_run(download.pk)  # the client from settings

    download.refresh_from_db()
    assert (download.status, download.done) == (PlrDownloadStatus.DONE, 3)
    rows = PlrRow.objects.filter(download=download)
    assert rows.filter(learner=ada, response_code="WSRC0004", lrs_event_id__isnull=False).exists()
    assert rows.get(learner=not_shared).response_code == NOT_SHARED
    assert rows.get(learner=no_uln).error_code == MISSING_ULN
