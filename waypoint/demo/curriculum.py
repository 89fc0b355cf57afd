"""The demo's learning plans for professionals (R-CUR-1…8), written set-based.

A handful of programs (with future sessions) and one activity, two catalogs and three learning plans: an Enforced
one with auto-register (every milestone requires as many sessions as it links offerings), a Non-enforced one with
Add to My Learning and a Disabled one. One professional group holds the demo's professional logins and eight more
new tutors, and is assigned the Enforced plan; the first professional is registered in it and enrolled in its
programs, and the others have completed some programs in sessions already held, so the reports have a spread of
progress to show. Every table is written
with one statement (a fixed handful of reads in between), whatever the number of learners.
"""

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from waypoint.curriculum.models import (
    Assignment,
    Catalog,
    Curriculum,
    EnrolmentStatus,
    Metric,
    Milestone,
    MilestoneProgram,
    ProfessionalGroup,
    Program,
    ProgramEnrolment,
    ProgramKind,
    Registration,
    RegistrationStatus,
    RegistrationType,
    Session,
)
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.curriculum.services.assignments import assignment_requirements
from waypoint.demo.staff import DEMO_PROFESSIONALS, DEMO_TEAM

PROFESSIONAL_GROUP = "New Tutors"
REGISTERED_PROFESSIONAL = DEMO_PROFESSIONALS[0].username
# What the rest of the new tutors (`DEMO_TEAM`) have completed, by program code, in the sessions already held.
TEAM_COMPLETED: tuple[tuple[str, ...], ...] = (
    ("LP-SAFE-101", "LP-PREVENT-201", "LP-COACH-102", "LP-ASSESS-103"),
    ("LP-SAFE-101", "LP-PREVENT-201"),
    ("LP-SAFE-101",),
    ("LP-PREVENT-201",),
    ("LP-SAFE-101", "LP-PREVENT-201", "LP-COACH-102"),
    (),
    ("LP-COACH-102",),
    (),
)


@dataclass(frozen=True)
class _ProgramSpec:
    code: str
    name: str
    description: str
    credits: str
    kind: ProgramKind = ProgramKind.PROGRAM
    # (days from today, hour, capacity, location, online URL) per session
    sessions: tuple[tuple[int, int, int | None, str, str], ...] = ()


PROGRAMS: tuple[_ProgramSpec, ...] = (
    _ProgramSpec(
        "LP-SAFE-101",
        "Safeguarding Essentials",
        "Recognising and reporting safeguarding concerns in work-based learning.",
        "1.5",
        sessions=(
            (-28, 9, 16, "Leeds Training Centre, Room 2", ""),
            (10, 9, 16, "Leeds Training Centre, Room 2", ""),
            (24, 13, 16, "Manchester Hub, Seminar Room", ""),
            (45, 9, 20, "", "https://meet.example.com/safeguarding"),
        ),
    ),
    _ProgramSpec(
        "LP-COACH-102",
        "Coaching Conversations",
        "Structured coaching for progress reviews with apprentices and their managers.",
        "2",
        sessions=(
            (-14, 10, 12, "Leeds Training Centre, Room 1", ""),
            (14, 10, 12, "Leeds Training Centre, Room 1", ""),
            (42, 10, 12, "Birmingham Office, Room 4", ""),
        ),
    ),
    _ProgramSpec(
        "LP-ASSESS-103",
        "Assessment Practice Refresher",
        "Planning, judging and recording assessment against the standard's criteria.",
        "3",
        sessions=(
            (-7, 9, 10, "Newcastle Office, Training Suite", ""),
            (7, 9, 10, "Newcastle Office, Training Suite", ""),
            (21, 9, 10, "Leeds Training Centre, Room 2", ""),
            (35, 13, 10, "Bristol Office, Room 3", ""),
            (63, 9, None, "", "https://meet.example.com/assessment"),
        ),
    ),
    _ProgramSpec(
        "LP-DIGI-104",
        "Digital Skills for Tutors",
        "Getting the most from the e-portfolio, video calls and online evidence.",
        "1",
        sessions=((18, 14, 24, "", "https://meet.example.com/digital"), (49, 14, 24, "Manchester Hub, Lab", "")),
    ),
    _ProgramSpec(
        "LP-PREVENT-201",
        "Prevent Duty e-Learning",
        "Self-paced module on the Prevent duty; about 90 minutes.",
        "0.5",
        kind=ProgramKind.ACTIVITY,
    ),
)

