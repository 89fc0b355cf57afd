"""List endpoints use a fixed number of queries, however long the page (DESIGN: query budgets are tested)."""

from typing import Any

import pytest

from tests import factories
from tests.api.conftest import ApiClient
from waypoint.people.models import Group

pytestmark = pytest.mark.django_db

# Token lookup (+ last-used stamp), count, page, prefetches: independent of the page size.
BUDGET = 8


def _learners(n: int) -> None:
    group, employer = Group.objects.create(name=f"G{n}"), factories.employer()
    tutor = factories.staff()
    for _ in range(n):
        factories.learner(groups=[group], employer=employer, tutor=tutor)


def test_the_learner_list_costs_the_same_for_2_or_40_learners(
    api: ApiClient, django_assert_max_num_queries: Any
) -> None:
    _learners(2)
    with django_assert_max_num_queries(BUDGET):
        assert len(api.get("/learners").json()["items"]) == 2
    _learners(38)
    with django_assert_max_num_queries(BUDGET):
        assert len(api.get("/learners").json()["items"]) == 40


def test_the_component_list_costs_the_same_for_a_short_or_long_plan(
    api: ApiClient, django_assert_max_num_queries: Any
) -> None:
    short = factories.enrolment(programme_=factories.programme(templates=2))
    long = factories.enrolment(programme_=factories.programme(templates=60))
    for enrolment, expected in ((short, 2), (long, 60)):
        with django_assert_max_num_queries(BUDGET):
            assert (
                len(api.get(f"/learners/{enrolment.learner_id}/components", page_size=200).json()["items"]) == expected
            )


def test_the_programme_list_costs_the_same_however_many_programmes(
    api: ApiClient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(10):
        factories.programme(parent=factories.programme())
    with django_assert_max_num_queries(BUDGET):
        assert api.get("/programmes").json()["count"] == 20


def test_the_journal_costs_the_same_however_many_changes(api: ApiClient, django_assert_max_num_queries: Any) -> None:
    component = factories.component()
    for n in range(15):
        api.patch(f"/learners/{component.learner_id}/components/{component.pk}", {"name": f"Name {n}"})
    with django_assert_max_num_queries(BUDGET):
        assert api.get(f"/learners/{component.learner_id}/journal").json()["count"] == 15
