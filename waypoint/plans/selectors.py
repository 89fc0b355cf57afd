"""Reads of learning plans and their journal."""

from django.db.models import Exists, OuterRef, QuerySet

from waypoint.plans.models import Component, ComponentChange
from waypoint.programmes.models import ComponentTemplate, Enrolment


def plan_components(enrolment: Enrolment, *, type: str | None = None) -> QuerySet[Component]:
    components = Component.objects.filter(enrolment=enrolment).select_related("owner", "review")
    return components.filter(type=type) if type else components


def learner_components(learner_id: int) -> QuerySet[Component]:
    """Every component of one learner's plans, in plan order."""
    return Component.objects.filter(learner_id=learner_id).select_related("owner", "review")


def removed_templates(enrolment: Enrolment) -> QuerySet[ComponentTemplate]:
    """Template components not (or no longer) on this plan: the ones that can be re-added (R-CORE-7)."""
    present = Component.objects.filter(enrolment_id=enrolment.pk, template_id=OuterRef("pk"))
    return ComponentTemplate.objects.filter(programme_id=enrolment.programme_id).exclude(Exists(present))


def journal_for(learner_id: int) -> QuerySet[ComponentChange]:
    return ComponentChange.objects.filter(learner_id=learner_id).select_related("by", "visit")


def recent_changes(*, visit_id: int, by_id: int) -> QuerySet[ComponentChange]:
    """The admin's changes in this record visit: their "recent changes" (R-SYNC-12)."""
    return ComponentChange.objects.filter(visit_id=visit_id, by_id=by_id)
