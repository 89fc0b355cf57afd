"""/professional-groups: the groups learning plans are assigned to (R-CUR-5, R-CUR-6), and their members.

Any admin reads; creating, renaming, deleting and changing members need Supervisor. Changing members never assigns
or withdraws a plan by itself: `POST /professional-groups/{id}/assign-plans` gives the members who lack them the
plans assigned through the group, and a member removed keeps their plans, maintained individually from then on.
"""

from typing import Annotated, Any

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import AfterValidator, Field, StringConstraints

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, Id, PageQuery, PathId, Required120, paginate
from waypoint.core.errors import NotFound, ValidationFailed
from waypoint.curriculum import services
from waypoint.curriculum.models import ProfessionalGroup
from waypoint.curriculum.selectors import matching_words
from waypoint.curriculum.services.groups import group_plans

router = Router(tags=["learning plans"])

MAX_PEOPLE_PER_REQUEST = 1000


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


Search = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_no_nul)]


class GroupFilter(PageQuery):
    search: Search = Field("", description="Every word must match the group's name.")


class PlanRef(Schema):
    id: int
    name: str


class GroupOut(Schema):
    id: int
    name: str
    member_count: int
    plans: list[PlanRef] = Field(description="The learning plans assigned through the group.")


class GroupRow(Schema):
    id: int
    name: str
    member_count: int


class GroupPage(Schema):
    items: list[GroupRow]
    count: int
    page: int
    page_size: int


class GroupIn(Schema):
    name: Required120


class MemberFilter(PageQuery):
    search: Search = Field("", description="Every word must match the first name, last name, username or email.")


class MemberOut(Schema):
    id: int
    name: str
    username: str
    email: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class MemberPage(Schema):
    items: list[MemberOut]
    count: int
    page: int
    page_size: int


class MembersIn(Schema):
    person_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_PEOPLE_PER_REQUEST)]


class MembersAddedOut(Schema):
    added: int = Field(description="How many of the people were added now.")
    already_members: int


class MembersRemovedOut(Schema):
    removed: int
    not_members: int = Field(description="How many of the people were not members.")
    kept_individually: int = Field(
        description="Assignments made through the group that the people removed keep, maintained individually."
    )


class DeletedOut(Schema):
    kept_individually: int = Field(description="Assignments made through the group, now maintained individually.")


class AssignedOut(Schema):
    assigned: int = Field(description="How many assignments were made.")


def _groups() -> QuerySet[ProfessionalGroup]:
    return ProfessionalGroup.objects.annotate(member_count=Count("members", distinct=True)).order_by("name", "pk")


def _group(group_id: int) -> ProfessionalGroup:
    found = _groups().filter(pk=group_id).first()
    if found is None:
        raise NotFound("No such professional group.")
    return found


def _group_out(group: ProfessionalGroup) -> dict[str, Any]:
    plans = group_plans(group).order_by("name", "pk").values("id", "name")
    return {"id": group.pk, "name": group.name, "member_count": group.member_count, "plans": list(plans)}  # type: ignore[attr-defined]


def _people(person_ids: list[int]) -> QuerySet[Any]:
    people = get_user_model().objects.filter(pk__in=person_ids)
    unknown = sorted(set(person_ids) - set(people.values_list("pk", flat=True)))
    if unknown:
        message = f"No person has id {', '.join(map(str, unknown))}."
        raise ValidationFailed(message, fields={"person_ids": [message]})
    return people


@router.get("/professional-groups", response={200: GroupPage, **ERRORS})
def groups_list(request: HttpRequest, filters: Query[GroupFilter]) -> dict[str, object]:
    return paginate(matching_words(_groups(), filters.search, "name"), filters)


@router.post("/professional-groups", response={201: GroupOut, **ERRORS})
def groups_create(request: HttpRequest, payload: GroupIn) -> tuple[int, dict[str, Any]]:
    """A new, empty group; names are unique whatever their case (409 or 422 otherwise)."""
    group = services.group_create(by=acting_user(request), name=payload.name)
    return 201, _group_out(_group(group.pk))


@router.get("/professional-groups/{group_id}", response={200: GroupOut, **ERRORS})
def groups_read(request: HttpRequest, group_id: PathId) -> dict[str, Any]:
    return _group_out(_group(group_id))


@router.patch("/professional-groups/{group_id}", response={200: GroupOut, **ERRORS})
def groups_rename(request: HttpRequest, group_id: PathId, payload: GroupIn) -> dict[str, Any]:
    services.group_rename(group=_group(group_id), by=acting_user(request), name=payload.name)
    return _group_out(_group(group_id))


@router.delete("/professional-groups/{group_id}", response={200: DeletedOut, **ERRORS})
def groups_delete(request: HttpRequest, group_id: PathId) -> dict[str, int]:
    """Nobody loses a plan: assignments made through the group are kept, maintained individually (R-CUR-6)."""
    return {"kept_individually": services.group_delete(group=_group(group_id), by=acting_user(request))}


@router.get("/professional-groups/{group_id}/members", response={200: MemberPage, **ERRORS})
def members_list(request: HttpRequest, group_id: PathId, filters: Query[MemberFilter]) -> dict[str, object]:
    members = _group(group_id).members.order_by("last_name", "first_name", "pk")
    return paginate(matching_words(members, filters.search, "first_name", "last_name", "username", "email"), filters)


@router.post("/professional-groups/{group_id}/members", response={200: MembersAddedOut, **ERRORS})
def members_add(request: HttpRequest, group_id: PathId, payload: MembersIn) -> dict[str, int]:
    """Add people; members already in the group are counted, not refused. No plan is assigned by this."""
    change = services.group_members_add(
        group=_group(group_id), people=_people(payload.person_ids), by=acting_user(request)
    )
    return {"added": change.changed, "already_members": change.unchanged}


@router.post("/professional-groups/{group_id}/members/remove", response={200: MembersRemovedOut, **ERRORS})
def members_remove(request: HttpRequest, group_id: PathId, payload: MembersIn) -> dict[str, int]:
    """Remove people; they keep the plans they were assigned through the group, maintained individually."""
    change = services.group_members_remove(
        group=_group(group_id), people=_people(payload.person_ids), by=acting_user(request)
    )
    return {"removed": change.changed, "not_members": change.unchanged, "kept_individually": change.detached}


@router.post("/professional-groups/{group_id}/assign-plans", response={200: AssignedOut, **ERRORS})
def group_assign_plans(request: HttpRequest, group_id: PathId) -> dict[str, int]:
    """Give the members who lack them the plans assigned through the group (R-CUR-5: nobody is reassigned)."""
    return {"assigned": services.group_plans_assign(group=_group(group_id), by=acting_user(request))}
