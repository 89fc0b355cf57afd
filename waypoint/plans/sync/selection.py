"""The selection steps of the sync wizard (R-SYNC-1…5): who may sync, which programme, which components, which learners.

Reads only. Target learners stay a queryset of sub-selects built from the admin's filters, never a list of ids,
so "select all matching" is the same filters again when the run is created (R-SYNC-26).
"""

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, QuerySet, Subquery

from waypoint.core.errors import NotFound, PermissionRefused, ValidationFailed
from waypoint.people.access import AnyUser, learner_visibility, staff_perms
from waypoint.people.models import Group, Learner, Perm
from waypoint.people.selectors import learner_get_for
from waypoint.plans.models import Component
from waypoint.plans.permissions import SYNC_PERMISSIONS, may_sync_anything
from waypoint.plans.sync.gather import gather_sources
from waypoint.plans.sync.types import ComponentKey, SourceComponent, hand_made_key, template_key
from waypoint.programmes.models import Enrolment, ProgrammeStatus
from waypoint.programmes.selectors import enrolments_of

# R-SYNC-5: learners in these programme statuses are never offered as targets.
SYNC_EXCLUDED_STATUSES = frozenset(
    {
        ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME,
        ProgrammeStatus.EXPIRED,
        ProgrammeStatus.CANCELLED,
        ProgrammeStatus.ARCHIVED,
    }
)
SYNC_ELIGIBLE_STATUSES: tuple[ProgrammeStatus, ...] = tuple(
    s for s in ProgrammeStatus if s not in SYNC_EXCLUDED_STATUSES
)

Recent = Literal["created", "updated", "deleted"]


# R-SYNC-1


def require_sync_permission(user: AnyUser) -> None:
    """Refuse an admin who holds none of the permissions that allow any sync (R-SYNC-1, R-SYNC-20…24)."""
    if not may_sync_anything(staff_perms(user)):
        needed = ", ".join(p.label for p in Perm if p in SYNC_PERMISSIONS)
        raise PermissionRefused(f"Synchronising learning plans needs one of these permissions: {needed}.")


# R-SYNC-2


def sync_programmes_list(learner: Learner) -> list[Enrolment]:
    """The learner's enrolments to synchronise from: each programme followed by its sub-programmes. One query."""
    enrolments = list(enrolments_of(learner.pk).order_by())
    for enrolment in enrolments:
        enrolment.learner = learner
    return sorted(enrolments, key=_programme_order)


def sync_enrolment_for(learner: Learner, programme_id: int | None) -> Enrolment:
    """The source enrolment: the one given, or the learner's only one (R-SYNC-2). One query."""
    enrolments = sync_programmes_list(learner)
    if programme_id is not None:
        for enrolment in enrolments:
            if enrolment.programme_id == programme_id:
                return enrolment
        raise NotFound(
            f"{learner.full_name} is not enrolled on programme {programme_id}."
            + (f" Choose one of: {_choices(enrolments)}." if enrolments else ""),
            fields={"programme": ["Not one of the learner's programmes."]},
        )
    if len(enrolments) == 1:
        return enrolments[0]
    if not enrolments:
        raise ValidationFailed(
            f"{learner.full_name} is not enrolled on any programme, so there is no learning plan to synchronise."
        )
    raise ValidationFailed(
        f"{learner.full_name} is on several programmes; choose the one to synchronise: {_choices(enrolments)}.",
        fields={"programme": ["Choose a programme."]},
    )


def sync_source_get(*, user: AnyUser, learner_id: int, programme_id: int | None) -> Enrolment:
    """The wizard's source: permission (403, R-SYNC-1), a visible learner (404), then the enrolment (R-SYNC-2)."""
    require_sync_permission(user)
    return sync_enrolment_for(learner_get_for(user, learner_id), programme_id)


def _programme_order(enrolment: Enrolment) -> tuple[str, int, int, str, int]:
    programme = enrolment.programme
    parent = programme.parent
    top = parent if parent is not None else programme
    return (top.name, top.pk, 0 if parent is None else 1, programme.name, programme.pk)


def programme_name(enrolment: Enrolment) -> str:
    """The programme as admins know it: "Parent / Sub-programme" for a sub-programme."""
    programme = enrolment.programme
    return f"{programme.parent.name} / {programme.name}" if programme.parent is not None else programme.name


def programme_label(enrolment: Enrolment) -> str:
    """The name with the id an API client sends back."""
    return f"{programme_name(enrolment)} (programme {enrolment.programme.pk})"


def _choices(enrolments: Iterable[Enrolment]) -> str:
    return "; ".join(programme_label(e) for e in enrolments)


# R-SYNC-3, R-SYNC-4


@dataclass(frozen=True)
class ComponentChoice:
    """One row of Select Components: a component of the source plan, or one deleted in the visit."""

    key: ComponentKey
    key_kind: str
    key_id: int
    component_id: int | None  # None: deleted in the admin's recent changes
    name: str
    type: str
    status: str
    updated_at: dt.datetime | None  # None for a deleted component
    recent: Recent | None
    preselected: bool

    @property
    def code(self) -> str:
        return encode_key(self.key)


_KINDS = {"template": "t", "component": "c"}
_KEY = re.compile(r"^([tc])([1-9][0-9]{0,18})$")


def encode_key(key: ComponentKey) -> str:
    """A component key as a stable string: "t12" (template 12) or "c345" (hand-made source component 345)."""
    return f"{_KINDS[key[0]]}{key[1]}"


def decode_key(code: str) -> ComponentKey:
    match = _KEY.match(code)
    if match is None:
        raise ValidationFailed(
            f"'{code[:40]}' is not a component key: use t<template id> or c<component id>, e.g. t12.",
            fields={"key": ["Not a component key."]},
        )
    number = int(match[2])
    return template_key(number) if match[1] == "t" else hand_made_key(number)


