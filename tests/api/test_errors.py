"""Every error is JSON `{code, message, fields}`; bad input is never a 500."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from waypoint.people.models import Perm

pytestmark = pytest.mark.django_db


def test_malformed_json_is_answered_400_invalid_input(api: ApiClient) -> None:
    body = assert_error(api.post("/learners", raw="{not json"), 400, "invalid_input")
    assert "JSON" in body["message"]


def test_a_wrong_type_is_answered_422_invalid_input_naming_the_field(api: ApiClient) -> None:
    body = assert_error(api.post("/learners", {"first_name": "A", "surname": 5}), 422, "invalid_input")
    assert "surname" in body["fields"]


def test_a_missing_required_field_is_named(api: ApiClient) -> None:
    body = assert_error(api.post("/learners", {"first_name": "A"}), 422, "invalid_input")
    assert body["fields"]["surname"] == ["Field required"]


def test_an_invalid_uln_is_refused_with_the_check_digit_rule(api: ApiClient) -> None:  # R-CORE-1
    body = assert_error(
        api.post("/learners", {"first_name": "A", "surname": "B", "uln": "1234567890"}), 422, "validation_failed"
    )
    assert "check digit" in body["fields"]["uln"][0]


def test_an_unknown_sex_or_ethnicity_code_is_refused(api: ApiClient) -> None:  # R-CORE-1
    body = assert_error(
        api.post("/learners", {"first_name": "A", "surname": "B", "sex": "X", "ethnicity": 12}), 422, "invalid_input"
    )
    assert set(body["fields"]) == {"sex", "ethnicity"}


def test_an_invalid_date_is_refused(api: ApiClient) -> None:
    body = assert_error(
        api.post("/learners", {"first_name": "A", "surname": "B", "date_of_birth": "2004-02-30"}), 422, "invalid_input"
    )
    assert "date_of_birth" in body["fields"]


def test_an_unknown_id_is_answered_404_not_found(api: ApiClient) -> None:
    for path in ("/learners/987654", "/employers/987654", "/managers/987654", "/groups/987654", "/programmes/987654"):
        assert_error(api.get(path), 404, "not_found")


def test_an_unknown_path_under_the_api_is_a_json_404(api: ApiClient) -> None:
    assert_error(api.get("/no/such/thing"), 404, "not_found")


def test_a_page_past_the_end_is_empty_and_a_huge_page_is_refused(api: ApiClient) -> None:
    factories.learner()
    assert api.get("/learners", page=10**12).json()["items"] == []
    assert_error(api.get("/learners", page=10**30), 422, "invalid_input")
    assert_error(api.get("/learners", page_size=201), 422, "invalid_input")
    assert_error(api.get("/learners", page=0), 422, "invalid_input")


def test_null_for_a_required_attribute_in_a_patch_is_refused(api: ApiClient) -> None:
    learner = factories.learner()
    body = assert_error(api.patch(f"/learners/{learner.pk}", {"surname": None}), 422, "invalid_input")
    assert "surname" in body["message"]


def test_an_unknown_field_is_ignored_rather_than_half_applied(api: ApiClient) -> None:
    learner = factories.learner()
    response = api.patch(f"/learners/{learner.pk}", {"surname": "Okafor", "shoe_size": 9})
    assert response.status_code == 200
    assert response.json()["surname"] == "Okafor"


JUNK: list[Any] = [
    None,
    [],
    "text",
    0,
    -1,
    10**40,
    1.5,
    True,
    {"": ""},
    {"first_name": "\x00"},
    {"first_name": "x" * 10_000, "surname": "y"},
    {"first_name": "A", "surname": "B", "uln": "\uff19" * 10},
    {"first_name": "A", "surname": "B", "employer_id": 10**30},
    {"first_name": "A", "surname": "B", "employer_id": 424242},
    {"first_name": "A", "surname": "B", "group_ids": [424242]},
    {"first_name": "A", "surname": "B", "date_of_birth": "yesterday"},
    {"programme_id": "x", "start_date": "2026-13-01"},
    {"programme_id": 424242, "start_date": "2026-09-01", "planned_end_date": "2025-01-01"},
    {"name": "", "type": "nope"},
    {"status": "finished", "due_date": "31/12/2026", "owner_id": -5},
    {"revision": "latest"},
    {"template_id": 424242},
    {"criteria_mappings": "K1", "documents": [1, 2]},
]


@pytest.fixture
def world(supervisor: Any) -> dict[str, int]:
    learner = factories.learner()
    enrolment = factories.enrolment(learner)
    component = enrolment.components.first()
    assert component is not None
    return {"learner": learner.pk, "enrolment": enrolment.pk, "component": component.pk}


def _write_paths(w: dict[str, int]) -> list[tuple[str, str]]:
    learner, enrolment, component = w["learner"], w["enrolment"], w["component"]
    return [
        ("post", "/learners"),
        ("patch", f"/learners/{learner}"),
        ("post", "/employers"),
        ("post", "/managers"),
        ("post", "/groups"),
        ("post", "/programmes"),
        ("post", f"/learners/{learner}/enrolments"),
        ("patch", f"/learners/{learner}/enrolments/{enrolment}"),
        ("post", f"/learners/{learner}/enrolments/{enrolment}/components"),
        ("post", f"/learners/{learner}/enrolments/{enrolment}/components/readd"),
        ("patch", f"/learners/{learner}/components/{component}"),
        ("post", f"/learners/{learner}/components/{component}/review/schedule"),
    ]


def _assert_handled(response: Any) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "fields"}


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_bodies_on_every_write_endpoint_are_refused_cleanly(
    api: ApiClient, world: dict[str, int], junk: Any
) -> None:
    for method, path in _write_paths(world):
        _assert_handled(getattr(api, method)(path, raw=json.dumps(junk)))


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page_size": "-1"},
        {"programme_id": "1e9"},
        {"group_id": str(10**40)},
        {"tutor_id": "x"},
        {"search": "\x00"},
        {"status": "s" * 500},
        {"type": "nope"},
        {"enrolment_id": "0"},
    ],
    ids=repr,
)
def test_junk_query_parameters_on_list_endpoints_are_refused_cleanly(
    api: ApiClient, world: dict[str, int], params: dict[str, str]
) -> None:
    for path in (
        "/learners",
        "/employers",
        "/managers",
        "/groups",
        "/programmes",
        f"/learners/{world['learner']}/components",
        f"/learners/{world['learner']}/journal",
    ):
        _assert_handled(api.get(path, **params))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=8,
)
field_names = st.sampled_from(
    [
        "first_name",
        "surname",
        "uln",
        "sex",
        "ethnicity",
        "employer_id",
        "manager_id",
        "tutor_id",
        "group_ids",
        "date_of_birth",
        "name",
        "type",
        "status",
        "due_date",
        "owner_id",
        "revision",
        "review_type",
        "min_evidence",
        "criteria_mappings",
        "programme_id",
        "start_date",
        "planned_end_date",
        "template_id",
        "starts_at",
        "code",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(field_names, json_values, max_size=5))
def test_arbitrary_json_bodies_never_cause_a_server_error(world: dict[str, int], body: dict[str, Any]) -> None:
    api = token_client(factories.staff([Perm.SUPERVISOR]))
    for method, path in _write_paths(world):
        _assert_handled(getattr(api, method)(path, raw=json.dumps(body)))
