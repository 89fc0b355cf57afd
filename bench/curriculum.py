"""Learning Plan reports at size (R-CUR-11): first pages and full downloads.

    .venv/bin/python bench/curriculum.py [--people 20000] [--plans 5] [--database sqlite|postgres|both]

Builds, set-based (INSERT … SELECT over a generated series, not through the services), `--people` professionals
each assigned every one of `--plans` plans (100,000 assignments at the defaults); each plan has 3 Sessions
milestones of 2 linked one-session programs; each person has completed about 4 of every 7 linked programs (about
340,000 completed enrolments), one pair in five has a registration (registered or started from My Learning) and
one assignment in twenty has its first milestone waived. Then times, on a fresh SQLite file var/bench/curriculum.sqlite3
or the PostgreSQL database of WAYPOINT_BENCH_POSTGRES_URL (dropped and created again):

Each assignment carries its requirements (milestone id -> units) as the assignment service writes them.

- the first page (50 rows) of Learning Plan Status Highlights and of People by Learning Plan: unfiltered, with
  the chart's rows per status, by status, and by a text search; target < 2 s each;
- the full download of each report as CSV (streamed) and Excel (write-only workbook); target < 30 s each;
- what keeping the report rows up to date costs: working out all of them (`curriculum_report_rows`, after the
  set-based build), one plan's (a milestone's units changed: 20,000 pairs), and one person's (completions recorded).
"""

import argparse
import datetime as dt
import json as jsonlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from environment import django_ready, fresh_database

POSTGRES_URL = os.environ.get("WAYPOINT_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_cur")
PAGE_TARGET, EXPORT_TARGET = 2.0, 30.0
MILESTONES, PROGRAMS_EACH = 3, 2


