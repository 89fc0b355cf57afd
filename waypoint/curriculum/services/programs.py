"""Programs, their sessions, and catalogs: what milestones link and where curricula are published."""

import datetime as dt
from decimal import Decimal
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from waypoint.core.errors import Conflict
from waypoint.core.validation import refuse, refuse_unknown
from waypoint.curriculum.models import Catalog, Metric, Program, ProgramKind, Session
from waypoint.curriculum.report_rows import plans_linking, report_rows_refresh
from waypoint.people.services.checks import assign, require_supervisor


class ProgramValues(TypedDict, total=False):
    name: str
    code: str
    description: str
    kind: str
    credits: Decimal


class SessionValues(TypedDict, total=False):
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None
    location: str
    online_url: str


class CatalogValues(TypedDict, total=False):
    name: str
    description: str


def program_create(*, by: AbstractBaseUser, values: ProgramValues) -> Program:
    require_supervisor(by, "Creating a program")
    refuse_unknown(values, ProgramValues.__annotations__, "program")
    program = Program()
    assign(program, values)
    with transaction.atomic():
        validate(program, "program", {})
        program.save()
    return program


def program_update(*, program: Program, by: AbstractBaseUser, changes: ProgramValues) -> Program:
    """Change a program; it becomes an activity only without sessions and outside Credits milestones (R-CUR-2). A
    change of credits or kind rewrites the report rows of the plans it is linked to."""
    require_supervisor(by, "Changing a program")
    refuse_unknown(changes, ProgramValues.__annotations__, "program")
    with transaction.atomic():
        current = Program.objects.select_for_update().get(pk=program.pk)
        assign(current, changes)
        problems: dict[str, str] = {}
        if current.kind == ProgramKind.ACTIVITY:
            if current.sessions.exists():
                problems["kind"] = "An activity has no sessions; delete this program's sessions first."
            elif current.links.filter(milestone__metric=Metric.CREDITS).exists():
                problems["kind"] = (
                    "This program is linked to a Credits milestone, where activities cannot be linked; unlink it first."
                )
        validate(current, "program", problems)
        current.save()
        if {"credits", "kind"} & changes.keys():
            report_rows_refresh(plans=plans_linking([current.pk]))
    return current


def session_create(*, program: Program, by: AbstractBaseUser, values: SessionValues) -> Session:
    require_supervisor(by, "Adding a session")
    refuse_unknown(values, SessionValues.__annotations__, "session")
    session = Session(program=program)
    assign(session, values)
    with transaction.atomic():
        _validate_session(session)
        session.save()
    return session


def session_update(*, session: Session, by: AbstractBaseUser, changes: SessionValues) -> Session:
    require_supervisor(by, "Changing a session")
    refuse_unknown(changes, SessionValues.__annotations__, "session")
    with transaction.atomic():
        current = Session.objects.select_for_update().select_related("program").get(pk=session.pk)
        assign(current, changes)
        _validate_session(current)
        current.save()
    return current


def session_delete(*, session: Session, by: AbstractBaseUser) -> None:
    """Delete a session nobody is enrolled in; enrolments are never removed as a side effect."""
    require_supervisor(by, "Deleting a session")
    with transaction.atomic():
        enrolled = session.enrolments.count()
        if enrolled:
            raise Conflict(
                f"{enrolled} professional(s) are enrolled in this session of {session.program}; "
                "un-enrol them or move them to another session first."
            )
        Session.objects.filter(pk=session.pk).delete()


def catalog_create(*, by: AbstractBaseUser, values: CatalogValues) -> Catalog:
    require_supervisor(by, "Creating a catalog")
    refuse_unknown(values, CatalogValues.__annotations__, "catalog")
    catalog = Catalog()
    assign(catalog, values)
    with transaction.atomic():
        validate(catalog, "catalog", {})
        catalog.save()
    return catalog


def catalog_update(*, catalog: Catalog, by: AbstractBaseUser, changes: CatalogValues) -> Catalog:
    """Rename a catalog or change its description; the plans in it stay."""
    require_supervisor(by, "Changing a catalog")
    refuse_unknown(changes, CatalogValues.__annotations__, "catalog")
    with transaction.atomic():
        current = Catalog.objects.select_for_update().get(pk=catalog.pk)
        assign(current, changes)
        validate(current, "catalog", {})
        current.save()
    return current


def catalog_delete(*, catalog: Catalog, by: AbstractBaseUser) -> None:
    """Delete an empty catalog. One that still lists plans is refused: professionals find plans through catalogs,
    so taking plans out of one is a choice made plan by plan (R-CUR-9), never a side effect."""
    require_supervisor(by, "Deleting a catalog")
    with transaction.atomic():
        current = Catalog.objects.select_for_update().get(pk=catalog.pk)
        listed = current.curricula.count()
        if listed:
            raise Conflict(
                f"The catalog {current.name} still lists {listed} learning plan(s); "
                "remove them from it first, then delete it."
            )
        current.delete()


def validate(instance: models.Model, noun: str, problems: dict[str, str], *, exclude: tuple[str, ...] = ()) -> None:
    """Model validation and the rules' problems together, refused in one `ValidationFailed`."""
    errors: dict[str, list[str]] = {}
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as e:
        errors = {field: list(messages) for field, messages in e.message_dict.items()}
    for field, message in problems.items():
        errors.setdefault(field, []).append(message)
    if errors:
        refuse(noun, errors)


def _validate_session(session: Session) -> None:
    problems: dict[str, str] = {}
    if session.program.kind == ProgramKind.ACTIVITY:
        problems["program"] = f"{session.program} is an activity: activities have no sessions."
    if session.starts_at and session.ends_at and session.ends_at <= session.starts_at:
        problems["ends_at"] = "The session must end after it starts."
    validate(session, "session", problems)
