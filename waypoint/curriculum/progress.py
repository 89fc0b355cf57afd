"""A professional's progress in a learning plan, milestone by milestone (R-CUR-2, R-CUR-3, R-CUR-5, R-CUR-7).

Pure: plain frozen values in, plain frozen values out; no database. Selectors gather the values in a fixed number
of queries and call `plan_progress`.

- A Sessions milestone counts the person's completed enrolments in its linked programs; an activity counts one.
- A Credits milestone sums the credits of the linked programs the person has completed.
- An elective (metric None) milestone never blocks completion.
- The person's milestone status comes first (R-CUR-7): Waived is met; Adjusted replaces the units and/or the due
  date; no status (No Action) leaves the requirement as assigned.
- Units come from the assignment's requirements as first assigned (R-CUR-5) where the milestone is in them, from
  the milestone otherwise (a person who registered without an assignment, or a milestone added since).
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

SESSIONS = "sessions"
CREDITS = "credits"
NONE = "none"
WAIVED = "waived"
ADJUSTED = "adjusted"


class MilestoneState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    MET = "met"
    WAIVED = "waived"
    ELECTIVE = "elective"


class PlanState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class MilestoneFacts:
    """A milestone as the curriculum defines it, with its linked programs' credits (program id → credits)."""

    milestone_id: int
    metric: str
    units: Decimal | None
    due_date: dt.date | None
    program_credits: Mapping[int, Decimal]


@dataclass(frozen=True)
class StatusFacts:
    """A person's milestone status (R-CUR-7): Waived, or Adjusted units and/or due date."""

    action: str
    units: Decimal | None = None
    due_date: dt.date | None = None


@dataclass(frozen=True)
class MilestoneProgress:
    milestone_id: int
    state: MilestoneState
    required: Decimal | None
    done: Decimal
    due_date: dt.date | None
    overdue: bool

    @property
    def blocks(self) -> bool:
        """Whether this milestone still stands between the person and completing the plan."""
        return self.state in (MilestoneState.NOT_STARTED, MilestoneState.IN_PROGRESS)


@dataclass(frozen=True)
class PlanProgress:
    state: PlanState
    due_date: dt.date | None
    milestones: tuple[MilestoneProgress, ...]

    @property
    def met(self) -> int:
        return sum(m.state in (MilestoneState.MET, MilestoneState.WAIVED) for m in self.milestones)

    @property
    def required(self) -> int:
        return sum(m.state != MilestoneState.ELECTIVE for m in self.milestones)


def units_done(milestone: MilestoneFacts, completed_program_ids: frozenset[int]) -> Decimal:
    """Sessions: one per completed linked program or activity; Credits: the sum of their credits."""
    completed = [pid for pid in milestone.program_credits if pid in completed_program_ids]
    if milestone.metric == CREDITS:
        return sum((milestone.program_credits[pid] for pid in completed), Decimal(0))
    return Decimal(len(completed))


def milestone_progress(
    milestone: MilestoneFacts,
    *,
    status: StatusFacts | None,
    assigned_units: Decimal | None,
    completed_program_ids: frozenset[int],
    today: dt.date,
) -> MilestoneProgress:
    done = units_done(milestone, completed_program_ids)
    required = assigned_units if assigned_units is not None else milestone.units
    due_date = milestone.due_date
    if status is not None and status.action == WAIVED:
        return MilestoneProgress(milestone.milestone_id, MilestoneState.WAIVED, None, done, due_date, False)
    if status is not None and status.action == ADJUSTED:
        required = status.units if status.units is not None else required
        due_date = status.due_date if status.due_date is not None else due_date
    if milestone.metric == NONE or required is None:
        return MilestoneProgress(milestone.milestone_id, MilestoneState.ELECTIVE, None, done, due_date, False)
    if done >= required:
        state = MilestoneState.MET
    elif done > 0:
        state = MilestoneState.IN_PROGRESS
    else:
        state = MilestoneState.NOT_STARTED
    overdue = state != MilestoneState.MET and due_date is not None and due_date < today
    return MilestoneProgress(milestone.milestone_id, state, required, done, due_date, overdue)


def plan_progress(
    milestones: Iterable[MilestoneFacts],
    *,
    statuses: Mapping[int, StatusFacts],
    requirements: Mapping[int, Decimal | None],
    completed_program_ids: frozenset[int],
    due_date: dt.date | None,
    today: dt.date,
) -> PlanProgress:
    """The person's progress in each milestone and in the plan.

    Completed: every milestone that is not elective is met or waived (a plan of electives only is completed once
    anything in it is completed). Overdue: not completed and the plan's due date has passed. In progress: anything
    completed or waived. Not started otherwise.
    """
    progress = tuple(
        milestone_progress(
            m,
            status=statuses.get(m.milestone_id),
            assigned_units=requirements.get(m.milestone_id),
            completed_program_ids=completed_program_ids,
            today=today,
        )
        for m in milestones
    )
    required = [p for p in progress if p.state != MilestoneState.ELECTIVE]
    started = any(p.done > 0 or p.state == MilestoneState.WAIVED for p in progress)
    if not any(p.blocks for p in progress) and (required or started):
        state = PlanState.COMPLETED
    elif due_date is not None and due_date < today:
        state = PlanState.OVERDUE
    elif started:
        state = PlanState.IN_PROGRESS
    else:
        state = PlanState.NOT_STARTED
    return PlanProgress(state, due_date, progress)


def requirements_from_json(requirements: Mapping[str, object]) -> dict[int, Decimal | None]:
    """An assignment's stored requirements (milestone id as text → units as text or null) as plain values."""
    return {int(key): None if value is None else Decimal(str(value)) for key, value in requirements.items()}
