"""A professional's progress per milestone and in the plan, from plain values (no database)."""

import datetime as dt
from decimal import Decimal

from waypoint.curriculum.progress import (
    MilestoneFacts,
    MilestoneState,
    PlanState,
    StatusFacts,
    milestone_progress,
    plan_progress,
    requirements_from_json,
)

TODAY = dt.date(2027, 6, 1)


def sessions(milestone_id: int = 1, units: int = 2, programs: tuple[int, ...] = (10, 11, 12)) -> MilestoneFacts:
    return MilestoneFacts(milestone_id, "sessions", Decimal(units), None, {p: Decimal("1.5") for p in programs})


def one(milestone: MilestoneFacts, completed: set[int], status: StatusFacts | None = None) -> MilestoneState:
    return milestone_progress(
        milestone, status=status, assigned_units=None, completed_program_ids=frozenset(completed), today=TODAY
    ).state


def test_a_sessions_milestone_counts_completed_linked_programs_and_activities_one_each() -> None:
    """R-CUR-3: a session-based requirement counts an activity as one session; programs outside the milestone do
    not count."""
    milestone = sessions(units=2)
    assert one(milestone, set()) == MilestoneState.NOT_STARTED
    assert one(milestone, {10, 99}) == MilestoneState.IN_PROGRESS
    assert one(milestone, {10, 12}) == MilestoneState.MET


def test_a_credits_milestone_sums_the_credits_of_completed_linked_programs() -> None:
    """R-CUR-2: the units of a Credits milestone are the credits a professional must complete."""
    milestone = MilestoneFacts(1, "credits", Decimal(3), None, {10: Decimal(2), 11: Decimal("0.5"), 12: Decimal(1)})
    assert one(milestone, {10, 11}) == MilestoneState.IN_PROGRESS
    assert one(milestone, {10, 12}) == MilestoneState.MET


def test_an_elective_milestone_never_blocks_the_plan() -> None:
    """R-CUR-2: metric None is elective."""
    elective = MilestoneFacts(2, "none", None, None, {20: Decimal(1)})
    done = plan_progress(
        [sessions(units=1), elective],
        statuses={},
        requirements={},
        completed_program_ids=frozenset({10}),
        due_date=None,
        today=TODAY,
    )
    assert done.milestones[1].state == MilestoneState.ELECTIVE
    assert done.state == PlanState.COMPLETED


def test_a_waived_milestone_is_met_without_any_completion() -> None:
    """R-CUR-7: Waived withdraws the professional from the requirement."""
    assert one(sessions(), set(), StatusFacts("waived")) == MilestoneState.WAIVED
    plan = plan_progress(
        [sessions()],
        statuses={1: StatusFacts("waived")},
        requirements={},
        completed_program_ids=frozenset(),
        due_date=None,
        today=TODAY,
    )
    assert plan.state == PlanState.COMPLETED


def test_adjusted_units_and_due_date_replace_those_assigned() -> None:
    """R-CUR-7: Adjust Milestone Requirements changes the units and the due date for that person."""
    milestone = sessions(units=3)
    adjusted = milestone_progress(
        milestone,
        status=StatusFacts("adjusted", Decimal(1), dt.date(2027, 5, 1)),
        assigned_units=Decimal(3),
        completed_program_ids=frozenset({10}),
        today=TODAY,
    )
    assert adjusted.state == MilestoneState.MET
    assert adjusted.required == Decimal(1)
    assert adjusted.due_date == dt.date(2027, 5, 1)


def test_units_fixed_at_assignment_win_over_the_milestone_as_changed_since() -> None:
    """R-CUR-5: the requirements are fixed at the first assignment."""
    later = milestone_progress(
        sessions(units=1),
        status=None,
        assigned_units=Decimal(2),
        completed_program_ids=frozenset({10}),
        today=TODAY,
    )
    assert (later.state, later.required) == (MilestoneState.IN_PROGRESS, Decimal(2))


def test_the_plan_is_overdue_after_its_due_date_unless_completed() -> None:
    """R-CUR-1: the due date of a plan; a completed plan is never overdue."""

    def state(completed: set[int], due: dt.date) -> PlanState:
        return plan_progress(
            [sessions(units=2)],
            statuses={},
            requirements={},
            completed_program_ids=frozenset(completed),
            due_date=due,
            today=TODAY,
        ).state

    assert state(set(), dt.date(2027, 7, 1)) == PlanState.NOT_STARTED
    assert state({10}, dt.date(2027, 7, 1)) == PlanState.IN_PROGRESS
    assert state({10}, dt.date(2027, 5, 1)) == PlanState.OVERDUE
    assert state({10, 11}, dt.date(2027, 5, 1)) == PlanState.COMPLETED


def test_a_milestone_past_its_due_date_and_not_met_is_overdue() -> None:
    """R-CUR-2: milestones have their own due dates."""
    milestone = MilestoneFacts(1, "sessions", Decimal(1), dt.date(2027, 5, 1), {10: Decimal(1)})
    late = milestone_progress(
        milestone, status=None, assigned_units=None, completed_program_ids=frozenset(), today=TODAY
    )
    met = milestone_progress(
        milestone, status=None, assigned_units=None, completed_program_ids=frozenset({10}), today=TODAY
    )
    assert late.overdue
    assert not met.overdue


def test_stored_requirements_read_as_milestone_ids_and_decimal_units() -> None:
    assert requirements_from_json({"4": "2.00", "5": None}) == {4: Decimal(2), 5: None}