CATALOGS: tuple[tuple[str, str], ...] = (
    ("Professional Development", "Courses that build coaching and assessment practice."),
    ("Compliance and Safeguarding", "Mandatory training every member of the delivery team completes."),
)


@dataclass(frozen=True)
class _MilestoneSpec:
    name: str
    metric: Metric
    units: str | None
    programs: tuple[str, ...]  # program codes, in order


@dataclass(frozen=True)
class _PlanSpec:
    name: str
    description: str
    registration_type: RegistrationType
    due_in_days: int
    catalogs: tuple[str, ...]
    milestones: tuple[_MilestoneSpec, ...]
    auto_register: bool = False
    add_to_my_learning: bool = False
    milestone_order_enforced: bool = False


ENFORCED_PLAN = "New Tutor Induction"

PLANS: tuple[_PlanSpec, ...] = (
    _PlanSpec(
        ENFORCED_PLAN,
        "Everything a new tutor completes in their first three months.",
        RegistrationType.ENFORCED,
        90,
        ("Compliance and Safeguarding",),
        (
            # Units equal to the offerings linked: both milestones register automatically (R-CUR-3).
            _MilestoneSpec("Safeguarding and Prevent", Metric.SESSIONS, "2", ("LP-SAFE-101", "LP-PREVENT-201")),
            _MilestoneSpec("Coaching and assessment", Metric.SESSIONS, "2", ("LP-COACH-102", "LP-ASSESS-103")),
        ),
        auto_register=True,
        milestone_order_enforced=True,
    ),
    _PlanSpec(
        "Assessor Continuing Development",
        "A year of continuing development for experienced assessors: choose what suits you.",
        RegistrationType.NON_ENFORCED,
        365,
        ("Professional Development",),
        (
            _MilestoneSpec("Assessment practice", Metric.SESSIONS, "1", ("LP-ASSESS-103", "LP-DIGI-104")),
            _MilestoneSpec(
                "Development credits", Metric.CREDITS, "3", ("LP-SAFE-101", "LP-COACH-102", "LP-ASSESS-103")
            ),
            _MilestoneSpec("Electives", Metric.NONE, None, ("LP-DIGI-104", "LP-PREVENT-201")),
        ),
        add_to_my_learning=True,
    ),
    _PlanSpec(
        "Quality Improvement Library",
        "Browse the quality team's recommended courses; no registration needed.",
        RegistrationType.DISABLED,
        180,
        ("Professional Development", "Compliance and Safeguarding"),
        (
            _MilestoneSpec("Core learning", Metric.SESSIONS, "1", ("LP-DIGI-104", "LP-PREVENT-201")),
            _MilestoneSpec("Optional extras", Metric.NONE, None, ("LP-COACH-102",)),
        ),
    ),
)


