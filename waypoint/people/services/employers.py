"""Employers and their contacts (managers)."""

from collections.abc import Mapping
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.deletion import ProtectedError

from waypoint.core.errors import Conflict
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.core.validation import full_clean_or_refuse, refuse, refuse_unknown
from waypoint.people.models import Employer, Learner, Manager
from waypoint.people.services.checks import assign, require_staff, require_supervisor


class EmployerValues(TypedDict, total=False):
    name: str
    edrs_number: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str


class ManagerValues(TypedDict, total=False):
    employer: int
    first_name: str
    surname: str
    email: str
    phone: str


def employer_create(*, by: AbstractBaseUser, values: EmployerValues) -> Employer:
    require_staff(by)
    refuse_unknown(values, EmployerValues.__annotations__, "employer")
    employer = Employer()
    assign(employer, values)
    full_clean_or_refuse(employer, "employer")
    with transaction.atomic():
        employer.save()
    return employer


def employer_update(
    *, employer: Employer, by: AbstractBaseUser, changes: EmployerValues, source: Source = Source.UI
) -> Employer:
    """Change an employer or its address; sent for every learner it employs (R-EPA-5)."""
    require_staff(by)
    refuse_unknown(changes, EmployerValues.__annotations__, "employer")
    with transaction.atomic():
        current = Employer.objects.select_for_update().get(pk=employer.pk)
        changed = _changed(current, changes)
        assign(current, changes)
        full_clean_or_refuse(current, "employer")
        current.save()
        if changed:
            change = Change(ChangeKind.EMPLOYER, source, by.pk, fields=tuple(f"employer.{f}" for f in changed))
            outbox_record(learners=Learner.objects.filter(employer_id=current.pk), change=change)
    return current


def employer_delete(*, employer: Employer, by: AbstractBaseUser) -> None:
    require_supervisor(by, "Deleting an employer")
    try:
        with transaction.atomic():
            Employer.objects.filter(pk=employer.pk).delete()
    except ProtectedError:
        raise Conflict(f"{employer} still employs learners; move them to another employer first.") from None


def manager_create(*, by: AbstractBaseUser, values: ManagerValues) -> Manager:
    require_staff(by)
    refuse_unknown(values, ManagerValues.__annotations__, "manager")
    manager = Manager()
    assign(manager, values, ["employer"])
    _validate_manager(manager)
    with transaction.atomic():
        manager.save()
    return manager


def manager_update(
    *, manager: Manager, by: AbstractBaseUser, changes: ManagerValues, source: Source = Source.UI
) -> Manager:
    """Change a manager's details; sent for every learner they manage (R-EPA-4)."""
    require_staff(by)
    refuse_unknown(changes, ManagerValues.__annotations__, "manager")
    with transaction.atomic():
        current = Manager.objects.select_for_update().get(pk=manager.pk)
        old_employer_id = current.employer_id
        changed = _changed(current, {("employer_id" if k == "employer" else k): v for k, v in changes.items()})
        assign(current, changes, ["employer"])
        _validate_manager(current)
        if current.employer_id != old_employer_id and current.learners.exists():
            raise Conflict(
                f"{current} manages learners at their current employer; change those learners' manager first.",
                fields={"employer": ["The manager has learners at the current employer."]},
            )
        current.save()
        if changed:
            change = Change(ChangeKind.MANAGER, source, by.pk, fields=tuple(f"manager.{f}" for f in changed))
            outbox_record(learners=Learner.objects.filter(manager_id=current.pk), change=change)
    return current


def manager_delete(*, manager: Manager, by: AbstractBaseUser) -> None:
    require_supervisor(by, "Deleting a manager")
    with transaction.atomic():
        Manager.objects.filter(pk=manager.pk).delete()


def _changed(instance: Employer | Manager, changes: Mapping[str, Any]) -> list[str]:
    return [f.removesuffix("_id") for f, v in changes.items() if getattr(instance, f) != v]


def _validate_manager(manager: Manager) -> None:
    errors: dict[str, list[str]] = {}
    try:
        manager.clean_fields(exclude=["employer"])
    except ValidationError as e:
        errors.update(e.message_dict)
    if manager.employer_id is None or not Employer.objects.filter(pk=manager.employer_id).exists():
        errors["employer"] = ["No such employer."]
    if errors:
        refuse("manager", errors)
