"""Writes to people: learners, employers, managers (employer contacts) and groups.

Who may do what (SPEC is silent; chosen to match how a training provider's admin team works):
- any staff user may create learners and edit the learners they can see, and create and edit
  employers and managers;
- a staff user who does not see every group may only put learners in groups they see, and a
  learner they create or edit must stay in at least one of those groups (so it stays visible to them);
- deleting a learner, employer or manager, and every change to groups, needs Supervisor
  (a Django superuser holds every permission).
"""

from collections.abc import Iterable, Mapping, Set
from typing import Any, TypedDict, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError

from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.people.access import sees_all_groups, staff_perms, staff_profile
from waypoint.people.models import Employer, Group, Learner, Manager, Perm, StaffProfile

M = TypeVar("M", bound=models.Model)


class LearnerValues(TypedDict, total=False):
    first_name: str
    surname: str
    date_of_birth: Any  # dt.date | None
    uln: str
    sex: str
    ethnicity: int | None
    email: str
    employer: int | None  # ids, here and below
    manager: int | None
    tutor: int | None
    groups: list[int]


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


class GroupValues(TypedDict, total=False):
    name: str


# Shared checks, also used by programmes.services.


def require_staff(by: AbstractBaseUser) -> None:
    if staff_profile(by) is None and not getattr(by, "is_superuser", False):
        raise PermissionRefused("Only staff users may change records.")


def require_supervisor(by: AbstractBaseUser, doing: str) -> None:
    if Perm.SUPERVISOR not in staff_perms(by):
        raise PermissionRefused(f"{doing} needs the Supervisor permission.")


def full_clean_or_refuse(instance: models.Model, noun: str, *, exclude: Iterable[str] = ()) -> None:
    """Model validation as a ValidationFailed with per-field messages."""
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as e:
        refuse(noun, e.message_dict)


def refuse(noun: str, errors: Mapping[str, list[str]]) -> None:
    fields = {("body" if f == "__all__" else f): list(m) for f, m in errors.items()}
    summary = "; ".join(f"{f.replace('_', ' ')}: {' '.join(m)}" for f, m in fields.items())
    raise ValidationFailed(f"The {noun} was not saved. {summary}", fields=fields)


