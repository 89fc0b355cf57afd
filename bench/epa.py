"""The EPA platform connector at scale: one tutor change for 5,000 learners, recorded and delivered to the emulator
over HTTP, and the delay from commit to delivery with an idle worker (R-EPA-3, R-EPA-12).

    .venv/bin/python bench/epa.py [--learners 5000] [--singles 50] [--history 0] [--database sqlite|postgres|both]

Scenario: one tutor with N learners, each on a programme whose EPAO has a platform connection and registered there
(built set-based, as if their "created" messages were sent). The EPA-platform emulator runs in a development server
of its own (WAYPOINT_EMULATORS=1, no faults, no added latency, sockets TCP_NODELAY), reached over HTTP.

1. record: the tutor's email changes; in the same transaction `outbox_record` for the tutor's learners (what the
   staff service does): one message per registration. Target < 2 s.
2. deliver: one worker (`outbox_deliver`, WAYPOINT_EPA_CONCURRENCY calls at once, in this process) sends them all.
   Checked: every message sent, the emulator applied each once. Target < 60 s.
3. delay: `outbox_deliver --loop` runs idle in a process of its own (WAYPOINT_EPA_POLL_INTERVAL, 0.5 s); S single
   changes (one learner's sex, R-EPA-2) are committed one at a time, each once the previous one was sent. The
   delay is from just after the commit to the message's sent_at (the platform's answer recorded). Target: median
   < 2 s. The same again with `db_worker` (the task the commit enqueues; django-tasks-db polls every second).

Every database starts empty: a fresh SQLite file var/bench/epa.sqlite3, or the PostgreSQL database of
WAYPOINT_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/waypoint_bench_epa), dropped and
created. `--database both` runs each database in its own process. `--history N` first adds N messages already
sent, spread over the registrations: the claim must find the unsent ones without reading them all.
"""

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from typing import Any

from environment import ROOT, django_ready, fresh_database

