"""Creating, changing and deleting learners."""

from collections.abc import Set
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from waypoint.core.errors import Conflict
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.core.validation import refuse, refuse_unknown
from waypoint.people.access import sees_all_groups
from waypoint.people.models import Employer, Group, Learner, Manager, StaffProfile
from waypoint.people.services.checks import assign, require_staff, require_supervisor


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


_LEARNER_FKS = ("employer", "manager", "tutor")

# A change of these fields of a learner is recorded as this kind of change (R-EPA-2…5).
_CHANGE_KINDS: dict[str, ChangeKind] = {
    "tutor": ChangeKind.TUTOR,
    "manager": ChangeKind.MANAGER,
    "employer": ChangeKind.EMPLOYER,
}


def learner_create(*, by: AbstractBaseUser, values: LearnerValues) -> Learner:
    require_staff(by)
    refuse_unknown(values, LearnerValues.__annotations__, "learner")
    with transaction.atomic():
        learner = Learner()
        fields = {k: v for k, v in values.items() if k != "groups"}
        assign(learner, fields, _LEARNER_FKS)
        groups = list(values.get("groups", []))
        _validate_learner(learner, by=by, groups=groups, changed=set(values))
        _save_learner(learner)
        learner.groups.set(groups)
    return learner


def learner_update(
    *, learner: Learner, by: AbstractBaseUser, changes: LearnerValues, source: Source = Source.UI
) -> Learner:
    """Change a learner; what changed is recorded for the EPA platform with its `source` (R-EPA-2…5)."""
    require_staff(by)
    refuse_unknown(changes, LearnerValues.__annotations__, "learner")
    with transaction.atomic():
        current = Learner.objects.select_for_update().get(pk=learner.pk)
        fields = {k: v for k, v in changes.items() if k != "groups"}
        before = {f: _value(current, f) for f in fields}
        assign(current, fields, _LEARNER_FKS)
        groups = list(changes["groups"]) if "groups" in changes else None
        held = set(current.groups.values_list("pk", flat=True))
        _validate_learner(current, by=by, groups=groups, changed=set(changes), held=held)
        _save_learner(current)
        if groups is not None:
            if not sees_all_groups(by):
                # Memberships of groups the user cannot see are not theirs to remove.
                groups = sorted(set(groups) | (held - _own_groups(by)))
            current.groups.set(groups)
        changed = [f for f in fields if _value(current, f) != before[f]]
        _record(current, changed, by=by, source=source)
    return current


def _value(learner: Learner, field: str) -> Any:
    return getattr(learner, f"{field}_id" if field in _LEARNER_FKS else field)


def _record(learner: Learner, changed: list[str], *, by: AbstractBaseUser, source: Source) -> None:
    """One change per kind: personal details, then tutor, manager and employer links."""
    this = Learner.objects.filter(pk=learner.pk)
    personal = tuple(f"learner.{f}" for f in changed if f not in _CHANGE_KINDS)
    if personal:
        outbox_record(learners=this, change=Change(ChangeKind.PERSONAL, source, by.pk, fields=personal))
    for field in changed:
        if kind := _CHANGE_KINDS.get(field):
            outbox_record(learners=this, change=Change(kind, source, by.pk, fields=(f"learner.{field}",)))


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
