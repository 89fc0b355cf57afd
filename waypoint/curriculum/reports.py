"""Learning Plan reports (R-CUR-11): Status Highlights and People by Learning Plan.

Both reports have one row per (plan, person) pair where the person is assigned the plan or has a registration in
it (R-CUR-8). Their progress is worked out when it changes and kept in `ReportRow` and `ReportMilestone`
(`waypoint.curriculum.report_rows`, which says how), so a report reads rows: a page is two statements, its rows
and their number (People by Learning Plan one more for the page's milestones; with the chart, its rows per status
give the number), and a download one statement read a chunk at a time.

What depends on the day or is only shown is read here: the status is Completed (every required milestone met or
waived), else Overdue (the due date, the assignment's or the plan's, has passed), else In Progress (any unit done or
a milestone waived), else Not Started: the states of `waypoint.curriculum.progress.plan_progress`, which
professionals' own pages use. Registration (started, registered, cancelled) is a column of its own.

Filters: plan, professional group (the person is a member), status and a text search (person's name, username,
email, or the plan's name).
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from waypoint.curriculum.models import (
    Milestone,
)
from waypoint.curriculum.report_rows import tables

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

    @property
    def summary(self) -> str:
        """The status with its units: "Met (2 of 2)", "Elective (1 done)", "Waived"."""
        label = MILESTONE_LABELS[self.status]
        if self.status == "waived":
            return label
        if self.units_required is None:
            return f"{label} ({_units(self.units_done)} done)"
        return f"{label} ({_units(self.units_done)} of {_units(self.units_required)})"


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"


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


def _rows(flt: ReportFilter) -> tuple[str, list[Any]]:
    """A SELECT of the report's rows, filtered except by status, with their status for `flt.today`."""
    t = tables()
    where: list[str] = ["1 = 1"]
    params: list[Any] = [flt.today]
    if flt.plan is not None:
        where.append("r.curriculum_id = %s")
        params.append(flt.plan)
    if flt.group is not None:
        where.append(f'r.person_id IN (SELECT user_id FROM "{t["members"]}" WHERE professionalgroup_id = %s)')
        params.append(flt.group)
    if flt.search.strip():
        like = f"%{flt.search.strip().lower()}%"
        where.append(
            "(LOWER(u.first_name) LIKE %s OR LOWER(u.last_name) LIKE %s OR LOWER(u.username) LIKE %s"
            " OR LOWER(u.email) LIKE %s OR LOWER(c.name) LIKE %s"
            " OR LOWER(u.first_name || ' ' || u.last_name) LIKE %s)"
        )
        params.extend([like] * 6)
    sql = f"""
SELECT r.curriculum_id, c.name AS plan_name, r.person_id, u.first_name, u.last_name, u.username, u.email,
       CASE WHEN a.id IS NULL THEN 0 ELSE 1 END AS assigned, COALESCE(g.name, '') AS group_name,
       r.registration AS reg_rank, r.milestones_met AS met, r.milestones_total AS total, r.units_done AS capped,
       r.units_required AS required, COALESCE(a.due_date, c.due_date) AS due_date,
       CASE WHEN r.complete THEN 'completed'
            WHEN COALESCE(a.due_date, c.due_date) < %s THEN 'overdue'
            WHEN r.started THEN 'in_progress'
            ELSE 'not_started' END AS status
FROM "{t["row"]}" r
JOIN "{t["plan"]}" c ON c.id = r.curriculum_id
JOIN "{t["user"]}" u ON u.id = r.person_id
LEFT JOIN "{t["assignment"]}" a ON a.curriculum_id = r.curriculum_id AND a.person_id = r.person_id
LEFT JOIN "{t["group"]}" g ON g.id = a.group_id
WHERE {" AND ".join(where)}"""
    return sql, params


ROW_COLUMNS = (
    "curriculum_id, plan_name, person_id, first_name, last_name, username, email, assigned, group_name, reg_rank,"
    " met, total, capped, required, due_date, status"
)
ORDER = "plan_name, curriculum_id, last_name, first_name, person_id"


def _filtered(flt: ReportFilter) -> tuple[str, list[Any]]:
    rows, params = _rows(flt)
    if flt.status:
        return f"SELECT * FROM ({rows}) q WHERE status = %s", [*params, flt.status]
    return rows, params


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


MILESTONE_COLUMNS = "m.id, m.position, m.name, m.metric, rm.due_date, rm.state, rm.units_required, rm.units_done"


