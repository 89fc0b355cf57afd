"""`waypoint outbox_deliver`: deliver the EPA platform's outbox messages (R-EPA-12).

Without options it delivers until nothing is due and exits. `--loop` keeps looking every `--interval` seconds
(WAYPOINT_EPA_POLL_INTERVAL): an always-on worker that sends a change within about that long of its commit. Any
number of them may run against PostgreSQL; SIGTERM or Ctrl-C lets the round in progress finish first.
"""

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from waypoint.epa.delivery import DeliveryReport, outbox_deliver

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver the EPA platform's outbox messages: until none is due, or with --loop as an always-on worker."
    # A worker starts often (one per deployment, or per test); the web process runs the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running, looking for due messages.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between looks with --loop (default WAYPOINT_EPA_POLL_INTERVAL).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Messages claimed at once (default WAYPOINT_EPA_BATCH_SIZE)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] if options["interval"] is not None else settings.WAYPOINT_EPA_POLL_INTERVAL
        batch_size = options["batch_size"]
        if not options["loop"]:
            self._report(outbox_deliver(limit=batch_size), options["verbosity"])
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        while not stop.is_set():
            try:
                report = outbox_deliver(limit=batch_size)
            except DatabaseError:
                # A locked or restarted database: try again at the next look rather than stop the worker.
                logger.warning("EPA delivery could not reach the database; trying again shortly", exc_info=True)
                close_old_connections()
            else:
                if report.claimed:
                    self._report(report, options["verbosity"])
            stop.wait(max(interval, 0.01))

    def _report(self, report: DeliveryReport, verbosity: int) -> None:
        if verbosity < 1:
            return
        self.stdout.write(
            f"EPA outbox: {report.delivered} delivered, {report.coalesced} coalesced, {report.retrying} to retry, "
            f"{report.failed} failed" + (f"; next due {report.next_due:%Y-%m-%d %H:%M:%S}" if report.next_due else "")
        )
