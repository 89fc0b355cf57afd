"""The Sync Activities wizard with 20,000 learners on the programme: every step's request, timed.

    .venv/bin/python bench/wizard.py [--learners 20000] [--components 100] [--repeat 20] [--write-repeat 3]
                                     [--database sqlite|postgres|both] [--no-apply]

Scenario: `bench/sync.py`'s build (one programme of M template components, N + 1 learners on it with their
plans, progress, reviews and calendar tasks, ten tutors as case owners), plus 18 learner groups (every learner in
one, a third in two) and real names for the tutors, so that the group and tutor filters have options. The admin
(`bench.supervisor`, a Supervisor who sees every group) is logged in with `force_login`, opens the source
learner's record (GET /learners/<id>/: the record visit starts), changes the due date of 3 components through
the edit page (so ONLY changes has recent changes), then goes through the wizard as the browser does, with the
htmx headers (HX-Request, HX-Target) of its partial requests:

 1. start: POST /learners/<id>/sync/ (a new draft; repeated, each drops the one before)
 2. components: the page, select / unselect one (pairs), select / unselect all matching (pairs), Next
 3. learners: page 1, a deep page, a search, a group filter, the group and tutor options with a search
 4. select / unselect all matching learners (pairs; each select inserts N rows set-based), select / unselect
    one, the grid with N selected, Next
 5. conditions (every status but Completed, so both learner lists of the summary have rows), type, and
    POST type, which starts the summary: above WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM pairs it is left to the
    task worker and the answer is immediate. The worker's half (`sync_run_summarise`) is timed on its own,
    then Back reopens the draft and POST type is timed again (`--write-repeat` times)
 6. the summary page while summarising and after, the status poll, a grid row's learner lists (page 1 and a
    deep page, synchronised and not)
 7. confirm (above WAYPOINT_SYNC_BACKGROUND_FROM learners it is queued: immediate) and the pages while queued;
    then the worker's half (`sync_run_apply`) timed on its own (`--no-apply` leaves it out), and the summary,
    /sync-runs/, the run's page and its learner lists after the apply

Each request: median and p95 in ms over `--repeat` timed requests (GETs after one warm-up request), the time in
SQL statements and in COMMIT (PostgreSQL checks deferred foreign keys then), the SQL queries it ran, and a verdict
against the 500 ms budget: "ok", "ok (p95 over)" or "SLOW" (the median over). Repeatable writes are timed in
select/unselect pairs; one-shot writes once per draft. For a request over budget the slowest statement is explained
(SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of a SELECT, EXPLAIN of a write).

Every database starts empty: var/bench/wizard.sqlite3, or the PostgreSQL database of
WAYPOINT_BENCH_WIZARD_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/waypoint_bench_wizard, its own
database so that it never drops bench/sync.py's), dropped and created; it is left in place afterwards for
EXPLAIN by hand. PostgreSQL gets one (not timed) VACUUM ANALYZE after the build, none during the wizard (the
sync tables' statistics are as stale as they would be in the seconds of a real wizard). Results are saved to
var/bench/wizard-<database>-<learners>x<components>.json. A quick check: `--learners 500 --repeat 3`.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from environment import BENCH_DIR, ROOT, django_ready, fresh_database
from pages import percentile
from sync import build, table, vacuum_analyze

POSTGRES_URL = os.environ.get(
    "WAYPOINT_BENCH_WIZARD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench_wizard"
)
BUDGET_MS = 500.0
NEW_DUE = dt.date(2031, 3, 31)
EDITED_POSITIONS = (2, 7, 13)  # ordinary components (not Reviews) of the source plan
CONDITIONS = ["not_started", "in_progress", "awaiting_marking", "referred"]  # Completed left out
REGIONS = ("North", "South", "East", "West", "Midlands", "Wales")
TRACKS = ("Apprentices 2025", "Apprentices 2026", "Evening cohort")
TUTOR_NAMES = [
    ("Amira", "Patel"), ("Ben", "Okafor"), ("Chloe", "Nowak"), ("Dev", "Sharma"), ("Ella", "Murphy"),
    ("Femi", "Adeyemi"), ("Grace", "Lindqvist"), ("Harry", "Patterson"), ("Isla", "Campbell"), ("Jonas", "Weber"),
]  # fmt: skip


# --- measuring ----------------------------------------------------------------------------------------------


class Statements:
    """An execute wrapper: every statement's SQL, parameters and seconds."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, Any, bool, float]] = []
        self.commit_seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.entries.append((sql, params, many, time.perf_counter() - started))

    def slowest(self, n: int = 3) -> list[tuple[str, Any, bool, float]]:
        return sorted(self.entries, key=lambda e: -e[3])[:n]


