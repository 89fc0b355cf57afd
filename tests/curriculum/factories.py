"""Builders for curriculum test objects (seed 002): programs with sessions, activities, catalogs, curricula with
milestones and linked programs, supervisors and professionals. Each test makes exactly what it needs."""

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from tests import factories
from waypoint.curriculum.models import (
    Catalog,
    Curriculum,
    Metric,
    Milestone,
    MilestoneProgram,
    ProfessionalGroup,
    Program,
    ProgramKind,
    RegistrationType,
    Session,
)
from waypoint.people.models import Perm

_seq = itertools.count(1)
FIRST_SESSION = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def supervisor(**values: Any) -> AbstractUser:
    """A staff user holding the Supervisor permission: may build and change curricula."""
    return factories.staff([Perm.SUPERVISOR], **values)


def staff_without_supervisor() -> AbstractUser:
    return factories.staff([Perm.COMPLIANCE_QA])


def professional(**values: Any) -> AbstractUser:
    """A plain user with a login: the person a curriculum is assigned to or who registers in it."""
    n = next(_seq)
    defaults: dict[str, Any] = {
        "username": f"pro{n}",
        "password": factories.PASSWORD,
        "first_name": "Pat",
        "last_name": f"Professional {n}",
        "email": f"pro{n}@example.org",
    }
    defaults.update(values)
    return get_user_model().objects.create_user(**defaults)  # type: ignore[return-value]


def professional_group(members: Iterable[AbstractUser] = (), **values: Any) -> ProfessionalGroup:
    n = next(_seq)
    made = ProfessionalGroup.objects.create(name=values.pop("name", f"Group {n}"), **values)
    made.members.set(members)
    return made


def program(sessions: int = 1, **values: Any) -> Program:
    """A program delivered in `sessions` sessions, a week apart from 1 March 2027."""
    n = next(_seq)
    defaults: dict[str, Any] = {
        "name": f"Program {n}",
        "code": f"PRG{n}",
        "kind": ProgramKind.PROGRAM,
        "credits": Decimal("1.00"),
    }
    defaults.update(values)
    made = Program.objects.create(**defaults)
    for index in range(sessions):
        session(made, starts_at=FIRST_SESSION + dt.timedelta(weeks=index))
    return made


def activity(**values: Any) -> Program:
    """A self-paced activity: no sessions; counts as one session towards a Sessions milestone."""
    n = next(_seq)
    defaults: dict[str, Any] = {"name": f"Activity {n}", "code": f"ACT{n}", "kind": ProgramKind.ACTIVITY}
    defaults.update(values)
    return Program.objects.create(**defaults)


def session(program_: Program | None = None, **values: Any) -> Session:
    starts_at = values.pop("starts_at", FIRST_SESSION)
    defaults: dict[str, Any] = {"ends_at": starts_at + dt.timedelta(hours=2), "capacity": None, "location": "Room 1"}
    defaults.update(values)
    return Session.objects.create(program=program_ or program(sessions=0), starts_at=starts_at, **defaults)


def catalog(**values: Any) -> Catalog:
    n = next(_seq)
    return Catalog.objects.create(name=values.pop("name", f"Catalog {n}"), **values)


def curriculum(*, catalogs: Iterable[Catalog] = (), **values: Any) -> Curriculum:
    """A valid curriculum (R-CUR-1): Non-enforced registration unless told otherwise."""
    n = next(_seq)
    defaults: dict[str, Any] = {
        "name": f"Learning plan {n}",
        "description": "Build the skills of a new team leader.",
        "registration_type": RegistrationType.NON_ENFORCED,
    }
    defaults.update(values)
    made = Curriculum.objects.create(**defaults)
    made.catalogs.set(catalogs)
    return made


def milestone(
    curriculum_: Curriculum | None = None,
    *,
    programs: Sequence[Program] = (),
    metric: str = Metric.SESSIONS,
    units: Decimal | int | None = None,
    **values: Any,
) -> Milestone:
    """A milestone appended to `curriculum_`, with `programs` linked in order.

    Units default to the number of linked programs for Sessions (at least one), 1 for Credits, none for None.
    """
    made_for = curriculum_ or curriculum()
    if units is None and metric == Metric.SESSIONS:
        units = max(len(programs), 1)
    elif units is None and metric == Metric.CREDITS:
        units = 1
    position = values.pop("position", made_for.milestones.count() + 1)
    n = next(_seq)
    made = Milestone.objects.create(
        curriculum=made_for,
        position=position,
        name=values.pop("name", f"Milestone {n}"),
        metric=metric,
        units=None if units is None else Decimal(units),
        **values,
    )
    link(made, programs)
    return made


def link(milestone_: Milestone, programs: Sequence[Program]) -> list[MilestoneProgram]:
    """Link `programs` to the end of `milestone_`, in order."""
    start = milestone_.links.count()
    return MilestoneProgram.objects.bulk_create(
        MilestoneProgram(milestone=milestone_, program=p, position=start + index)
        for index, p in enumerate(programs, start=1)
    )


def curriculum_with_milestones(
    milestones: int = 2, programs_each: int = 2, **values: Any
) -> tuple[Curriculum, list[Milestone]]:
    """A curriculum with `milestones` Sessions milestones, each linking `programs_each` one-session programs and
    requiring all of them."""
    made = curriculum(**values)
    return made, [milestone(made, programs=[program() for _ in range(programs_each)]) for _ in range(milestones)]
