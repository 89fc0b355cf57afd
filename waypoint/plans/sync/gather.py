"""The read side of a sync: what `decide` needs, loaded in a fixed number of set-based queries.

Target learners come as a queryset (in a run, a sub-select on its `SyncTarget` rows), never as a list of
ids passed as SQL parameters, so a sync has no limit on learners (R-SYNC-26).
"""

from collections.abc import Collection, Iterator
from typing import Any

from django.db.models import Q, QuerySet

from waypoint.people.models import Learner
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import ChangeAction, Component, ComponentChange
from waypoint.plans.selectors import recent_changes
from waypoint.plans.services.components import TEMPLATE_FIELDS
from waypoint.plans.sync.types import (
    ComponentKey,
    ReviewState,
    SourceComponent,
    TargetComponent,
    TargetPlan,
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
CHUNK = 5_000


def gather_sources(
    *, enrolment: Enrolment, by_id: int, visit_id: int | None, keys: Collection[ComponentKey] | None = None
) -> list[SourceComponent]:
    """The source plan's components (and those deleted in the visit), with the admin's recent changes.

    Recent changes (R-SYNC-12) are the admin's journal rows in the given record visit on this enrolment:
    fields updated, components created, components deleted. Three queries.
    """
    rows = list(Component.objects.filter(enrolment_id=enrolment.pk).order_by("position", "id").values(*_ROW_COLUMNS))
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
            )
        )
    if keys is not None:
        wanted = set(keys)
        sources = [s for s in sources if s.key in wanted]
    return sources


def gather_targets(
    *, programme_id: int, learners: QuerySet[Learner], keys: Collection[ComponentKey]
) -> Iterator[TargetPlan]:
    """Each target learner's components for the selected keys, learner by learner in id order.

    Two streamed queries (learners, components), whatever the number of learners; a learner with none of
    the components still gets a plan, so that the sync can create them.
    """
    template_ids = [k[1] for k in keys if k[0] == "template"]
    copied_ids = [k[1] for k in keys if k[0] == "component"]
    learner_ids = (
        Enrolment.objects.filter(programme_id=programme_id, learner_id__in=learners.values("pk"))
        .order_by("learner_id")
        .values_list("learner_id", flat=True)
    )
    components = (
        Component.objects.filter(enrolment__programme_id=programme_id, learner_id__in=learners.values("pk"))
        .filter(Q(template_id__in=template_ids) | Q(copied_from_id__in=copied_ids))
        .order_by("learner_id", "id")
        .values(*_ROW_COLUMNS)
    )
    rows = components.iterator(chunk_size=CHUNK)
    row = next(rows, None)
    for learner_id in learner_ids.iterator(chunk_size=CHUNK):
        own: dict[ComponentKey, TargetComponent] = {}
        while row is not None and row["learner_id"] <= learner_id:
            if row["learner_id"] == learner_id:
                key = template_key(row["template_id"]) if row["template_id"] else hand_made_key(row["copied_from_id"])
                own[key] = _target(row)
            row = next(rows, None)
        yield TargetPlan(learner_id=learner_id, components=own)


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


def _target(row: dict[str, Any]) -> TargetComponent:
    values = _values(row)
    return TargetComponent(
        component_id=row["id"],
        status=values["status"],
        values=values,
        review=_review(row),
        marking_aid_submitted=row["marking_aid_submitted"],
        revision=row["revision"],
    )