@contextmanager
def commits_timed(log: Statements) -> Iterator[None]:
    """COMMIT is not a statement Django logs: time it here (PostgreSQL checks deferred foreign keys then)."""
    from django.db import connections

    wrapper = connections["default"]
    commit = wrapper._commit  # type: ignore[attr-defined]

    def timed_commit() -> Any:
        started = time.perf_counter()
        try:
            return commit()
        finally:
            log.commit_seconds += time.perf_counter() - started

    wrapper._commit = timed_commit  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del wrapper._commit  # type: ignore[attr-defined]


@dataclass
class Step:
    label: str
    request: str
    kind: str = "request"  # or "background": the task worker's half, not a request
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    commit_ms: list[float] = field(default_factory=list)
    logs: list[Statements] = field(default_factory=list)
    explain: dict[str, Any] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 95)

    @property
    def slow(self) -> bool:
        return self.kind == "request" and self.median >= BUDGET_MS

    @property
    def verdict(self) -> str:
        if self.kind != "request":
            return "background"
        if self.slow:
            return "SLOW"
        return "ok (p95 over)" if self.p95 >= BUDGET_MS else "ok"

    def queries_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"

    def median_log(self) -> Statements:
        """The statements of the request whose time is the median's (the lower one for an even count)."""
        order = sorted(range(len(self.times)), key=lambda i: self.times[i])
        return self.logs[order[(len(order) - 1) // 2]]


def short(sql: str, limit: int = 220) -> str:
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def explain(sql: str, params: Any) -> dict[str, Any]:
    """The plan of one statement, as the database would run it now."""
    from django.db import connection, transaction

    select = bool(re.match(r"\s*(SELECT|WITH)\b", sql, re.IGNORECASE))
    if connection.vendor == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
    elif select:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) "
    else:
        prefix = "EXPLAIN "  # a write is planned, not run again
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        lines = [f"{'  ' * _depth(rows, r)}{r[-1]}" for r in rows]
    else:
        lines = [r[0] for r in rows]
    return {"how": prefix.strip(), "sql": short(sql, 2000), "plan": lines}


def _depth(rows: list[tuple[Any, ...]], row: tuple[Any, ...]) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


class Wizard:
    """Requests through Django's test client as the logged-in admin, each timed with its statements."""

    def __init__(self, client: Any, repeat: int) -> None:
        self.client = client
        self.repeat = repeat
        self.steps: dict[str, Step] = {}

    def call(
        self,
        label: str,
        method: str,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        htmx: str | None = None,
        expect: int = 200,
        timed: bool = True,
    ) -> Any:
        from django.db import connection

        headers = {} if htmx is None else {"HTTP_HX_REQUEST": "true", **({"HTTP_HX_TARGET": htmx} if htmx else {})}
        log = Statements()
        with connection.execute_wrapper(log), commits_timed(log):
            started = time.perf_counter()
            response = getattr(self.client, method)(path, data or {}, **headers)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            body = response.content[:800].decode(errors="replace")
            raise SystemExit(f"{label}: {method.upper()} {path} answered {response.status_code}, not {expect}\n{body}")
        if timed:
            shown = f"{method.upper()} {path}" + (f"?{urlencode(data, doseq=True)}" if data and method == "get" else "")
            if htmx is not None:
                shown += " (htmx)"
            step = self.steps.setdefault(label, Step(label, shown))
            self.record(step, elapsed, log)
        return response

    def record(self, step: Step, elapsed: float, log: Statements) -> None:
        step.times.append(elapsed)
        step.queries.append(len(log.entries))
        step.sql_ms.append(sum(e[3] for e in log.entries) * 1000)
        step.commit_ms.append(log.commit_seconds * 1000)
        step.logs.append(log)
        if elapsed >= BUDGET_MS and step.explain is None:
            slowest = [e for e in log.slowest(5) if not e[2] and re.match(r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE)",
                                                                           e[0], re.IGNORECASE)]  # fmt: skip
            if slowest:
                sql, params, _many, seconds = slowest[0]
                try:
                    step.explain = {"ms": seconds * 1000, **explain(sql, params)}
                except Exception as e:  # a statement that cannot be explained on its own
                    step.explain = {"ms": seconds * 1000, "sql": short(sql, 2000), "plan": [f"not explained: {e}"]}

    def repeated(self, label: str, method: str, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """One warm-up request (GET only), then `repeat` timed ones."""
        if method == "get":
            self.call(label, method, path, data, timed=False, **kw)
        response = None
        for _ in range(self.repeat):
            response = self.call(label, method, path, data, **kw)
        return response

    def background(self, label: str, what: str, work: Callable[[], Any]) -> Any:
        from django.db import connection

        log = Statements()
        with connection.execute_wrapper(log), commits_timed(log):
            started = time.perf_counter()
            result = work()
            elapsed = (time.perf_counter() - started) * 1000
        step = self.steps.setdefault(label, Step(label, what, kind="background"))
        step.times.append(elapsed)
        step.queries.append(len(log.entries))
        step.sql_ms.append(sum(e[3] for e in log.entries) * 1000)
        step.commit_ms.append(log.commit_seconds * 1000)
        step.logs.append(log)
        return result


# --- the database and the scenario ------------------------------------------------------------------------


def database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def wizard_version() -> str:
    """A digest of the wizard's views, templates and services (they change under us)."""
    root = ROOT / "waypoint"
    files = sorted(
        [
            *root.glob("plans/sync/*.py"),
            root / "web" / "views" / "sync.py",
            *root.glob("web/templates/web/sync/*.html"),
        ]
    )
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:12]


