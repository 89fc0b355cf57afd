"""`waypoint curriculum_report_rows`: work out every Learning Plan report row again (R-CUR-11).

The services keep the rows up to date as they change things; run this after writing curriculum data by other means
(a bulk import straight into the database, a restore of some tables). `--plan ID` limits it to one plan.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waypoint.curriculum.models import Curriculum, ReportRow
from waypoint.curriculum.report_rows import report_rows_refresh


class Command(BaseCommand):
    help = "Work out the Learning Plan report rows again, for every plan or one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", type=int, help="Only this learning plan's rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = options["plan"]
        if plan is not None and not Curriculum.objects.filter(pk=plan).exists():
            raise CommandError(f"There is no learning plan {plan}.")
        start = time.perf_counter()
        report_rows_refresh(plans=None if plan is None else [plan])
        rows = ReportRow.objects.filter(**({} if plan is None else {"curriculum_id": plan})).count()
        self.stdout.write(f"Worked out {rows:,} report rows in {time.perf_counter() - start:.1f} s.")
