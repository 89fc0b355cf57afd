"""Time `waypoint demo --learners 20000` into a fresh database and report rows/s per step.

    .venv/bin/python bench/demo_build.py [--learners N]

Uses a fresh SQLite file var/bench/demo-build.sqlite3 unless WAYPOINT_BENCH_DATABASE_URL is set
(e.g. postgres://postgres@127.0.0.1:5432/waypoint_demo_bench; its tables are migrated and the demo reset).
"""

import argparse
import time
from pathlib import Path

from environment import bench_database, django_ready

# Which tables each build step writes (for rows/s per step).
STEP_TABLES = {
    "groups and staff": ("people_group", "auth_user", "people_staffprofile"),
    "programmes and templates": ("programmes_programme", "programmes_componenttemplate"),
    "employers and managers": ("people_employer", "people_manager"),
    "learners": ("people_learner",),
    "enrolments": ("programmes_enrolment", "people_learner_groups"),
    "learning plans": ("plans_component", "plans_review"),
    "component progress": ("plans_component",),
    "reviews and calendar tasks": ("plans_calendartask",),
    "journal": ("plans_componentchange",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = bench_database("demo-build.sqlite3", fresh=True)
    django_ready(url)
    from django.db import connection

    from waypoint.demo.builder import demo_build

    print(f"database: {connection.vendor} ({url})")
    print(f"waypoint demo --learners {args.learners} --seed {args.seed}{' --reset' if 'postgres' in url else ''}")
    started = time.perf_counter()
    report = demo_build(learners=args.learners, seed=args.seed, reset=True, log=print)
    wall = time.perf_counter() - started

    print(f"\n{'step':<45} {'seconds':>8} {'rows':>11} {'rows/s':>10}")
    for label, seconds in report.steps:
        key = next((k for k in STEP_TABLES if label.startswith(k) or label.endswith(k)), None)
        rows = sum(report.rows.get(t, 0) for t in STEP_TABLES[key]) if key else 0
        rate = f"{rows / seconds:>10,.0f}" if rows and seconds else f"{'':>10}"
        print(f"{label:<45} {seconds:>8.2f} {rows or '':>11,} {rate}" if rows else f"{label:<45} {seconds:>8.2f}")
    print(f"\n{'table':<35} {'rows':>11}")
    for table, count in report.rows.items():
        print(f"{table:<35} {count:>11,}")
    total = report.total_rows
    print(f"\nbuild {report.seconds:.1f} s (wall {wall:.1f} s): {total:,} rows, {total / wall:,.0f} rows/s")
    if "sqlite" in url:
        files = [Path(url.removeprefix("sqlite:///") + s) for s in ("", "-wal")]
        size = sum(f.stat().st_size for f in files if f.exists())
        print(f"database file: {size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
