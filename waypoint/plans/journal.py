"""What the journal stores of a component: its attributes as JSON values."""

import datetime as dt
from typing import Any

from waypoint.plans.models import Component

# Every attribute an admin can change on a learner's component (R-CORE-4), in display order.
EDITABLE_FIELDS: tuple[str, ...] = (
    "name",
    "type",
    "status",
    "due_date",
    "owner",
    "completion_mode",
    "criteria_mappings",
    "instructions",
    "evidence_required",
    "min_evidence",
    "documents",
    "delivery_via_organisation",
    "delivery_via_employer",
    "planned_for_qa",
    "marking_aid_exercise",
    "review_type",
)


def json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def field_value(component: Component, field: str) -> Any:
    """The JSON value of one attribute; `owner` is the owner's user id."""
    return json_value(getattr(component, "owner_id" if field == "owner" else field))


def snapshot(component: Component) -> dict[str, Any]:
    return {field: field_value(component, field) for field in EDITABLE_FIELDS}
