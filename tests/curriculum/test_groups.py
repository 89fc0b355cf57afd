"""Professional groups and their members (R-CUR-5, R-CUR-6): the services and the API."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.test import Client

from tests.api.conftest import BASE, ApiClient, assert_error, token_client
from tests.curriculum import factories as cf
from waypoint.core.errors import PermissionRefused, ValidationFailed
from waypoint.curriculum.models import Assignment, ProfessionalGroup
from waypoint.curriculum.services import (
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_plans_assign,
    group_rename,
)
from waypoint.curriculum.services.assignments import curriculum_assign

pytestmark = pytest.mark.django_db


def _people(*people: AbstractUser) -> Any:
    return get_user_model().objects.filter(pk__in=[p.pk for p in people])


def _members(group: ProfessionalGroup) -> set[int]:
    return set(group.members.values_list("pk", flat=True))


@pytest.fixture
def boss() -> AbstractUser:
    return cf.supervisor()


# Creating, renaming, deleting


def test_a_group_is_created_empty_with_its_name_trimmed(boss: AbstractUser) -> None:
    group = group_create(by=boss, name="  New managers ")
    assert group.name == "New managers"
    assert not group.members.exists()


@pytest.mark.parametrize(
    ("name", "says"),
    [("", "Enter the group's name."), ("   ", "Enter the group's name."), ("x" * 121, "at most 120 characters")],
)
def test_a_blank_or_too_long_name_is_refused_and_nothing_is_created(boss: AbstractUser, name: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        group_create(by=boss, name=name)
    assert says in refused.value.message
    assert refused.value.fields["name"]
    assert not ProfessionalGroup.objects.exists()


def test_a_name_already_used_in_any_case_is_refused(boss: AbstractUser) -> None:
    cf.professional_group(name="Mentors")
    with pytest.raises(ValidationFailed) as refused:
        group_create(by=boss, name="mentors")
    assert "A group named mentors already exists" in refused.value.message
    assert ProfessionalGroup.objects.count() == 1


def test_staff_without_supervisor_may_not_create_rename_or_delete_a_group() -> None:
    admin = cf.staff_without_supervisor()
    group = cf.professional_group(name="Kept")
    with pytest.raises(PermissionRefused, match="Supervisor"):
        group_create(by=admin, name="Other")
    with pytest.raises(PermissionRefused, match="Supervisor"):
        group_rename(group=group, by=admin, name="Changed")
    with pytest.raises(PermissionRefused, match="Supervisor"):
        group_delete(group=group, by=admin)
    group.refresh_from_db()
    assert group.name == "Kept"
    assert ProfessionalGroup.objects.count() == 1


def test_renaming_changes_the_name_and_may_change_only_its_case(boss: AbstractUser) -> None:
    group = cf.professional_group(name="mentors")
    assert group_rename(group=group, by=boss, name="Mentors").name == "Mentors"
    group.refresh_from_db()
    assert group.name == "Mentors"


def test_renaming_to_another_groups_name_is_refused_and_the_name_stays(boss: AbstractUser) -> None:
    cf.professional_group(name="Mentors")
    group = cf.professional_group(name="Coaches")
    with pytest.raises(ValidationFailed, match="already exists"):
        group_rename(group=group, by=boss, name="MENTORS")
    group.refresh_from_db()
    assert group.name == "Coaches"


def test_deleting_a_group_keeps_its_members_plans_maintained_individually(boss: AbstractUser) -> None:
    person = cf.professional()
    group = cf.professional_group([person])
    plan = cf.curriculum()
    curriculum_assign(curriculum=plan, group=group, by=boss)
    assert group_delete(group=group, by=boss) == 1
    assert not ProfessionalGroup.objects.exists()
    assignment = Assignment.objects.get(person=person, curriculum=plan)
    assert assignment.group is None
    assert get_user_model().objects.filter(pk=person.pk).exists()


# Members


def test_adding_members_adds_only_those_not_yet_in_the_group(boss: AbstractUser) -> None:
    old, new = cf.professional(), cf.professional()
    group = cf.professional_group([old])
    change = group_members_add(group=group, people=_people(old, new), by=boss)
    assert (change.changed, change.unchanged) == (1, 1)
    assert _members(group) == {old.pk, new.pk}


def test_adding_a_member_does_not_assign_the_groups_plans(boss: AbstractUser) -> None:
    """Membership never assigns silently: an assignment fixes due date and requirements (R-CUR-5)."""
    first, later = cf.professional(), cf.professional()
    group = cf.professional_group([first])
    plan = cf.curriculum()
    curriculum_assign(curriculum=plan, group=group, by=boss)
    group_members_add(group=group, people=_people(later), by=boss)
    assert not Assignment.objects.filter(person=later).exists()


def test_assigning_the_groups_plans_gives_them_to_members_who_lack_them_linked_to_the_group(
    boss: AbstractUser,
) -> None:
    first, later, individually = cf.professional(), cf.professional(), cf.professional()
    group = cf.professional_group([first])
    plan, other_plan = cf.curriculum(), cf.curriculum()
    curriculum_assign(curriculum=plan, group=group, by=boss)
    curriculum_assign(curriculum=other_plan, group=group, by=boss)
    curriculum_assign(curriculum=plan, people=_people(individually), by=boss)
    group_members_add(group=group, people=_people(later, individually), by=boss)
    assert group_plans_assign(group=group, by=boss) == 3  # later: both plans; individually: only other_plan
    assert Assignment.objects.get(person=later, curriculum=plan).group == group
    assert Assignment.objects.get(person=individually, curriculum=plan).group is None
    assert group_plans_assign(group=group, by=boss) == 0


def test_adding_nobody_is_refused(boss: AbstractUser) -> None:
    group = cf.professional_group()
    with pytest.raises(ValidationFailed, match="Choose at least one person to add"):
        group_members_add(group=group, people=get_user_model().objects.none(), by=boss)


def test_adding_someone_whose_login_is_deactivated_is_refused_and_nobody_is_added(boss: AbstractUser) -> None:
    active = cf.professional()
    gone = cf.professional(first_name="Gone", last_name="Away", is_active=False)
    group = cf.professional_group()
    with pytest.raises(ValidationFailed) as refused:
        group_members_add(group=group, people=_people(active, gone), by=boss)
    assert "Gone Away" in refused.value.message
    assert not group.members.exists()


def test_staff_without_supervisor_may_not_change_members() -> None:
    admin = cf.staff_without_supervisor()
    person = cf.professional()
    group = cf.professional_group([person])
    with pytest.raises(PermissionRefused):
        group_members_add(group=group, people=_people(cf.professional()), by=admin)
    with pytest.raises(PermissionRefused):
        group_members_remove(group=group, people=_people(person), by=admin)
    assert _members(group) == {person.pk}


def test_removing_a_member_keeps_their_plans_maintained_individually(boss: AbstractUser) -> None:
    """R-CUR-6: from then on the person's assignment is maintained individually."""
    leaving, staying = cf.professional(), cf.professional()
    group = cf.professional_group([leaving, staying])
    plan = cf.curriculum()
    curriculum_assign(curriculum=plan, group=group, by=boss)
    change = group_members_remove(group=group, people=_people(leaving, cf.professional()), by=boss)
    assert (change.changed, change.unchanged, change.detached) == (1, 1, 1)
    assert _members(group) == {staying.pk}
    assert Assignment.objects.get(person=leaving).group is None
    assert Assignment.objects.get(person=staying).group == group


