"""The Learning Plan reports' rows, kept up to date by the services that change what they show (R-CUR-11).

A report has one row per (plan, person) pair where the person is assigned the plan or has a registration in it
(started, registered or cancelled from My Learning, R-CUR-8). Working out every row's progress at report time costs
a statement over every person and milestone; instead `report_rows_refresh` rewrites, set-based, the `ReportRow` and
`ReportMilestone` rows of the pairs a change touches, in that change's transaction:

- a milestone's *units done* are the person's completed program enrolments in the programs linked to it: counted
  for a Sessions milestone, their programs' credits summed for a Credits milestone;
- its *units required* are, in order: the person's adjusted units (R-CUR-7), the units fixed at assignment
  (R-CUR-5, `Assignment.requirements`), the milestone's units;
- its state is Waived (R-CUR-7), Elective (metric None, or no units: shown, but not part of "met of total" nor of
  the progress), Met (units done reach units required), In Progress (any unit done) or Not Started;
- a pair's units done are each required milestone's capped at its requirement, a waived one counting as done; it is
  *complete* when every required milestone is met or waived (a plan of electives only once anything in it is done),
  and *started* when any unit is done or a milestone waived.

Who calls it, with which pairs: assignment, milestone status and registration changes (that pair); completing or
re-opening program enrolments (the person's pairs); a change to a plan's milestones or links (the plan's pairs);
a change to a program's credits or kind (the pairs of the plans it is linked to). Overdue depends on the day, and
names, group and due date are only shown, so reports read those at report time.
"""

from collections.abc import Collection
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import QuerySet

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
    ReportMilestone,
    ReportRow,
)

People = Collection[int] | QuerySet[Any]


def tables() -> dict[str, str]:
    """The tables the report rows are worked out from and read with, by short name."""
    return {
        "plan": Curriculum._meta.db_table,
        "group": ProfessionalGroup._meta.db_table,
        "members": ProfessionalGroup.members.through._meta.db_table,
        "assignment": Assignment._meta.db_table,
        "registration": Registration._meta.db_table,
        "milestone": Milestone._meta.db_table,
        "link": MilestoneProgram._meta.db_table,
        "status": MilestoneStatus._meta.db_table,
        "enrolment": ProgramEnrolment._meta.db_table,
        "program": Program._meta.db_table,
        "user": get_user_model()._meta.db_table,
        "row": ReportRow._meta.db_table,
        "row_milestone": ReportMilestone._meta.db_table,
    }


