"""Changing a plan through the pages: each write goes through a service, is journalled with the record
visit, and a refusal tells the admin why."""

import datetime as dt

import pytest
from django.test import Client

from tests import factories
from tests.web.conftest import form_values, logged_in
from waypoint.people.models import Perm
from waypoint.plans.models import ChangeAction, Component, ComponentChange, RecordVisit, Review, ReviewStatus
from waypoint.plans.permissions import Refusal
from waypoint.programmes.models import ComponentType

pytestmark = pytest.mark.django_db


def _edit_url(component: Component) -> str:
    return f"/learners/{component.learner_id}/components/{component.pk}/edit/"


def test_edit_form_shows_every_editable_attribute(client: Client) -> None:
    logged_in(client)
    component = factories.component()
    html = client.get(_edit_url(component)).content.decode()
    for name in ("name", "type", "status", "due_date", "owner", "completion_mode", "criteria_mappings"):
        assert f'name="{name}"' in html
    for name in ("instructions", "evidence_required", "min_evidence", "documents", "delivery_via_organisation"):
        assert f'name="{name}"' in html
    for name in ("delivery_via_employer", "planned_for_qa", "marking_aid_exercise", "review_type", "revision"):
        assert f'name="{name}"' in html


def test_saving_the_edit_form_changes_the_component_and_journals_it_with_the_visit(client: Client) -> None:
    admin = logged_in(client, [Perm.ADM_EDIT])
    component = factories.component()
    client.get(f"/learners/{component.learner_id}/")
    visit = RecordVisit.objects.get(admin=admin, learner_id=component.learner_id)

    response = client.post(_edit_url(component), {**form_values(component), "due_date": "2027-01-15"})

    assert response.status_code == 302
    assert response["Location"] == f"/learners/{component.learner_id}/#component-{component.pk}"
    component.refresh_from_db()
    assert component.due_date == dt.date(2027, 1, 15)
    change = ComponentChange.objects.get(component=component)
    assert (change.field, change.new_value, change.by_id, change.visit_id) == (
        "due_date",
        "2027-01-15",
        admin.pk,
        visit.pk,
    )
    assert "Saved" in client.get(f"/learners/{component.learner_id}/").content.decode()