def test_removing_nobody_is_refused(boss: AbstractUser) -> None:
    group = cf.professional_group([cf.professional()])
    with pytest.raises(ValidationFailed, match="Choose at least one person to remove"):
        group_members_remove(group=group, people=get_user_model().objects.none(), by=boss)
    assert group.members.count() == 1


def test_adding_many_members_costs_the_same_as_adding_a_few(
    boss: AbstractUser,
    django_assert_max_num_queries: Any,
) -> None:
    group = cf.professional_group()
    few = [cf.professional() for _ in range(2)]
    many = [cf.professional() for _ in range(30)]
    with django_assert_max_num_queries(8) as small:
        group_members_add(group=group, people=_people(*few), by=boss)
    with django_assert_max_num_queries(len(small.captured_queries)):
        group_members_add(group=group, people=_people(*many), by=boss)
    assert group.members.count() == 32


# The API


@pytest.fixture
def api(boss: AbstractUser) -> ApiClient:
    return token_client(boss)


def test_a_group_is_created_renamed_read_and_listed_over_the_api(api: ApiClient) -> None:
    created = api.post("/professional-groups", {"name": "Mentors"})
    assert created.status_code == 201, created.content
    group_id = created.json()["id"]
    assert created.json() == {"id": group_id, "name": "Mentors", "member_count": 0, "plans": []}
    renamed = api.patch(f"/professional-groups/{group_id}", {"name": "Senior mentors"})
    assert renamed.status_code == 200, renamed.content
    assert api.get(f"/professional-groups/{group_id}").json()["name"] == "Senior mentors"
    cf.professional_group(name="Coaches")
    listed = api.get("/professional-groups", search="mentor").json()
    assert [g["name"] for g in listed["items"]] == ["Senior mentors"]
    assert listed["count"] == 1


