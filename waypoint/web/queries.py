"""Reads the web pages need beyond the apps' selectors: each a fixed number of queries, access-scoped."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, QuerySet

from waypoint.core.errors import NotFound
from waypoint.people.access import AnyUser, learner_visibility
from waypoint.people.models import Learner
from waypoint.plans.models import Component
from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus


def status_counts_for(user: AnyUser) -> dict[str, int]:
    """How many visible learners hold an enrolment in each programme status (one query)."""
    rows = (
        Enrolment.objects.filter(learner_visibility(user, "learner_id"))
        .values("status")
        .annotate(n=Count("learner_id", distinct=True))
        .order_by()
    )
    counts = {status: 0 for status in ProgrammeStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def with_enrolments(learners: QuerySet[Learner]) -> QuerySet[Learner]:
    """Learners with their enrolments and programmes loaded in one extra query per page."""
    enrolments = Enrolment.objects.select_related("programme").order_by("programme__name")
    return learners.prefetch_related(Prefetch("enrolments", queryset=enrolments))


def tutor_list() -> QuerySet[AbstractBaseUser]:
    users: QuerySet[Any] = get_user_model().objects.filter(staff__is_tutor=True, is_active=True)
    return users.order_by("first_name", "last_name", "username")


def staff_user_list() -> QuerySet[AbstractBaseUser]:
    """Active staff users: who may own a component."""
    users: QuerySet[Any] = get_user_model().objects.filter(staff__isnull=False, is_active=True)
    return users.order_by("first_name", "last_name", "username")


def learner_component_types(learner_id: int) -> list[str]:
    types = Component.objects.filter(learner_id=learner_id).values_list("type", flat=True).distinct().order_by()
    return sorted(set(types))


def component_get_for(learner: Learner, component_id: int) -> Component:
    component = (
        Component.objects.select_related("enrolment", "enrolment__programme", "owner", "review")
        .filter(pk=component_id, learner_id=learner.pk)
        .first()
    )
    if component is None:
        raise NotFound("That component is not on this learner's plan.")
    return component


def enrolment_get_for(learner: Learner, enrolment_id: int) -> Enrolment:
    enrolment = (
        Enrolment.objects.select_related("programme", "learner").filter(pk=enrolment_id, learner_id=learner.pk).first()
    )
    if enrolment is None:
        raise NotFound("That enrolment is not on this learner's record.")
    return enrolment


def user_names(user_ids: Iterable[Any]) -> dict[int, str]:
    ids = {int(i) for i in user_ids if isinstance(i, int) or (isinstance(i, str) and i.isdigit())}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {u.pk: (u.get_full_name() or u.get_username()) for u in users}


def programme_list_with_subs() -> QuerySet[Programme]:
    subs = Programme.objects.annotate(template_count=Count("templates")).order_by("name")
    programmes = Programme.objects.filter(parent__isnull=True).annotate(template_count=Count("templates"))
    return programmes.prefetch_related(Prefetch("sub_programmes", queryset=subs)).order_by("name")


def learner_count_by_programme(user: AnyUser) -> dict[int, int]:
    """Visible enrolments per programme id (one grouped query)."""
    rows = (
        Enrolment.objects.filter(learner_visibility(user, "learner_id"))
        .values("programme_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["programme_id"]: row["n"] for row in rows}