def test_an_unchanged_submit_journals_nothing(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    component = factories.component()
    response = client.post(_edit_url(component), form_values(component), follow=True)
    assert "Nothing to save" in response.content.decode()
    assert not ComponentChange.objects.filter(component=component).exists()


def test_a_stale_edit_gets_the_conflict_message(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    component = factories.component()
    stale = form_values(component)
    Component.objects.filter(pk=component.pk).update(revision=component.revision + 1)

    response = client.post(_edit_url(component), {**stale, "name": "Mine"})

    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    component.refresh_from_db()
    assert component.name != "Mine"


def test_invalid_values_from_the_service_show_beside_the_fields(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    component = factories.component()
    response = client.post(_edit_url(component), {**form_values(component), "review_type": "progress"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Only Review components have a review type." in html
    assert 'class="field-error"' in html


def test_a_refused_edit_says_why(client: Client) -> None:
    logged_in(client, [])
    component = factories.component()
    page = client.get(_edit_url(component)).content.decode()
    assert Refusal.EDIT.message in page
    assert "disabled" in page

    response = client.post(_edit_url(component), {**form_values(component), "name": "Not allowed"})

    assert response.status_code == 403
    assert Refusal.EDIT.message in response.content.decode()
    component.refresh_from_db()
    assert component.name != "Not allowed"
    assert not ComponentChange.objects.filter(component=component).exists()


def test_a_finished_component_needs_the_finished_permission(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    component = factories.component(status="completed")
    record = client.get(f"/learners/{component.learner_id}/").content.decode()
    assert Refusal.EDIT_FINISHED.message in record
    assert Refusal.EDIT_FINISHED.message in client.get(_edit_url(component)).content.decode()


def test_an_internal_verifier_may_change_only_planned_for_qa(client: Client) -> None:
    logged_in(client, [Perm.INTERNAL_VERIFIER])
    component = factories.component(status="completed")
    page = client.get(_edit_url(component)).content.decode()
    assert "As an Internal Verifier" in page

    client.post(_edit_url(component), {**form_values(component), "planned_for_qa": "on", "name": "Ignored"})

    component.refresh_from_db()
    assert component.planned_for_qa is True
    assert component.name != "Ignored"
    assert list(ComponentChange.objects.filter(component=component).values_list("field", flat=True)) == [
        "planned_for_qa"
    ]


def test_adding_a_component_by_hand(client: Client) -> None:
    admin = logged_in(client, [Perm.ADM_ADD])
    enrolment = factories.enrolment()
    url = f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/components/add/"
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "name": "Extra coaching",
            "type": ComponentType.LEARNING_ACTIVITY,
            "status": "not_started",
            "completion_mode": "tutor",
            "min_evidence": 0,
            "due_date": "2027-02-01",
        },
    )

    assert response.status_code == 302
    added = Component.objects.get(enrolment=enrolment, name="Extra coaching")
    assert added.template_id is None
    change = ComponentChange.objects.get(component=added)
    assert change.action == ChangeAction.CREATED
    assert change.by_id == admin.pk
    assert change.visit_id is not None


def test_adding_is_refused_with_the_reason_without_the_add_permission(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    enrolment = factories.enrolment()
    record = client.get(f"/learners/{enrolment.learner_id}/").content.decode()
    assert Refusal.ADD.message in record
    url = f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/components/add/"
    assert Refusal.ADD.message in client.get(url).content.decode()


def test_readding_a_removed_template_component(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    removed = Component.objects.filter(enrolment=enrolment, template__isnull=False).first()
    assert removed is not None
    template_id = removed.template_id
    client.post(f"/learners/{enrolment.learner_id}/components/{removed.pk}/delete/")
    record = client.get(f"/learners/{enrolment.learner_id}/").content.decode()
    assert "Removed template components" in record

    response = client.post(
        f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/components/readd/", {"template": template_id}
    )

    assert response.status_code == 302
    assert Component.objects.filter(enrolment=enrolment, template_id=template_id).exists()


def test_readding_without_permission_is_refused_with_the_reason(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    enrolment = factories.enrolment()
    template_id = Component.objects.filter(enrolment=enrolment).values_list("template_id", flat=True)[0]
    Component.objects.filter(enrolment=enrolment, template_id=template_id).delete()

    response = client.post(
        f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/components/readd/",
        {"template": template_id},
        follow=True,
    )

    assert Refusal.ADD.message in response.content.decode()
    assert not Component.objects.filter(enrolment=enrolment, template_id=template_id).exists()


def test_deleting_asks_for_confirmation_then_deletes_and_journals(client: Client) -> None:
    logged_in(client, [Perm.ADM_DELETE])
    component = factories.component()
    url = f"/learners/{component.learner_id}/components/{component.pk}/delete/"
    assert "Delete “" in client.get(url).content.decode()
    assert Component.objects.filter(pk=component.pk).exists()

    response = client.post(url)

    assert response.status_code == 302
    assert not Component.objects.filter(pk=component.pk).exists()
    assert ComponentChange.objects.filter(component_id=component.pk, action=ChangeAction.DELETED).exists()


def test_a_refused_delete_says_why_and_keeps_the_component(client: Client) -> None:
    logged_in(client, [Perm.ADM_DELETE])
    component = factories.component(status="completed")
    url = f"/learners/{component.learner_id}/components/{component.pk}/delete/"
    assert Refusal.DELETE_FINISHED.message in client.get(url).content.decode()

    response = client.post(url)

    assert response.status_code == 403
    assert Refusal.DELETE_FINISHED.message in response.content.decode()
    assert Component.objects.filter(pk=component.pk).exists()


def test_scheduling_a_review(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    enrolment = factories.enrolment()
    review_component = Component.objects.get(enrolment=enrolment, type=ComponentType.REVIEW)
    url = f"/learners/{enrolment.learner_id}/components/{review_component.pk}/review/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"starts_at": "2027-03-04T10:30"})

    assert response.status_code == 302
    review = Review.objects.get(component=review_component)
    assert review.status == ReviewStatus.SCHEDULED
    assert review.scheduled_at is not None
    assert review.tasks.count() >= 1


def test_only_review_components_can_be_scheduled(client: Client) -> None:
    logged_in(client)
    component = factories.component()
    assert client.get(f"/learners/{component.learner_id}/components/{component.pk}/review/").status_code == 404


def test_a_refused_add_says_why_and_adds_nothing(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    enrolment = factories.enrolment()
    url = f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/components/add/"
    values = {"name": "Sneaky", "type": "learning_activity", "status": "not_started", "completion_mode": "tutor"}

    response = client.post(url, {**values, "min_evidence": 0})

    assert response.status_code == 403
    assert Refusal.ADD.message in response.content.decode()
    assert not Component.objects.filter(name="Sneaky").exists()
