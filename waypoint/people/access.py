"""What a staff user may do and see: their permissions and visible learners."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from waypoint.people.models import Perm, StaffProfile

AnyUser = AbstractBaseUser | AnonymousUser


def staff_profile(user: AnyUser) -> StaffProfile | None:
    try:
        return user.staff  # type: ignore[union-attr]
    except (StaffProfile.DoesNotExist, AttributeError):
        return None


def staff_perms(user: AnyUser) -> frozenset[Perm]:
    """A Django superuser holds every permission; other users those of their staff profile."""
    if getattr(user, "is_superuser", False):
        return frozenset(Perm)
    profile = staff_profile(user)
    return profile.perms if profile else frozenset()


def sees_all_groups(user: AnyUser) -> bool:
    profile = staff_profile(user)
    return bool(getattr(user, "is_superuser", False) or (profile and profile.all_groups))


def learner_visibility(user: AnyUser, learner_field: str = "pk") -> Q:
    """A filter on learners (or on rows linking to a learner through `learner_field`) that the user may see.

    R-CORE-8: an admin sees only learners in the groups they may view, or all of them.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    if sees_all_groups(user):
        return Q()
    from waypoint.people.models import Learner

    groups = StaffProfile.groups.through.objects.filter(staffprofile__user_id=user.pk).values("group_id")
    members = Learner.groups.through.objects.filter(group_id__in=groups).values("learner_id")
    return Q(**{f"{learner_field}__in": members})
