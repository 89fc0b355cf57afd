"""Time the learner pages against 20,000 demo learners, as `supervisor` (sees all) and `tutor.north` (two groups).

    .venv/bin/python bench/pages.py [--repeat 30]

Builds the demo into var/bench/pages.sqlite3 the first time (or uses WAYPOINT_BENCH_DATABASE_URL),
then requests each page through Django's test client: median and p95 in ms, and SQL queries per page.
"""

import argparse
import statistics
import sys
import time
from typing import Any

from environment import bench_database, django_ready

LEARNERS = 20_000


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    url = bench_database("pages.sqlite3")
    django_ready(url)
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from waypoint.demo.builder import demo_build
    from waypoint.demo.staff import DEMO_PASSWORD
    from waypoint.people.models import Learner
    from waypoint.plans.models import Component
    from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus

    if Learner.objects.count() < LEARNERS:
        print(f"building {LEARNERS:,} demo learners into {url} …")
        report = demo_build(learners=LEARNERS, reset=True, log=print)
        print(f"built in {report.seconds:.1f} s")
    print(f"database: {connection.vendor} ({url}), {Learner.objects.count():,} learners, "
          f"{Component.objects.count():,} components")  # fmt: skip

    # The learner with the fullest plan among the active ones, and a common surname.
    full = (
        Enrolment.objects.filter(status=ProgrammeStatus.ACTIVE)
        .values("learner_id")
        .annotate(n=Count("components"))
        .order_by("-n", "learner_id")
        .first()
    )
    assert full is not None
    learner_id = full["learner_id"]
    surname = Learner.objects.values("surname").annotate(n=Count("id")).order_by("-n", "surname")[0]["surname"]
    programme = Programme.objects.filter(parent__isnull=True).order_by("code").first()
    assert programme is not None

    clients = {}
    for username in ("supervisor", "tutor.north"):
        clients[username] = Client()
        if not clients[username].login(username=username, password=DEMO_PASSWORD):
            sys.exit(f"could not log in as {username}: is the demo data there?")

    pages = [
        ("supervisor", "learner list", "/learners/"),
        ("supervisor", f"search '{surname}'", f"/learners/?search={surname}"),
        ("supervisor", "programme + active, page 40", f"/learners/?programme={programme.pk}&status=active&page=40"),
        ("tutor.north", "learner list, two groups visible", "/learners/?page=20"),
        ("supervisor", f"learner detail ({full['n']} components)", f"/learners/{learner_id}/"),
        ("supervisor", "learner journal", f"/learners/{learner_id}/journal/"),
    ]
    print(f"\n{'page':<38} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'queries':>8}  url")
    missing = 0
    for username, label, path in pages:
        client = clients[username]
        first = client.get(path)
        if first.status_code != 200:
            missing += 1
            print(f"{label:<38} {first.status_code:>6} {'-':>10} {'-':>8} {'-':>8}  {path}")
            continue
        # A wrapper, not CaptureQueriesContext: each request start clears the connection's query log.
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            client.get(path)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        print(
            f"{label:<38} {200:>6} {statistics.median(times):>10.1f} {percentile(times, 95):>8.1f} "
            f"{queries.count:>8}  {path}"
        )
    if missing:
        print(f"\n{missing} page(s) did not answer 200 (not written yet?)")


if __name__ == "__main__":
    main()
