"""The learning-plan sync at scale, and the hand-written SQL floor for the same row changes.

    .venv/bin/python bench/sync.py [--learners 20000] [--components 100] [--database sqlite|postgres|both]
                                   [--profile summary,confirm,undo,floor] [--stop-after summary|confirm|undo]
                                   [--stale-stats]

Scenario: one programme of M template components and N + 1 learners on it (plans built set-based with
`plans_create_for`). On the source learner a Supervisor, in a record visit, changes 20 components (due date
and instructions), adds 5 by hand and deletes 2 (one of them a Review with scheduled reviews and calendar
tasks on the other plans). Then one ONLY-changes run of those 27 components to the N other learners
("select all matching": the learners as a queryset), every component status selected:
`sync_run_create` (the summary), `sync_run_confirm` (inline: WAYPOINT_SYNC_BACKGROUND_FROM is set very high)
and `sync_run_undo`. After the undo the data is as before (checked), and the same row changes are made by
hand-written set-based SQL in one transaction: the floor.

Every database starts empty: a fresh SQLite file var/bench/sync.sqlite3, or the PostgreSQL database of
WAYPOINT_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/waypoint_bench), dropped and created.
`--database both` runs each database in its own process. Memory: "peak RSS" is the process's VmHWM
(= ru_maxrss) during the phase, reset before it through /proc/self/clear_refs; "Python peak" is
tracemalloc's peak over a second, identical summary made (and deleted) before the timed one.
`--profile` runs the named phases under cProfile (their times are then inflated) and prints the top entries.
PostgreSQL gets a (not timed) ANALYZE before each phase; `--stale-stats` leaves it out between the summary,
confirm and undo. A quick check of correctness: `--learners 500`.
"""

import argparse
import cProfile
import datetime as dt
import hashlib
import io
import json
import os
import pstats
import re
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment import BENCH_DIR, django_ready, fresh_database

POSTGRES_URL = os.environ.get("WAYPOINT_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/waypoint_bench")
CHANGED, ADDED, DELETED = 20, 5, 2
NEW_DUE = dt.date(2031, 3, 31)  # later than any due date the build makes: every target's value differs
ALL_STATUSES = ["not_started", "in_progress", "awaiting_marking", "referred", "completed"]
TARGETS = {"confirm / floor": 2.0, "summary s": 5.0, "peak RSS MB": 1024.0}


# --- measuring ------------------------------------------------------------------------------------------


def rss_reset() -> None:
    """Start a new peak-RSS window (Linux: VmHWM and ru_maxrss fall back to the current RSS)."""
    Path("/proc/self/clear_refs").write_text("5")


