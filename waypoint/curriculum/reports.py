"""Learning Plan reports (R-CUR-11): Status Highlights and People by Learning Plan.

Both reports have one row per (plan, person) pair where the person is assigned the plan or has a registration in
it (started, registered or cancelled from My Learning, R-CUR-8). Progress is computed in the database in one
statement, whatever the number of rows:

- a milestone's *units done* are the person's completed program enrolments in the programs linked to it: counted
  for a Sessions milestone, their programs' credits summed for a Credits milestone;
- its *units required* are, in order: the person's adjusted units (R-CUR-7), the units fixed at assignment
  (R-CUR-5, `Assignment.requirements`), the milestone's units;
- it is *met* when units done reach units required, and counts as met when waived (R-CUR-7); an elective
  milestone (metric None, or no units) is shown but is not part of "met of total" nor of the progress;
- progress % is the units done (each milestone's capped at its requirement; a waived one counts as done) over the
  units required, for the required milestones;
- the status is Completed (every required milestone met or waived; a plan of electives only once anything in it
  is done), else Overdue (the due date, the assignment's or the plan's, has passed), else In Progress (any unit
  done or a milestone waived), else Not Started: the states of `waypoint.curriculum.progress.plan_progress`,
  which professionals' own pages use. Registration (started, registered, cancelled) is a column of its own.

Filters: plan, professional group (the person is a member), status and a text search (person's name, username,
email, or the plan's name). A page costs two queries (Status Highlights) or three (People by Learning Plan); one
and two with a status filter or the chart's counts per status, which need every row's progress worked out.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    Milestone,
    MilestoneProgram,
    MilestoneStatus,
    ProfessionalGroup,
    Program,
    ProgramEnrolment,
    Registration,
)

STATUSES: dict[str, str] = {
    "not_started": "Not Started",
    "in_progress": "In Progress",
    "overdue": "Overdue",
    "completed": "Completed",
}
REGISTRATION_LABELS = {3: "Registered", 2: "Started", 1: "Cancelled", 0: "Not registered"}
MILESTONE_LABELS = {
    "met": "Met",
    "waived": "Waived",
    "in_progress": "In Progress",
    "not_started": "Not Started",
    "elective": "Elective",
}
CHUNK = 2000


@dataclass(frozen=True)
class ReportFilter:
    plan: int | None = None
    group: int | None = None
    status: str | None = None
    search: str = ""
    today: dt.date = field(default_factory=timezone.localdate)


@dataclass(frozen=True)
class MilestoneProgress:
    milestone_id: int
    name: str
    position: int
    metric: str
    status: str
    units_done: Decimal
    units_required: Decimal | None
    due_date: dt.date | None


@dataclass(frozen=True)
class PlanRow:
    plan_id: int
    plan: str
    person_id: int
    first_name: str
    last_name: str
    username: str
    email: str
    assigned: bool
    group: str
    registration: str
    milestones_met: int
    milestones_total: int
    units_done: Decimal
    units_required: Decimal
    progress: int
    due_date: dt.date | None
    status: str
    milestones: tuple[MilestoneProgress, ...] = ()

    @property
    def person(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


@dataclass(frozen=True)
class ReportPage:
    rows: list[PlanRow]
    count: int
    page: int
    page_size: int
    status_counts: dict[str, int] | None  # rows per status, for every filter but the status; when asked for


def progress_percent(units_capped: Decimal, units_required: Decimal, met: int, total: int) -> int:
    """Whole percent of the required units done; a plan whose required milestones are all met (or waived with
    nothing to do) is 100."""
    if total and met == total:
        return 100
    if units_required <= 0:
        return 0
    return min(100, int(Decimal(100) * units_capped / units_required))


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _tables() -> dict[str, str]:
    user = get_user_model()
    return {
        "assignment": Assignment._meta.db_table,
        "registration": Registration._meta.db_table,
        "milestone": Milestone._meta.db_table,
        "link": MilestoneProgram._meta.db_table,
        "status": MilestoneStatus._meta.db_table,
        "enrolment": ProgramEnrolment._meta.db_table,
        "program": Program._meta.db_table,
        "plan": Curriculum._meta.db_table,
        "user": user._meta.db_table,
        "group": ProfessionalGroup._meta.db_table,
        "members": ProfessionalGroup.members.through._meta.db_table,
    }


def _required_from_assignment() -> str:
    """The units fixed at assignment for milestone `m`, from the assignment's JSON (milestone id → units)."""
    if connection.vendor == "postgresql":
        return "CAST(s.requirements ->> CAST(m.id AS text) AS numeric)"
    return "CAST(json_extract(s.requirements, '$.\"' || m.id || '\"') AS NUMERIC)"