def build(people: int, plans: int) -> dict[str, int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from waypoint.curriculum.models import (
        Assignment,
        Curriculum,
        Milestone,
        MilestoneProgram,
        MilestoneStatus,
        Program,
        ProgramEnrolment,
        Registration,
        Session,
    )

    now = timezone.now()
    yes, no = "(1 = 1)", "(1 = 0)"
    series = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {people}) "
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            f" is_active, date_joined) {series}"
            f"SELECT '!', {no}, 'pro' || i, 'Pat', 'Person ' || i, 'pro' || i || '@example.org', {no}, {yes}, %s"
            " FROM n",
            [now],
        )
        for p in range(1, plans + 1):
            plan = Curriculum.objects.create(name=f"Plan {p}", due_date=dt.date(2027, 1, 1) + dt.timedelta(days=60 * p))
            for position in range(1, MILESTONES + 1):
                milestone = Milestone.objects.create(
                    curriculum=plan, position=position, name=f"Milestone {p}.{position}", units=PROGRAMS_EACH
                )
                for k in range(1, PROGRAMS_EACH + 1):
                    program = Program.objects.create(name=f"Program {p}.{position}.{k}", code=f"P{p}-{position}-{k}")
                    Session.objects.create(program=program, starts_at=now, ends_at=now + dt.timedelta(hours=2))
                    MilestoneProgram.objects.create(milestone=milestone, program=program, position=k)
        people_sql = "SELECT id FROM auth_user WHERE username LIKE 'pro%%'"
        t = {m.__name__: m._meta.db_table for m in (Assignment, Registration, ProgramEnrolment, MilestoneStatus)}
        # Each assignment holds its requirements as the assignment service fixes them: milestone id -> units.
        json = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        for plan in Curriculum.objects.all():
            units = {str(m.pk): f"{m.units:.2f}" for m in plan.milestones.all()}
            cur.execute(
                f"INSERT INTO {t['Assignment']} (created_at, updated_at, curriculum_id, person_id, due_date,"
                f" requirements) SELECT %s, %s, %s, u.id, %s, {json} FROM ({people_sql}) u",
                [now, now, plan.pk, plan.due_date, jsonlib.dumps(units)],
            )
        cur.execute(
            f"INSERT INTO {t['ProgramEnrolment']} (created_at, updated_at, person_id, program_id, status, completed_at)"
            f" SELECT %s, %s, u.id, mp.program_id, 'completed', %s FROM {MilestoneProgram._meta.db_table} mp"
            f" CROSS JOIN ({people_sql}) u WHERE (u.id + mp.program_id) % 7 < 4".replace("% 7", "%% 7"),
            [now, now, now],
        )
        cur.execute(
            f"INSERT INTO {t['Registration']} (created_at, updated_at, curriculum_id, person_id, status,"
            " via_my_learning)"
            " SELECT %s, %s, a.curriculum_id, a.person_id,"
            " CASE WHEN (a.person_id + a.curriculum_id) %% 10 = 0 THEN 'registered' ELSE 'started' END,"
            f" CASE WHEN (a.person_id + a.curriculum_id) %% 10 = 0 THEN {no} ELSE {yes} END"
            f" FROM {t['Assignment']} a WHERE (a.person_id + a.curriculum_id) %% 5 = 0"
            " OR (a.person_id + a.curriculum_id) %% 10 = 1",
            [now, now],
        )
        cur.execute(
            f"INSERT INTO {t['MilestoneStatus']} (created_at, updated_at, assignment_id, milestone_id, action, notes)"
            f" SELECT %s, %s, a.id, m.id, 'waived', '' FROM {t['Assignment']} a"
            f" JOIN {Milestone._meta.db_table} m ON m.curriculum_id = a.curriculum_id AND m.position = 1"
            " WHERE a.id %% 20 = 0",
            [now, now],
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {
        "assignments": Assignment.objects.count(),
        "completed enrolments": ProgramEnrolment.objects.count(),
        "registrations": Registration.objects.count(),
        "waived milestones": MilestoneStatus.objects.count(),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def consume(response: Any) -> int:
    return sum(len(chunk) for chunk in response.streaming_content)


def run_one(args: argparse.Namespace) -> bool:
    url = fresh_database(args.database, sqlite_name="curriculum.sqlite3", postgres_url=POSTGRES_URL)
    django_ready(url)
    from waypoint.curriculum.exports import report_csv_response, report_xlsx_response
    from waypoint.curriculum.report_rows import report_rows_refresh
    from waypoint.curriculum.reports import ReportFilter, people_by_plan_page, status_highlights_page

    seconds, sizes = timed(lambda: build(args.people, args.plans))
    print(f"## {args.database}: {args.people:,} people x {args.plans} plans, built in {seconds:.1f} s")
    print("   " + ", ".join(f"{name} {count:,}" for name, count in sizes.items()))
    rows_seconds, _ = timed(report_rows_refresh)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # as autovacuum would after a bulk write
    plan_seconds, _ = timed(lambda: report_rows_refresh(plans=[3]))
    person_seconds, _ = timed(lambda: report_rows_refresh(people=[1234]))
    print(f"| report rows: every pair worked out | {rows_seconds:.2f} | {sizes['assignments']:,} | |")
    print(f"| report rows: one plan's pairs (a milestone changed) | {plan_seconds:.2f} | {args.people:,} | |")
    print(f"| report rows: one person's pairs (a completion recorded) | {person_seconds:.3f} | {args.plans} | |")
    today = dt.date(2027, 3, 1)
    ok = True
    every = ReportFilter(today=today)
    pages: dict[str, tuple[Callable[..., Any], ReportFilter, bool]] = {
        "Status Highlights, page 1": (status_highlights_page, every, False),
        "Status Highlights, page 1 with the chart (rows per status)": (status_highlights_page, every, True),
        "Status Highlights, page 1, status Completed": (
            status_highlights_page,
            ReportFilter(today=today, status="completed"),
            False,
        ),
        "Status Highlights, page 1, search 'person 1234'": (
            status_highlights_page,
            ReportFilter(today=today, search="person 1234"),
            False,
        ),
        "People by Learning Plan, page 1": (people_by_plan_page, every, False),
        "People by Learning Plan, page 1 with the chart": (people_by_plan_page, every, True),
        "People by Learning Plan, page 1, plan 3, In Progress": (
            people_by_plan_page,
            ReportFilter(today=today, plan=3, status="in_progress"),
            False,
        ),
    }
    print("| step | seconds | rows | target |")
    print("| --- | ---: | ---: | --- |")
    for name, (fn, flt, chart) in pages.items():
        seconds, page = timed(lambda fn=fn, flt=flt, chart=chart: fn(flt, page=1, page_size=50, chart=chart))
        ok &= seconds < PAGE_TARGET
        print(f"| {name} | {seconds:.2f} | {page.count:,} | < {PAGE_TARGET:.0f} s |")
    # The pages themselves, through the views and templates: 50 rows, the chart and the filters.
    from django.contrib.auth import get_user_model
    from django.test import Client

    from waypoint.people.models import StaffProfile

    admin = get_user_model().objects.create_user(username="bench.admin")
    StaffProfile.objects.create(user=admin, permissions=[], all_groups=True)
    client = Client()
    client.force_login(admin)
    assert client.get("/learning-plans/").status_code == 200  # a running server has loaded its URLs and templates
    for path, name in (
        ("/learning-plans/reports/status-highlights/", "Status Highlights page (HTTP, with the chart)"),
        ("/learning-plans/reports/people/?status=in_progress", "People by Learning Plan page (HTTP), In Progress"),
    ):
        seconds, response = timed(lambda path=path: client.get(path))
        assert response.status_code == 200, response.status_code
        ok &= seconds < PAGE_TARGET
        print(f"| {name} | {seconds:.2f} | {len(response.content) / 1e3:.0f} kB | < {PAGE_TARGET:.0f} s |")
    for report, label in (("status-highlights", "Status Highlights"), ("people", "People by Learning Plan")):
        flt = ReportFilter(today=today)
        seconds, size = timed(lambda report=report, flt=flt: consume(report_csv_response(report, flt, report)))
        ok &= seconds < EXPORT_TARGET
        print(f"| {label}, CSV, every row | {seconds:.2f} | {size / 1e6:.1f} MB | < {EXPORT_TARGET:.0f} s |")
        seconds, size = timed(
            lambda report=report, flt=flt, label=label: consume(report_xlsx_response(report, flt, report, label))
        )
        ok &= seconds < EXPORT_TARGET
        print(f"| {label}, Excel, every row | {seconds:.2f} | {size / 1e6:.1f} MB | < {EXPORT_TARGET:.0f} s |")
    print("every target met" if ok else "SOME TARGET MISSED")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--plans", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    if args.database == "both":
        failed = False
        for kind in ("sqlite", "postgres"):
            argv = [sys.executable, __file__, "--people", str(args.people), "--plans", str(args.plans),
                    "--database", kind]  # fmt: skip
            failed |= subprocess.run(argv, check=False).returncode != 0
            print()
        sys.exit(1 if failed else 0)
    sys.exit(0 if run_one(args) else 1)


if __name__ == "__main__":
    main()
