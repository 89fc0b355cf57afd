"""R-SYNC-12 through the pages: opening a learner record starts a visit, pages inside it keep it,
leaving the record ends it."""

import pytest
from django.test import Client

from tests import factories
from tests.web.conftest import form_values, logged_in
from waypoint.plans.models import Component, ComponentChange, RecordVisit

pytestmark = pytest.mark.django_db


def test_a_record_visit_lasts_while_the_admin_stays_inside_the_record(client: Client) -> None:
    admin = logged_in(client)
    component = factories.component()
    learner_id = component.learner_id
    other = factories.learner()

    client.get(f"/learners/{learner_id}/")
    first = RecordVisit.objects.get(admin=admin)
    assert first.is_open

    client.get(f"/learners/{learner_id}/journal/")
    client.get(f"/learners/{learner_id}/components/{component.pk}/edit/")
    client.post(f"/learners/{learner_id}/components/{component.pk}/edit/", {**form_values(component), "name": "A"})
    client.get(f"/learners/{learner_id}/?type=learning_activity")
    assert RecordVisit.objects.filter(admin=admin).count() == 1
    assert ComponentChange.objects.get(component=component).visit_id == first.pk

    client.get("/")
    first.refresh_from_db()
    assert not first.is_open

    client.get(f"/learners/{other.pk}/")
    second = RecordVisit.objects.exclude(pk=first.pk).get(admin=admin)
    assert second.learner_id == other.pk
    assert second.is_open


def test_opening_another_learner_directly_ends_the_first_visit(client: Client) -> None:
    admin = logged_in(client)
    a, b = factories.learner(), factories.learner()
    client.get(f"/learners/{a.pk}/")
    client.get(f"/learners/{b.pk}/")
    visits = {v.learner_id: v for v in RecordVisit.objects.filter(admin=admin)}
    assert not visits[a.pk].is_open
    assert visits[b.pk].is_open


def test_returning_to_the_same_learner_after_leaving_starts_a_new_visit(client: Client) -> None:
    admin = logged_in(client)
    component = factories.component()
    learner_id = component.learner_id

    client.get(f"/learners/{learner_id}/")
    client.post(f"/learners/{learner_id}/components/{component.pk}/edit/", {**form_values(component), "name": "A"})
    client.get("/learners/")
    client.get(f"/learners/{learner_id}/")
    component.refresh_from_db()
    client.post(f"/learners/{learner_id}/components/{component.pk}/edit/", {**form_values(component), "name": "B"})

    visits = list(RecordVisit.objects.filter(admin=admin).order_by("pk"))
    assert len(visits) == 2
    changes = ComponentChange.objects.filter(component=component).order_by("pk")
    assert [c.visit_id for c in changes] == [visits[0].pk, visits[1].pk]


def test_the_htmx_grid_reload_does_not_end_a_visit(client: Client) -> None:
    admin = logged_in(client)
    learner = factories.learner()
    client.get(f"/learners/{learner.pk}/")
    client.get("/learners/", headers={"HX-Request": "true", "HX-Target": "learner-grid"})
    assert RecordVisit.objects.get(admin=admin).is_open


def test_the_journal_marks_the_changes_of_this_visit(client: Client) -> None:
    logged_in(client)
    component = factories.component()
    learner_id = component.learner_id
    client.get(f"/learners/{learner_id}/")
    client.post(f"/learners/{learner_id}/components/{component.pk}/edit/", {**form_values(component), "name": "A"})
    response = client.get(f"/learners/{learner_id}/journal/")
    assert response.context["visit_id"] == ComponentChange.objects.get().visit_id
    assert Component.objects.get(pk=component.pk).name == "A"