def _units_done(t: dict[str, str]) -> tuple[str, str, str]:
    """A person's units done on milestone `m` (completed enrolments in its linked programs, or their credits).

    PostgreSQL aggregates the enrolments of the people in the report once and hash-joins the totals; SQLite (no
    hash join) looks each up through the (person, program) index, which is faster there than sorting them all.
    """
    if connection.vendor == "postgresql":
        cte = f"""done AS (
    SELECT pe.person_id, mp.milestone_id, COUNT(*) AS sessions, SUM(p.credits) AS credits
    FROM "{t["enrolment"]}" pe
    JOIN "{t["link"]}" mp ON mp.program_id = pe.program_id
    JOIN "{t["program"]}" p ON p.id = pe.program_id
    WHERE pe.status = 'completed' AND pe.person_id IN (SELECT person_id FROM sel)
    GROUP BY pe.person_id, mp.milestone_id
),
"""
        value = "CASE WHEN m.metric = 'credits' THEN COALESCE(d.credits, 0) ELSE COALESCE(d.sessions, 0) END"
        join = "LEFT JOIN done d ON d.person_id = s.person_id AND d.milestone_id = m.id"
        return cte, value, join
    value = f"""COALESCE((
               SELECT CASE WHEN m.metric = 'credits' THEN SUM(p.credits) ELSE COUNT(*) END
               FROM "{t["link"]}" mp
               JOIN "{t["enrolment"]}" pe ON pe.program_id = mp.program_id
               JOIN "{t["program"]}" p ON p.id = mp.program_id
               WHERE mp.milestone_id = m.id AND pe.person_id = s.person_id
                 AND NOT (pe.status = 'cancelled') AND pe.status = 'completed'
           ), 0)"""
    return "", value, ""