def _scope(alias: str, plans: Collection[int] | None, people: People | None) -> tuple[str, list[Any]]:
    """`alias`'s (plan, person) pairs within the plans and the people; every pair when both are None.

    `people` is ids, or a one-column query of person ids (it is run inside the statement)."""
    where, params = ["1 = 1"], []
    if plans is not None:
        ids = sorted(set(plans)) or [0]
        where.append(f"{alias}.curriculum_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    if isinstance(people, QuerySet):
        sql, query_params = people.query.sql_with_params()
        where.append(f"{alias}.person_id IN ({sql})")
        params.extend(query_params)
    elif people is not None:
        ids = sorted(set(people)) or [0]
        where.append(f"{alias}.person_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    return " AND ".join(where), params


def _required_from_assignment() -> str:
    """The units fixed at assignment for milestone `m`, from the assignment's JSON (milestone id → units)."""
    if connection.vendor == "postgresql":
        return "CAST(s.requirements ->> CAST(m.id AS text) AS numeric)"
    return "CAST(json_extract(s.requirements, '$.\"' || m.id || '\"') AS NUMERIC)"


def _units_done(t: dict[str, str]) -> tuple[str, str, str]:
    """A person's units done on milestone `m` (completed enrolments in its linked programs, or their credits).

    PostgreSQL aggregates the enrolments of the people in scope once and hash-joins the totals; SQLite (no hash
    join) looks each up through the (person, program) index, which is faster there than sorting them all.
    """
    if connection.vendor == "postgresql":
        cte = f"""done AS (
    SELECT pe.person_id, mp.milestone_id, COUNT(*) AS sessions, SUM(p.credits) AS credits
    FROM "{t["enrolment"]}" pe
    JOIN "{t["link"]}" mp ON mp.program_id = pe.program_id
    JOIN "{t["program"]}" p ON p.id = pe.program_id
    WHERE pe.status = 'completed' AND pe.person_id IN (SELECT person_id FROM sel)
      AND mp.milestone_id IN (SELECT x.id FROM "{t["milestone"]}" x
                              WHERE x.curriculum_id IN (SELECT curriculum_id FROM sel))
    GROUP BY pe.person_id, mp.milestone_id
),
"""
        value = "CASE WHEN m.metric = 'credits' THEN COALESCE(d.credits, 0) ELSE COALESCE(d.sessions, 0) END"
        join = "LEFT JOIN done d ON d.person_id = s.person_id AND d.milestone_id = m.id"
        return cte, value, join
    # `NOT (status = 'cancelled')` is the (person, program) partial unique index's own condition, so it is used.
    value = f"""COALESCE((
               SELECT CASE WHEN m.metric = 'credits' THEN SUM(p.credits) ELSE COUNT(*) END
               FROM "{t["link"]}" mp
               JOIN "{t["enrolment"]}" pe ON pe.program_id = mp.program_id
               JOIN "{t["program"]}" p ON p.id = mp.program_id
               WHERE mp.milestone_id = m.id AND pe.person_id = s.person_id
                 AND NOT (pe.status = 'cancelled') AND pe.status = 'completed'
           ), 0)"""
    return "", value, ""


def _pairs(t: dict[str, str], plans: Collection[int] | None, people: People | None) -> tuple[str, list[Any]]:
    """WITH `sel`: the pairs in scope, each once, with its assignment's id and requirements (null if none)."""
    assigned, assigned_params = _scope("a", plans, people)
    registered, registered_params = _scope("r", plans, people)
    sql = f"""WITH sel AS (
    SELECT a.curriculum_id, a.person_id, a.id AS assignment_id, a.requirements
    FROM "{t["assignment"]}" a
    WHERE {assigned}
    UNION ALL
    SELECT r.curriculum_id, r.person_id, NULL, NULL
    FROM "{t["registration"]}" r
    WHERE {registered} AND NOT EXISTS (SELECT 1 FROM "{t["assignment"]}" x
                                        WHERE x.curriculum_id = r.curriculum_id AND x.person_id = r.person_id)
    GROUP BY r.curriculum_id, r.person_id
)"""
    return sql, [*assigned_params, *registered_params]


def _milestones_sql(t: dict[str, str], plans: Collection[int] | None, people: People | None) -> tuple[str, list[Any]]:
    pairs, params = _pairs(t, plans, people)
    done_cte, done_value, done_join = _units_done(t)
    required = _required_from_assignment()
    sql = f"""
INSERT INTO "{t["row_milestone"]}" (curriculum_id, person_id, milestone_id, state, units_required, units_done,
                                    due_date)
{pairs},
{done_cte}am AS MATERIALIZED (
    SELECT s.curriculum_id, s.person_id, m.id AS milestone_id, m.metric,
           COALESCE(st.due_date, m.due_date) AS due_date,
           CASE WHEN st.action = 'waived' THEN 1 ELSE 0 END AS waived,
           COALESCE(CASE WHEN st.action = 'adjusted' THEN st.units END, {required}, m.units) AS required,
           {done_value} AS done
    FROM sel s
    JOIN "{t["milestone"]}" m ON m.curriculum_id = s.curriculum_id
    LEFT JOIN "{t["status"]}" st ON st.assignment_id = s.assignment_id AND st.milestone_id = m.id
    {done_join}
)
SELECT curriculum_id, person_id, milestone_id,
       CASE WHEN waived = 1 THEN 'waived'
            WHEN metric = 'none' OR required IS NULL THEN 'elective'
            WHEN done >= required THEN 'met'
            WHEN done > 0 THEN 'in_progress'
            ELSE 'not_started' END,
       required, done, due_date
FROM am
WHERE 1 = 1
ON CONFLICT (person_id, curriculum_id, milestone_id) DO UPDATE SET
    state = excluded.state, units_required = excluded.units_required, units_done = excluded.units_done,
    due_date = excluded.due_date"""
    return sql, params


def _rows_sql(t: dict[str, str], plans: Collection[int] | None, people: People | None) -> tuple[str, list[Any]]:
    pairs, params = _pairs(t, plans, people)
    mine, mine_params = _scope("rm", plans, people)
    sql = f"""
INSERT INTO "{t["row"]}" (curriculum_id, person_id, registration, milestones_met, milestones_total, units_done,
                          units_required, started, complete)
{pairs},
agg AS (
    SELECT rm.curriculum_id, rm.person_id,
           SUM(CASE WHEN rm.state <> 'elective' THEN 1 ELSE 0 END) AS total,
           SUM(CASE WHEN rm.state IN ('met', 'waived') THEN 1 ELSE 0 END) AS met,
           SUM(CASE WHEN rm.state = 'elective' THEN 0
                    WHEN rm.state IN ('met', 'waived') THEN COALESCE(rm.units_required, 0)
                    ELSE rm.units_done END) AS capped,
           SUM(CASE WHEN rm.state = 'elective' THEN 0 ELSE COALESCE(rm.units_required, 0) END) AS required,
           MAX(CASE WHEN rm.units_done > 0 OR rm.state = 'waived' THEN 1 ELSE 0 END) AS started
    FROM "{t["row_milestone"]}" rm
    WHERE {mine}
    GROUP BY rm.curriculum_id, rm.person_id
)
SELECT s.curriculum_id, s.person_id,
       COALESCE((
           SELECT MAX(CASE r.status WHEN 'registered' THEN 3 WHEN 'started' THEN 2 ELSE 1 END)
           FROM "{t["registration"]}" r WHERE r.person_id = s.person_id AND r.curriculum_id = s.curriculum_id
       ), 0),
       COALESCE(x.met, 0), COALESCE(x.total, 0), COALESCE(x.capped, 0), COALESCE(x.required, 0),
       COALESCE(x.started, 0) = 1,
       COALESCE(x.met, 0) = COALESCE(x.total, 0) AND (COALESCE(x.total, 0) > 0 OR COALESCE(x.started, 0) = 1)
FROM sel s
LEFT JOIN agg x ON x.curriculum_id = s.curriculum_id AND x.person_id = s.person_id
WHERE 1 = 1
ON CONFLICT (curriculum_id, person_id) DO UPDATE SET
    registration = excluded.registration, milestones_met = excluded.milestones_met,
    milestones_total = excluded.milestones_total, units_done = excluded.units_done,
    units_required = excluded.units_required, started = excluded.started, complete = excluded.complete"""
    return sql, [*params, *mine_params]


def report_rows_refresh(*, plans: Collection[int] | None = None, people: People | None = None) -> None:
    """Rewrite the report rows of every pair within `plans` and `people` (ids, or a one-column query of person
    ids); both None rewrites every row. Four statements whatever the number of pairs; run in the caller's
    transaction, after its change, so that the rows commit (or roll back) with it.

    Pairs that no longer exist (assignment withdrawn, no registration) lose their rows. Rows are upserted, so two
    refreshes of the same pair racing on PostgreSQL end with the later one's rows rather than a conflict.
    """
    t = tables()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("row_milestone", "row"):
            condition, params = _scope(f'"{t[table]}"', plans, people)
            cursor.execute(f'DELETE FROM "{t[table]}" WHERE {condition}', params)
        cursor.execute(*_milestones_sql(t, plans, people))
        cursor.execute(*_rows_sql(t, plans, people))


def plans_linking(program_ids: Collection[int]) -> list[int]:
    """The plans with a milestone linked to any of these programs: whose rows a program's credits or kind affect."""
    return list(
        MilestoneProgram.objects.filter(program_id__in=program_ids)
        .values_list("milestone__curriculum_id", flat=True)
        .distinct()
    )