def test_a_duplicate_name_is_refused_over_the_api_with_the_field(api: ApiClient) -> None:
    cf.professional_group(name="Mentors")
    body = assert_error(api.post("/professional-groups", {"name": "MENTORS"}), 422, "validation_failed")
    assert "already exists" in body["fields"]["name"][0]
    assert ProfessionalGroup.objects.count() == 1


def test_a_blank_name_is_refused_over_the_api(api: ApiClient) -> None:
    assert_error(api.post("/professional-groups", {"name": "  "}), 422, "invalid_input")
    assert not ProfessionalGroup.objects.exists()


def test_members_are_added_listed_and_removed_over_the_api(api: ApiClient, boss: AbstractUser) -> None:
    ada = cf.professional(first_name="Ada", last_name="Lovelace")
    alan = cf.professional(first_name="Alan", last_name="Turing")
    group = cf.professional_group([alan])
    plan = cf.curriculum(name="Induction")
    curriculum_assign(curriculum=plan, group=group, by=boss)
    added = api.post(f"/professional-groups/{group.pk}/members", {"person_ids": [ada.pk, alan.pk]})
    assert added.json() == {"added": 1, "already_members": 1}
    read = api.get(f"/professional-groups/{group.pk}").json()
    assert read["member_count"] == 2
    assert read["plans"] == [{"id": plan.pk, "name": "Induction"}]
    found = api.get(f"/professional-groups/{group.pk}/members", search="love").json()
    assert [m["name"] for m in found["items"]] == ["Ada Lovelace"]
    assert api.post(f"/professional-groups/{group.pk}/assign-plans").json() == {"assigned": 1}
    removed = api.post(f"/professional-groups/{group.pk}/members/remove", {"person_ids": [alan.pk]})
    assert removed.json() == {"removed": 1, "not_members": 0, "kept_individually": 1}
    assert _members(group) == {ada.pk}


def test_unknown_people_are_refused_over_the_api_and_nobody_is_added(api: ApiClient) -> None:
    person = cf.professional()
    group = cf.professional_group()
    body = assert_error(
        api.post(f"/professional-groups/{group.pk}/members", {"person_ids": [person.pk, 987654]}),
        422,
        "validation_failed",
    )
    assert "987654" in body["fields"]["person_ids"][0]
    assert not group.members.exists()


def test_an_empty_list_of_people_is_refused_over_the_api(api: ApiClient) -> None:
    group = cf.professional_group()
    assert_error(api.post(f"/professional-groups/{group.pk}/members", {"person_ids": []}), 422, "invalid_input")


def test_deleting_a_group_over_the_api_says_how_many_assignments_are_kept(api: ApiClient, boss: AbstractUser) -> None:
    group = cf.professional_group([cf.professional(), cf.professional()])
    curriculum_assign(curriculum=cf.curriculum(), group=group, by=boss)
    deleted = api.delete(f"/professional-groups/{group.pk}")
    assert deleted.json() == {"kept_individually": 2}
    assert Assignment.objects.filter(group__isnull=True).count() == 2
    assert_error(api.get(f"/professional-groups/{group.pk}"), 404, "not_found")


def test_staff_without_supervisor_reads_groups_but_may_not_change_them() -> None:
    api = token_client(cf.staff_without_supervisor())
    group = cf.professional_group(name="Mentors")
    assert api.get("/professional-groups").json()["count"] == 1
    assert_error(api.post("/professional-groups", {"name": "Other"}), 403, "permission_denied")
    assert_error(api.patch(f"/professional-groups/{group.pk}", {"name": "Other"}), 403, "permission_denied")
    assert_error(api.delete(f"/professional-groups/{group.pk}"), 403, "permission_denied")
    person = cf.professional()
    assert_error(
        api.post(f"/professional-groups/{group.pk}/members", {"person_ids": [person.pk]}), 403, "permission_denied"
    )
    assert ProfessionalGroup.objects.get().name == "Mentors"
    assert not group.members.exists()


def test_a_professional_signed_in_is_refused_the_group_api() -> None:
    client = Client()
    client.force_login(cf.professional())
    assert_error(client.get(BASE + "/professional-groups"), 401, "not_authenticated")


def test_the_group_list_costs_the_same_however_many_groups(api: ApiClient, django_assert_max_num_queries: Any) -> None:
    for _ in range(2):
        cf.professional_group([cf.professional()])
    with django_assert_max_num_queries(10) as small:
        api.get("/professional-groups")
    for _ in range(15):
        cf.professional_group([cf.professional(), cf.professional()])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get("/professional-groups").json()["count"] == 17