def _ctes(flt: ReportFilter, pairs: Sequence[tuple[int, int]] | None = None) -> tuple[str, list[Any]]:
    """WITH … defining `rows` (one per plan x person, filtered except by status) and `am` (per milestone)."""
    t = _tables()
    where: list[str] = []
    params: list[Any] = []
    if flt.plan is not None:
        where.append("b.curriculum_id = %s")
        params.append(flt.plan)
    if flt.group is not None:
        where.append(f'b.person_id IN (SELECT user_id FROM "{t["members"]}" WHERE professionalgroup_id = %s)')
        params.append(flt.group)
    if flt.search.strip():
        like = f"%{flt.search.strip().lower()}%"
        where.append(
            "(LOWER(u.first_name) LIKE %s OR LOWER(u.last_name) LIKE %s OR LOWER(u.username) LIKE %s"
            " OR LOWER(u.email) LIKE %s OR LOWER(c.name) LIKE %s"
            " OR LOWER(u.first_name || ' ' || u.last_name) LIKE %s)"
        )
        params.extend([like] * 6)
    if pairs is not None:
        plans = sorted({p for p, _ in pairs}) or [0]
        people = sorted({u for _, u in pairs}) or [0]
        where.append(f"b.curriculum_id IN ({', '.join(['%s'] * len(plans))})")
        where.append(f"b.person_id IN ({', '.join(['%s'] * len(people))})")
        params.extend(plans)
        params.extend(people)
    condition = " AND ".join(where) or "1 = 1"
    required = _required_from_assignment()
    done_cte, done_value, done_join = _units_done(t)
    # Assigned pairs, then pairs with only a registration (R-CUR-8); each pair once, with its assignment's values.
    # Units done and the registration are looked up per row through indexes rather than aggregated for everyone
    # and joined: no sort of the whole enrolment table, and a filtered report reads only its own rows.
    sql = f"""
WITH base AS (
    SELECT a.curriculum_id, a.person_id, a.id AS assignment_id, a.group_id, a.due_date AS assigned_due,
           a.requirements
    FROM "{t["assignment"]}" a
    UNION ALL
    SELECT r.curriculum_id, r.person_id, NULL, NULL, NULL, NULL
    FROM "{t["registration"]}" r
    WHERE NOT EXISTS (SELECT 1 FROM "{t["assignment"]}" x
                      WHERE x.curriculum_id = r.curriculum_id AND x.person_id = r.person_id)
    GROUP BY r.curriculum_id, r.person_id
),
sel AS (
    SELECT b.curriculum_id, b.person_id, b.assignment_id, b.group_id, b.requirements,
           COALESCE(b.assigned_due, c.due_date) AS due_date, c.name AS plan_name,
           u.first_name, u.last_name, u.username, u.email
    FROM base b
    JOIN "{t["plan"]}" c ON c.id = b.curriculum_id
    JOIN "{t["user"]}" u ON u.id = b.person_id
    WHERE {condition}
),
{done_cte}am0 AS MATERIALIZED (
    SELECT s.curriculum_id, s.person_id, m.id AS milestone_id, m.position, m.name, m.metric,
           COALESCE(st.due_date, m.due_date) AS milestone_due,
           CASE WHEN st.action = 'waived' THEN 1 ELSE 0 END AS waived,
           COALESCE(CASE WHEN st.action = 'adjusted' THEN st.units END, {required}, m.units) AS required,
           {done_value} AS done
    FROM sel s
    JOIN "{t["milestone"]}" m ON m.curriculum_id = s.curriculum_id
    LEFT JOIN "{t["status"]}" st ON st.assignment_id = s.assignment_id AND st.milestone_id = m.id
    {done_join}
),
am AS (
    SELECT am0.*,
           CASE WHEN waived = 1 THEN 'waived'
                WHEN metric = 'none' OR required IS NULL THEN 'elective'
                WHEN done >= required THEN 'met'
                WHEN done > 0 THEN 'in_progress'
                ELSE 'not_started' END AS state
    FROM am0
),
agg AS (
    SELECT curriculum_id, person_id,
           SUM(CASE WHEN state <> 'elective' THEN 1 ELSE 0 END) AS total,
           SUM(CASE WHEN state IN ('met', 'waived') THEN 1 ELSE 0 END) AS met,
           SUM(CASE WHEN state = 'elective' THEN 0 WHEN state IN ('met', 'waived') THEN COALESCE(required, 0)
                    ELSE done END) AS capped,
           SUM(CASE WHEN state = 'elective' THEN 0 ELSE COALESCE(required, 0) END) AS required,
           MAX(CASE WHEN done > 0 OR state = 'waived' THEN 1 ELSE 0 END) AS started
    FROM am
    GROUP BY curriculum_id, person_id
),
rows AS (
    SELECT s.curriculum_id, s.plan_name, s.person_id, s.first_name, s.last_name, s.username, s.email,
           CASE WHEN s.assignment_id IS NULL THEN 0 ELSE 1 END AS assigned,
           COALESCE((SELECT g.name FROM "{t["group"]}" g WHERE g.id = s.group_id), '') AS group_name,
           COALESCE((
               SELECT MAX(CASE r.status WHEN 'registered' THEN 3 WHEN 'started' THEN 2 ELSE 1 END)
               FROM "{t["registration"]}" r WHERE r.person_id = s.person_id AND r.curriculum_id = s.curriculum_id
           ), 0) AS reg_rank,
           COALESCE(x.met, 0) AS met, COALESCE(x.total, 0) AS total,
           COALESCE(x.capped, 0) AS capped, COALESCE(x.required, 0) AS required,
           s.due_date,
           CASE WHEN x.met = x.total AND (x.total > 0 OR x.started = 1) THEN 'completed'
                WHEN s.due_date < %s THEN 'overdue'
                WHEN x.started = 1 THEN 'in_progress'
                ELSE 'not_started' END AS status
    FROM sel s
    LEFT JOIN agg x ON x.curriculum_id = s.curriculum_id AND x.person_id = s.person_id
)"""
    return sql, [*params, flt.today]


ROW_COLUMNS = (
    "curriculum_id, plan_name, person_id, first_name, last_name, username, email, assigned, group_name, reg_rank,"
    " met, total, capped, required, due_date, status"
)
ORDER = "plan_name, curriculum_id, last_name, first_name, person_id"


