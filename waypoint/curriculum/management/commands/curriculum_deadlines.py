"""`waypoint curriculum_deadlines`: send the Learning Plan deadline reminders due today (R-CUR-10).

Run it once a day (cron or a systemd timer); running it more often, or again after a failure, sends nothing twice.
`--enqueue` hands the run to the task worker instead; `--date YYYY-MM-DD` runs it as of another day.
"""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waypoint.curriculum.notifications import deadline_notifications_send
from waypoint.curriculum.tasks import deadline_notifications_task


class Command(BaseCommand):
    help = "Send the Learning Plan deadline reminders due today; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Run as of this day (YYYY-MM-DD); default: today, local time.")
        parser.add_argument("--enqueue", action="store_true", help="Let the task worker send them.")

    def handle(self, *args: Any, **options: Any) -> None:
        day: dt.date | None = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}.") from exc
        if options["enqueue"]:
            deadline_notifications_task.enqueue(day.isoformat() if day else None)
            self.stdout.write("Deadline reminders handed to the task worker.")
            return
        sent = deadline_notifications_send(day)
        self.stdout.write(f"Deadline reminders sent: {sent}.")
