"""The Learning Plan term professionals see (R-CUR-12)."""

import pytest
from django.template import Context, Template

from tests import factories
from tests.curriculum import factories as cf
from waypoint.core.errors import PermissionRefused, ValidationFailed
from waypoint.curriculum.terms import plan_term, term_update

pytestmark = pytest.mark.django_db

PAGE = Template("{% load curriculum_terms %}My {% plan_term plural=True %} · {% plan_term lower=True %}")


def test_professionals_see_learning_plan_until_it_is_renamed_r_cur_12() -> None:
    assert plan_term() == "Learning Plan"
    assert PAGE.render(Context()) == "My Learning Plans · learning plan"


def test_a_supervisor_renames_the_term_professional_pages_show_r_cur_12() -> None:
    term_update(value="  Pathway ", by=cf.supervisor())
    term_update(value="Journey", by=cf.supervisor())

    assert plan_term() == "Journey"
    assert PAGE.render(Context()) == "My Journeys · journey"


def test_a_term_of_twenty_characters_is_accepted_and_longer_is_refused_r_cur_12() -> None:
    term_update(value="x" * 20, by=cf.supervisor())

    with pytest.raises(ValidationFailed) as caught:
        term_update(value="Professional Pathway!", by=cf.supervisor())

    assert caught.value.fields == {"value": ["The term may be at most 20 characters; this one has 21."]}
    assert plan_term() == "x" * 20


def test_an_empty_term_is_refused_r_cur_12() -> None:
    with pytest.raises(ValidationFailed):
        term_update(value="   ", by=cf.supervisor())


def test_only_a_supervisor_may_rename_the_term_r_cur_12() -> None:
    with pytest.raises(PermissionRefused):
        term_update(value="Pathway", by=factories.staff())

    assert plan_term() == "Learning Plan"


def test_the_term_is_read_and_renamed_over_the_api_r_cur_12() -> None:
    from tests.api.conftest import token_client

    api = token_client(cf.supervisor())
    assert api.get("/learning-plan-term").json() == {
        "value": "Learning Plan",
        "admin_term": "Learning Plan",
        "max_length": 20,
    }

    renamed = api.client.put("/api/v1/learning-plan-term", data='{"value": "Pathway"}', content_type="application/json")
    assert renamed.json()["value"] == "Pathway"
    too_long = api.client.put(
        "/api/v1/learning-plan-term", data='{"value": "A very long term indeed"}', content_type="application/json"
    )
    assert too_long.status_code == 422
    assert too_long.json()["fields"] == {"value": ["The term may be at most 20 characters; this one has 23."]}