def release_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the OS (glibc), so that a phase's RSS starts from what is
    live, not from what earlier phases (the build's 2 GB SQLite page cache, a summary) freed but kept."""
    import ctypes
    import gc

    gc.collect()
    with suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def rss_mb(key: str = "VmHWM") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StatementLog:
    """An execute wrapper: every statement's SQL, seconds and row count (COPY bypasses it)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, float, int]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            try:
                rowcount = int(context["cursor"].rowcount)
            except Exception:
                rowcount = -1
            self.entries.append((sql, time.perf_counter() - started, rowcount))

    @property
    def seconds(self) -> float:
        return sum(s for _, s, _ in self.entries)

    def grouped(self) -> list[tuple[str, int, float, int, int, float]]:
        """(label, statements, seconds, rows, statements writing no row, their seconds), slowest first."""
        groups: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0.0])
        for sql, seconds, rows in self.entries:
            g = groups[statement_label(sql)]
            g[0] += 1
            g[1] += seconds
            g[2] += max(rows, 0)
            if rows == 0 and re.match(r"\s*(INSERT|UPDATE|DELETE)", sql, re.IGNORECASE):
                g[3] += 1
                g[4] += seconds
        return sorted(
            ((k, int(v[0]), v[1], int(v[2]), int(v[3]), v[4]) for k, v in groups.items()), key=lambda g: -g[2]
        )

    def rows_written(self) -> dict[str, int]:
        """Rows inserted, updated and deleted, by table."""
        written: dict[str, int] = defaultdict(int)
        for sql, _seconds, rows in self.entries:
            m = re.match(r'\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', sql, re.IGNORECASE)
            if m and rows > 0:
                verb = {"INSERT INTO": "inserted", "UPDATE": "updated", "DELETE FROM": "deleted"}[m.group(1).upper()]
                written[f"{m.group(2)} {verb}"] += rows
        return dict(written)


def statement_label(sql: str) -> str:
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= 150 else flat[:147] + "…"


@contextmanager
def patched(target: Any, name: str, wrapper: Callable[[Any], Any]) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, wrapper(original))
    try:
        yield
    finally:
        setattr(target, name, original)


class SummaryPhases:
    """Times the parts of `sync_run_create` by wrapping engine functions from outside.

    states = the aggregate query that reads every pair's state (`pairs.aggregate`, consumed while deciding);
    decide and store = the rest of `summarise` (one decision per state, bulk_create, grid rows).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.states = 0

    @contextmanager
    def active(self) -> Iterator[None]:
        from waypoint.plans.sync import runs, summarise

        def timed(label: str) -> Callable[[Any], Any]:
            def wrap(fn: Any) -> Any:
                def inner(*args: Any, **kwargs: Any) -> Any:
                    started = time.perf_counter()
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        self.seconds[label] += time.perf_counter() - started

                return inner

            return wrap

        def aggregate(fn: Any) -> Any:
            def inner(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                rows = list(fn(*args, **kwargs))
                self.seconds["states (one aggregate query)"] += time.perf_counter() - started
                self.states += len(rows)
                return iter(rows)

            return inner

        with (
            patched(runs, "run_sources", timed("sources (gather_sources)")),
            patched(runs, "_store_targets", timed("store targets (INSERT … SELECT)")),
            patched(runs, "summarise", timed("summarise")),
            patched(summarise, "aggregate", aggregate),
        ):
            yield


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    statements: int = 0
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    python_peak_mb: float | None = None
    commit_seconds: float = 0.0
    log: StatementLog = field(default_factory=StatementLog)
    profiled: bool = False


@contextmanager
def measured(phase: Phase, profile: bool) -> Iterator[None]:
    """Time a phase with its statements (CaptureQueriesContext), statement timings and peak RSS."""
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    release_freed_memory()
    phase.rss_before_mb = rss_mb("VmRSS")
    rss_reset()
    profiler = cProfile.Profile() if profile else None
    wrapper = connections["default"]
    commit = wrapper._commit  # type: ignore[attr-defined]

    def timed_commit() -> Any:  # COMMIT is not a statement Django logs: time it here
        started = time.perf_counter()
        try:
            return commit()
        finally:
            phase.commit_seconds += time.perf_counter() - started

    wrapper._commit = timed_commit  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(phase.log):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            yield
        finally:
            if profiler:
                profiler.disable()
            phase.seconds = time.perf_counter() - started
            del wrapper._commit  # type: ignore[attr-defined]
    phase.statements = len(queries.captured_queries)
    phase.rss_peak_mb = rss_mb("VmHWM")
    if profiler:
        phase.profiled = True
        print_profile(profiler, phase.name)


def print_profile(profiler: cProfile.Profile, name: str) -> None:
    from django.db import connection

    path = BENCH_DIR / f"sync-{name}-{connection.vendor}.prof"
    profiler.dump_stats(path)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(30)
        text = out.getvalue()
        body = text[text.find("   ncalls") :] if "   ncalls" in text else text
        print(f"\n--- cProfile of {name} ({connection.vendor}), top 30 by {order} (saved to {path}) ---")
        print(body.rstrip())


def engine_version() -> str:
    """A digest of the engine's sources and the plans app's models and migrations (they change under us)."""
    root = Path(__file__).resolve().parent.parent / "waypoint"
    files = sorted(
        [
            *root.glob("plans/sync/*.py"),
            *root.glob("plans/services/*.py"),
            *root.glob("plans/migrations/*.py"),
            root / "plans" / "models.py",
        ]
    )
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    latest = max(f.stat().st_mtime for f in files)
    return f"{h.hexdigest()[:12]} (newest file {dt.datetime.fromtimestamp(latest, dt.UTC):%Y-%m-%d %H:%M} UTC)"


# --- the database -----------------------------------------------------------------------------------------


def vacuum_analyze(*, vacuum: bool = True) -> None:
    """PostgreSQL: fresh statistics (and no dead rows) before a measured phase, outside any transaction.

    Not timed. Autovacuum is off on the bench server, and even with it on, the sync tables' statistics lag
    the seconds between a summary, its confirm and an undo: `--stale-stats` skips the ANALYZE before confirm
    and undo to show what the engine does then.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def table(model: Any) -> str:
    from django.db import connection

    return str(connection.ops.quote_name(model._meta.db_table))


def scalar(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def db_value(value: Any) -> Any:
    from django.db import connection

    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat() if connection.vendor == "sqlite" else value
    return value


# --- building the data --------------------------------------------------------------------------------------


@dataclass
class Setting:
    programme_id: int
    admin: Any
    source: Any  # the source enrolment
    visit_id: int
    changed_templates: list[int]
    deleted_templates: list[int]
    added_components: list[int]  # the source's hand-made components
    new_instructions: dict[int, str]  # template id -> the source's new instructions

    @property
    def keys(self) -> list[tuple[str, int]]:
        from waypoint.plans.sync.types import hand_made_key, template_key

        return [
            *(template_key(t) for t in self.changed_templates + self.deleted_templates),
            *(hand_made_key(c) for c in self.added_components),
        ]


INSTRUCTIONS = (
    "Read the unit guide, complete the workbook activities and upload your evidence to the portfolio. "
    "Discuss the outcome with your skills coach at the next progress review."
)


def template_type(position: int) -> str:
    if position % 10 == 0:
        return "review"
    return ("learning_activity", "assessment", "off_the_job", "learning_activity", "document")[position % 5]


def build(n: int, m: int) -> dict[str, int]:
    """The programme of m templates, n + 1 learners on it with their plans, progress, reviews and tasks."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from waypoint.core.bulk import insert_rows
    from waypoint.people.models import Learner, Perm, StaffProfile
    from waypoint.plans.models import CalendarTask, Component, Review
    from waypoint.plans.services import plans_create_for
    from waypoint.programmes.models import ComponentTemplate, Enrolment, Programme

    User = get_user_model()
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:  # for the build only: the connection is closed afterwards
                cursor.execute("PRAGMA cache_size = -2000000")
        admin = User.objects.create(username="bench.supervisor", first_name="Sam", last_name="Supervisor")
        StaffProfile.objects.create(user=admin, permissions=[Perm.SUPERVISOR.value], all_groups=True)
        tutors = []
        for i in range(10):
            tutor = User.objects.create(username=f"bench.tutor{i}", first_name="Tutor", last_name=f"No. {i}")
            StaffProfile.objects.create(user=tutor, is_tutor=True, all_groups=True)
            tutors.append(tutor.pk)
        programme = Programme.objects.create(
            name="Bench programme", code="BENCH", standard_code="ST0116", epao_id="EPA0001", criteria=["K1", "S1"]
        )
        templates = []
        for p in range(1, m + 1):
            kind = template_type(p)
            evidence = kind == "assessment"
            templates.append(
                ComponentTemplate(
                    programme=programme,
                    position=p,
                    name=f"Unit {p}: {kind.replace('_', ' ')}",
                    type=kind,
                    review_type="progress" if kind == "review" else "",
                    criteria_mappings=["K1", f"S{p % 7 + 1}"],
                    instructions=f"Step {p}. {INSTRUCTIONS}",
                    evidence_required=evidence,
                    min_evidence=1 if evidence else 0,
                    documents=[f"Unit {p} guide.pdf"] if p % 3 == 0 else [],
                    delivery_via_organisation=p % 4 == 0,
                    planned_for_qa=kind == "assessment" and p % 3 == 0,
                    marking_aid_exercise=f"EX-{p}" if kind == "assessment" else "",
                    due_offset_days=7 * p,
                )
            )
        ComponentTemplate.objects.bulk_create(templates)
        now_db = db_value(now)
        learners = [
            (f"Learner{i}", f"Bench{i:06d}", "", "", "", tutors[i % len(tutors)], now_db, now_db) for i in range(n + 1)
        ]
        insert_rows(Learner, ("first_name", "surname", "uln", "sex", "email", "tutor_id", "created_at", "updated_at"),
                    learners)  # fmt: skip
        learner_ids = list(Learner.objects.order_by("id").values_list("id", flat=True))
        enrolments = []
        for i, learner_id in enumerate(learner_ids):
            start = today - dt.timedelta(days=i % 365)  # a year of start dates: due dates differ
            end = start + dt.timedelta(days=7 * m + 60)
            enrolments.append((learner_id, programme.pk, "active", db_value(start), db_value(end), now_db, now_db))
        insert_rows(Enrolment, ("learner_id", "programme_id", "status", "start_date", "planned_end_date",
                                "created_at", "updated_at"), enrolments)  # fmt: skip
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Learner, Enrolment, ComponentTemplate):
                    cursor.execute(f"ANALYZE {table(model)}")
        plans_create_for(Enrolment.objects.filter(programme=programme))
        c, r, t, lt = table(Component), table(Review), table(CalendarTask), table(Learner)
        with connection.cursor() as cursor:
            # Progress: a mix of every status (rows that stay Not Started are left alone).
            bucket = "((learner_id * 7 + position) % 10)"
            cursor.execute(
                f"UPDATE {c} SET status = CASE WHEN {bucket} < 4 THEN 'completed' WHEN {bucket} = 4 THEN 'in_progress' "
                f"WHEN {bucket} = 5 THEN 'awaiting_marking' ELSE 'referred' END WHERE {bucket} < 7"
            )
            # A third of the reviews scheduled (completed where the component is), each with two calendar tasks.
            cursor.execute(
                f"UPDATE {r} AS r SET status = CASE WHEN c.status = 'completed' THEN 'completed' ELSE 'scheduled' END, "
                f"scheduled_at = %s FROM {c} AS c WHERE c.id = r.component_id AND c.learner_id %% 3 = 0",
                [db_value(now + dt.timedelta(days=10))],
            )
            status = "CASE WHEN r.status = 'completed' THEN 'completed' ELSE 'open' END"
            cursor.execute(
                f"INSERT INTO {t} (review_id, learner_id, admin_id, title, starts_at, status) "
                f"SELECT r.id, c.learner_id, NULL, c.name, r.scheduled_at, {status} "
                f"FROM {r} r JOIN {c} c ON c.id = r.component_id WHERE r.scheduled_at IS NOT NULL"
            )
            cursor.execute(
                f"INSERT INTO {t} (review_id, learner_id, admin_id, title, starts_at, status) "
                f"SELECT r.id, NULL, COALESCE(c.owner_id, l.tutor_id), c.name || ' with ' || l.first_name || ' ' || "
                f"l.surname, r.scheduled_at, {status} FROM {r} r JOIN {c} c ON c.id = r.component_id "
                f"JOIN {lt} l ON l.id = c.learner_id WHERE r.scheduled_at IS NOT NULL"
            )
    connection.close()  # back to the application's connection settings
    return {
        "learners": Learner.objects.count(),
        "components": Component.objects.count(),
        "reviews": Review.objects.count(),
        "calendar tasks": CalendarTask.objects.count(),
    }


def edit_source(m: int) -> Setting:
    """The admin's record visit on the source learner: 20 components changed, 5 added, 2 deleted."""
    from django.contrib.auth import get_user_model

    from waypoint.plans.models import Component, RecordVisit
    from waypoint.plans.services import component_add, component_delete, component_update
    from waypoint.programmes.models import Enrolment

    admin = get_user_model().objects.get(username="bench.supervisor")
    source = Enrolment.objects.select_related("learner").order_by("learner_id").first()
    assert source is not None
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    plan = list(Component.objects.filter(enrolment=source).order_by("position"))
    ordinary = [c for c in plan if c.type not in ("review", "progress_review")]
    reviews = [c for c in plan if c.type in ("review", "progress_review")]
    assert len(ordinary) > CHANGED, "--components must be at least 30"
    assert reviews, "--components must be at least 30"
    step = len(ordinary) / CHANGED
    changed = [ordinary[int(i * step)] for i in range(CHANGED)]
    deleted = [reviews[len(reviews) // 2], next(c for c in reversed(ordinary) if c not in changed)]
    new_instructions = {}
    for component in changed:
        new = f"Updated in the visit: {component.instructions} Bring your portfolio to the workshop."
        component_update(
            component=component,
            by=admin,
            changes={"due_date": NEW_DUE, "instructions": new},
            visit_id=visit.pk,
        )
        new_instructions[int(component.template_id or 0)] = new
    added = []
    for k in range(1, ADDED + 1):
        made = component_add(
            enrolment=source,
            by=admin,
            values={
                "name": f"Extra workshop {k}",
                "type": "learning_activity",
                "instructions": f"Attend extra workshop {k} and write a short reflection.",
                "due_date": NEW_DUE - dt.timedelta(days=7 * k),
                "criteria_mappings": ["K1"],
            },
            visit_id=visit.pk,
        )
        added.append(made.pk)
    deleted_templates = [int(c.template_id or 0) for c in deleted]
    for component in deleted:
        component_delete(component=component, by=admin, visit_id=visit.pk)
    return Setting(
        programme_id=source.programme_id,
        admin=admin,
        source=source,
        visit_id=visit.pk,
        changed_templates=[int(c.template_id or 0) for c in changed],
        deleted_templates=deleted_templates,
        added_components=added,
        new_instructions=new_instructions,
    )


def learners_matching(s: Setting) -> Any:
    """Select all matching: every learner the sync may target, as the wizard's queryset."""
    from waypoint.plans.sync.selection import sync_learners_list

    return sync_learners_list(user=s.admin, enrolment=s.source)


# --- checking ----------------------------------------------------------------------------------------------

VALUE_COLUMNS = (
    "learner_id", "template_id", "copied_from_id", "status", "due_date", "owner_id", "name", "type",
    "completion_mode", "criteria_mappings", "instructions", "evidence_required", "min_evidence", "documents",
    "delivery_via_organisation", "delivery_via_employer", "planned_for_qa", "marking_aid_exercise", "review_type",
    "marking_aid_submitted",
)  # fmt: skip


def affected(s: Setting, alias: str = "c") -> tuple[str, list[Any]]:
    """The programme's components of the 27 keys (on every learner)."""
    from waypoint.programmes.models import Enrolment

    templates = s.changed_templates + s.deleted_templates
    sql = (
        f"{alias}.enrolment_id IN (SELECT id FROM {table(Enrolment)} WHERE programme_id = %s) AND "
        f"({alias}.template_id IN ({', '.join(['%s'] * len(templates))}) "
        f"OR {alias}.copied_from_id IN ({', '.join(['%s'] * len(s.added_components))}))"
    )
    return sql, [s.programme_id, *templates, *s.added_components]


def digest(sql: str, params: list[Any]) -> str:
    from django.db import connection

    h = hashlib.sha256()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            for row in rows:
                h.update(repr(row).encode())
    return h.hexdigest()[:16]


def fingerprint(s: Setting, *, with_ids: bool) -> dict[str, Any]:
    """What the sync may touch, as digests and counts. `with_ids`: component, review and task ids included
    (before vs after undo); without, only values (after the sync vs after the floor, whose new ids differ)."""
    from django.db import transaction

    from waypoint.plans.models import CalendarTask, Component, Review

    c, r, t = table(Component), table(Review), table(CalendarTask)
    where, params = affected(s)
    ids = "c.id, " if with_ids else ""
    order = "c.learner_id, COALESCE(c.template_id, 0), COALESCE(c.copied_from_id, 0)"
    with transaction.atomic():  # PostgreSQL's chunked cursor needs a transaction
        result = {
            "components": scalar(f"SELECT COUNT(*) FROM {c}"),
            "reviews": scalar(f"SELECT COUNT(*) FROM {r}"),
            "calendar tasks": scalar(f"SELECT COUNT(*) FROM {t}"),
            "affected components": digest(
                f"SELECT {ids}{', '.join('c.' + col for col in VALUE_COLUMNS)} FROM {c} c "
                f"WHERE {where} ORDER BY {order}",
                params,
            ),
            "their reviews": digest(
                f"SELECT {'v.id, ' if with_ids else ''}c.learner_id, c.template_id, v.status, v.review_type, "
                f"v.scheduled_at FROM {r} v JOIN {c} c ON c.id = v.component_id WHERE {where} ORDER BY {order}",
                params,
            ),
            "their tasks": digest(
                f"SELECT {'k.id, v.id, ' if with_ids else ''}c.learner_id, c.template_id, k.learner_id, k.admin_id, "
                f"k.title, k.starts_at, k.status FROM {t} k JOIN {r} v ON v.id = k.review_id "
                f"JOIN {c} c ON c.id = v.component_id WHERE {where} ORDER BY {order}, k.learner_id, k.admin_id",
                params,
            ),
        }
    return result


def applied_counts(s: Setting) -> dict[str, int]:
    """On the target learners: the 20 changed with the new values, the 5 copies, the 2 deleted ones left."""
    from waypoint.plans.models import Component

    c = table(Component)
    targets = "c.learner_id <> %s"
    changed = ", ".join(["%s"] * len(s.changed_templates))
    when = " ".join("WHEN %s THEN %s" for _ in s.changed_templates)
    when_params = [x for t in s.changed_templates for x in (t, s.new_instructions[t])]
    return {
        "changed, with the new values": scalar(
            f"SELECT COUNT(*) FROM {c} c WHERE {targets} AND c.template_id IN ({changed}) AND c.due_date = %s "
            f"AND c.instructions = CASE c.template_id {when} END",
            [s.source.learner_id, *s.changed_templates, db_value(NEW_DUE), *when_params],
        ),
        "created (copies of the 5)": scalar(
            f"SELECT COUNT(*) FROM {c} c WHERE {targets} AND c.copied_from_id IN "
            f"({', '.join(['%s'] * len(s.added_components))})",
            [s.source.learner_id, *s.added_components],
        ),
        "of the 2 deleted, left": scalar(
            f"SELECT COUNT(*) FROM {c} c WHERE {targets} AND c.template_id IN (%s, %s)",
            [s.source.learner_id, *s.deleted_templates],
        ),
    }


def check(label: str, got: Any, expected: Any) -> None:
    ok = got == expected
    print(f"  check {label}: {'ok' if ok else 'FAILED'}" + ("" if ok else f" (got {got}, expected {expected})"))
    if not ok:
        raise SystemExit(f"check failed: {label}")


def marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


# --- the floor ---------------------------------------------------------------------------------------------


def floor(s: Setting) -> None:
    """The same row changes as the run, by hand-written set-based SQL in one transaction: the 5 components
    created on every target (INSERT … SELECT), the journal rows the sync writes (one INSERT … SELECT, made
    before the values change), the 20 components' fields + revision (one UPDATE … WHERE id IN (SELECT …)),
    the 2 components deleted with their calendar tasks and reviews (three DELETEs)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from waypoint.plans.journal import EDITABLE_FIELDS, snapshot
    from waypoint.plans.models import CalendarTask, Component, ComponentChange, Review
    from waypoint.plans.sync.decide import SYNCED_FIELDS
    from waypoint.programmes.models import Enrolment

    pg = connection.vendor == "postgresql"
    c, r, t, e, ch = table(Component), table(Review), table(CalendarTask), table(Enrolment), table(ComponentChange)
    learners_sql, learners_params = learners_matching(s).order_by().values("pk").query.sql_with_params()
    targets = f"SELECT id FROM {e} WHERE programme_id = %s AND learner_id IN ({learners_sql})"
    target_params = [s.programme_id, *learners_params]
    now = db_value(timezone.now())
    attributes = [f for f in EDITABLE_FIELDS if f not in ("status", "due_date", "owner")]
    jsonb = "::jsonb" if pg else ""

    def json_object(columns: list[str], alias: str) -> str:
        pairs = ", ".join(f"'{f}', {alias}.{'owner_id' if f == 'owner' else f}" for f in columns)
        return f"{'jsonb_build_object' if pg else 'json_object'}({pairs})"

    # What the sync journals as a creation: every synced attribute of the source's component, unassigned.
    created_new = {}
    for made in Component.objects.filter(pk__in=s.added_components):
        values = {f: v for f, v in snapshot(made).items() if f != "status"}
        values["owner"] = None  # owned by the source's case owner: created unassigned (R-SYNC-16)
        created_new[made.pk] = json.dumps(values)
    updates_new = {
        tid: json.dumps({"due_date": NEW_DUE.isoformat(), "instructions": s.new_instructions[tid]})
        for tid in s.changed_templates
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {c} (learner_id, enrolment_id, template_id, copied_from_id, position, status, due_date, "
            f"owner_id, marking_aid_submitted, revision, created_at, updated_at, {', '.join(attributes)}) "
            f"SELECT e.learner_id, e.id, NULL, s.id, s.position, 'not_started', s.due_date, NULL, %s, 1, %s, %s, "
            f"{', '.join('s.' + a for a in attributes)} FROM {e} e JOIN {c} s ON s.id IN ({marks(s.added_components)}) "
            f"WHERE e.id IN ({targets})",
            [False, now, now, *s.added_components, *target_params],
        )
        is_added = f"c.copied_from_id IN ({marks(s.added_components)})"
        is_deleted = f"c.template_id IN ({marks(s.deleted_templates)})"
        new_when = " ".join(f"WHEN %s THEN %s{jsonb}" for _ in s.changed_templates)
        created_when = " ".join(f"WHEN %s THEN %s{jsonb}" for _ in s.added_components)
        cursor.execute(
            f"INSERT INTO {ch} (at, by_id, learner_id, enrolment_id, component_id, template_id, component_name, "
            f"action, field, old_value, new_value, visit_id, sync_run_id) "
            f"SELECT %s, %s, c.learner_id, c.enrolment_id, c.id, c.template_id, c.name, "
            f"CASE WHEN {is_added} THEN 'created' WHEN {is_deleted} THEN 'deleted' ELSE 'synchronised' END, '', "
            f"CASE WHEN {is_added} THEN NULL WHEN {is_deleted} THEN {json_object(list(SYNCED_FIELDS), 'c')} "
            f"ELSE {json_object(['due_date', 'instructions'], 'c')} END, "
            f"CASE WHEN {is_added} THEN CASE c.copied_from_id {created_when} END WHEN {is_deleted} THEN NULL "
            f"ELSE CASE c.template_id {new_when} END END, NULL, NULL "
            f"FROM {c} c WHERE c.enrolment_id IN ({targets}) AND (c.template_id IN "
            f"({marks(s.changed_templates + s.deleted_templates)}) OR {is_added})",
            [
                now, s.admin.pk,
                *s.added_components, *s.deleted_templates,  # action
                *s.added_components, *s.deleted_templates,  # old value
                *s.added_components, *[x for i in s.added_components for x in (i, created_new[i])],  # new value
                *s.deleted_templates,
                *[x for tid in s.changed_templates for x in (tid, updates_new[tid])],
                *target_params, *s.changed_templates, *s.deleted_templates, *s.added_components,
            ],
        )  # fmt: skip
        instructions_when = " ".join("WHEN %s THEN %s" for _ in s.changed_templates)
        cursor.execute(
            f"UPDATE {c} SET due_date = %s, instructions = CASE template_id {instructions_when} END, "
            f"revision = revision + 1, updated_at = %s WHERE id IN (SELECT c.id FROM {c} c "
            f"WHERE c.template_id IN ({marks(s.changed_templates)}) AND c.enrolment_id IN ({targets}))",
            [
                db_value(NEW_DUE),
                *[x for tid in s.changed_templates for x in (tid, s.new_instructions[tid])],
                now,
                *s.changed_templates,
                *target_params,
            ],
        )
        doomed = f"SELECT c.id FROM {c} c WHERE {is_deleted} AND c.enrolment_id IN ({targets})"
        doomed_params = [*s.deleted_templates, *target_params]
        cursor.execute(
            f"DELETE FROM {t} WHERE review_id IN (SELECT id FROM {r} WHERE component_id IN ({doomed}))", doomed_params
        )
        cursor.execute(f"DELETE FROM {r} WHERE component_id IN ({doomed})", doomed_params)
        cursor.execute(f"DELETE FROM {c} WHERE id IN ({doomed})", doomed_params)


# --- the run -----------------------------------------------------------------------------------------------


def run_one(args: argparse.Namespace) -> None:
    os.environ["WAYPOINT_SYNC_BACKGROUND_FROM"] = str(10**9)  # confirm applies inline, in this process
    url = fresh_database(args.database, sqlite_name="sync.sqlite3", postgres_url=POSTGRES_URL)
    django_ready(url)
    from django.db import connection

    from waypoint.plans.models import ComponentChange, SyncRunStatus
    from waypoint.plans.sync.runs import sync_run_confirm, sync_run_create, sync_run_undo
    from waypoint.plans.sync.types import SyncType

    version = engine_version()
    print(f"engine: {version}")
    profile = set(filter(None, args.profile.split(",")))
    n, m = args.learners, args.components
    print(f"database: {connection.vendor} ({url}), {n:,} target learners x {m} template components")
    started = time.perf_counter()
    sizes = build(n, m)
    print(f"build: {time.perf_counter() - started:.1f} s — " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
    started = time.perf_counter()
    s = edit_source(m)
    print(
        f"source learner {s.source.learner_id}: {CHANGED} components changed (due date + instructions), {ADDED} added, "
        f"{DELETED} deleted (one a Review) in record visit {s.visit_id} ({time.perf_counter() - started:.2f} s)"
    )
    vacuum_analyze()
    before = fingerprint(s, with_ids=True)

    def create() -> Any:
        return sync_run_create(
            by=s.admin,
            enrolment=s.source,
            keys=s.keys,
            learners=learners_matching(s),
            sync_type=SyncType.ONLY_CHANGES,
            statuses=ALL_STATUSES,
            visit_id=s.visit_id,
        )

    # Python's peak allocations of a summary: an identical run, measured with tracemalloc, then deleted.
    tracemalloc.start()
    create().delete()
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    vacuum_analyze()

    phases: dict[str, Phase] = {}
    parts = SummaryPhases()
    phases["summary"] = Phase("summary")
    with parts.active(), measured(phases["summary"], "summary" in profile):
        run = create()
    phases["summary"].python_peak_mb = python_peak
    pairs = run.synchronised + run.not_synchronised
    memo = parts.states
    print(
        f"summary: run {run.pk}, {run.learner_count:,} learners x {run.component_count} components = {pairs:,} pairs "
        f"({run.synchronised:,} synchronised, {run.not_synchronised:,} not), {memo:,} distinct states decided"
    )
    check("summary: every pair synchronised", (run.learner_count, run.synchronised), (n, n * 27))
    if args.stop_after == "summary":
        return report(args, phases, parts)

    if not args.stale_stats:
        vacuum_analyze(vacuum=False)
    phases["confirm"] = Phase("confirm")
    with measured(phases["confirm"], "confirm" in profile):
        run = sync_run_confirm(run=run, by=s.admin)
    check("confirm applied", run.status, SyncRunStatus.APPLIED)
    counts = applied_counts(s)
    check("after confirm, on every target", counts,
          {"changed, with the new values": n * CHANGED, "created (copies of the 5)": n * ADDED,
           "of the 2 deleted, left": 0})  # fmt: skip
    check("journal rows of the run", ComponentChange.objects.filter(sync_run=run).count(), n * 27)
    after_sync = fingerprint(s, with_ids=False)
    if args.stop_after == "confirm":
        return report(args, phases, parts)

    if not args.stale_stats:
        vacuum_analyze(vacuum=False)
    phases["undo"] = Phase("undo")
    with measured(phases["undo"], "undo" in profile):
        run = sync_run_undo(run=run, by=s.admin)
    check("undo: restored, conflicts", (run.undo_restored, run.undo_conflicts), (n * 27, 0))
    check("after undo, on every target", applied_counts(s),
          {"changed, with the new values": 0, "created (copies of the 5)": 0,
           "of the 2 deleted, left": n * DELETED})  # fmt: skip
    check("after undo, components/reviews/tasks as before (ids and values)", fingerprint(s, with_ids=True), before)
    if args.stop_after == "undo":
        return report(args, phases, parts)

    vacuum_analyze()
    journal = ComponentChange.objects.count()
    phases["floor"] = Phase("floor")
    with measured(phases["floor"], "floor" in profile):
        floor(s)
    check("floor: journal rows", ComponentChange.objects.count() - journal, n * 27)
    check("floor: the same rows as the sync (values)", fingerprint(s, with_ids=False), after_sync)
    report(args, phases, parts)
    if engine_version() != version:
        print(f"note: the engine's files changed after this run loaded them; the numbers are for {version}")


def report(args: argparse.Namespace, phases: dict[str, Phase], parts: SummaryPhases) -> None:
    from django.db import connection

    vendor = connection.vendor
    stats = " (stale statistics)" if args.stale_stats and vendor == "postgresql" else ""
    print(f"\n== {vendor}: {args.learners:,} learners x {args.components} components, 27 components synced{stats} ==")
    print(f"{'phase':<10} {'seconds':>8} {'SQL stmts':>10} {'in SQL s':>9} {'RSS before MB':>14} "
          f"{'peak RSS MB':>12} {'Python peak MB':>15}")  # fmt: skip
    for p in phases.values():
        py = f"{p.python_peak_mb:>15.0f}" if p.python_peak_mb is not None else f"{'':>15}"
        mark = " (profiled)" if p.profiled else ""
        print(
            f"{p.name:<10} {p.seconds:>8.2f} {p.statements:>10} {p.log.seconds:>9.2f} {p.rss_before_mb:>14.0f} "
            f"{p.rss_peak_mb:>12.0f} {py}{mark}"
        )
    ratio = None
    if "floor" in phases:
        ratio = phases["confirm"].seconds / phases["floor"].seconds
        print(f"confirm / floor: {ratio:.2f}x")

    summary = phases["summary"]
    inner = parts.seconds.get("summarise", 0.0)
    print("\nsummary (sync_run_create), by part:")
    rows = [(k, v) for k, v in parts.seconds.items() if k != "summarise"]
    accounted = sum(v for k, v in rows if k not in ("sources (gather_sources)", "store targets (INSERT … SELECT)"))
    rows.append(("summarise: decide, store decisions, grid rows", inner - accounted))
    rows.append(("run row, checks, commit", summary.seconds - sum(v for _, v in rows)))
    for label, seconds in rows:
        print(f"  {label:<45} {seconds:>7.2f} s")
    for name, p in phases.items():
        print(f"\n{name}: statements by time (statements, seconds, rows [writes of no row: statements, seconds])")
        for label, count, seconds, rows_, idle, idle_s in p.log.grouped()[: 12 if name != "floor" else 10]:
            idle_note = f" [{idle}: {idle_s:.2f} s]" if idle else ""
            print(f"  {count:>3} x {seconds:>7.2f} s {rows_:>9,}{idle_note}  {label}")
        print(
            f"  COMMIT: {p.commit_seconds:.2f} s; "
            f"outside SQL and COMMIT: {p.seconds - p.log.seconds - p.commit_seconds:.2f} s"
        )
    print("\nrows written (by statement row counts; COPY is not counted):")
    for name, p in phases.items():
        written = p.log.rows_written()
        print(f"  {name}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(written.items())))

    met = {
        "summary < 5 s": summary.seconds < TARGETS["summary s"],
        "peak memory < 1 GB (peak RSS of every phase)": max(p.rss_peak_mb for p in phases.values())
        < TARGETS["peak RSS MB"],
    }
    if ratio is not None:
        met["confirm <= 2x floor"] = ratio <= TARGETS["confirm / floor"]
    print("\ntargets: " + "; ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in met.items()))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if any(p.profiled for p in phases.values()) or args.stop_after:
        return  # not a full, timed run: keep the saved results of the last one
    out = BENCH_DIR / f"sync-{vendor}-{args.learners}x{args.components}{'-stale' if stats else ''}.json"
    out.write_text(
        json.dumps(
            {
                "database": vendor,
                "learners": args.learners,
                "components": args.components,
                "phases": {
                    p.name: {
                        "seconds": p.seconds,
                        "statements": p.statements,
                        "sql_seconds": p.log.seconds,
                        "rss_before_mb": p.rss_before_mb,
                        "rss_peak_mb": p.rss_peak_mb,
                        "python_peak_mb": p.python_peak_mb,
                        "profiled": p.profiled,
                        "rows": p.log.rows_written(),
                    }
                    for p in phases.values()
                },
                "summary_parts": dict(parts.seconds),
                "confirm_over_floor": ratio,
                "targets": met,
            },
            indent=2,
        )
    )
    print(f"results saved to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=20_000, help="target learners (the source is one more)")
    parser.add_argument("--components", type=int, default=100, help="template components of the programme (≥ 30)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--stale-stats", action="store_true", help="PostgreSQL: no ANALYZE between summary, confirm and undo"
    )
    parser.add_argument("--stop-after", choices=("summary", "confirm", "undo"), help="skip the later phases")
    parser.add_argument("--profile", default="", help="phases to run under cProfile: summary,confirm,undo,floor")
    args = parser.parse_args()
    if args.components < 30:
        parser.error("--components must be at least 30")
    if args.database == "both":
        failed = False
        for kind in ("sqlite", "postgres"):
            argv = [sys.executable, __file__, "--learners", str(args.learners), "--components", str(args.components),
                    "--database", kind, "--profile", args.profile]  # fmt: skip
            argv += ["--stale-stats"] if args.stale_stats else []
            argv += ["--stop-after", args.stop_after] if args.stop_after else []
            failed |= subprocess.run(argv, check=False).returncode != 0
            print()
        sys.exit(1 if failed else 0)
    run_one(args)


if __name__ == "__main__":
    main()