def refuse_unknown(values: Mapping[str, Any], allowed: Iterable[str], noun: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationFailed(
            f"These cannot be set on a {noun}: {', '.join(unknown)}.",
            fields={f: ["Unknown field."] for f in unknown},
        )


def _assign(instance: models.Model, values: Mapping[str, Any], foreign_keys: Iterable[str] = ()) -> None:
    for field, value in values.items():
        setattr(instance, f"{field}_id" if field in foreign_keys else field, value)


# Learners


_LEARNER_FKS = ("employer", "manager", "tutor")


def learner_create(*, by: AbstractBaseUser, values: LearnerValues) -> Learner:
    require_staff(by)
    refuse_unknown(values, LearnerValues.__annotations__, "learner")
    with transaction.atomic():
        learner = Learner()
        fields = {k: v for k, v in values.items() if k != "groups"}
        _assign(learner, fields, _LEARNER_FKS)
        groups = list(values.get("groups", []))
        _validate_learner(learner, by=by, groups=groups, changed=set(values))
        _save_learner(learner)
        learner.groups.set(groups)
    return learner


def learner_update(*, learner: Learner, by: AbstractBaseUser, changes: LearnerValues) -> Learner:
    require_staff(by)
    refuse_unknown(changes, LearnerValues.__annotations__, "learner")
    with transaction.atomic():
        current = Learner.objects.select_for_update().get(pk=learner.pk)
        fields = {k: v for k, v in changes.items() if k != "groups"}
        _assign(current, fields, _LEARNER_FKS)
        groups = list(changes["groups"]) if "groups" in changes else None
        held = set(current.groups.values_list("pk", flat=True))
        _validate_learner(current, by=by, groups=groups, changed=set(changes), held=held)
        _save_learner(current)
        if groups is not None:
            if not sees_all_groups(by):
                # Memberships of groups the user cannot see are not theirs to remove.
                groups = sorted(set(groups) | (held - _own_groups(by)))
            current.groups.set(groups)
    return current


def learner_delete(*, learner: Learner, by: AbstractBaseUser) -> None:
    require_supervisor(by, "Deleting a learner")
    with transaction.atomic():
        Learner.objects.filter(pk=learner.pk).delete()


def _validate_learner(
    learner: Learner,
    *,
    by: AbstractBaseUser,
    groups: list[int] | None,
    changed: set[str],
    held: Set[int] = frozenset(),
) -> None:
    errors: dict[str, list[str]] = {}
    try:
        learner.clean_fields(exclude=["employer", "manager", "tutor"])
    except ValidationError as e:
        errors.update(e.message_dict)
    employer_ok = learner.employer_id is None or Employer.objects.filter(pk=learner.employer_id).exists()
    if not employer_ok:
        errors["employer"] = ["No such employer."]
    if learner.manager_id is not None:
        manager = Manager.objects.filter(pk=learner.manager_id).first()
        if manager is None:
            errors["manager"] = ["No such manager."]
        elif employer_ok and manager.employer_id != learner.employer_id:
            errors["manager"] = ["The manager must be a contact of the learner's employer."]
    if "tutor" in changed and learner.tutor_id is not None:
        tutor = get_user_model().objects.filter(pk=learner.tutor_id, is_active=True, staff__isnull=False)
        if not tutor.exists():
            errors["tutor"] = ["The case owner must be an active staff user."]
    if learner.uln and "uln" not in errors:
        taken = Learner.objects.filter(uln=learner.uln).exclude(pk=learner.pk)
        if taken.exists():
            errors["uln"] = ["Another learner already has this ULN."]
    if groups is not None:
        errors.update(_group_errors(by, groups, held))
    if errors:
        refuse("learner", errors)


def _own_groups(by: AbstractBaseUser) -> set[int]:
    through = StaffProfile.groups.through.objects.filter(staffprofile__user_id=by.pk)
    return set(through.values_list("group_id", flat=True))


def _group_errors(by: AbstractBaseUser, groups: list[int], held: Set[int]) -> dict[str, list[str]]:
    existing = set(Group.objects.filter(pk__in=groups).values_list("pk", flat=True))
    if missing := sorted(set(groups) - existing):
        return {"groups": [f"No such group: {', '.join(map(str, missing))}."]}
    if sees_all_groups(by):
        return {}
    own = _own_groups(by)
    # Groups the learner is already in may be sent back unchanged, even those the user cannot see.
    if outside := sorted(set(groups) - own - held):
        return {"groups": [f"You may not put learners in groups you cannot see: {', '.join(map(str, outside))}."]}
    if not set(groups) & own:
        return {"groups": ["The learner must be in at least one of your groups, or you could no longer see them."]}
    return {}


def _save_learner(learner: Learner) -> None:
    try:
        with transaction.atomic():
            learner.save()
    except IntegrityError:
        # Two requests gave the same ULN at once; the unique constraint caught the second.
        raise Conflict("Another learner already has this ULN.", fields={"uln": ["Already taken."]}) from None


# Employers and managers


def employer_create(*, by: AbstractBaseUser, values: EmployerValues) -> Employer:
    require_staff(by)
    refuse_unknown(values, EmployerValues.__annotations__, "employer")
    employer = Employer()
    _assign(employer, values)
    full_clean_or_refuse(employer, "employer")
    with transaction.atomic():
        employer.save()
    return employer


def employer_update(*, employer: Employer, by: AbstractBaseUser, changes: EmployerValues) -> Employer:
    require_staff(by)
    refuse_unknown(changes, EmployerValues.__annotations__, "employer")
    with transaction.atomic():
        current = Employer.objects.select_for_update().get(pk=employer.pk)
        _assign(current, changes)
        full_clean_or_refuse(current, "employer")
        current.save()
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
    _assign(manager, values, ["employer"])
    _validate_manager(manager)
    with transaction.atomic():
        manager.save()
    return manager


def manager_update(*, manager: Manager, by: AbstractBaseUser, changes: ManagerValues) -> Manager:
    require_staff(by)
    refuse_unknown(changes, ManagerValues.__annotations__, "manager")
    with transaction.atomic():
        current = Manager.objects.select_for_update().get(pk=manager.pk)
        old_employer_id = current.employer_id
        _assign(current, changes, ["employer"])
        _validate_manager(current)
        if current.employer_id != old_employer_id and current.learners.exists():
            raise Conflict(
                f"{current} manages learners at their current employer; change those learners' manager first.",
                fields={"employer": ["The manager has learners at the current employer."]},
            )
        current.save()
    return current


def manager_delete(*, manager: Manager, by: AbstractBaseUser) -> None:
    require_supervisor(by, "Deleting a manager")
    with transaction.atomic():
        Manager.objects.filter(pk=manager.pk).delete()


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


# Groups


def group_create(*, by: AbstractBaseUser, values: GroupValues) -> Group:
    require_supervisor(by, "Creating a group")
    refuse_unknown(values, GroupValues.__annotations__, "group")
    group = Group()
    _assign(group, values)
    _validate_group(group)
    with transaction.atomic():
        group.save()
    return group


def group_update(*, group: Group, by: AbstractBaseUser, changes: GroupValues) -> Group:
    require_supervisor(by, "Renaming a group")
    refuse_unknown(changes, GroupValues.__annotations__, "group")
    with transaction.atomic():
        current = Group.objects.select_for_update().get(pk=group.pk)
        _assign(current, changes)
        _validate_group(current)
        current.save()
    return current


def group_delete(*, group: Group, by: AbstractBaseUser) -> None:
    require_supervisor(by, "Deleting a group")
    with transaction.atomic():
        Group.objects.filter(pk=group.pk).delete()


def _validate_group(group: Group) -> None:
    try:
        group.full_clean()
    except ValidationError as e:
        refuse("group", e.message_dict)