def add_groups_and_tutor_names() -> dict[str, int]:
    """18 groups (every learner in one, a third in a second) and real names for the build's ten tutors."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from waypoint.people.models import Group, Learner

    with transaction.atomic():
        groups = Group.objects.bulk_create([Group(name=f"{region} {track}") for region in REGIONS for track in TRACKS])
        ids = sorted(g.pk for g in Group.objects.filter(name__in=[g.name for g in groups]))
        links, learners = table(Learner.groups.through), table(Learner)
        with connection.cursor() as cursor:
            for k, group_id in enumerate(ids):
                cursor.execute(
                    f"INSERT INTO {links} (learner_id, group_id) SELECT id, %s FROM {learners} WHERE id %% %s = %s",
                    [group_id, len(ids), k],
                )
                second = ids[(k + 1) % len(ids)]
                cursor.execute(
                    f"INSERT INTO {links} (learner_id, group_id) SELECT id, %s FROM {learners} "
                    f"WHERE id %% %s = %s AND id %% 3 = 0",
                    [second, len(ids), k],
                )
        tutors = get_user_model().objects.filter(username__startswith="bench.tutor").order_by("id")
        for tutor, (first, last) in zip(tutors, TUTOR_NAMES, strict=False):
            tutor.first_name, tutor.last_name = first, last
            tutor.save(update_fields=["first_name", "last_name"])
    return {"groups": len(ids), "group links": Learner.groups.through.objects.count()}


def edit_form(component: Any) -> dict[str, Any]:
    """The component edit form as the browser submits it, with a new due date."""
    values: dict[str, Any] = {
        "name": component.name,
        "type": component.type,
        "status": component.status,
        "due_date": NEW_DUE.isoformat(),
        "owner": component.owner_id or "",
        "completion_mode": component.completion_mode,
        "criteria_mappings": list(component.criteria_mappings),
        "instructions": component.instructions,
        "min_evidence": component.min_evidence,
        "documents": "\n".join(component.documents),
        "marking_aid_exercise": component.marking_aid_exercise,
        "review_type": component.review_type,
        "revision": component.revision,
    }
    for flag in ("evidence_required", "delivery_via_organisation", "delivery_via_employer", "planned_for_qa"):
        if getattr(component, flag):
            values[flag] = "on"
    return values


def run_one(args: argparse.Namespace) -> None:
    url = fresh_database(args.database, sqlite_name="wizard.sqlite3", postgres_url=POSTGRES_URL)
    django_ready(url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from waypoint.programmes.models import Enrolment

    n, m = args.learners, args.components
    version = database_version()
    print(f"database: {version} ({url}); wizard digest {wizard_version()}")
    print(f"building {n:,} target learners + the source x {m} template components …")
    started = time.perf_counter()
    sizes = build(n, m)
    sizes.update(add_groups_and_tutor_names())
    build_seconds = time.perf_counter() - started
    print(f"build: {build_seconds:.1f} s — " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
    vacuum_analyze()

    admin = get_user_model().objects.get(username="bench.supervisor")
    source = Enrolment.objects.select_related("learner").order_by("learner_id").first()
    assert source is not None
    lid = source.learner_id
    client = Client()
    client.force_login(admin)
    w = Wizard(client, args.repeat)
    facts = {"version": version, "url": url, "sizes": sizes, "build_seconds": build_seconds, "run": None}
    try:
        scenario(args, w, lid, facts)
    finally:  # what was measured is reported even when a step fails
        report(args, w, **facts)
        if connection.vendor == "sqlite":
            connection.close()


def scenario(args: argparse.Namespace, w: Wizard, lid: int, facts: dict[str, Any]) -> None:
    from django.conf import settings

    from waypoint.plans.models import Component, SyncRun, SyncRunStatus, SyncTarget
    from waypoint.plans.sync.runs import sync_run_apply
    from waypoint.plans.sync.wizard import sync_run_summarise
    from waypoint.programmes.models import Enrolment

    n, m = args.learners, args.components
    source = Enrolment.objects.get(learner_id=lid)

    # Warm-up, not timed: the first requests of a process load and compile the base templates.
    other = Enrolment.objects.exclude(learner_id=lid).order_by("learner_id").values_list("learner_id", flat=True)[0]
    w.call("warm-up", "get", "/learners/", timed=False)
    w.call("warm-up", "get", f"/learners/{other}/", timed=False)

    # The record visit: open the record, change 3 due dates through the edit page.
    w.call("0 GET learner record (starts the visit)", "get", f"/learners/{lid}/")
    plan = {c.position: c for c in Component.objects.filter(enrolment=source)}
    edited = [plan[p] for p in EDITED_POSITIONS]
    for component in edited:
        w.call(
            "0 POST edit a component's due date",
            "post",
            f"/learners/{lid}/components/{component.pk}/edit/",
            edit_form(component),
            expect=302,
        )
    assert Component.objects.filter(pk__in=[c.pk for c in edited], due_date=NEW_DUE).count() == len(edited)

    # 1. Start: a new draft (each POST drops the admin's draft before it).
    for _ in range(args.repeat):
        response = w.call("1 POST start (new draft)", "post", f"/learners/{lid}/sync/", expect=302)
    match = re.search(r"/sync/(\d+)/components/$", response["Location"])
    assert match, response["Location"]
    run = SyncRun.objects.get(pk=int(match[1]))
    edited_codes = [f"t{c.template_id}" for c in edited]
    assert sorted(run.keys) == sorted(["template", c.template_id] for c in edited), run.keys
    facts["run"] = run
    base = f"/learners/{lid}/sync/{run.pk}"

    # 2. Select Components.
    grid = "component-grid"
    w.repeated("2 GET components", "get", f"{base}/components/")
    w.repeated("2 GET components, type filter (htmx)", "get", f"{base}/components/", {"type": "assessment"},
               htmx=grid)  # fmt: skip
    page_codes = [f"t{plan[p].template_id}" for p in sorted(plan)[:25]]
    form = {"type": "", "search": "", "page": "1", "page_code": page_codes}
    one_code = f"t{plan[50 if m >= 50 else m - 1].template_id}"
    for _ in range(args.repeat):
        w.call("2 POST select one component (htmx)", "post", f"{base}/components/",
               {**form, "action": "one", "code": one_code, "selected": "1"}, htmx=grid)  # fmt: skip
        w.call("2 POST unselect one component (htmx)", "post", f"{base}/components/",
               {**form, "action": "one", "code": one_code, "selected": "0"}, htmx=grid)  # fmt: skip
    for _ in range(args.repeat):
        w.call("2 POST select all matching components (htmx)", "post", f"{base}/components/",
               {**form, "action": "matching", "selected": "1"}, htmx=grid)  # fmt: skip
        w.call("2 POST unselect all matching components (htmx)", "post", f"{base}/components/",
               {**form, "action": "matching", "selected": "0"}, htmx=grid)  # fmt: skip
    w.call("2 POST select the edited ones (htmx)", "post", f"{base}/components/",
           {**form, "action": "page", "page_code": edited_codes, "selected": "1"}, htmx=grid)  # fmt: skip
    run.refresh_from_db()
    assert sorted(run.keys) == sorted(["template", c.template_id] for c in edited), run.keys
    w.repeated("2 POST Next (components)", "post", f"{base}/components/", {"action": "next"}, expect=302)

    # 3. Select Learners: pages, filters, options.
    grid = "learner-grid"
    filters = {"filtered": "1", "search": "", "group_search": "", "tutor_search": ""}
    w.repeated("3 GET learners (page 1)", "get", f"{base}/learners/")
    pages = max((n + 24) // 25, 1)
    deep = min(400, pages)
    w.repeated(f"3 GET learners page {deep} (htmx)", "get", f"{base}/learners/", {**filters, "page": deep},
               htmx=grid)  # fmt: skip
    word = "Bench0123" if n >= 12_400 else "Bench0001"
    w.repeated(f"3 GET learners, search '{word}' (htmx)", "get", f"{base}/learners/", {**filters, "search": word},
               htmx=grid)  # fmt: skip
    from waypoint.people.models import Group

    north = list(Group.objects.filter(name__startswith="North").order_by("id").values_list("id", flat=True))
    w.repeated("3 GET learners, one group (htmx)", "get", f"{base}/learners/", {**filters, "group": north[:1]},
               htmx=grid)  # fmt: skip
    w.repeated("3 GET group options, search 'north'", "get", f"{base}/learners/options/group/",
               {"group_search": "north"}, htmx="group-options")  # fmt: skip
    w.repeated("3 GET tutor options, search 'pat'", "get", f"{base}/learners/options/tutor/",
               {"tutor_search": "pat"}, htmx="tutor-options")  # fmt: skip
    first_page = w.call("3 GET learners (page 1)", "get", f"{base}/learners/", filters, htmx=grid, timed=False)
    page_learners = re.findall(r'name="page_learner" value="(\d+)"', first_page.content.decode())
    assert len(page_learners) == min(25, n), len(page_learners)

    # 4. Select all matching (N rows, one INSERT … SELECT), unselect all matching, one learner.
    matching = {**filters, "page": "1", "page_learner": page_learners}
    for _ in range(args.repeat):
        w.call("4 POST select all matching learners (htmx)", "post", f"{base}/learners/",
               {**matching, "action": "matching", "selected": "1"}, htmx=grid)  # fmt: skip
        assert SyncTarget.objects.filter(run=run).count() == n
        w.call("4 POST unselect all matching learners (htmx)", "post", f"{base}/learners/",
               {**matching, "action": "matching", "selected": "0"}, htmx=grid)  # fmt: skip
        assert not SyncTarget.objects.filter(run=run).exists()
    w.call("4 POST select all matching learners (htmx)", "post", f"{base}/learners/",
           {**matching, "action": "matching", "selected": "1"}, htmx=grid)  # fmt: skip
    one = page_learners[3]
    for _ in range(args.repeat):
        w.call("4 POST unselect one learner (htmx)", "post", f"{base}/learners/",
               {**matching, "action": "one", "learner": one, "selected": "0"}, htmx=grid)  # fmt: skip
        w.call("4 POST select one learner (htmx)", "post", f"{base}/learners/",
               {**matching, "action": "one", "learner": one, "selected": "1"}, htmx=grid)  # fmt: skip
    assert SyncTarget.objects.filter(run=run).count() == n
    w.repeated(f"4 GET learners page 1, {n:,} selected", "get", f"{base}/learners/")
    w.repeated("4 POST Next (learners)", "post", f"{base}/learners/", {"action": "next"}, expect=302)

    # 5. Conditions and type; POST type starts the summary.
    w.repeated("5 GET conditions", "get", f"{base}/conditions/")
    w.repeated("5 POST conditions (all but Completed)", "post", f"{base}/conditions/", {"status": CONDITIONS},
               expect=302)  # fmt: skip
    w.repeated("5 GET type", "get", f"{base}/type/")
    pairs = n * len(edited)
    background = pairs > settings.WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM
    print(f"summary of {pairs:,} learner/component pairs: "
          f"{'in the task worker' if background else 'in the request'} "
          f"(WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM = {settings.WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM:,})")  # fmt: skip
    for i in range(args.write_repeat):
        label = "5 POST type: starts the summary" + (" (handed to the worker)" if background else " (in the request)")
        w.call(label, "post", f"{base}/type/", {"sync_type": "only_changes"}, expect=302)
        run.refresh_from_db()
        if background:
            assert run.status == SyncRunStatus.SUMMARISING, run.status
            if i == 0:
                w.repeated("6 GET summary while summarising", "get", f"{base}/summary/")
                w.repeated("6 GET status poll while summarising (htmx)", "get", f"{base}/summary/",
                           {"was": "summarising"}, htmx="run-status")  # fmt: skip
            w.background("5 summary in the worker (sync_run_summarise)", f"sync_run_summarise({run.pk})",
                         lambda: sync_run_summarise(run.pk))  # fmt: skip
            run.refresh_from_db()
        assert run.status == SyncRunStatus.SUMMARISED, (run.status, run.error)
        if i < args.write_repeat - 1:
            w.call("6 POST Back from the summary (reopens the draft)", "post", f"{base}/back/", expect=302)
    print(f"summary: {run.learner_count:,} learners x {run.component_count} components, "
          f"{run.synchronised:,} pairs synchronised, {run.not_synchronised:,} not")  # fmt: skip

    # 6. The summary, the poll, a grid row's learner lists.
    w.repeated("6 GET summary", "get", f"{base}/summary/")
    w.repeated("6 GET status poll (htmx)", "get", f"{base}/summary/", {"was": "summarised"}, htmx="run-status")
    row = run.components.order_by("position", "id").first()
    assert row is not None

    def outcome_pages(prefix: str, url: str) -> None:
        for synchronised, count in ((1, row.synchronised), (0, row.not_synchronised)):
            which = "synchronised" if synchronised else "not synchronised"
            last = max((count + 19) // 20, 1)
            for number in sorted({1, max(last // 2, 1)}):
                w.repeated(f"{prefix} learner list, {which}, page {number} of {last}", "get", url,
                           {"row": row.pk, "synchronised": synchronised, "page": number}, htmx="")  # fmt: skip

    outcome_pages("6 GET grid row's", f"{base}/outcomes/")

    # 7. Confirm: queued for the worker above WAYPOINT_SYNC_BACKGROUND_FROM learners.
    queued = run.learner_count > settings.WAYPOINT_SYNC_BACKGROUND_FROM
    w.call("7 POST confirm" + (" (queued for the worker)" if queued else " (applied in the request)"), "post",
           f"{base}/confirm/", expect=302)  # fmt: skip
    run.refresh_from_db()
    assert run.status == (SyncRunStatus.QUEUED if queued else SyncRunStatus.APPLIED), run.status
    if queued:
        w.repeated("7 GET summary while queued", "get", f"{base}/summary/")
        w.repeated("7 GET status poll while queued (htmx)", "get", f"{base}/summary/", {"was": "queued"},
                   htmx="run-status")  # fmt: skip
        if not args.no_apply:
            w.background("7 apply in the worker (sync_run_apply)", f"sync_run_apply({run.pk})",
                         lambda: sync_run_apply(run.pk))  # fmt: skip
            run.refresh_from_db()
            assert run.status == SyncRunStatus.APPLIED, (run.status, run.error)
    if run.status == SyncRunStatus.APPLIED:
        w.repeated("7 GET summary after the apply", "get", f"{base}/summary/")
        # History: outside the record, so it ends the visit (last).
        w.repeated("7 GET /sync-runs/", "get", "/sync-runs/")
        w.repeated("7 GET /sync-runs/<id>/", "get", f"/sync-runs/{run.pk}/")
        outcome_pages("7 GET the run's", f"/sync-runs/{run.pk}/outcomes/")


def report(args: argparse.Namespace, w: Wizard, **facts: Any) -> None:
    from django.conf import settings
    from django.db import connection

    run = facts["run"]
    if run is not None:
        run.refresh_from_db()
    vendor = connection.vendor
    if not w.steps:
        return
    print(f"\n== {facts['version']}: {args.learners:,} learners + the source x {args.components} components, "
          f"3 components synced ONLY changes; {args.repeat} timed requests each ==")  # fmt: skip
    width = max(len(s.label) for s in w.steps.values())
    print(f"{'step':<{width}} {'n':>3} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>8} {'COMMIT ms':>10} {'queries':>8}"
          f"  verdict")  # fmt: skip
    for s in w.steps.values():
        print(
            f"{s.label:<{width}} {len(s.times):>3} {s.median:>10.1f} {s.p95:>8.1f} "
            f"{statistics.median(s.sql_ms):>8.1f} {statistics.median(s.commit_ms):>10.1f} {s.queries_text():>8}"
            f"  {s.verdict}"
        )
    slow = [s for s in w.steps.values() if s.kind == "request" and s.p95 >= BUDGET_MS]
    print(f"\nbudget {BUDGET_MS:.0f} ms: {len(slow)} request(s) over it" + (":" if slow else ""))
    for s in slow:
        print(f"\n-- SLOW: {s.label} — {s.request}")
        print("   slowest statements of the median request (ms):")
        for sql, _params, many, seconds in s.median_log().slowest(3):
            print(f"   {seconds * 1000:>8.1f}  {'[many] ' if many else ''}{short(sql)}")
        if s.explain:
            print(f"   {s.explain.get('how', '')} of the slowest ({s.explain['ms']:.1f} ms):")
            for line in s.explain["plan"]:
                print(f"     {line if len(line) <= 240 else line[:239] + '…'}")

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = BENCH_DIR / f"wizard-{vendor}-{args.learners}x{args.components}.json"
    out.write_text(
        json.dumps(
            {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": facts["version"],
                "learners": args.learners,
                "components": args.components,
                "repeat": args.repeat,
                "write_repeat": args.write_repeat,
                "wizard_digest": wizard_version(),
                "build_seconds": facts["build_seconds"],
                "sizes": facts["sizes"],
                "settings": {
                    "WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM": settings.WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM,
                    "WAYPOINT_SYNC_BACKGROUND_FROM": settings.WAYPOINT_SYNC_BACKGROUND_FROM,
                },
                "run": None
                if run is None
                else {
                    "id": run.pk,
                    "status": run.status,
                    "learners": run.learner_count,
                    "components": run.component_count,
                    "synchronised": run.synchronised,
                    "not_synchronised": run.not_synchronised,
                },
                "budget_ms": BUDGET_MS,
                "steps": [
                    {
                        "step": s.label,
                        "request": s.request,
                        "kind": s.kind,
                        "verdict": s.verdict,
                        "n": len(s.times),
                        "median_ms": s.median,
                        "p95_ms": s.p95,
                        "max_ms": max(s.times),
                        "sql_median_ms": statistics.median(s.sql_ms),
                        "commit_median_ms": statistics.median(s.commit_ms),
                        "queries": sorted(set(s.queries)),
                        "times_ms": [round(t, 1) for t in s.times],
                        "slowest_statements": [
                            {"ms": round(sec * 1000, 2), "many": many, "sql": short(sql, 2000)}
                            for sql, _params, many, sec in s.median_log().slowest(3)
                        ],
                        "explain": s.explain,
                    }
                    for s in w.steps.values()
                ],
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nresults saved to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=20_000, help="target learners (the source is one more)")
    parser.add_argument("--components", type=int, default=100, help="template components of the programme (≥ 30)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per repeatable step")
    parser.add_argument("--write-repeat", type=int, default=3, help="summaries started (POST type) and worked out")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--no-apply", action="store_true", help="do not apply the confirmed run")
    args = parser.parse_args()
    if args.components < 30:
        parser.error("--components must be at least 30")
    if args.learners < 25 or args.repeat < 1 or args.write_repeat < 1:
        parser.error("--learners must be at least 25, --repeat and --write-repeat at least 1")
    if args.database == "both":
        failed = False
        for kind in ("sqlite", "postgres"):
            argv = [sys.executable, __file__, "--learners", str(args.learners), "--components", str(args.components),
                    "--repeat", str(args.repeat), "--write-repeat", str(args.write_repeat),
                    "--database", kind]  # fmt: skip
            argv += ["--no-apply"] if args.no_apply else []
            failed |= subprocess.run(argv, check=False).returncode != 0
            print()
        sys.exit(1 if failed else 0)
    run_one(args)


if __name__ == "__main__":
    main()
