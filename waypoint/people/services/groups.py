"""Learner groups (cohorts, regions): reference data kept by a Supervisor."""

from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from waypoint.core.validation import refuse, refuse_unknown
from waypoint.people.models import Group
from waypoint.people.services.checks import assign, require_supervisor


class GroupValues(TypedDict, total=False):
    name: str


def group_create(*, by: AbstractBaseUser, values: GroupValues) -> Group:
    require_supervisor(by, "Creating a group")
    refuse_unknown(values, GroupValues.__annotations__, "group")
    group = Group()
    assign(group, values)
    _validate_group(group)
    with transaction.atomic():
        group.save()
    return group


def group_update(*, group: Group, by: AbstractBaseUser, changes: GroupValues) -> Group:
    require_supervisor(by, "Renaming a group")
    refuse_unknown(changes, GroupValues.__annotations__, "group")
    with transaction.atomic():
        current = Group.objects.select_for_update().get(pk=group.pk)
        assign(current, changes)
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
