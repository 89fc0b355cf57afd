"""The EPA connector's test ground: short back-off, a known token, and the emulator served over real HTTP.

`platform_url` is the emulator running in a threaded HTTP server of its own in this process (mark the module with
`pytest.mark.urls("waypoint.epa.emulator")` so that it answers the platform's paths). It never touches the
database, so tests using it may keep the fast rolled-back `db` fixture.
"""

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import transaction
from django.utils import timezone

from tests import factories
from waypoint.core.models import OutboxMessage
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.epa import emulator
from waypoint.epa.delivery import outbox_deliver
from waypoint.epa.models import EpaConnection, EpaRegistration
from waypoint.people.models import Learner
from waypoint.programmes.models import Enrolment

TOKEN = "test-epa-token"
EPAO = "EPA0001"


@pytest.fixture(autouse=True)
def epa_settings(settings: Any) -> Iterator[None]:
    """A token the emulator accepts, quick back-off and no faults unless a test asks for them."""
    settings.WAYPOINT_EPA_TOKEN = TOKEN
    settings.WAYPOINT_EPA_EMULATOR_TOKEN = TOKEN
    settings.WAYPOINT_EPA_TIMEOUT = 2.0
    settings.WAYPOINT_EPA_CONCURRENCY = 4
    settings.WAYPOINT_EPA_BATCH_SIZE = 100
    settings.WAYPOINT_EPA_LEASE = 60.0
    settings.WAYPOINT_EPA_BACKOFF_BASE = 0.01
    settings.WAYPOINT_EPA_BACKOFF_CAP = 0.05
    settings.WAYPOINT_EPA_MAX_ATTEMPTS = 5
    settings.WAYPOINT_EPA_EMULATOR_ERROR_RATE = 0.0
    settings.WAYPOINT_EPA_EMULATOR_RATE_LIMIT_RATE = 0.0
    settings.WAYPOINT_EPA_EMULATOR_TIMEOUT_RATE = 0.0
    settings.WAYPOINT_EPA_EMULATOR_LATENCY_MS = 0
    settings.WAYPOINT_EPA_EMULATOR_RETRY_AFTER = 0.05
    settings.WAYPOINT_EPA_EMULATOR_HANG_SECONDS = 1.0
    emulator.reset()
    yield
    emulator.reset()


class _QuietHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        # As production servers do: without it, a kept-alive connection waits for the client's delayed ACK (40 ms)
        # between a response's headers and its body.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def platform_server() -> Iterator[str]:
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=True)
    server.set_app(WSGIHandler())
    logging.getLogger("django.server").setLevel(logging.ERROR)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform_url(platform_server: str) -> str:
    return platform_server


@pytest.fixture
def connection(platform_url: str, db: None) -> EpaConnection:
    return EpaConnection.objects.create(
        name="Test EPAO platform", epao_id=EPAO, base_url=platform_url, credential_setting="WAYPOINT_EPA_TOKEN"
    )


def record(learner_id: int, change: Change) -> int:
    """Record `change` for one learner in a transaction of its own, as a service does."""
    with transaction.atomic():
        return outbox_record(learners=Learner.objects.filter(pk=learner_id), change=change)


def plain_update(learner_id: int, field: str = "learner.uln", **values: Any) -> int:
    """A personal-details edit of the learner (R-EPA-2): `values` written and the change recorded, together."""
    with transaction.atomic():
        if values:
            Learner.objects.filter(pk=learner_id).update(**values)
        return record(learner_id, Change(ChangeKind.PERSONAL, Source.UI, fields=(field,)))


def dates_change(registration: EpaRegistration, **values: Any) -> int:
    """Edit Programme Details (R-EPA-6): the enrolment's dates written and the change recorded, together."""
    with transaction.atomic():
        Enrolment.objects.filter(pk=registration.enrolment_id).update(**values)
        return record(
            registration.learner_id,
            Change(
                ChangeKind.PROGRAMME_DATES,
                Source.UI,
                fields=tuple(f"programme.{name}" for name in values),
                enrolment_id=registration.enrolment_id,
            ),
        )


def circumstance(registration: EpaRegistration, kind: ChangeKind, event: dict[str, Any]) -> int:
    """A change of circumstance of the registration's episode, applied by an approved automation."""
    return record(
        registration.learner_id, Change(kind, Source.AUTOMATION, enrolment_id=registration.enrolment_id, event=event)
    )


def break_in_learning(registration: EpaRegistration, **event: Any) -> int:
    return circumstance(registration, ChangeKind.BREAK_IN_LEARNING, event or {"effective_date": "2027-01-10"})


def return_to_learning(registration: EpaRegistration) -> int:
    return circumstance(registration, ChangeKind.RETURN_TO_LEARNING, {"effective_date": "2027-03-01"})


def drain(deadline: float = 10.0) -> None:
    """Deliver until nothing waits (back-off included), as the worker's repeated runs do."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        report = outbox_deliver()
        if report.next_due is None:
            return
        time.sleep(max(0.0, min(0.05, (report.next_due - timezone.now()).total_seconds())))
    raise AssertionError("the outbox did not drain in time")


@pytest.fixture
def make_registration(connection: EpaConnection) -> Callable[..., EpaRegistration]:
    """A learner on a programme of the connection's EPAO, registered there (its registration.created message
    queued)."""

    def make(**learner_values: Any) -> EpaRegistration:
        learner = factories.learner(**learner_values)
        enrolment = factories.enrolment(learner, factories.programme(templates=1))
        record(learner.pk, Change(ChangeKind.ENROLLED, Source.UI, enrolment_id=enrolment.pk))
        return EpaRegistration.objects.get(enrolment=enrolment)

    return make


def lane(registration: EpaRegistration) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(key=registration.pk).order_by("id"))
