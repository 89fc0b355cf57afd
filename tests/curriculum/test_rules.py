"""The pure rules of curricula and milestones (R-CUR-1…3), with plain values."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from waypoint.curriculum.rules import auto_registers, curriculum_problems, milestone_problems

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_auto_register_is_allowed_only_when_registration_is_enforced() -> None:
    """R-CUR-1: auto-register only when registration is Enforced."""
    assert curriculum_problems("enforced", True, False, None, None) == {}
    for other in ("non_enforced", "disabled"):
        assert set(curriculum_problems(other, True, False, None, None)) == {"auto_register"}


def test_add_to_my_learning_is_allowed_only_when_registration_is_not_enforced() -> None:
    """R-CUR-1: the Add to My Learning button only when registration is not Enforced."""
    assert curriculum_problems("non_enforced", False, True, None, None) == {}
    assert curriculum_problems("disabled", False, True, None, None) == {}
    problems = curriculum_problems("enforced", False, True, None, None)
    assert problems == {
        "add_to_my_learning": "The Add to My Learning button is only available when registration is not Enforced."
    }


def test_a_plan_must_end_after_it_starts() -> None:
    """R-CUR-1: start and end date-times are optional, but the end comes after the start."""
    assert curriculum_problems("disabled", False, False, START, START + dt.timedelta(days=1)) == {}
    assert curriculum_problems("disabled", False, False, START, None) == {}
    assert set(curriculum_problems("disabled", False, False, START, START)) == {"ends_at"}
    assert set(curriculum_problems("disabled", False, False, START, START - dt.timedelta(hours=1))) == {"ends_at"}


def test_sessions_and_credits_milestones_need_units_above_zero() -> None:
    """R-CUR-2: the units are the sessions or credits a professional must complete."""
    for metric in ("sessions", "credits"):
        assert milestone_problems(metric, 3) == {}
        assert set(milestone_problems(metric, None)) == {"units"}
        assert set(milestone_problems(metric, 0)) == {"units"}
        assert set(milestone_problems(metric, Decimal("-1"))) == {"units"}
    assert milestone_problems("credits", Decimal("2.5")) == {}
    assert set(milestone_problems("sessions", Decimal("2.5"))) == {"units"}


def test_an_elective_milestone_has_no_units() -> None:
    """R-CUR-2: metric None marks an elective milestone, which has no requirement."""
    assert milestone_problems("none", None) == {}
    assert set(milestone_problems("none", 2)) == {"units"}


def test_activities_are_linked_only_to_session_based_or_elective_milestones() -> None:
    """R-CUR-2: activities only on session-based or elective milestones."""
    assert milestone_problems("sessions", 2, ["program", "activity"]) == {}
    assert milestone_problems("none", None, ["activity"]) == {}
    assert milestone_problems("credits", 2, ["program"]) == {}
    assert set(milestone_problems("credits", 2, ["program", "activity"])) == {"programs"}


def test_five_sessions_required_with_five_linked_registers_automatically() -> None:
    """R-CUR-3: 5 required, 5 programs of one session each linked: auto-registration applies."""
    assert auto_registers("sessions", 5, 5) is True
    assert auto_registers("sessions", Decimal("5.00"), 5) is True


def test_five_sessions_required_with_six_or_four_linked_does_not_register_automatically() -> None:
    """R-CUR-3: 6 linked leaves a choice; 4 linked cannot meet the requirement; neither auto-registers."""
    assert auto_registers("sessions", 5, 6) is False
    assert auto_registers("sessions", 5, 4) is False


def test_credits_and_elective_milestones_never_register_automatically() -> None:
    """R-CUR-3: only a Sessions requirement is compared with the sessions (or activities) linked."""
    assert auto_registers("credits", 5, 5) is False
    assert auto_registers("none", None, 3) is False
    assert auto_registers("sessions", None, 0) is False


@given(units=st.integers(min_value=0, max_value=500), linked=st.integers(min_value=0, max_value=500))
def test_a_sessions_milestone_auto_registers_exactly_when_units_equal_the_linked_count(units: int, linked: int) -> None:
    """R-CUR-3, for any counts: equality, and something linked."""
    assert auto_registers("sessions", units, linked) is (units == linked and linked > 0)
    assert auto_registers("credits", units, linked) is False
