"""The read side of a sync's source: the source plan and the admin's recent changes, in three queries.

The targets' side is `pairs.py`: the database reads their components' states in one aggregate query.
"""

from collections.abc import Collection
from typing import Any

from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ChangeAction, Component, ComponentChange
from waypoint.plans.selectors import recent_changes
from waypoint.plans.services.components import TEMPLATE_FIELDS
from waypoint.plans.sync.types import (
    ComponentKey,
    ReviewState,
    SourceComponent,
    hand_made_key,
    template_key,
)
from waypoint.programmes.models import ComponentTemplate, Enrolment

_VALUE_COLUMNS = tuple("owner_id" if f == "owner" else f for f in EDITABLE_FIELDS)
_ROW_COLUMNS = (
    "id",
    "learner_id",
    "template_id",
    "copied_from_id",
    "marking_aid_submitted",
    "revision",
    "review__status",
    "review__scheduled_at",
    *_VALUE_COLUMNS,
)
DELETED_POSITION = 1_000_000  # components deleted in the visit are listed after the plan


def gather_sources(
    *, enrolment: Enrolment, by_id: int, visit_id: int | None, keys: Collection[ComponentKey] | None = None
) -> list[SourceComponent]:
    """The source plan's components (and those deleted in the visit), with the admin's recent changes.

    Recent changes (R-SYNC-12) are the admin's journal rows in the given record visit on this enrolment:
    fields updated, components created, components deleted. Three queries.
    """
    rows = list(
        Component.objects.filter(enrolment_id=enrolment.pk)
        .order_by("position", "id")
        .values(*_ROW_COLUMNS, "position", "updated_at")
    )
    changes = (
        recent_changes(visit_id=visit_id, by_id=by_id).filter(enrolment_id=enrolment.pk).order_by("at", "id")
        if visit_id is not None
        else ComponentChange.objects.none()
    )
    changed: dict[int, set[str]] = {}
    created: set[int] = set()
    deleted: dict[int, ComponentChange] = {}
    for change in changes:
        component_id = change.component_id
        if component_id is None:
            continue
        if change.action == ChangeAction.CREATED:
            created.add(component_id)
        elif change.action == ChangeAction.DELETED:
            deleted[component_id] = change
        elif change.field in EDITABLE_FIELDS:
            changed.setdefault(component_id, set()).add(change.field)
    templates = {
        t["id"]: {f: t[f] for f in TEMPLATE_FIELDS}
        for t in ComponentTemplate.objects.filter(programme_id=enrolment.programme_id).values("id", *TEMPLATE_FIELDS)
    }
    case_owner = enrolment.learner.tutor_id
    sources: list[SourceComponent] = []
    for row in rows:
        values = _values(row)
        sources.append(
            SourceComponent(
                key=template_key(row["template_id"]) if row["template_id"] else hand_made_key(row["id"]),
                name=values["name"],
                type=values["type"],
                status=values["status"],
                values=values,
                component_id=row["id"],
                template_values=_template_values(templates.get(row["template_id"]), values),
                changed_fields=frozenset(changed.get(row["id"], ())),
                created=row["id"] in created,
                review=_review(row),
                owned_by_case_owner=case_owner is not None and values["owner"] == case_owner,
                revision=row["revision"],
                position=row["position"],
                updated_at=row["updated_at"],
            )
        )
    for component_id, change in deleted.items():
        if component_id in created:
            continue  # made and removed within the visit: no other learner ever had it
        values = dict(change.old_value or {})
        sources.append(
            SourceComponent(
                key=template_key(change.template_id) if change.template_id else hand_made_key(component_id),
                name=change.component_name,
                type=values.get("type", ""),
                status=values.get("status", ""),
                values=values,
                component_id=None,
                deleted=True,
                updated_at=change.at,
                position=DELETED_POSITION,
            )
        )
    if keys is not None:
        wanted = set(keys)
        sources = [s for s in sources if s.key in wanted]
    return sources


def _values(row: dict[str, Any]) -> dict[str, Any]:
    values = {f: row[c] for f, c in zip(EDITABLE_FIELDS, _VALUE_COLUMNS, strict=True)}
    if values["due_date"] is not None:
        values["due_date"] = values["due_date"].isoformat()
    return values


def _template_values(template: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any] | None:
    """The template's attributes, completed with the component's own for what a template does not hold."""
    return None if template is None else {**values, **template}


def _review(row: dict[str, Any]) -> ReviewState | None:
    status = row["review__status"]
    return None if status is None else ReviewState(status=status, scheduled_at=row["review__scheduled_at"])
