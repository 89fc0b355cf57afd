"""Professional groups: the groups a learning plan can be assigned to (R-CUR-5, R-CUR-6).

Membership and assignment are kept apart on purpose. Adding a member to a group whose plans are already assigned
does not assign those plans to the new member: an assignment fixes a due date and requirements at its first
assignment (R-CUR-5), so it is made only when an admin asks for it, with `group_plans_assign` (or Manage Users).
Removing a member never withdraws a plan either: the person's assignments made through the group are kept and are
maintained individually from then on, as after an individual override (R-CUR-6). Deleting a group does the same
for all its members' assignments.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, NotFound, ValidationFailed
from waypoint.curriculum.models import Assignment, Curriculum, ProfessionalGroup
from waypoint.curriculum.services.assignments import curriculum_assign, person_name
from waypoint.people.services.checks import require_supervisor

NAME_MAX_LENGTH = 120


@dataclass(frozen=True)
class MembersChange:
    """How many of the people chosen were added (or removed), and how many already were (or were not) members.

    `detached`: on removal, how many of their assignments made through the group are now maintained individually.
    """

    changed: int
    unchanged: int
    detached: int = 0


def _name_problem(name: str, *, other_than: int | None = None) -> str | None:
    cleaned = name.strip()
    if not cleaned:
        return "Enter the group's name."
    if len(cleaned) > NAME_MAX_LENGTH:
        return f"The name may be at most {NAME_MAX_LENGTH} characters; this one has {len(cleaned)}."
    taken = ProfessionalGroup.objects.filter(name__iexact=cleaned)
    if other_than is not None:
        taken = taken.exclude(pk=other_than)
    if taken.exists():
        return f"A group named {cleaned} already exists; choose another name."
    return None


def _refuse_name(name: str, *, other_than: int | None = None) -> str:
    problem = _name_problem(name, other_than=other_than)
    if problem:
        raise ValidationFailed(f"The group was not saved. {problem}", fields={"name": [problem]})
    return name.strip()


def _duplicate(name: str) -> Conflict:
    return Conflict(f"A group named {name} already exists; choose another name.", fields={"name": ["Already used."]})


def group_create(*, by: AbstractBaseUser, name: str) -> ProfessionalGroup:
    """A new, empty group; names are unique, whatever their case."""
    require_supervisor(by, "Creating a professional group")
    with transaction.atomic():
        cleaned = _refuse_name(name)
        try:
            with transaction.atomic():
                return ProfessionalGroup.objects.create(name=cleaned)
        except IntegrityError:
            raise _duplicate(cleaned) from None


def group_rename(*, group: ProfessionalGroup, by: AbstractBaseUser, name: str) -> ProfessionalGroup:
    require_supervisor(by, "Renaming a professional group")
    with transaction.atomic():
        current = ProfessionalGroup.objects.select_for_update().get(pk=group.pk)
        cleaned = _refuse_name(name, other_than=current.pk)
        current.name = cleaned
        try:
            with transaction.atomic():
                current.save(update_fields=["name", "updated_at"])
        except IntegrityError:
            raise _duplicate(cleaned) from None
    return current


def group_delete(*, group: ProfessionalGroup, by: AbstractBaseUser) -> int:
    """Delete the group and its memberships; nobody loses a plan. Returns how many assignments made through the
    group are now maintained individually (R-CUR-6)."""
    require_supervisor(by, "Deleting a professional group")
    with transaction.atomic():
        detached = Assignment.objects.filter(group_id=group.pk).update(group=None, updated_at=timezone.now())
        ProfessionalGroup.objects.filter(pk=group.pk).delete()
    return detached


def _lock(group: ProfessionalGroup) -> None:
    """Membership changes of one group happen one after another; a group deleted meanwhile is refused."""
    if not ProfessionalGroup.objects.select_for_update().filter(pk=group.pk).values_list("pk", flat=True):
        raise NotFound("The professional group no longer exists.")


def _refuse_nobody(people: QuerySet[Any], doing: str) -> int:
    chosen = people.count()
    if not chosen:
        message = f"Choose at least one person to {doing}."
        raise ValidationFailed(message, fields={"people": [message]})
    return chosen


def group_members_add(*, group: ProfessionalGroup, people: QuerySet[Any], by: AbstractBaseUser) -> MembersChange:
    """Add the chosen people to the group in one INSERT … SELECT, however many; members already in it stay as they
    are. People with a deactivated login are refused, and then nobody is added.

    Nobody is assigned a plan by this: see `group_plans_assign`.
    """
    require_supervisor(by, "Adding members to a professional group")
    chosen = _refuse_nobody(people, "add")
    inactive = [person_name(p) for p in people.filter(is_active=False).order_by("last_name", "first_name", "pk")[:20]]
    if inactive:
        message = f"These people cannot be added, their login is deactivated: {', '.join(inactive)}."
        raise ValidationFailed(message, fields={"people": [message]})
    through = ProfessionalGroup.members.through
    table = connection.ops.quote_name(through._meta.db_table)
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    chosen_sql, chosen_params = people.values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(group)
        cursor.execute(
            f"""
            INSERT INTO {table} (professionalgroup_id, user_id)
            SELECT %s, u.id FROM {users} u
            WHERE u.id IN ({chosen_sql})
              AND NOT EXISTS (SELECT 1 FROM {table} m WHERE m.professionalgroup_id = %s AND m.user_id = u.id)
            ON CONFLICT DO NOTHING
            """,
            [group.pk, *chosen_params, group.pk],
        )
        added = cursor.rowcount
    return MembersChange(changed=added, unchanged=chosen - added)


def group_members_remove(*, group: ProfessionalGroup, people: QuerySet[Any], by: AbstractBaseUser) -> MembersChange:
    """Take the chosen people out of the group. Their plans stay: the assignments they got through this group are
    maintained individually from then on (R-CUR-6), so nothing is withdrawn without an admin asking for it."""
    require_supervisor(by, "Removing members from a professional group")
    chosen = _refuse_nobody(people, "remove")
    through = ProfessionalGroup.members.through
    with transaction.atomic():
        _lock(group)
        detached = Assignment.objects.filter(group_id=group.pk, person__in=people.values("pk")).update(
            group=None, updated_at=timezone.now()
        )
        removed, _ = through.objects.filter(professionalgroup_id=group.pk, user__in=people.values("pk")).delete()
    return MembersChange(changed=removed, unchanged=chosen - removed, detached=detached)


def group_plans(group: ProfessionalGroup) -> QuerySet[Curriculum]:
    """The plans assigned through the group: at least one member holds an assignment linked to it."""
    return Curriculum.objects.filter(pk__in=Assignment.objects.filter(group_id=group.pk).values("curriculum_id"))


def group_plans_assign(*, group: ProfessionalGroup, by: AbstractBaseUser) -> int:
    """Assign every plan assigned through the group to the members who do not have it yet, linked to the group;
    members already assigned a plan (individually or through another group) keep it as first assigned (R-CUR-5).
    One INSERT … SELECT per plan; returns how many assignments were made."""
    require_supervisor(by, "Assigning a group's learning plans")
    with transaction.atomic():
        return sum(
            curriculum_assign(curriculum=plan, group=group, by=by).assigned
            for plan in group_plans(group).order_by("name", "pk")
        )
