"""A tracker's details, checked per kind without the database."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from waypoint.automation.details import FIELDS, details_clean
from waypoint.automation.models import TrackerKind


def test_dates_become_iso_text_and_ids_stay_numbers() -> None:
    clean, errors = details_clean(
        TrackerKind.CHANGE_OF_EMPLOYER, {"employer": 3, "manager": 7, "effective_date": dt.date(2027, 1, 4)}
    )
    assert errors == {}
    assert clean == {"employer": 3, "manager": 7, "effective_date": "2027-01-04"}


def test_every_required_detail_is_named_when_missing() -> None:
    _, errors = details_clean(TrackerKind.CHANGE_OF_PROGRAMME, {})
    assert errors == {
        "details.programme": ["Required."],
        "details.start_date": ["Required."],
        "details.planned_end_date": ["Required."],
    }


def test_details_of_another_kind_are_refused() -> None:
    _, errors = details_clean(
        TrackerKind.WITHDRAWAL, {"effective_date": "2027-01-04", "withdraw_reason": 3, "employer": 1}
    )
    assert errors == {"details.employer": ["Not a detail of a withdrawal from learning."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("effective_date", "04/01/2027"),
        ("effective_date", "2027-02-30"),
        ("effective_date", 20270104),
        ("withdraw_reason", "3"),
        ("withdraw_reason", True),
        ("withdraw_reason", 3.5),
    ],
)
def test_a_detail_of_the_wrong_type_is_refused(field: str, value: object) -> None:
    details: dict[str, object] = {"effective_date": "2027-01-04", "withdraw_reason": 3, field: value}
    _, errors = details_clean(TrackerKind.WITHDRAWAL, details)
    assert list(errors) == [f"details.{field}"]


def test_a_break_needs_a_reason_that_is_not_blank_and_not_too_long() -> None:
    _, blank = details_clean(TrackerKind.BREAK_IN_LEARNING, {"effective_date": "2027-01-04", "reason": "   "})
    assert blank == {"details.reason": ["Required."]}
    _, long = details_clean(TrackerKind.BREAK_IN_LEARNING, {"effective_date": "2027-01-04", "reason": "x" * 201})
    assert long == {"details.reason": ["At most 200 characters."]}


def test_working_hours_are_more_than_none_and_at_most_a_week() -> None:
    for hours, ok in ((0, False), (37.5, True), (168, True), (169, False), (-1, False)):
        _, errors = details_clean(
            TrackerKind.CHANGE_OF_WORKING_CONDITIONS, {"effective_date": "2027-01-04", "hours_per_week": hours}
        )
        assert (errors == {}) is ok, hours


def test_an_id_is_a_positive_whole_number() -> None:
    _, errors = details_clean(
        TrackerKind.CHANGE_OF_PROGRAMME, {"programme": 0, "start_date": "2027-01-04", "planned_end_date": "2028-01-04"}
    )
    assert errors == {"details.programme": ["An id is a positive whole number."]}


@given(kind=st.sampled_from(list(TrackerKind)), raw=st.dictionaries(st.text(max_size=20), st.none() | st.text()))
def test_any_input_is_either_clean_or_named_field_by_field(kind: TrackerKind, raw: dict[str, object]) -> None:
    clean, errors = details_clean(kind, raw)
    assert set(clean) <= set(FIELDS[kind])
    assert all(name.startswith("details.") and messages for name, messages in errors.items())
    if not errors:
        assert {name for name, spec in FIELDS[kind].items() if spec.required} <= set(clean)
