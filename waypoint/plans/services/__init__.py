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
    "ComponentValues",
    "component_add",
    "component_delete",
    "component_readd",
    "component_update",
    "enrolment_create",
    "enrolment_update",
    "plans_create_for",
    "review_schedule",
]