def learning_plans_build(*, today: dt.date, now: dt.datetime, user_ids: dict[str, int], by_id: int) -> None:
    """Programs, sessions, catalogs, plans, milestones, the professional group, its assignment and one registration.

    `user_ids` maps the demo usernames (the professionals among them) to their user ids; `by_id` is the supervisor
    who created the plans and assigned them."""
    tz = timezone.get_current_timezone()

    def at(days: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour, 30), tzinfo=tz)

    programs = Program.objects.bulk_create(
        Program(name=p.name, code=p.code, description=p.description, kind=p.kind, credits=Decimal(p.credits))
        for p in PROGRAMS
    )
    program_ids = {p.code: p.pk for p in programs}
    Session.objects.bulk_create(
        Session(
            program_id=program_ids[p.code],
            starts_at=at(days, hour),
            ends_at=at(days, hour) + dt.timedelta(hours=3),
            capacity=capacity,
            location=location,
            online_url=url,
        )
        for p in PROGRAMS
        for days, hour, capacity, location, url in p.sessions
    )
    catalogs = Catalog.objects.bulk_create(Catalog(name=name, description=text) for name, text in CATALOGS)
    catalog_ids = {c.name: c.pk for c in catalogs}
    curricula = Curriculum.objects.bulk_create(
        Curriculum(
            name=plan.name,
            description=plan.description,
            starts_at=now,
            due_date=today + dt.timedelta(days=plan.due_in_days),
            milestone_order_enforced=plan.milestone_order_enforced,
            registration_type=plan.registration_type,
            auto_register=plan.auto_register,
            add_to_my_learning=plan.add_to_my_learning,
            created_by_id=by_id,
        )
        for plan in PLANS
    )
    CurriculumCatalogs = Curriculum.catalogs.through
    CurriculumCatalogs.objects.bulk_create(
        CurriculumCatalogs(curriculum_id=curriculum.pk, catalog_id=catalog_ids[name])
        for plan, curriculum in zip(PLANS, curricula, strict=True)
        for name in plan.catalogs
    )
    milestones = Milestone.objects.bulk_create(
        Milestone(
            curriculum_id=curriculum.pk,
            position=position,
            name=m.name,
            metric=m.metric,
            units=None if m.units is None else Decimal(m.units),
            due_date=today + dt.timedelta(days=plan.due_in_days * position // len(plan.milestones)),
        )
        for plan, curriculum in zip(PLANS, curricula, strict=True)
        for position, m in enumerate(plan.milestones, start=1)
    )
    specs = [m for plan in PLANS for m in plan.milestones]
    MilestoneProgram.objects.bulk_create(
        MilestoneProgram(milestone_id=milestone.pk, program_id=program_ids[code], position=position)
        for spec, milestone in zip(specs, milestones, strict=True)
        for position, code in enumerate(spec.programs, start=1)
    )

    # The professional group, assigned the Enforced plan as `curriculum_assign` assigns it: one INSERT … SELECT
    # over the group's members, with the plan's due date and its requirements as first assigned.
    group = ProfessionalGroup.objects.create(name=PROFESSIONAL_GROUP)
    Members = ProfessionalGroup.members.through
    team = get_user_model().objects.bulk_create(
        get_user_model()(
            username=p.username,
            first_name=p.first_name,
            last_name=p.last_name,
            email=f"{p.username}@example.org",
            password=make_password(None),
        )
        for p in DEMO_TEAM
    )
    Members.objects.bulk_create(
        [Members(professionalgroup_id=group.pk, user_id=user_ids[p.username]) for p in DEMO_PROFESSIONALS]
        + [Members(professionalgroup_id=group.pk, user_id=person.pk) for person in team]
    )
    enforced = curricula[[p.name for p in PLANS].index(ENFORCED_PLAN)]
    table, members = (connection.ops.quote_name(m._meta.db_table) for m in (Assignment, Members))
    json_value = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (curriculum_id, person_id, group_id, due_date, requirements, assigned_by_id,
                                 created_at, updated_at)
            SELECT %s, m.user_id, m.professionalgroup_id, %s, {json_value}, %s, %s, %s
            FROM {members} m
            WHERE m.professionalgroup_id = %s
            """,
            [
                enforced.pk,
                connection.ops.adapt_datefield_value(enforced.due_date),
                json.dumps(assignment_requirements(enforced)),
                by_id,
                stamp,
                stamp,
                group.pk,
            ],
        )

    # The first professional has registered: enrolled in every requirement (the first session of each program,
    # activities without one), then Complete selected.
    registration = Registration.objects.create(
        curriculum=enforced,
        person_id=user_ids[REGISTERED_PROFESSIONAL],
        status=RegistrationStatus.REGISTERED,
        completed_at=now,
    )
    first_session: dict[int, int] = {}
    held: dict[int, tuple[int, dt.datetime]] = {}
    for program_id, session_id, ends_at in Session.objects.order_by("program_id", "starts_at", "pk").values_list(
        "program_id", "pk", "ends_at"
    ):
        if ends_at < at(0, 0):  # held before the demo's day
            held[program_id] = (session_id, ends_at)
        else:
            first_session.setdefault(program_id, session_id)
    ProgramEnrolment.objects.bulk_create(
        ProgramEnrolment(
            person_id=registration.person_id,
            program_id=program_ids[code],
            session_id=first_session.get(program_ids[code]),
            registration=registration,
            milestone_id=milestone.pk,
        )
        for spec, milestone in zip(specs, milestones, strict=True)
        if milestone.curriculum_id == enforced.pk
        for code in spec.programs
    )

    # The rest of the team completed programs in the sessions already held (activities: a week ago).
    ProgramEnrolment.objects.bulk_create(
        ProgramEnrolment(
            person_id=person.pk,
            program_id=program_ids[code],
            session_id=held[program_ids[code]][0] if program_ids[code] in held else None,
            status=EnrolmentStatus.COMPLETED,
            completed_at=held[program_ids[code]][1] if program_ids[code] in held else at(-7, 12),
        )
        for person, codes in zip(team, TEAM_COMPLETED, strict=True)
        for code in codes
    )

    # Written directly, like the services' set-based writes, so the reports' rows are worked out once for all.
    report_rows_refresh(plans=[c.pk for c in curricula])
