"""Reads about who is assigned to and registered in learning plans, and their progress (R-CUR-5, 7, 8)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from waypoint.core.errors import NotFound
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    EnrolmentStatus,
    Milestone,
    MilestoneProgram,
    MilestoneStatus,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
)
from waypoint.curriculum.progress import (
    MilestoneFacts,
    PlanProgress,
    StatusFacts,
    plan_progress,
    requirements_from_json,
)


def _search(rows: QuerySet[Any], search: str) -> QuerySet[Any]:
    """Rows whose person's name, username or email contains every word searched for."""
    for word in search.split():
        rows = rows.filter(
            Q(person__first_name__icontains=word)
            | Q(person__last_name__icontains=word)
            | Q(person__username__icontains=word)
            | Q(person__email__icontains=word)
        )
    return rows


def curriculum_get(curriculum_id: int) -> Curriculum:
    found = Curriculum.objects.filter(pk=curriculum_id).first()
    if found is None:
        raise NotFound("No such learning plan.")
    return found


def assigned_users_list(curriculum: Curriculum, *, search: str = "") -> QuerySet[Assignment]:
    """Manage Users, Assigned users (R-CUR-8): each assignment with its person and group, by name."""
    rows = Assignment.objects.filter(curriculum=curriculum).select_related("person", "group")
    return _search(rows, search).order_by("person__last_name", "person__first_name", "pk")


def registered_users_list(curriculum: Curriculum, *, search: str = "") -> QuerySet[Registration]:
    """Manage Users, Registered users (R-CUR-8): open registrations (started or registered) with their person."""
    rows = Registration.objects.filter(
        curriculum=curriculum, status__in=(RegistrationStatus.STARTED, RegistrationStatus.REGISTERED)
    ).select_related("person")
    return _search(rows, search).order_by("person__last_name", "person__first_name", "pk")


@dataclass(frozen=True)
class AssignmentProgress:
    assignment: Assignment
    progress: PlanProgress
    milestones: tuple[Milestone, ...]


def assignments_with_progress(person_id: int, *, today: dt.date | None = None) -> list[AssignmentProgress]:
    """A person's assigned learning plans with their progress in each milestone (R-CUR-5, R-CUR-7).

    Five queries however many plans, milestones and enrolments: assignments, milestones, linked programs, milestone
    statuses, completed enrolments.
    """
    today = today or timezone.localdate()
    assignments = list(
        Assignment.objects.filter(person_id=person_id)
        .select_related("curriculum", "group")
        .order_by("curriculum__name", "pk")
    )
    curriculum_ids = [a.curriculum_id for a in assignments]
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in Milestone.objects.filter(curriculum_id__in=curriculum_ids).order_by("curriculum_id", "position"):
        milestones[milestone.curriculum_id].append(milestone)
    credits: dict[int, dict[int, Decimal]] = defaultdict(dict)
    links = MilestoneProgram.objects.filter(milestone__curriculum_id__in=curriculum_ids).values_list(
        "milestone_id", "program_id", "program__credits"
    )
    for milestone_id, program_id, program_credits in links:
        credits[milestone_id][program_id] = program_credits
    statuses: dict[int, dict[int, StatusFacts]] = defaultdict(dict)
    for status in MilestoneStatus.objects.filter(assignment__person_id=person_id):
        statuses[status.assignment_id][status.milestone_id] = StatusFacts(status.action, status.units, status.due_date)
    completed = frozenset(
        ProgramEnrolment.objects.filter(person_id=person_id, status=EnrolmentStatus.COMPLETED).values_list(
            "program_id", flat=True
        )
    )
    result = []
    for assignment in assignments:
        own = milestones[assignment.curriculum_id]
        facts = [MilestoneFacts(m.pk, m.metric, m.units, m.due_date, credits[m.pk]) for m in own]
        progress = plan_progress(
            facts,
            statuses=statuses[assignment.pk],
            requirements=requirements_from_json(assignment.requirements),
            completed_program_ids=completed,
            due_date=assignment.due_date or assignment.curriculum.due_date,
            today=today,
        )
        result.append(AssignmentProgress(assignment, progress, tuple(own)))
    return result


def matching_words(queryset: QuerySet[Any], search: str, *fields: str) -> QuerySet[Any]:
    """Rows matching every word of `search` in one of `fields` (case-insensitive)."""
    for word in search.split():
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(match)
    return queryset


def roster(enrolments: QuerySet[ProgramEnrolment], *, search: str = "", status: str = "") -> QuerySet[ProgramEnrolment]:
    """Enrolments with their person, by name, matching every word of `search` in the person's name, username or
    email, and of one status when `status` is one: a session's or a program's roster, on its page and in the API."""
    rows = matching_words(
        enrolments.select_related("person"),
        search,
        "person__first_name",
        "person__last_name",
        "person__username",
        "person__email",
    )
    if status in EnrolmentStatus.values:
        rows = rows.filter(status=status)
    return rows.order_by("person__last_name", "person__first_name", "person__username", "pk")


def plans_visible_to(person_id: int) -> QuerySet[Curriculum]:
    """The plans a professional may open: published in a catalog, assigned to them, or registered in."""
    return Curriculum.objects.filter(
        Q(catalogs__isnull=False) | Q(assignments__person_id=person_id) | Q(registrations__person_id=person_id)
    ).distinct()
