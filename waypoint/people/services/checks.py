"""Checks every people write shares (also used by programmes.services)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from waypoint.core.errors import PermissionRefused
from waypoint.people.access import staff_perms, staff_profile
from waypoint.people.models import Perm


def require_staff(by: AbstractBaseUser) -> None:
    if staff_profile(by) is None and not getattr(by, "is_superuser", False):
        raise PermissionRefused("Only staff users may change records.")


def require_supervisor(by: AbstractBaseUser, doing: str) -> None:
    if Perm.SUPERVISOR not in staff_perms(by):
        raise PermissionRefused(f"{doing} needs the Supervisor permission.")


def assign(instance: models.Model, values: Mapping[str, Any], foreign_keys: Iterable[str] = ()) -> None:
    for field, value in values.items():
        setattr(instance, f"{field}_id" if field in foreign_keys else field, value)
