"""Learners, employers, managers and groups over the API."""

from typing import Any

import pytest

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from waypoint.people.models import Employer, Group, Learner, Manager, Perm

pytestmark = pytest.mark.django_db


def test_a_learner_is_created_with_ilr_codes_employer_manager_tutor_and_groups(api: ApiClient) -> None:  # R-CORE-1
    employer = factories.employer()
    manager = factories.manager(employer)
    tutor = factories.staff()
    group = Group.objects.create(name="Leeds")
    response = api.post(
        "/learners",
        {
            "first_name": "Priya",
            "surname": "Shah",
            "date_of_birth": "2005-03-04",
            "uln": factories.valid_uln(900),
            "sex": "F",
            "ethnicity": 39,
            "email": "priya@example.org",
            "employer_id": employer.pk,
            "manager_id": manager.pk,
            "tutor_id": tutor.pk,
            "group_ids": [group.pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["employer"] == {"id": employer.pk, "name": employer.name}
    assert body["tutor"]["id"] == tutor.pk
    assert body["group_ids"] == [group.pk]
    assert Learner.objects.get(pk=body["id"]).ethnicity == 39


def test_a_manager_of_another_employer_is_refused(api: ApiClient) -> None:  # R-CORE-1
    body = assert_error(
        api.post(
            "/learners",
            {
                "first_name": "A",
                "surname": "B",
                "employer_id": factories.employer().pk,
                "manager_id": factories.manager().pk,
            },
        ),
        422,
        "validation_failed",
    )
    assert body["fields"]["manager"] == ["The manager must be a contact of the learner's employer."]


def test_a_uln_already_held_by_another_learner_is_refused(api: ApiClient) -> None:
    other = factories.learner()
    body = assert_error(
        api.post("/learners", {"first_name": "A", "surname": "B", "uln": other.uln}), 422, "validation_failed"
    )
    assert "uln" in body["fields"]


def test_a_learner_is_read_updated_and_listed_with_filters(api: ApiClient) -> None:
    learner = factories.learner(surname="Okonkwo")
    factories.learner(surname="Smith")
    assert api.get(f"/learners/{learner.pk}").json()["surname"] == "Okonkwo"
    response = api.patch(f"/learners/{learner.pk}", {"email": "new@example.org", "sex": None})
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.org"
    assert response.json()["sex"] == ""
    found = api.get("/learners", search="okonk").json()
    assert found["count"] == 1
    assert found["items"][0]["id"] == learner.pk


def test_learners_are_paged(api: ApiClient) -> None:
    for _ in range(5):
        factories.learner()
    page = api.get("/learners", page=2, page_size=2).json()
    assert (page["count"], page["page"], page["page_size"], len(page["items"])) == (5, 2, 2, 2)


def test_a_learner_outside_the_users_groups_is_answered_404(db: None) -> None:  # R-CORE-8
    mine, theirs = Group.objects.create(name="Mine"), Group.objects.create(name="Theirs")
    user = factories.staff([Perm.SUPERVISOR], all_groups=False, groups=[mine])
    hidden = factories.learner(groups=[theirs])
    visible = factories.learner(groups=[mine])
    api = token_client(user)
    assert_error(api.get(f"/learners/{hidden.pk}"), 404, "not_found")
    assert_error(api.patch(f"/learners/{hidden.pk}", {"surname": "X"}), 404, "not_found")
    assert_error(api.get(f"/learners/{hidden.pk}/components"), 404, "not_found")
    assert [item["id"] for item in api.get("/learners").json()["items"]] == [visible.pk]


def test_a_user_who_sees_some_groups_must_keep_the_learner_in_one_of_them(db: None) -> None:
    mine, theirs = Group.objects.create(name="Mine"), Group.objects.create(name="Theirs")
    api = token_client(factories.staff(all_groups=False, groups=[mine]))
    assert_error(api.post("/learners", {"first_name": "A", "surname": "B"}), 422, "validation_failed")
    assert_error(
        api.post("/learners", {"first_name": "A", "surname": "B", "group_ids": [theirs.pk]}), 422, "validation_failed"
    )
    assert api.post("/learners", {"first_name": "A", "surname": "B", "group_ids": [mine.pk]}).status_code == 201


def test_deleting_a_learner_needs_supervisor(db: None) -> None:
    learner = factories.learner()
    body = assert_error(
        token_client(factories.staff([Perm.ADM_DELETE])).delete(f"/learners/{learner.pk}"), 403, "permission_denied"
    )
    assert "Supervisor" in body["message"]
    assert token_client(factories.staff([Perm.SUPERVISOR])).delete(f"/learners/{learner.pk}").status_code == 204
    assert not Learner.objects.filter(pk=learner.pk).exists()


def test_an_employer_with_address_is_created_read_updated_and_listed(api: ApiClient) -> None:
    values: dict[str, Any] = {
        "name": "Acme Ltd",
        "edrs_number": "123456789",
        "address_line_1": "1 Park Row",
        "town": "Leeds",
        "postcode": "LS1 5AB",
    }
    created = api.post("/employers", values)
    assert created.status_code == 201, created.content
    employer_id = created.json()["id"]
    assert api.get(f"/employers/{employer_id}").json()["town"] == "Leeds"
    assert api.patch(f"/employers/{employer_id}", {"postcode": "LS2 7AA"}).json()["postcode"] == "LS2 7AA"
    assert api.get("/employers", search="acme").json()["count"] == 1


def test_an_employer_with_learners_cannot_be_deleted(api: ApiClient) -> None:
    employer = factories.employer()
    factories.learner(employer=employer)
    assert_error(api.delete(f"/employers/{employer.pk}"), 409, "conflict")
    empty = factories.employer()
    assert api.delete(f"/employers/{empty.pk}").status_code == 204
    assert not Employer.objects.filter(pk=empty.pk).exists()


def test_a_manager_is_created_updated_listed_by_employer_and_deleted(api: ApiClient) -> None:
    employer = factories.employer()
    created = api.post(
        "/managers", {"employer_id": employer.pk, "first_name": "Sam", "surname": "Lee", "email": "sam@acme.test"}
    )
    assert created.status_code == 201, created.content
    manager_id = created.json()["id"]
    assert api.patch(f"/managers/{manager_id}", {"phone": "0113 496 0000"}).json()["phone"] == "0113 496 0000"
    assert api.get("/managers", employer_id=employer.pk).json()["count"] == 1
    assert_error(
        api.post("/managers", {"employer_id": employer.pk, "first_name": "A", "surname": "B", "email": "nope"}),
        422,
        "validation_failed",
    )
    assert api.delete(f"/managers/{manager_id}").status_code == 204
    assert not Manager.objects.filter(pk=manager_id).exists()


def test_a_manager_with_learners_cannot_move_to_another_employer(api: ApiClient) -> None:
    manager = factories.manager()
    factories.learner(employer=manager.employer, manager=manager)
    assert_error(api.patch(f"/managers/{manager.pk}", {"employer_id": factories.employer().pk}), 409, "conflict")


def test_groups_are_managed_by_supervisors_only(api: ApiClient) -> None:
    created = api.post("/groups", {"name": "Bradford"})
    assert created.status_code == 201
    group_id = created.json()["id"]
    assert api.patch(f"/groups/{group_id}", {"name": "Bradford North"}).json()["name"] == "Bradford North"
    assert_error(api.post("/groups", {"name": "Bradford North"}), 422, "validation_failed")
    other = token_client(factories.staff([Perm.ADM_ADD, Perm.ADM_EDIT, Perm.ADM_DELETE]))
    assert other.get("/groups").json()["count"] == 1
    assert_error(other.post("/groups", {"name": "York"}), 403, "permission_denied")
    assert_error(other.delete(f"/groups/{group_id}"), 403, "permission_denied")
    assert api.delete(f"/groups/{group_id}").status_code == 204


def test_any_staff_user_may_edit_a_learner_they_can_see(db: None) -> None:
    learner = factories.learner()
    response = token_client(factories.staff()).patch(f"/learners/{learner.pk}", {"first_name": "Jo"})
    assert response.status_code == 200
    assert response.json()["first_name"] == "Jo"


def test_a_user_who_sees_some_groups_keeps_the_learners_other_memberships(db: None) -> None:
    mine, other_mine, theirs = (Group.objects.create(name=n) for n in ("Mine", "Also mine", "Theirs"))
    learner = factories.learner(groups=[mine, theirs])
    api = token_client(factories.staff(all_groups=False, groups=[mine, other_mine]))
    response = api.patch(f"/learners/{learner.pk}", {"group_ids": [other_mine.pk]})
    assert response.status_code == 200, response.content
    assert sorted(response.json()["group_ids"]) == sorted([other_mine.pk, theirs.pk])