def status_counts(flt: ReportFilter) -> dict[str, int]:
    """Rows per status for every filter but the status: the data of the report's progress chart."""
    rows, params = _rows(flt)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM ({rows}) q GROUP BY status", params)
        found = dict(cursor.fetchall())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def _page_rows(flt: ReportFilter, page: int, page_size: int) -> list[PlanRow]:
    """One page of rows in order. The number of rows is counted apart: a count over every row would make the
    page's statement join every row's assignment and group, where the page needs only its own."""
    rows, params = _filtered(flt)
    sql = f"SELECT {ROW_COLUMNS} FROM ({rows}) q ORDER BY {ORDER} LIMIT %s OFFSET %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, page_size, (page - 1) * page_size])
        return [_row(values) for values in cursor.fetchall()]


def _count(flt: ReportFilter) -> int:
    rows, params = _filtered(flt)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({rows}) q", params)
        return int(cursor.fetchone()[0])


def _milestones_of(rows: list[PlanRow]) -> dict[tuple[int, int], tuple[MilestoneProgress, ...]]:
    """The milestones of these rows, in one statement."""
    if not rows:
        return {}
    t = tables()
    plans = sorted({r.plan_id for r in rows})
    people = sorted({r.person_id for r in rows})
    sql = (
        f"SELECT rm.curriculum_id, rm.person_id, {MILESTONE_COLUMNS}"
        f' FROM "{t["row_milestone"]}" rm JOIN "{t["milestone"]}" m ON m.id = rm.milestone_id'
        f" WHERE rm.curriculum_id IN ({', '.join(['%s'] * len(plans))})"
        f" AND rm.person_id IN ({', '.join(['%s'] * len(people))})"
        " ORDER BY rm.curriculum_id, rm.person_id, m.position"
    )
    found: dict[tuple[int, int], list[MilestoneProgress]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*plans, *people])
        for values in cursor.fetchall():
            found.setdefault((values[0], values[1]), []).append(_milestone(values[2:]))
    return {key: tuple(value) for key, value in found.items()}


def _page(flt: ReportFilter, page: int, page_size: int, *, detailed: bool, chart: bool) -> ReportPage:
    rows = _page_rows(flt, page, page_size)
    counts = status_counts(flt) if chart else None
    if counts is None:
        count = _count(flt)
    elif flt.status:
        count = counts.get(flt.status, 0)
    else:
        count = sum(counts.values())
    if detailed:
        milestones = _milestones_of(rows)
        rows = [_with_milestones(r, milestones.get((r.plan_id, r.person_id), ())) for r in rows]
    return ReportPage(rows=rows, count=count, page=page, page_size=page_size, status_counts=counts)


def _with_milestones(row: PlanRow, milestones: tuple[MilestoneProgress, ...]) -> PlanRow:
    values = {name: getattr(row, name) for name in row.__dataclass_fields__}
    values["milestones"] = milestones
    return PlanRow(**values)


def status_highlights_page(flt: ReportFilter, *, page: int = 1, page_size: int = 50, chart: bool = False) -> ReportPage:
    """Learning Plan Status Highlights: one row per plan x person, the progress overview (R-CUR-11); with
    `chart`, the rows per status too."""
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
    rows, params = _filtered(flt)
    for values in _fetch(f"SELECT {ROW_COLUMNS} FROM ({rows}) q ORDER BY {ORDER}", params):
        yield _row(values)


def people_by_plan_all(flt: ReportFilter) -> Iterator[PlanRow]:
    """Every row with its milestones: one statement joining rows to their milestones, grouped as read."""
    t = tables()
    rows, params = _filtered(flt)
    qualified = ", ".join(f"q.{c.strip()}" for c in ROW_COLUMNS.split(","))
    sql = (
        f"SELECT {qualified}, {MILESTONE_COLUMNS} FROM ({rows}) q"
        f' LEFT JOIN "{t["row_milestone"]}" rm ON rm.curriculum_id = q.curriculum_id AND rm.person_id = q.person_id'
        f' LEFT JOIN "{t["milestone"]}" m ON m.id = rm.milestone_id'
        f" ORDER BY {', '.join('q.' + c.strip() for c in ORDER.split(','))}, m.position"
    )
    current: tuple[Any, ...] | None = None
    milestones: list[MilestoneProgress] = []
    for values in _fetch(sql, params):
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
