"""Reads of learning plans and their journal."""

from django.db.models import Exists, OuterRef, QuerySet

from waypoint.plans.models import Component, ComponentChange
from waypoint.programmes.models import ComponentTemplate, Enrolment


def learner_components(learner_id: int, *, type: str | None = None) -> QuerySet[Component]:
    """Every component on every plan of one learner, in plan order (one query, whatever the count)."""
    components = Component.objects.filter(learner_id=learner_id).select_related("owner", "review")
    components = components.order_by("enrolment_id", "position", "id")
    return components.filter(type=type) if type else components


def removed_templates(enrolment: Enrolment) -> QuerySet[ComponentTemplate]:
    """Template components not (or no longer) on this plan: the ones that can be re-added (R-CORE-7)."""
    present = Component.objects.filter(enrolment_id=enrolment.pk, template_id=OuterRef("pk"))
    return ComponentTemplate.objects.filter(programme_id=enrolment.programme_id).exclude(Exists(present))


def removed_templates_of_learner(learner_id: int) -> QuerySet[ComponentTemplate]:
    """Template components of the learner's programmes that are not on their plans (R-CORE-7), in one query.

    An enrolment is unique per learner and programme and a template belongs to one programme, so a
    component of this learner made from the template can only be on the matching enrolment.
    """
    programmes = Enrolment.objects.filter(learner_id=learner_id).values("programme_id")
    present = Component.objects.filter(learner_id=learner_id, template_id=OuterRef("pk"))
    return ComponentTemplate.objects.filter(programme_id__in=programmes).exclude(Exists(present))


def journal_for(learner_id: int) -> QuerySet[ComponentChange]:
    return ComponentChange.objects.filter(learner_id=learner_id).select_related("by", "visit")


def recent_changes(*, visit_id: int, by_id: int) -> QuerySet[ComponentChange]:
    """The admin's changes in this record visit: their "recent changes" (R-SYNC-12)."""
    return ComponentChange.objects.filter(visit_id=visit_id, by_id=by_id)
