"""Acceptance of R-EPA-12 against the platform emulator over HTTP: nothing is lost, nothing is applied twice, every
registration's changes arrive in order — through a platform that fails a fifth of the calls and times out on
others, through a worker killed mid-delivery, and through a business transaction that rolls back."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from waypoint.core.ilr import Ethnicity
from waypoint.core.models import OutboxMessage
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.epa import emulator
from waypoint.epa.delivery import outbox_deliver
from waypoint.epa.models import EpaRegistration
from waypoint.people.models import Learner
from waypoint.programmes.models import Enrolment

from .conftest import TOKEN, break_in_learning, dates_change, drain, plain_update, return_to_learning

pytestmark = pytest.mark.urls("waypoint.epa.emulator")

ROOT = Path(__file__).resolve().parents[2]
MakeRegistration = Callable[..., EpaRegistration]
ETHNICITIES = [code for code, _ in Ethnicity.choices]


def assert_each_lane_applied_once_in_order(registrations: list[EpaRegistration]) -> dict[str, Any]:
    """Every message sent or carried by a sent one; the platform applied each sent message once, in lane order."""
    state = emulator.state()
    messages = list(OutboxMessage.objects.filter(topic="epa").order_by("id"))
    assert {m.status for m in messages} <= {"sent", "coalesced"}, "every change is delivered"
    by_lane: dict[int, list[OutboxMessage]] = defaultdict(list)
    for message in messages:
        by_lane[message.key].append(message)
    sent_ids = {m.pk: m for m in messages if m.status == "sent"}
    for message in messages:
        if message.status == "coalesced":
            carrier = sent_ids[message.coalesced_into or 0]
            assert (carrier.key, carrier.pk < message.pk) == (message.key, True)
    for registration in registrations:
        lane = by_lane[registration.pk]
        events = state["registrations"][str(registration.pk)]["events"]
        applied_keys = [event["event_id"] for event in events]
        assert len(applied_keys) == len(set(applied_keys)), "no key applied twice"
        assert applied_keys == [str(m.idempotency_key) for m in lane if m.status == "sent"], "in order per lane"
        versions = [event["version"] for event in events]
        assert versions == sorted(set(versions))
    assert state["stale"] == 0  # nothing ever arrived after a newer snapshot of its registration
    return state


@pytest.mark.django_db
def test_a_thousand_changes_through_a_failing_platform_are_all_delivered_once_each_in_order(
    make_registration: MakeRegistration, settings: Any
) -> None:
    """R-EPA-12: 20 % of calls fail (503), others time out after the platform applied them; every change arrives,
    once, in order, and each registration ends with its latest state."""
    settings.WAYPOINT_EPA_TIMEOUT = 0.15
    settings.WAYPOINT_EPA_CONCURRENCY = 8
    settings.WAYPOINT_EPA_MAX_ATTEMPTS = 40
    emulator.set_faults(error_rate=0.2, timeout_rate=0.04, hang_seconds=0.3, seed=12)
    rng = random.Random(12)
    registrations = [make_registration() for _ in range(40)]
    on_break = dict.fromkeys((r.pk for r in registrations), False)
    changes = 0
    while changes < 1000:
        registration = rng.choice(registrations)
        draw = rng.random()
        if draw < 0.5:
            plain_update(registration.learner_id, "learner.ethnicity", ethnicity=rng.choice(ETHNICITIES))
        elif draw < 0.8:
            if on_break[registration.pk]:
                return_to_learning(registration)
            else:
                break_in_learning(registration)
            on_break[registration.pk] = not on_break[registration.pk]
        else:
            dates_change(registration, planned_end_date=timezone.localdate().replace(year=2028, day=1 + changes % 28))
        changes += 1
        if changes % 100 == 0:  # the worker runs while changes keep arriving
            outbox_deliver(until_idle=False)

    drain(deadline=40)

    state = assert_each_lane_applied_once_in_order(registrations)
    assert OutboxMessage.objects.count() == 1000 + len(registrations)
    assert state["injected"]["errors"] > 50
    assert state["injected"]["timeouts"] > 0
    assert state["duplicates"] >= state["injected"]["timeouts"] > 0  # replayed, never applied again
    for registration in registrations:  # the platform holds what Waypoint holds now
        learner = Learner.objects.get(pk=registration.learner_id)
        enrolment = Enrolment.objects.get(pk=registration.enrolment_id)
        held = state["registrations"][str(registration.pk)]["snapshot"]
        assert held["learner"]["ethnicity"]["code"] == learner.ethnicity
        assert held["programme"]["learn_plan_end_date"] == enrolment.planned_end_date.isoformat()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_records_nothing_and_sends_nothing(make_registration: MakeRegistration) -> None:
    """R-EPA-12: recorded in the same transaction as the change itself — and only if it commits."""
    registration = make_registration()
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)  # the commit woke the worker
    assert emulator.state()["applied"] == 1
    messages, tasks = OutboxMessage.objects.count(), DBTaskResult.objects.count()

    def change_that_fails() -> None:
        with transaction.atomic():
            Learner.objects.filter(pk=registration.learner_id).update(sex="M")
            recorded = outbox_record(
                learners=Learner.objects.filter(pk=registration.learner_id),
                change=Change(ChangeKind.PERSONAL, Source.UI, fields=("learner.sex",)),
            )
            assert recorded == 1
            raise RuntimeError("the business change fails after recording")

    with pytest.raises(RuntimeError, match="fails after recording"):
        change_that_fails()

    assert (OutboxMessage.objects.count(), DBTaskResult.objects.count()) == (messages, tasks)
    assert Learner.objects.get(pk=registration.learner_id).sex == "F"
    assert outbox_deliver().claimed == 0
    assert emulator.state()["requests"] == 1


# --- a worker killed mid-delivery -----------------------------------------------------------------------------------


class WorkerDatabase:
    """A DATABASE_URL other processes can use. PostgreSQL: the test database itself. SQLite (in memory in tests):
    a file copy, handed over before the workers start and taken back into the test's database after."""

    def __init__(self, tmp_path: Path) -> None:
        settings_dict = connection.settings_dict
        self.file: Path | None = None
        if connection.vendor == "postgresql":
            host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
            password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
            self.url = f"postgres://{settings_dict['USER']}{password}@{host}:{port}/{settings_dict['NAME']}"
        else:
            self.file = tmp_path / "worker.sqlite3"
            self.url = f"sqlite:///{self.file}"

    def hand_over(self) -> None:
        if self.file is not None:
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)

    def take_back(self) -> None:
        if self.file is not None:
            connection.ensure_connection()
            with sqlite3.connect(self.file) as source:
                source.backup(connection.connection)


