"""The read side of a sync: what `decide` needs, loaded in a fixed number of set-based queries.

Target learners come as a queryset (in a run, a sub-select on its `SyncTarget` rows), never as a list of
ids passed as SQL parameters, so a sync has no limit on learners (R-SYNC-26).
"""

import datetime as dt
import functools
import heapq
import json
from collections.abc import Collection, Iterator
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import BooleanField, DateField, JSONField, Q, QuerySet, TextField
from django.db.models.functions import Cast

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


def gather_targets(
    *,
    programme_id: int,
    learners: QuerySet[Learner],
    keys: Collection[ComponentKey],
    fields: Collection[str] = EDITABLE_FIELDS,
    full_keys: Collection[ComponentKey] = (),
) -> Iterator[TargetPlan]:
    """Each target learner's components for the selected keys, learner by learner in id order.

    A fixed number of streamed queries, whatever the number of learners; a learner with none of the
    components still gets a plan, so that the sync can create them. Only the attributes in `fields` are
    loaded (a sync of two changed fields reads two columns, not sixteen) except for `full_keys` (those a
    sync deletes); each component's `state` is its raw values, so equal states can share one decision.
    """
    for learner_id, own in gather_target_rows(
        programme_id=programme_id, learners=learners, keys=keys, fields=fields, full_keys=full_keys
    ):
        components = {key: raw.reader.target(raw.row) for key, raw in own.items()}
        yield TargetPlan(learner_id=learner_id, components=components)


class RawTarget(NamedTuple):
    """A target component as the database returned it; `reader` turns it into a TargetComponent."""

    reader: "_RawReader"
    row: tuple[Any, ...]

    @property
    def component_id(self) -> int:
        return int(self.row[1])

    @property
    def revision(self) -> int:
        return int(self.row[2])

    @property
    def state(self) -> tuple[Any, ...]:
        """What a decision depends on: review status, Marking Aid evidence, status and loaded values."""
        return (self.reader, self.row[5], self.row[7], *self.row[8:])


def gather_target_rows(
    *,
    programme_id: int,
    learners: QuerySet[Learner],
    keys: Collection[ComponentKey],
    fields: Collection[str] = EDITABLE_FIELDS,
    full_keys: Collection[ComponentKey] = (),
) -> Iterator[tuple[int, dict[ComponentKey, RawTarget]]]:
    """`gather_targets` without converting rows: a sync of 20,000 learners converts only distinct states."""
    learner_ids = (
        Enrolment.objects.filter(programme_id=programme_id, learner_id__in=learners.values("pk"))
        .order_by("learner_id")
        .values_list("learner_id", flat=True)
    )
    full = set(full_keys)
    partial = [k for k in keys if k not in full]
    streams = [
        _component_rows(programme_id, learners, part, loaded)
        for part, loaded in ((partial, fields), (list(full), EDITABLE_FIELDS))
        if part
    ]
    rows = (
        heapq.merge(*streams, key=lambda r: (r.row[0], r.row[1]))
        if len(streams) > 1
        else iter(streams[0] if streams else ())
    )
    item = next(rows, None)
    for learner_id in learner_ids.iterator(chunk_size=CHUNK):
        own: dict[ComponentKey, RawTarget] = {}
        while item is not None and item.row[0] <= learner_id:
            row = item.row
            if row[0] == learner_id:
                own[template_key(row[3]) if row[3] else hand_made_key(row[4])] = item
            item = next(rows, None)
        yield learner_id, own


def _component_rows(
    programme_id: int, learners: QuerySet[Learner], keys: Collection[ComponentKey], fields: Collection[str]
) -> Iterator[RawTarget]:
    loaded = tuple(f for f in EDITABLE_FIELDS if f in fields or f == "status")
    template_ids = [k[1] for k in keys if k[0] == "template"]
    copied_ids = [k[1] for k in keys if k[0] == "component"]
    # JSON and dates come as text: compared and hashed as read, converted once per distinct value.
    as_text = {f"{f}_text": Cast(f, TextField()) for f in loaded if f in _JSON_FIELDS | _DATE_FIELDS}
    components = (
        Component.objects.filter(enrolment__programme_id=programme_id, learner_id__in=learners.values("pk"))
        .filter(Q(template_id__in=template_ids) | Q(copied_from_id__in=copied_ids))
        .annotate(**as_text)
        .order_by("learner_id", "id")
        .values_list(
            "learner_id",
            "id",
            "revision",
            "template_id",
            "copied_from_id",
            "review__status",
            "review__scheduled_at",
            "marking_aid_submitted",
            *(f"{f}_text" if f"{f}_text" in as_text else _column(f) for f in loaded),
        )
    )
    reader = _RawReader(loaded)
    for row in _raw_rows(components.query, chunk_size=CHUNK):
        yield RawTarget(reader, row)


_JSON_FIELDS = frozenset(f.name for f in Component._meta.fields if isinstance(f, JSONField))
_DATE_FIELDS = frozenset(f.name for f in Component._meta.fields if type(f) is DateField)
_BOOL_FIELDS = frozenset(f.name for f in Component._meta.fields if isinstance(f, BooleanField))


def _column(field: str) -> str:
    return "owner_id" if field == "owner" else field


def _raw_rows(query: Any, *, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """The query's rows as the driver returns them: no per-value conversion in Python."""
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(chunk_size):
            yield from batch


class _RawReader:
    """Turns raw component rows into TargetComponents; each distinct raw value is converted once."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.status_at = fields.index("status")
        self.converters = tuple(self._converter(f) for f in fields)
        self.reviews: dict[tuple[Any, Any], ReviewState | None] = {(None, None): None}

    def _converter(self, field: str) -> Any:
        if field in _JSON_FIELDS:
            return functools.lru_cache(maxsize=4096)(lambda raw: None if raw is None else json.loads(raw))
        if field in _DATE_FIELDS:
            return functools.lru_cache(maxsize=4096)(
                lambda raw: raw if raw is None or isinstance(raw, str) else raw.isoformat()
            )
        if field in _BOOL_FIELDS:
            return bool
        return None

    def target(self, row: tuple[Any, ...]) -> TargetComponent:
        raw = row[8:]
        values = {
            f: (v if convert is None else convert(v))
            for f, v, convert in zip(self.fields, raw, self.converters, strict=True)
        }
        review_key = (row[5], row[6])
        review = self.reviews.get(review_key)
        if review is None and row[5] is not None:
            review = self.reviews[review_key] = ReviewState(status=row[5], scheduled_at=_aware(row[6]))
        return TargetComponent(
            component_id=row[1],
            status=raw[self.status_at],
            values=values,
            review=review,
            marking_aid_submitted=bool(row[7]),
            revision=row[2],
            state=(self, row[5], row[7], *raw),
        )


def _aware(value: Any) -> dt.datetime | None:
    """A raw timestamp as an aware datetime (SQLite returns text)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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
