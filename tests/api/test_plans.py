"""Enrolments, learners' plan components and the journal over the API."""

import pytest
from django.test import Client

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from waypoint.people.models import Group, Perm
from waypoint.plans.models import Component, ComponentChange, RecordVisit
from waypoint.plans.permissions import Refusal
from waypoint.plans.visits import SESSION_KEY
from waypoint.programmes.models import ComponentType

pytestmark = pytest.mark.django_db


def test_enrolling_a_learner_builds_the_plan_from_the_template(api: ApiClient) -> None:  # R-CORE-3, R-CORE-4
    learner, programme = factories.learner(), factories.programme(templates=4)
    response = api.post(
        f"/learners/{learner.pk}/enrolments",
        {"programme_id": programme.pk, "start_date": "2026-09-01", "planned_end_date": "2028-02-28"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["programme"]["id"] == programme.pk
    assert Component.objects.filter(learner=learner).count() == 4
    assert [e["id"] for e in api.get(f"/learners/{learner.pk}/enrolments").json()] == [response.json()["id"]]


def test_enrolling_on_a_programme_enrols_on_its_sub_programmes_too(api: ApiClient) -> None:  # R-CORE-2
    learner, parent = factories.learner(), factories.programme(templates=1)
    factories.programme(templates=2, parent=parent)
    api.post(
        f"/learners/{learner.pk}/enrolments",
        {"programme_id": parent.pk, "start_date": "2026-09-01", "planned_end_date": "2028-02-28"},
    )
    assert len(api.get(f"/learners/{learner.pk}/enrolments").json()) == 2
    assert api.get(f"/learners/{learner.pk}/components", programme_id=parent.pk).json()["count"] == 3


def test_enrolling_twice_and_ending_before_starting_are_refused(api: ApiClient) -> None:
    enrolment = factories.enrolment()
    path = f"/learners/{enrolment.learner_id}/enrolments"
    again = {"programme_id": enrolment.programme_id, "start_date": "2026-09-01", "planned_end_date": "2028-01-01"}
    assert_error(api.post(path, again), 409, "conflict")
    backwards = {"programme_id": factories.programme().pk, "start_date": "2026-09-01", "planned_end_date": "2025-01-01"}
    assert "planned_end_date" in assert_error(api.post(path, backwards), 422, "validation_failed")["fields"]


def test_enrolment_dates_and_status_are_changed(api: ApiClient) -> None:  # R-CORE-3
    enrolment = factories.enrolment()
    response = api.patch(
        f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}",
        {"status": "break_in_learning", "epa_period_start": "2028-01-01", "epa_period_end": "2028-03-01"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "break_in_learning"
    assert_error(
        api.patch(f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}", {"status": "paused"}),
        422,
        "invalid_input",
    )


def test_enrolling_needs_adm_add_supervisor_or_compliance_qa(db: None) -> None:
    learner, programme = factories.learner(), factories.programme()
    body = {"programme_id": programme.pk, "start_date": "2026-09-01", "planned_end_date": "2028-02-28"}
    assert_error(
        token_client(factories.staff([Perm.ADM_EDIT])).post(f"/learners/{learner.pk}/enrolments", body),
        403,
        "permission_denied",
    )
    assert (
        token_client(factories.staff([Perm.ADM_ADD])).post(f"/learners/{learner.pk}/enrolments", body).status_code
        == 201
    )


def test_components_are_listed_in_plan_order_and_filtered_by_type(api: ApiClient) -> None:
    enrolment = factories.enrolment()
    path = f"/learners/{enrolment.learner_id}/components"
    everything = api.get(path).json()
    assert [c["position"] for c in everything["items"]] == [1, 2, 3]
    reviews = api.get(path, type="review").json()
    assert reviews["count"] == 1
    assert reviews["items"][0]["review"]["status"] == "not_scheduled"
    assert api.get(path, enrolment_id=enrolment.pk).json()["count"] == 3
    assert api.get(path, programme_id=factories.programme().pk).json()["count"] == 0


def test_a_component_of_another_learner_is_not_found(api: ApiClient) -> None:
    component, stranger = factories.component(), factories.learner()
    assert_error(api.get(f"/learners/{stranger.pk}/components/{component.pk}"), 404, "not_found")
    assert_error(api.patch(f"/learners/{stranger.pk}/components/{component.pk}", {"name": "X"}), 404, "not_found")


def test_a_component_is_updated_and_journalled(api: ApiClient, supervisor: object) -> None:  # R-CORE-9
    component = factories.component()
    path = f"/learners/{component.learner_id}/components/{component.pk}"
    response = api.patch(path, {"due_date": "2027-01-31", "planned_for_qa": True, "revision": component.revision})
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == component.revision + 1
    journal = api.get(f"/learners/{component.learner_id}/journal").json()
    assert {c["field"] for c in journal["items"]} == {"due_date", "planned_for_qa"}
    assert journal["items"][0]["by"]["id"] == supervisor.pk  # type: ignore[attr-defined]


def test_a_stale_revision_is_answered_409(api: ApiClient) -> None:
    component = factories.component()
    path = f"/learners/{component.learner_id}/components/{component.pk}"
    assert api.patch(path, {"name": "First", "revision": component.revision}).status_code == 200
    assert_error(api.patch(path, {"name": "Second", "revision": component.revision}), 409, "conflict")


def test_a_component_is_added_by_hand_deleted_and_a_template_one_readded(api: ApiClient) -> None:  # R-CORE-7
    enrolment = factories.enrolment()
    base = f"/learners/{enrolment.learner_id}"
    added = api.post(
        f"{base}/enrolments/{enrolment.pk}/components", {"name": "Extra maths", "type": "learning_activity"}
    )
    assert added.status_code == 201, added.content
    assert added.json()["template_id"] is None
    templated = enrolment.components.exclude(template=None).first()
    assert templated is not None
    assert templated.template_id is not None
    assert api.delete(f"{base}/components/{templated.pk}").status_code == 204
    removed = api.get(f"{base}/enrolments/{enrolment.pk}/removed-templates").json()
    assert [t["id"] for t in removed] == [templated.template_id]
    readded = api.post(f"{base}/enrolments/{enrolment.pk}/components/readd", {"template_id": templated.template_id})
    assert readded.status_code == 201
    assert readded.json()["template_id"] == templated.template_id
    assert_error(
        api.post(f"{base}/enrolments/{enrolment.pk}/components/readd", {"template_id": templated.template_id}),
        409,
        "conflict",
    )


def test_a_review_is_scheduled(api: ApiClient) -> None:  # R-CORE-6
    enrolment = factories.enrolment()
    review = enrolment.components.get(type=ComponentType.REVIEW)
    response = api.post(
        f"/learners/{enrolment.learner_id}/components/{review.pk}/review/schedule",
        {"starts_at": "2026-10-01T10:00:00+01:00"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    naive = api.post(
        f"/learners/{enrolment.learner_id}/components/{review.pk}/review/schedule", {"starts_at": "2026-10-01T10:00:00"}
    )
    assert_error(naive, 422, "validation_failed")


@pytest.mark.parametrize(
    ("perms", "status", "refusal"),
    [
        ((), "not_started", Refusal.EDIT),  # R-SYNC-23
        ((Perm.ADM_ADD, Perm.ADM_DELETE), "in_progress", Refusal.EDIT),  # R-SYNC-23
        ((Perm.ADM_EDIT,), "completed", Refusal.EDIT_FINISHED),  # R-SYNC-23
        ((Perm.INTERNAL_VERIFIER,), "not_started", Refusal.EDIT),  # R-SYNC-21: only Planned for QA
    ],
)
def test_an_edit_without_the_permission_is_refused_403_with_the_reason(
    db: None, perms: tuple[Perm, ...], status: str, refusal: Refusal
) -> None:
    component = factories.component(status)
    response = token_client(factories.staff(perms)).patch(
        f"/learners/{component.learner_id}/components/{component.pk}", {"name": "Renamed"}
    )
    assert assert_error(response, 403, "permission_denied")["message"] == refusal.message
    component.refresh_from_db()
    assert component.name != "Renamed"


@pytest.mark.parametrize("status", ["not_started", "completed"])
def test_an_internal_verifier_may_set_planned_for_qa_in_any_status(db: None, status: str) -> None:  # R-SYNC-21
    component = factories.component(status)
    api = token_client(factories.staff([Perm.INTERNAL_VERIFIER]))
    response = api.patch(f"/learners/{component.learner_id}/components/{component.pk}", {"planned_for_qa": True})
    assert response.status_code == 200
    assert response.json()["planned_for_qa"] is True


def test_editing_a_finished_component_with_adm_edit_and_edit_delete_finished_is_allowed(db: None) -> None:  # R-SYNC-23
    component = factories.component("completed")
    api = token_client(factories.staff([Perm.ADM_EDIT, Perm.EDIT_DELETE_FINISHED]))
    assert (
        api.patch(f"/learners/{component.learner_id}/components/{component.pk}", {"name": "Renamed"}).status_code == 200
    )


@pytest.mark.parametrize(
    ("perm", "allowed"), [(Perm.COMPLIANCE_QA, True), (Perm.SUPERVISOR, True), (Perm.ADM_EDIT, False)]
)
def test_adding_or_readding_needs_adm_add_supervisor_or_compliance_qa(
    db: None, perm: Perm, allowed: bool
) -> None:  # R-SYNC-20, R-SYNC-22
    enrolment = factories.enrolment()
    response = token_client(factories.staff([perm])).post(
        f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/components", {"name": "Extra", "type": "exam"}
    )
    if allowed:
        assert response.status_code == 201
    else:
        assert assert_error(response, 403, "permission_denied")["message"] == Refusal.ADD.message


@pytest.mark.parametrize(
    ("perms", "status", "refusal"),
    [
        ((Perm.ADM_EDIT,), "not_started", Refusal.DELETE),  # R-SYNC-24
        ((Perm.ADM_DELETE,), "completed", Refusal.DELETE_FINISHED),  # R-SYNC-24
        ((Perm.ADM_DELETE, Perm.EDIT_DELETE_FINISHED), "completed", None),  # R-SYNC-24
        ((Perm.COMPLIANCE_QA,), "completed", None),  # R-SYNC-20
    ],
)
def test_deleting_follows_the_permission_matrix(
    db: None, perms: tuple[Perm, ...], status: str, refusal: Refusal | None
) -> None:
    component = factories.component(status)
    response = token_client(factories.staff(perms)).delete(
        f"/learners/{component.learner_id}/components/{component.pk}"
    )
    if refusal is None:
        assert response.status_code == 204
    else:
        assert assert_error(response, 403, "permission_denied")["message"] == refusal.message
        assert Component.objects.filter(pk=component.pk).exists()


def test_a_change_made_with_the_session_belongs_to_the_open_record_visit(db: None) -> None:  # R-SYNC-12
    component = factories.component()
    user = factories.staff([Perm.SUPERVISOR])
    visit = RecordVisit.objects.create(admin=user, learner_id=component.learner_id)
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = {"id": visit.pk, "learner": component.learner_id}
    session.save()
    response = ApiClient(client).patch(
        f"/learners/{component.learner_id}/components/{component.pk}", {"name": "Renamed"}
    )
    assert response.status_code == 200, response.content
    assert ComponentChange.objects.get(component_id=component.pk).visit_id == visit.pk


def test_a_change_made_with_a_token_has_no_record_visit(api: ApiClient) -> None:  # R-SYNC-12
    component = factories.component()
    api.patch(f"/learners/{component.learner_id}/components/{component.pk}", {"name": "Renamed"})
    assert ComponentChange.objects.get(component_id=component.pk).visit_id is None


def test_the_plan_of_a_learner_outside_the_users_groups_is_not_found(db: None) -> None:  # R-CORE-8
    theirs = Group.objects.create(name="Theirs")
    learner = factories.learner(groups=[theirs])
    enrolment = factories.enrolment(learner)
    component = enrolment.components.first()
    assert component is not None
    api = token_client(factories.staff([Perm.SUPERVISOR], all_groups=False, groups=[Group.objects.create(name="Mine")]))
    assert_error(api.get(f"/learners/{learner.pk}/enrolments"), 404, "not_found")
    assert_error(api.get(f"/learners/{learner.pk}/journal"), 404, "not_found")
    assert_error(api.delete(f"/learners/{learner.pk}/components/{component.pk}"), 404, "not_found")