def _status_clause(flt: ReportFilter) -> tuple[str, list[Any]]:
    if flt.status:
        return "WHERE status = %s", [flt.status]
    return "", []


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _row(values: Sequence[Any], milestones: tuple[MilestoneProgress, ...] = ()) -> PlanRow:
    (plan_id, plan, person_id, first, last, username, email, assigned, group, rank) = values[:10]
    met, total, capped, required, due, status = values[10:16]
    capped_d, required_d = _decimal(capped), _decimal(required)
    return PlanRow(
        plan_id=plan_id,
        plan=plan,
        person_id=person_id,
        first_name=first,
        last_name=last,
        username=username,
        email=email,
        assigned=bool(assigned),
        group=group,
        registration=REGISTRATION_LABELS[int(rank)],
        milestones_met=int(met),
        milestones_total=int(total),
        units_done=capped_d,
        units_required=required_d,
        progress=progress_percent(capped_d, required_d, int(met), int(total)),
        due_date=_date(due),
        status=status,
        milestones=milestones,
    )


def _milestone(values: Sequence[Any]) -> MilestoneProgress:
    milestone_id, position, name, metric, due, state, required, done = values
    return MilestoneProgress(
        milestone_id=milestone_id,
        name=name,
        position=position,
        metric=metric,
        status=state,
        units_done=_decimal(done),
        units_required=None if state == "elective" or required is None else _decimal(required),
        due_date=_date(due),
    )


def status_counts(flt: ReportFilter) -> dict[str, int]:
    """Rows per status for every filter but the status: the data of the report's progress chart."""
    ctes, params = _ctes(flt)
    with connection.cursor() as cursor:
        cursor.execute(f"{ctes} SELECT status, COUNT(*) FROM rows GROUP BY status", params)
        found = dict(cursor.fetchall())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def _page_rows(flt: ReportFilter, page: int, page_size: int) -> tuple[list[PlanRow], dict[str, int]]:
    """One page of rows and the rows per status, in one statement: the rows are worked out once for both."""
    ctes, params = _ctes(flt)
    status_sql, status_params = _status_clause(flt)
    blanks = ", ".join(["NULL"] * 15)
    sql = (
        f"{ctes}, counted AS (SELECT status, COUNT(*) AS n FROM rows GROUP BY status)"
        f" SELECT {ROW_COLUMNS}, CAST(NULL AS bigint) AS n, ROW_NUMBER() OVER (ORDER BY {ORDER}) AS seq"
        f" FROM (SELECT * FROM rows {status_sql} ORDER BY {ORDER} LIMIT %s OFFSET %s) page"
        f" UNION ALL SELECT {blanks}, status, n, NULL FROM counted"
    )
    rows: list[tuple[int, PlanRow]] = []
    counts = dict.fromkeys(STATUSES, 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *status_params, page_size, (page - 1) * page_size])
        for values in cursor.fetchall():
            if values[16] is None:
                rows.append((values[17], _row(values[:16])))
            else:
                counts[values[15]] = int(values[16])
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])], counts