@pytest.fixture
def worker_database(transactional_db: None, tmp_path: Path) -> WorkerDatabase:
    return WorkerDatabase(tmp_path)


def worker(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WAYPOINT_EPA_TOKEN": TOKEN,
        "WAYPOINT_EPA_TIMEOUT": "2",
        "WAYPOINT_EPA_LEASE": "3",
        "WAYPOINT_EPA_CONCURRENCY": "4",
        "WAYPOINT_EPA_BATCH_SIZE": "20",
        "WAYPOINT_EPA_POLL_INTERVAL": "0.1",
        "WAYPOINT_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "outbox_deliver", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    stop = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > stop:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_worker_killed_mid_delivery_loses_nothing_and_another_applies_nothing_twice(
    make_registration: MakeRegistration, worker_database: WorkerDatabase
) -> None:
    """R-EPA-12: at least once (a killed worker's claims come back when its lease runs out), exactly once
    (the next workers send the same keys, which the platform replays), in order per registration."""
    database_url = worker_database.url
    registrations = [make_registration() for _ in range(20)]
    for registration in registrations:
        break_in_learning(registration)
        return_to_learning(registration)
    worker_database.hand_over()
    emulator.set_faults(latency_ms=300)

    first = worker(database_url, "--loop")
    try:
        wait_for(
            lambda: (seen := emulator.state(summary=True))["applied"] >= 3 and seen["in_flight"] > 0,
            30,
            "the first worker to be delivering",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    time.sleep(3.2)  # the killed worker's lease runs out
    emulator.set_faults(latency_ms=0)

    others = [worker(database_url), worker(database_url)]  # two at once: they share the lanes, never one lane
    for other in others:
        _, errors = other.communicate(timeout=60)
        assert other.returncode == 0, errors.decode()
    worker_database.take_back()

    assert OutboxMessage.objects.count() == 60
    state = assert_each_lane_applied_once_in_order(registrations)
    assert state["applied"] == 60
    # The kill came while calls were on their way: the platform applied them, the killed worker never recorded
    # it, and the next workers sent the same keys again, which the platform only replayed.
    assert state["duplicates"] > 0
