"""A staff member's own details (a tutor is a staff member who is learners' case owner)."""

from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from waypoint.core.errors import PermissionRefused
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.core.validation import refuse, refuse_unknown
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner, Perm, StaffProfile


class StaffValues(TypedDict, total=False):
    first_name: str
    last_name: str
    email: str
    job_title: str


_USER_FIELDS = ("first_name", "last_name", "email")


def staff_update(
    *, user: AbstractBaseUser, by: AbstractBaseUser, changes: StaffValues, source: Source = Source.UI
) -> Any:
    """Change a staff member's details: their own, or anyone's with Supervisor.

    Sent to the EPA platform for every learner whose case owner they are (R-EPA-3).
    """
    if by.pk != user.pk and Perm.SUPERVISOR not in staff_perms(by):
        raise PermissionRefused("Changing another staff member's details needs the Supervisor permission.")
    refuse_unknown(changes, StaffValues.__annotations__, "staff member")
    with transaction.atomic():
        current = get_user_model().objects.select_for_update().get(pk=user.pk)
        profile, _ = StaffProfile.objects.get_or_create(user=current)
        changed = []
        for field, value in changes.items():
            target = profile if field == "job_title" else current
            if getattr(target, field) != value:
                setattr(target, field, value)
                changed.append(field)
        errors: dict[str, list[str]] = {}
        for target, exclude in ((current, ["password", "username"]), (profile, ["user"])):
            try:
                target.clean_fields(exclude=[f.name for f in target._meta.fields if f.name not in changes] + exclude)
            except ValidationError as e:
                errors.update(e.message_dict)
        if errors:
            refuse("staff member", errors)
        current.save(update_fields=[f for f in changed if f in _USER_FIELDS] or None)
        profile.save()
        if changed:
            change = Change(ChangeKind.TUTOR, source, by.pk, fields=tuple(f"tutor.{f}" for f in changed))
            outbox_record(learners=Learner.objects.filter(tutor_id=current.pk), change=change)
    return current