POSTGRES_URL = os.environ.get("WAYPOINT_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_epa")
TOKEN = "bench-epa-token"
TARGETS = {"record": 2.0, "deliver": 60.0, "median delay": 2.0}
ENV = {
    "WAYPOINT_EPA_TOKEN": TOKEN,
    "WAYPOINT_EPA_EMULATOR_TOKEN": TOKEN,
    "WAYPOINT_LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], database_url: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **ENV, "DATABASE_URL": database_url, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    if process.poll() is None:
        process.kill()


def serve_emulator(port: int) -> None:
    """Django's development server with the emulators mounted, its sockets set TCP_NODELAY as production servers
    set theirs. Without it, a kept-alive connection waits for the client's delayed ACK (40 ms) between a response's
    headers and its body: 45 ms a call instead of 3 (bench/RESULTS.md)."""
    os.environ["WAYPOINT_EMULATORS"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, get_internal_wsgi_application

    class NoDelayHandler(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", port), NoDelayHandler)
    server.set_app(get_internal_wsgi_application())
    server.serve_forever()


def start_emulator(port: int, database_url: str) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-emulator", str(port)],
        cwd=ROOT,
        env={**os.environ, **ENV, "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    stop(server)
    raise SystemExit("the emulator's server did not start")


def emulator_state(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/_control/state?summary=1", timeout=30) as answer:
        return dict(json.load(answer))


def build(n: int, base_url: str) -> int:
    """N learners of one tutor, each enrolled and registered on a connected programme: returns the tutor's id."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from waypoint.core.ilr import uln_check_digit
    from waypoint.core.models import OutboxMessage
    from waypoint.epa.models import EpaConnection, EpaRegistration
    from waypoint.people.models import Learner, StaffProfile
    from waypoint.programmes.models import Enrolment, Programme

    tutor = get_user_model().objects.create_user(
        "bench.tutor", email="tutor@provider.example", first_name="Pat", last_name="Lee", password="x"
    )
    StaffProfile.objects.create(user=tutor, job_title="Skills coach", is_tutor=True, all_groups=True)
    programme = Programme.objects.create(
        name="Software Developer L4", code="SD4", standard_code="ST0116", epao_id="EPA0001"
    )
    platform = EpaConnection.objects.create(
        name="Bench EPAO", epao_id="EPA0001", base_url=base_url, credential_setting="WAYPOINT_EPA_TOKEN"
    )
    learners, base = [], 300_000_000
    while len(learners) < n:
        base += 1
        digit = uln_check_digit(str(base))
        if digit is None:
            continue
        learners.append(
            Learner(
                first_name=f"Bench{len(learners):05d}",
                surname="Learner",
                uln=f"{base}{digit}",
                date_of_birth=dt.date(2004, 1, 1),
                sex="F",
                ethnicity=31,
                tutor=tutor,
            )
        )
    Learner.objects.bulk_create(learners, batch_size=2000)
    ids = list(Learner.objects.filter(tutor=tutor).order_by("id").values_list("id", flat=True))
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                learner_id=i, programme=programme, start_date=dt.date(2026, 9, 1), planned_end_date=dt.date(2028, 3, 1)
            )
            for i in ids
        ],
        batch_size=2000,
    )
    enrolments = dict(Enrolment.objects.filter(programme=programme).values_list("learner_id", "id"))
    EpaRegistration.objects.bulk_create(
        [
            EpaRegistration(
                learner_id=i,
                enrolment_id=enrolments[i],
                connection=platform,
                epao_id="EPA0001",
                state="registered",
                version=1,
                external_ref=f"AP{i:07d}",
            )
            for i in ids
        ],
        batch_size=2000,
    )
    OutboxMessage.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return int(tutor.pk)


def add_history(count: int) -> None:
    """`count` messages already sent, spread over the registrations, as a long-running installation has."""
    from django.db import connection

    from waypoint.core.models import OutboxMessage
    from waypoint.epa.models import EpaRegistration

    if not count:
        return
    first, last = (
        EpaRegistration.objects.order_by("id").values_list("id", flat=True).first(),
        EpaRegistration.objects.order_by("-id").values_list("id", flat=True).first(),
    )
    if first is None or last is None:
        raise SystemExit("no registrations to spread the history over")
    postgres = connection.vendor == "postgresql"
    uuid = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %s)
            INSERT INTO {table} (topic, key, learner_id, kind, changed, reason, source, event, created_at,
                                 idempotency_key, status, attempts, next_attempt_at, sent_at, last_error)
            SELECT 'epa', %s + i %% %s, NULL, 'registration.updated', '[]', 'Case owner changed', 'ui', '{{}}',
                   %s, {uuid}, 'sent', 1, %s, %s, ''
            FROM n
            """,
            [
                count - 1,
                first,
                last - first + 1,
                *[connection.ops.adapt_datetimefield_value(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))] * 3,
            ],
        )
        if postgres:
            cursor.execute("ANALYZE")


def record(tutor_id: int) -> tuple[float, int]:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
    from waypoint.people.models import Learner

    started = time.perf_counter()
    with transaction.atomic():
        get_user_model().objects.filter(pk=tutor_id).update(email="pat.lee@provider.example")
        count = outbox_record(
            learners=Learner.objects.filter(tutor_id=tutor_id),
            change=Change(ChangeKind.TUTOR, Source.UI, fields=("tutor.email",)),
        )
    return time.perf_counter() - started, count


def single_delays(singles: int, learner_ids: list[int]) -> list[float]:
    """Commit one change at a time; each one's delay from just after its commit to its sent_at."""
    from django.db import transaction
    from django.utils import timezone

    from waypoint.core.models import OutboxMessage
    from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
    from waypoint.people.models import Learner

    delays = []
    for n in range(singles):
        learner_id = learner_ids[n % len(learner_ids)]
        with transaction.atomic():
            Learner.objects.filter(pk=learner_id).update(sex="M" if n % 2 else "F")
            outbox_record(
                learners=Learner.objects.filter(pk=learner_id),
                change=Change(ChangeKind.PERSONAL, Source.UI, fields=("learner.sex",)),
            )
            latest = OutboxMessage.objects.filter(learner_id=learner_id).order_by("-id").values_list("id", flat=True)
            message_id = latest[0]
        committed = timezone.now()
        deadline = time.monotonic() + 30
        while True:
            sent_at = OutboxMessage.objects.filter(pk=message_id, status="sent").values_list("sent_at", flat=True)
            if sent_at:
                delays.append((sent_at[0] - committed).total_seconds())
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"message {message_id} was not sent within 30 s")
            time.sleep(0.01)
        time.sleep(0.05 + (n % 7) * 0.06)  # commits land at different points of the worker's poll
    return delays


def explain_claim() -> str:
    """The plan of the claim's query for due lane heads, as the worker runs it (one batch)."""
    from django.db import connection
    from django.utils import timezone

    from waypoint.epa import delivery

    _, pending = delivery._due_heads(timezone.now())
    sql, params = pending[:100].query.sql_with_params()
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join("  " + " ".join(str(c) for c in row) for row in cursor.fetchall())


def run_one(kind: str, learners: int, singles: int, history: int) -> int:
    url = fresh_database(kind, sqlite_name="epa.sqlite3", postgres_url=POSTGRES_URL)
    os.environ.update(ENV)
    django_ready(url)
    from django.conf import settings
    from django.db import connection

    from waypoint.core.models import OutboxMessage
    from waypoint.epa.delivery import outbox_deliver
    from waypoint.people.models import Learner

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/emulators/epa"
    tutor_id = build(learners, base_url)
    add_history(history)
    server = start_emulator(port, url)
    failures: list[str] = []
    print(
        f"database: {connection.vendor} ({url}); {learners:,} learners of one tutor, registered; emulator at "
        f"{base_url}; {settings.WAYPOINT_EPA_CONCURRENCY} calls at once, "
        f"batches of {settings.WAYPOINT_EPA_BATCH_SIZE}; {history:,} messages sent before",
        flush=True,
    )
    try:
        seconds, recorded = record(tutor_id)
        print(f"record   {seconds:8.2f} s  {recorded:,} messages in the tutor change's transaction", flush=True)
        if recorded != learners or seconds > TARGETS["record"]:
            failures.append(f"record: {recorded} messages in {seconds:.2f} s")

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print("claim query plan (5,000 due):\n" + explain_claim(), flush=True)
        started = time.perf_counter()
        report = outbox_deliver()
        seconds = time.perf_counter() - started
        state = emulator_state(base_url)
        sent = OutboxMessage.objects.filter(status="sent").count() - history
        print(
            f"deliver  {seconds:8.2f} s  {report.delivered:,} delivered in {report.batches} rounds "
            f"({report.delivered / seconds:,.0f}/s); {sent:,} sent; emulator applied {state['applied']:,}, "
            f"duplicates {state['duplicates']}",
            flush=True,
        )
        if sent != learners or state["applied"] != learners or seconds > TARGETS["deliver"]:
            failures.append(f"deliver: {sent} sent, {state['applied']} applied in {seconds:.2f} s")

        learner_ids = list(Learner.objects.order_by("id").values_list("id", flat=True)[:singles])
        for label, command in (
            ("outbox_deliver --loop", ["outbox_deliver", "--loop"]),
            ("db_worker", ["db_worker", "--no-startup-delay"]),
        ):
            from django_tasks_db.models import DBTaskResult

            DBTaskResult.objects.all().delete()  # the wake-ups of the earlier phases
            worker = start(command, url)
            time.sleep(3)  # started and idle
            try:
                delays = single_delays(singles, learner_ids)
            finally:
                stop(worker)
            median = statistics.median(delays)
            p90 = statistics.quantiles(delays, n=10)[-1]
            print(
                f"delay    {label:<22} median {median:5.2f} s, p90 {p90:5.2f} s, max {max(delays):5.2f} s "
                f"({singles} single changes)",
                flush=True,
            )
            if label.startswith("outbox_deliver") and median > TARGETS["median delay"]:
                failures.append(f"delay: median {median:.2f} s")
    finally:
        stop(server)
    if failures:
        print("TARGET MISSED: " + "; ".join(failures))
        return 1
    print("all targets met")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=5_000)
    parser.add_argument("--singles", type=int, default=50, help="single changes for the commit-to-delivery delay")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--history", type=int, default=0, help="messages already sent before the run")
    parser.add_argument("--serve-emulator", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_emulator:
        serve_emulator(args.serve_emulator)
        return
    if args.database == "both":
        failed = False
        for kind in ("sqlite", "postgres"):
            argv = [sys.executable, __file__, "--learners", str(args.learners), "--singles", str(args.singles),
                    "--history", str(args.history), "--database", kind]  # fmt: skip
            failed |= subprocess.run(argv, check=False).returncode != 0
            print()
        sys.exit(1 if failed else 0)
    sys.exit(run_one(args.database, args.learners, args.singles, args.history))


if __name__ == "__main__":
    main()
