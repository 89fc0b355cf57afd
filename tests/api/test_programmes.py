"""Programmes, sub-programmes and their ordered templates over the API (R-CORE-2)."""

import pytest

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from waypoint.people.models import Perm
from waypoint.programmes.models import ComponentTemplate, Programme

pytestmark = pytest.mark.django_db


def test_a_programme_is_read_with_its_sub_programmes_and_ordered_templates(api: ApiClient) -> None:
    parent = factories.programme(templates=2)
    factories.programme(templates=3, parent=parent)
    body = api.get(f"/programmes/{parent.pk}").json()
    assert [t["position"] for t in body["templates"]] == [1, 2]
    assert len(body["sub_programmes"]) == 1
    assert [t["position"] for t in body["sub_programmes"][0]["templates"]] == [1, 2, 3]


def test_programmes_are_listed_and_searched(api: ApiClient) -> None:
    parent = factories.programme()
    factories.programme(parent=parent)
    assert api.get("/programmes").json()["count"] == 2
    assert api.get("/programmes", top_level_only=True).json()["count"] == 1
    assert api.get("/programmes", search=parent.code).json()["items"][0]["id"] == parent.pk


def test_a_supervisor_creates_and_updates_a_programme_and_a_sub_programme(api: ApiClient) -> None:
    created = api.post(
        "/programmes", {"name": "Software Developer L4", "code": "SD4", "epao_id": "EPA0042", "criteria": ["K1", "S1"]}
    )
    assert created.status_code == 201, created.content
    parent_id = created.json()["id"]
    sub = api.post("/programmes", {"name": "SD4 Pathway A", "code": "SD4A", "parent_id": parent_id})
    assert sub.status_code == 201
    assert api.patch(f"/programmes/{parent_id}", {"standard_code": "ST0116"}).json()["standard_code"] == "ST0116"
    assert api.get(f"/programmes/{parent_id}").json()["sub_programmes"][0]["code"] == "SD4A"


def test_a_bad_epao_id_a_taken_code_and_a_nested_sub_programme_are_refused(api: ApiClient) -> None:  # R-CORE-2
    parent = factories.programme()
    sub = factories.programme(parent=parent)
    assert (
        "epao_id"
        in assert_error(
            api.post("/programmes", {"name": "X", "code": "X1", "epao_id": "EPA1"}), 422, "validation_failed"
        )["fields"]
    )
    assert (
        "code"
        in assert_error(api.post("/programmes", {"name": "X", "code": parent.code}), 422, "validation_failed")["fields"]
    )
    assert (
        "parent"
        in assert_error(
            api.post("/programmes", {"name": "X", "code": "X2", "parent_id": sub.pk}), 422, "validation_failed"
        )["fields"]
    )


def test_template_components_are_added_in_order_updated_and_deleted(api: ApiClient) -> None:
    programme = factories.programme(templates=2)
    added = api.post(
        f"/programmes/{programme.pk}/templates", {"name": "Gateway review", "type": "review", "review_type": "gateway"}
    )
    assert added.status_code == 201, added.content
    assert added.json()["position"] == 3
    template_id = added.json()["id"]
    assert (
        api.patch(f"/programmes/{programme.pk}/templates/{template_id}", {"due_offset_days": 400}).json()[
            "due_offset_days"
        ]
        == 400
    )
    assert [t["position"] for t in api.get(f"/programmes/{programme.pk}/templates").json()] == [1, 2, 3]
    assert api.delete(f"/programmes/{programme.pk}/templates/{template_id}").status_code == 204
    assert not ComponentTemplate.objects.filter(pk=template_id).exists()


def test_a_review_template_needs_a_review_type_and_positions_are_unique(api: ApiClient) -> None:
    programme = factories.programme(templates=1)
    assert_error(
        api.post(f"/programmes/{programme.pk}/templates", {"name": "R", "type": "review"}), 422, "validation_failed"
    )
    assert_error(
        api.post(f"/programmes/{programme.pk}/templates", {"name": "A", "type": "exam", "position": 1}),
        422,
        "validation_failed",
    )


def test_a_template_of_another_programme_is_not_found(api: ApiClient) -> None:
    one, other = factories.programme(), factories.programme()
    template = ComponentTemplate.objects.filter(programme=other).first()
    assert template is not None
    assert_error(api.get(f"/programmes/{one.pk}/templates/{template.pk}"), 404, "not_found")


def test_programmes_and_templates_are_changed_by_supervisors_only(db: None) -> None:
    programme = factories.programme()
    api = token_client(factories.staff([Perm.COMPLIANCE_QA, Perm.ADM_ADD, Perm.ADM_EDIT]))
    assert api.get(f"/programmes/{programme.pk}").status_code == 200
    assert_error(api.post("/programmes", {"name": "X", "code": "X"}), 403, "permission_denied")
    assert_error(api.patch(f"/programmes/{programme.pk}", {"name": "Y"}), 403, "permission_denied")
    assert_error(
        api.post(f"/programmes/{programme.pk}/templates", {"name": "A", "type": "exam"}), 403, "permission_denied"
    )


def test_a_programme_with_enrolments_cannot_be_deleted(api: ApiClient) -> None:
    programme = factories.programme()
    factories.enrolment(programme_=programme)
    assert_error(api.delete(f"/programmes/{programme.pk}"), 409, "conflict")
    spare = factories.programme()
    assert api.delete(f"/programmes/{spare.pk}").status_code == 204
    assert not Programme.objects.filter(pk=spare.pk).exists()
