from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.test import Client

from tests import factories
from waypoint.people.models import Group, Perm
from waypoint.plans.models import Component


def logged_in(
    client: Client, perms: Iterable[Perm] = (Perm.SUPERVISOR,), *, all_groups: bool = True, groups: Iterable[Group] = ()
) -> AbstractUser:
    user = factories.staff(perms, all_groups=all_groups, groups=groups)
    client.force_login(user)
    return user


def form_values(component: Component) -> dict[str, Any]:
    """The edit form as the browser would submit it unchanged."""
    values: dict[str, Any] = {
        "name": component.name,
        "type": component.type,
        "status": component.status,
        "due_date": component.due_date.isoformat() if component.due_date else "",
        "owner": component.owner_id or "",
        "completion_mode": component.completion_mode,
        "criteria_mappings": list(component.criteria_mappings),
        "instructions": component.instructions,
        "min_evidence": component.min_evidence,
        "documents": "\n".join(component.documents),
        "marking_aid_exercise": component.marking_aid_exercise,
        "review_type": component.review_type,
        "revision": component.revision,
    }
    for flag in ("evidence_required", "delivery_via_organisation", "delivery_via_employer", "planned_for_qa"):
        if getattr(component, flag):
            values[flag] = "on"
    return values
