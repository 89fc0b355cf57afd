from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from waypoint.demo.builder import DEFAULT_LEARNERS, DemoRefused, demo_build
from waypoint.demo.staff import logins_table
from waypoint.people.models import Learner


class Command(BaseCommand):
    help = "Fill the database with a realistic demo training provider (programmes, staff, employers, learners, plans)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--learners", type=int, default=DEFAULT_LEARNERS, help=f"default {DEFAULT_LEARNERS}")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every learner, programme, employer, group and plan, and the demo logins, first.",
        )
        parser.add_argument("--seed", type=int, default=1, help="The same seed builds the same data (default 1).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Build only when the database has no learners; say so otherwise."
        )

    def handle(self, *args: Any, learners: int, reset: bool, seed: int, if_empty: bool, **options: Any) -> None:
        if learners < 1:
            raise CommandError("--learners must be at least 1.")
        if if_empty and Learner.objects.exists():
            self.stdout.write("The database already holds learners: no demo data loaded.")
            return
        self.stdout.write(f"Building the demo provider with {learners:,} learners (seed {seed})…")
        try:
            report = demo_build(learners=learners, seed=seed, reset=reset, log=self.stdout.write)
        except DemoRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("")
        for table, count in report.rows.items():
            self.stdout.write(f"  {table:<35} {count:>12,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {report.total_rows:,} rows in {report.seconds:.1f} s "
                f"({report.total_rows / max(report.seconds, 1e-9):,.0f} rows/s)."
            )
        )
        if options["verbosity"] >= 1:
            self.stdout.write("\nDemo logins:\n" + logins_table())
