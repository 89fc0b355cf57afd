"""Reads of programmes and enrolments."""

from django.db.models import Count, Q, QuerySet

from waypoint.core.errors import NotFound
from waypoint.programmes.models import ComponentTemplate, Enrolment, Programme


def programme_list(*, search: str = "", top_level_only: bool = False) -> QuerySet[Programme]:
    programmes = Programme.objects.select_related("parent").annotate(template_count=Count("templates"))
    if top_level_only:
        programmes = programmes.filter(parent__isnull=True)
    for word in search.split():
        programmes = programmes.filter(Q(name__icontains=word) | Q(code__icontains=word))
    return programmes


def programme_get(programme_id: int) -> Programme:
    programme = Programme.objects.select_related("parent").filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("No such programme.")
    return programme


def template_list(programme_id: int) -> QuerySet[ComponentTemplate]:
    return ComponentTemplate.objects.filter(programme_id=programme_id)


def enrolments_of(learner_id: int) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(learner_id=learner_id).select_related("programme", "programme__parent")
