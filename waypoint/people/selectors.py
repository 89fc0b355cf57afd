"""Reads of people, scoped to what the acting staff user may see."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from waypoint.core.errors import NotFound
from waypoint.people.access import AnyUser, learner_visibility
from waypoint.people.models import Employer, Group, Learner, Manager


def learner_list_for(
    user: AnyUser,
    *,
    search: str = "",
    programme_id: int | None = None,
    status: str | None = None,
    group_id: int | None = None,
    tutor_id: int | None = None,
) -> QuerySet[Learner]:
    """Learners the user may see, filtered; every word of `search` must match a name, ULN or email."""
    learners = Learner.objects.filter(learner_visibility(user)).select_related("tutor", "employer")
    for word in search.split():
        learners = learners.filter(
            Q(first_name__icontains=word)
            | Q(surname__icontains=word)
            | Q(uln__startswith=word)
            | Q(email__icontains=word)
        )
    # `pk IN (subquery)` lets the database start from the filter's index instead of probing every learner.
    if programme_id is not None or status:
        from waypoint.programmes.models import Enrolment

        enrolments = Enrolment.objects.all()
        if programme_id is not None:
            enrolments = enrolments.filter(programme_id=programme_id)
        if status:
            enrolments = enrolments.filter(status=status)
        learners = learners.filter(pk__in=enrolments.values("learner_id"))
    if group_id is not None:
        learners = learners.filter(pk__in=Learner.groups.through.objects.filter(group_id=group_id).values("learner_id"))
    if tutor_id is not None:
        learners = learners.filter(tutor_id=tutor_id)
    return learners


def learner_get_for(user: AnyUser, learner_id: int) -> Learner:
    learner = learner_list_for(user).select_related("manager").filter(pk=learner_id).first()
    if learner is None:
        raise NotFound("No such learner, or you may not see them.")
    return learner


def employer_list(*, search: str = "") -> QuerySet[Employer]:
    employers = Employer.objects.all()
    for word in search.split():
        employers = employers.filter(Q(name__icontains=word) | Q(postcode__istartswith=word))
    return employers


def manager_list(*, employer_id: int | None = None, search: str = "") -> QuerySet[Manager]:
    managers = Manager.objects.select_related("employer")
    if employer_id is not None:
        managers = managers.filter(employer_id=employer_id)
    for word in search.split():
        managers = managers.filter(
            Q(first_name__icontains=word) | Q(surname__icontains=word) | Q(email__icontains=word)
        )
    return managers


def group_list(*, search: str = "") -> QuerySet[Group]:
    return Group.objects.filter(name__icontains=search) if search else Group.objects.all()


def staff_list(*, search: str = "") -> QuerySet[Any]:
    """Staff members (users with a staff profile), with their profile."""
    staff = get_user_model().objects.filter(staff__isnull=False).select_related("staff").order_by("last_name", "id")
    for word in search.split():
        staff = staff.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    return staff
