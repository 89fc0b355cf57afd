"""Query budgets: the grid and the learner record cost the same number of queries however much data there is."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.web.conftest import logged_in
from waypoint.people.models import Group, Perm
from waypoint.plans.models import Component
from waypoint.plans.services import component_update
from waypoint.programmes.models import ComponentTemplate, ComponentType

pytestmark = pytest.mark.django_db

LEARNER_LIST_BUDGET = 11
LEARNER_RECORD_BUDGET = 10  # 9 + the attainments section (one query)


def _queries(client: Client, url: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured.captured_queries)


def test_learner_list_costs_the_same_for_30_and_60_learners(client: Client, django_assert_max_num_queries: Any) -> None:
    group = Group.objects.create(name="Cohort")
    logged_in(client, all_groups=False, groups=[group])
    programme = factories.programme(templates=1, review=False)
    employer = factories.employer()
    tutor = factories.staff()
    for _ in range(30):
        factories.enrolment(factories.learner(groups=[group], employer=employer, tutor=tutor), programme)
    filters = {"programme": programme.pk, "group": group.pk, "q": "Alex"}
    at_30 = _queries(client, "/learners/", filters)
    for _ in range(30):
        factories.enrolment(factories.learner(groups=[group], employer=employer, tutor=tutor), programme)
    at_60 = _queries(client, "/learners/", filters)
    assert at_30 == at_60
    with django_assert_max_num_queries(LEARNER_LIST_BUDGET):
        response = client.get("/learners/", filters)
    assert response.context["page"].paginator.count == 60
    assert len(response.context["page"].object_list) == 50


def test_learner_list_without_filters_stays_in_budget(client: Client, django_assert_max_num_queries: Any) -> None:
    logged_in(client)
    for _ in range(60):
        factories.enrolment()
    with django_assert_max_num_queries(LEARNER_LIST_BUDGET):
        client.get("/learners/")


def test_learner_record_costs_the_same_however_many_components(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    url = f"/learners/{enrolment.learner_id}/"
    client.get(url)  # the visit starts on the first request; measure the pages after it
    few = _queries(client, url)
    template = ComponentTemplate.objects.filter(programme=enrolment.programme).first()
    assert template is not None
    Component.objects.bulk_create(
        Component(
            learner_id=enrolment.learner_id,
            enrolment=enrolment,
            position=100 + i,
            name=f"Extra {i}",
            type=ComponentType.ASSESSMENT if i % 2 else ComponentType.EXAM,
        )
        for i in range(40)
    )
    Component.objects.filter(enrolment=enrolment, template=template).delete()  # one to re-add
    many = _queries(client, url)
    assert few == many
    with django_assert_max_num_queries(LEARNER_RECORD_BUDGET):
        client.get(url)


def test_journal_page_costs_the_same_however_many_changes(client: Client) -> None:
    logged_in(client)
    component = factories.component()
    url = f"/learners/{component.learner_id}/journal/"
    client.get(url)
    admin = factories.staff([Perm.SUPERVISOR])
    component_update(component=component, by=admin, changes={"name": "One", "owner": admin.pk}, visit_id=None)
    few = _queries(client, url)
    for i in range(20):
        owner = factories.staff()
        component_update(component=component, by=admin, changes={"name": f"N{i}", "owner": owner.pk}, visit_id=None)
    assert _queries(client, url) == few