def sync_components_list(
    *, enrolment: Enrolment, by_id: int, visit_id: int | None, type: str | None = None, search: str = ""
) -> list[ComponentChoice]:
    """The source plan's components in plan order, then those deleted in the visit (R-SYNC-3).

    Those the admin created, updated or deleted in the record visit's recent changes are preselected (R-SYNC-4,
    R-SYNC-12). Four queries, whatever the plan's size.
    """
    choices = _choices_of(gather_sources(enrolment=enrolment, by_id=by_id, visit_id=visit_id), enrolment)
    return sync_components_filter(choices, type=type, search=search)


def sync_components_filter(
    choices: Iterable[ComponentChoice], *, type: str | None = None, search: str = ""
) -> list[ComponentChoice]:
    """Choices of one type whose name holds every word of `search`, case-insensitively."""
    words = [w.casefold() for w in search.split()]
    return [c for c in choices if (not type or c.type == type) and all(w in c.name.casefold() for w in words)]


def _choices_of(sources: Sequence[SourceComponent], enrolment: Enrolment) -> list[ComponentChoice]:
    updated_at = dict(Component.objects.filter(enrolment_id=enrolment.pk).values_list("id", "updated_at"))
    live = {s.key for s in sources if not s.deleted}
    by_key: dict[ComponentKey, ComponentChoice] = {}
    for source in sources:
        if source.deleted and source.key in live:
            continue  # deleted and then re-added in the visit: the plan has it
        recent = _recent(source)
        by_key[source.key] = ComponentChoice(
            key=source.key,
            key_kind=source.key[0],
            key_id=source.key[1],
            component_id=source.component_id,
            name=source.name,
            type=source.type,
            status=source.status,
            updated_at=updated_at.get(source.component_id) if source.component_id is not None else None,
            recent=recent,
            preselected=recent is not None,
        )
    return list(by_key.values())


def _recent(source: SourceComponent) -> Recent | None:
    if source.deleted:
        return "deleted"
    if source.created:
        return "created"
    return "updated" if source.changed_fields else None


# R-SYNC-5


class LearnerFilters(Protocol):
    """What Select Learners filters on; `schemas.LearnerFilterIn` is one."""

    @property
    def status(self) -> Sequence[str]: ...

    @property
    def group(self) -> Sequence[int]: ...

    @property
    def tutor(self) -> Sequence[int]: ...

    @property
    def search(self) -> str: ...


def _eligible(user: AnyUser, enrolment: Enrolment, statuses: Iterable[str] = ()) -> QuerySet[Learner]:
    """Visible learners on the programme in a status that may be synchronised, other than the source."""
    enrolled = Enrolment.objects.filter(programme_id=enrolment.programme_id, status__in=SYNC_ELIGIBLE_STATUSES)
    wanted = [str(s) for s in statuses]
    if wanted:
        enrolled = enrolled.filter(status__in=wanted)
    return (
        Learner.objects.filter(learner_visibility(user))
        .filter(pk__in=enrolled.values("learner_id"))
        .exclude(pk=enrolment.learner_id)
    )


def sync_learners_list(
    *,
    user: AnyUser,
    enrolment: Enrolment,
    statuses: Iterable[str] = (),
    group_ids: Iterable[int] = (),
    tutor_ids: Iterable[int] = (),
    search: str = "",
) -> QuerySet[Learner]:
    """Learners the sync may target (R-SYNC-5), filtered, by surname, first name and id.

    Each carries `programme_status`, its status on the programme; tutor and groups come with the page, so a
    page costs the same number of queries however many learners match.
    """
    learners = _eligible(user, enrolment, statuses)
    groups = list(group_ids)
    if groups:
        members = Learner.groups.through.objects.filter(group_id__in=groups).values("learner_id")
        learners = learners.filter(pk__in=members)
    tutors = list(tutor_ids)
    if tutors:
        learners = learners.filter(tutor_id__in=tutors)
    for word in search.split():
        learners = learners.filter(Q(first_name__icontains=word) | Q(surname__icontains=word) | Q(uln__startswith=word))
    status = Enrolment.objects.filter(learner_id=OuterRef("pk"), programme_id=enrolment.programme_id).order_by()
    return (
        learners.annotate(programme_status=Subquery(status.values("status")[:1]))
        .select_related("tutor")
        .prefetch_related("groups")
        .order_by("surname", "first_name", "id")
    )


def learners_matching(user: AnyUser, enrolment: Enrolment, filters: LearnerFilters) -> QuerySet[Learner]:
    """The learners a set of Select Learners filters stands for: what "select all matching" selects."""
    return sync_learners_list(
        user=user,
        enrolment=enrolment,
        statuses=filters.status,
        group_ids=filters.group,
        tutor_ids=filters.tutor,
        search=filters.search,
    )


def sync_filter_groups(*, user: AnyUser, enrolment: Enrolment, search: str = "") -> QuerySet[Group]:
    """The groups of the learners the sync may target: the options of the group filter."""
    members = Learner.groups.through.objects.filter(learner_id__in=_eligible(user, enrolment).values("pk"))
    groups = Group.objects.filter(pk__in=members.values("group_id"))
    for word in search.split():
        groups = groups.filter(name__icontains=word)
    return groups.order_by("name", "id")


def sync_filter_tutors(*, user: AnyUser, enrolment: Enrolment, search: str = "") -> QuerySet[Any]:
    """The case owners of the learners the sync may target: the options of the tutor filter."""
    tutors: QuerySet[Any] = get_user_model().objects.filter(pk__in=_eligible(user, enrolment).values("tutor_id"))
    for word in search.split():
        tutors = tutors.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return tutors.order_by("last_name", "first_name", "id")
