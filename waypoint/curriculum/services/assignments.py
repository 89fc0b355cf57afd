"""Assigning learning plans to professionals and groups, and per-person milestone statuses (R-CUR-5, 6, 7)."""

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, ValidationFailed
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    Metric,
    Milestone,
    MilestoneAction,
    MilestoneStatus,
    ProfessionalGroup,
)
from waypoint.curriculum.notifications import assignment_notifications_send
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.people.services.checks import require_supervisor

OverrideAction = Literal["no_action", "waived", "adjusted"]


@dataclass(frozen=True)
class AssignResult:
    """How many people were assigned, and the names of those already assigned, who were left as they were."""

    assigned: int
    conflicts: list[str]


def person_name(person: Any) -> str:
    return person.get_full_name() or person.get_username()


def assignment_requirements(curriculum: Curriculum) -> dict[str, str | None]:
    """The requirements fixed at a first assignment: each milestone's id → its units (as text; null for electives)."""
    return {
        str(pk): None if units is None else str(units)
        for pk, units in Milestone.objects.filter(curriculum=curriculum).values_list("pk", "units")
    }


def curriculum_assign(
    *,
    curriculum: Curriculum,
    people: QuerySet[Any] | None = None,
    group: ProfessionalGroup | None = None,
    by: AbstractBaseUser,
) -> AssignResult:
    """Assign the plan to the given people, or to the members of a group (R-CUR-5).

    One INSERT … SELECT, however many people. The due date and the requirements are fixed at a person's first
    assignment: people already assigned (individually or through another group) are not reassigned, and their
    names come back as `conflicts` so that the page can warn.
    """
    require_supervisor(by, "Assigning a learning plan")
    if (people is None) == (group is None):
        raise ValidationFailed("Choose either people or one group to assign the learning plan to.")
    user_model = get_user_model()
    targets = (
        user_model.objects.filter(pk__in=people.values("pk"))
        if people is not None
        else user_model.objects.filter(professional_groups=group)
    )
    already = targets.filter(curriculum_assignments__curriculum=curriculum).order_by("last_name", "first_name", "pk")
    target_sql, target_params = targets.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(Assignment._meta.db_table)
    users = connection.ops.quote_name(user_model._meta.db_table)
    requirements = json.dumps(assignment_requirements(curriculum))
    json_value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    created_at = timezone.now()
    now = connection.ops.adapt_datetimefield_value(created_at)
    due = connection.ops.adapt_datefield_value(curriculum.due_date)
    with transaction.atomic(), connection.cursor() as cursor:
        conflicts = [person_name(p) for p in already.only("username", "first_name", "last_name")]
        cursor.execute(
            f"""
            INSERT INTO {table} (curriculum_id, person_id, group_id, due_date, requirements, assigned_by_id,
                                 created_at, updated_at)
            SELECT %s, u.id, %s, %s, {json_value}, %s, %s, %s
            FROM {users} u
            WHERE u.id IN ({target_sql})
              AND NOT EXISTS (SELECT 1 FROM {table} a WHERE a.curriculum_id = %s AND a.person_id = u.id)
            ON CONFLICT DO NOTHING
            """,
            [
                curriculum.pk,
                group.pk if group is not None else None,
                due,
                requirements,
                by.pk,
                now,
                now,
                *target_params,
                curriculum.pk,
            ],
        )
        assigned = cursor.rowcount
        report_rows_refresh(plans=[curriculum.pk], people=targets.values("pk"))
        # The automatic assignment notice (R-CUR-10) is mailed once the assignments are committed; a mail server
        # that fails is logged and does not undo them.
        created_now = Assignment.objects.filter(curriculum=curriculum, assigned_by_id=by.pk, created_at=created_at)
        transaction.on_commit(lambda: assignment_notifications_send(created_now), robust=True)
    return AssignResult(assigned=assigned, conflicts=conflicts)


def _units_problem(milestone: Milestone, units: Decimal | None) -> str | None:
    if units is None:
        return None
    if milestone.metric == Metric.NONE:
        return "An elective milestone has no units to adjust; leave the units empty."
    if units < 0:
        return "The units cannot be negative."
    if milestone.metric == Metric.SESSIONS and units != units.to_integral_value():
        return "Sessions are counted in whole numbers."
    return None


def assignment_override_milestone(
    *,
    assignment: Assignment,
    milestone: Milestone,
    action: OverrideAction,
    units: Decimal | None = None,
    due_date: dt.date | None = None,
    notes: str = "",
    by: AbstractBaseUser,
    confirm_detach: bool,
) -> MilestoneStatus | None:
    """Set one person's status on one milestone (R-CUR-7): No Action clears it, Waived withdraws the requirement,
    Adjusted changes the units and/or the due date and keeps notes.

    On an assignment made through a group the change removes the group link, after which the person's assignment is
    maintained individually (R-CUR-6); that needs `confirm_detach`, so that the page can ask first. Returns the
    status, or None for No Action.
    """
    require_supervisor(by, "Changing a person's milestone status")
    if milestone.curriculum_id != assignment.curriculum_id:
        raise ValidationFailed("That milestone belongs to another learning plan.")
    if action not in ("no_action", "waived", "adjusted"):
        raise ValidationFailed("Choose No Action, Waived or Adjust Requirements.", fields={"action": ["Unknown."]})
    problem = _units_problem(milestone, units) if action == "adjusted" else None
    if problem:
        raise ValidationFailed(problem, fields={"units": [problem]})
    if action == "adjusted" and units is None and due_date is None and not notes:
        raise ValidationFailed("To adjust the requirements, change the units or the due date, or add notes.")
    if assignment.group_id is not None and not confirm_detach:
        group = ProfessionalGroup.objects.filter(pk=assignment.group_id).values_list("name", flat=True).first()
        raise Conflict(
            f"This person is assigned through the group {group}. Changing their milestone status removes the group "
            "link, and their assignment is then maintained individually. Confirm to make the change."
        )
    with transaction.atomic():
        if assignment.group_id is not None:
            Assignment.objects.filter(pk=assignment.pk).update(group=None, updated_at=timezone.now())
            assignment.group = None
        pair = {"plans": [assignment.curriculum_id], "people": [assignment.person_id]}
        if action == "no_action":
            MilestoneStatus.objects.filter(assignment=assignment, milestone=milestone).delete()
            report_rows_refresh(**pair)
            return None
        waived = action == "waived"
        status, _ = MilestoneStatus.objects.update_or_create(
            assignment=assignment,
            milestone=milestone,
            defaults={
                "action": MilestoneAction.WAIVED if waived else MilestoneAction.ADJUSTED,
                "units": None if waived else units,
                "due_date": None if waived else due_date,
                "notes": notes,
                "set_by_id": by.pk,
            },
        )
        report_rows_refresh(**pair)
    return status


def assignment_delete(*, assignment: Assignment, by: AbstractBaseUser) -> None:
    """Withdraw the plan from the person; their milestone statuses go with it. Registrations and enrolments stay."""
    require_supervisor(by, "Removing a learning plan assignment")
    with transaction.atomic():
        assignment.delete()
        report_rows_refresh(plans=[assignment.curriculum_id], people=[assignment.person_id])