def _milestones_of(flt: ReportFilter, rows: list[PlanRow]) -> dict[tuple[int, int], tuple[MilestoneProgress, ...]]:
    if not rows:
        return {}
    ctes, params = _ctes(flt, pairs=[(r.plan_id, r.person_id) for r in rows])
    sql = (
        f"{ctes} SELECT curriculum_id, person_id, milestone_id, position, name, metric, milestone_due, state,"
        " required, done FROM am ORDER BY curriculum_id, person_id, position"
    )
    found: dict[tuple[int, int], list[MilestoneProgress]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for values in cursor.fetchall():
            found.setdefault((values[0], values[1]), []).append(_milestone(values[2:]))
    return {key: tuple(value) for key, value in found.items()}


def _page_of_pairs(flt: ReportFilter, page: int, page_size: int) -> tuple[list[PlanRow], int]:
    """Without a status filter the page is chosen before any progress is worked out: the count and the page's
    pairs come from the filtered pairs alone, then progress is worked out for those pairs only."""
    ctes, params = _ctes(flt)
    sql = f"{ctes} SELECT curriculum_id, person_id, COUNT(*) OVER () FROM sel ORDER BY {ORDER} LIMIT %s OFFSET %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, page_size, (page - 1) * page_size])
        found = cursor.fetchall()
        if not found:
            cursor.execute(f"{ctes} SELECT COUNT(*) FROM sel", params)
            return [], int(cursor.fetchone()[0])
        pairs = [(plan, person) for plan, person, _ in found]
        ctes, params = _ctes(flt, pairs=pairs)
        cursor.execute(f"{ctes} SELECT {ROW_COLUMNS} FROM rows", params)
        by_pair = {(values[0], values[2]): _row(values) for values in cursor.fetchall()}
    return [by_pair[pair] for pair in pairs], int(found[0][2])


def _page(flt: ReportFilter, page: int, page_size: int, *, detailed: bool, chart: bool) -> ReportPage:
    counts: dict[str, int] | None = None
    if flt.status or chart:
        rows, counts = _page_rows(flt, page, page_size)
        count = counts.get(flt.status, 0) if flt.status else sum(counts.values())
    else:
        rows, count = _page_of_pairs(flt, page, page_size)
    if detailed:
        milestones = _milestones_of(flt, rows)
        rows = [_with_milestones(r, milestones.get((r.plan_id, r.person_id), ())) for r in rows]
    return ReportPage(rows=rows, count=count, page=page, page_size=page_size, status_counts=counts)


def _with_milestones(row: PlanRow, milestones: tuple[MilestoneProgress, ...]) -> PlanRow:
    values = {name: getattr(row, name) for name in row.__dataclass_fields__}
    values["milestones"] = milestones
    return PlanRow(**values)


def status_highlights_page(flt: ReportFilter, *, page: int = 1, page_size: int = 50, chart: bool = False) -> ReportPage:
    """Learning Plan Status Highlights: one row per plan x person, the progress overview (R-CUR-11); with
    `chart`, the rows per status too (they need every row's progress: it costs the time of a status filter)."""
    return _page(flt, page, page_size, detailed=False, chart=chart)


def people_by_plan_page(flt: ReportFilter, *, page: int = 1, page_size: int = 50, chart: bool = False) -> ReportPage:
    """People by Learning Plan: one row per person x plan with each milestone's status (R-CUR-11)."""
    return _page(flt, page, page_size, detailed=True, chart=chart)


def _fetch(sql: str, params: list[Any]) -> Iterator[Sequence[Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK):
            yield from chunk


def status_highlights_all(flt: ReportFilter) -> Iterator[PlanRow]:
    """Every row of the report in its order, read in one statement a chunk at a time (for downloads)."""
    ctes, params = _ctes(flt)
    status_sql, status_params = _status_clause(flt)
    for values in _fetch(
        f"{ctes} SELECT {ROW_COLUMNS} FROM rows {status_sql} ORDER BY {ORDER}", [*params, *status_params]
    ):
        yield _row(values)


def people_by_plan_all(flt: ReportFilter) -> Iterator[PlanRow]:
    """Every row with its milestones: one statement joining rows to their milestones, grouped as read."""
    ctes, params = _ctes(flt)
    status_sql, status_params = _status_clause(flt)
    qualified = ", ".join(f"r.{c.strip()}" for c in ROW_COLUMNS.split(","))
    sql = (
        f"{ctes} SELECT {qualified}, am.milestone_id, am.position, am.name, am.metric, am.milestone_due,"
        " am.state, am.required, am.done"
        f" FROM (SELECT * FROM rows {status_sql}) r"
        " LEFT JOIN am ON am.curriculum_id = r.curriculum_id AND am.person_id = r.person_id"
        f" ORDER BY {', '.join('r.' + c.strip() for c in ORDER.split(','))}, am.position"
    )
    current: tuple[Any, ...] | None = None
    milestones: list[MilestoneProgress] = []
    for values in _fetch(sql, [*params, *status_params]):
        head = tuple(values[:16])
        if current is not None and (head[0], head[2]) != (current[0], current[2]):  # plan, person
            yield _row(current, tuple(milestones))
            milestones = []
        current = head
        if values[16] is not None:
            milestones.append(_milestone(values[16:]))
    if current is not None:
        yield _row(current, tuple(milestones))


def milestone_columns(flt: ReportFilter) -> int:
    """The most milestones any plan in the report has: the People by Learning Plan download's column groups."""
    plans = Milestone.objects.all()
    if flt.plan is not None:
        plans = plans.filter(curriculum_id=flt.plan)
    counts = plans.values("curriculum_id").order_by().annotate(n=Count("id")).values_list("n", flat=True)
    return max(counts, default=0)
