from waypoint.plans.services.circumstances import (
    CircumstanceRefused,
    enrolment_break,
    enrolment_change_programme,
    enrolment_return,
    enrolment_withdraw,
)
from waypoint.plans.services.components import (
    ComponentValues,
    component_add,
    component_delete,
    component_readd,
    component_update,
)
from waypoint.plans.services.enrolments import enrolment_create, enrolment_update, plans_create_for
from waypoint.plans.services.reviews import review_schedule

__all__ = [
    "CircumstanceRefused",
    "ComponentValues",
    "component_add",
    "component_delete",
    "component_readd",
    "component_update",
    "enrolment_break",
    "enrolment_change_programme",
    "enrolment_create",
    "enrolment_return",
    "enrolment_update",
    "enrolment_withdraw",
    "plans_create_for",
    "review_schedule",
]
