"""The transactional outbox (R-EPA-12): a service that changes something another system must hear about calls
`outbox_record` inside its own transaction. `core` knows no subscriber: each one (the EPA platform connector)
registers a recorder at start-up that turns the change into its own messages, set-based, in the same transaction,
and a hook that wakes its deliverer once the transaction commits.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from waypoint.core.models import OutboxSource as Source


class ChangeKind(StrEnum):
    PERSONAL = "personal"  # ILR personal details (R-EPA-2)
    TUTOR = "tutor"  # case owner changed, or the case owner's details (R-EPA-3)
    MANAGER = "manager"  # R-EPA-4
    EMPLOYER = "employer"  # R-EPA-5
    PROGRAMME_DATES = "programme_dates"  # start / planned end date (R-EPA-6)
    EPA_PERIOD = "epa_period"  # R-EPA-6: never sent
    ENROLLED = "enrolled"  # a new programme episode (R-EPA-1)
    BREAK_IN_LEARNING = "break_in_learning"  # changes of circumstance (R-EPA-7)
    RETURN_TO_LEARNING = "return_to_learning"
    WITHDRAWAL = "withdrawal"
    CHANGE_OF_PROGRAMME = "change_of_programme"


CIRCUMSTANCES = frozenset(
    {
        ChangeKind.BREAK_IN_LEARNING,
        ChangeKind.RETURN_TO_LEARNING,
        ChangeKind.WITHDRAWAL,
        ChangeKind.CHANGE_OF_PROGRAMME,
    }
)


@dataclass(frozen=True)
class Change:
    """What changed for the learners it is recorded for, where it came from and who made it."""

    kind: ChangeKind
    source: Source
    by_id: int | None = None
    fields: tuple[str, ...] = ()  # e.g. ("learner.uln",), ("tutor.email",)
    enrolment_id: int | None = None  # the episode, for dates and changes of circumstance
    new_enrolment_id: int | None = None  # a change of programme's new episode
    event: Mapping[str, Any] = field(default_factory=dict)  # a change of circumstance's details (JSON values)


Recorder = Callable[[QuerySet[Any], Change], int]

_recorders: dict[str, Recorder] = {}
_wakers: dict[str, Callable[[], None]] = {}


def outbox_subscribe(topic: str, recorder: Recorder, wake: Callable[[], None]) -> None:
    """Called once per subscriber from its AppConfig.ready()."""
    _recorders[topic] = recorder
    _wakers[topic] = wake


def outbox_record(*, learners: QuerySet[Any], change: Change) -> int:
    """Record `change` for every learner of `learners` (a query, never an id list), in the caller's transaction.

    Returns the number of messages recorded. Each subscriber wakes its deliverer only if the transaction commits:
    a rolled-back change sends nothing.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_record must run inside the transaction of the change it records")
    recorded = 0
    for topic, recorder in _recorders.items():
        count = recorder(learners, change)
        if count:
            transaction.on_commit(_wakers[topic])
        recorded += count
    return recorded


__all__ = ["CIRCUMSTANCES", "Change", "ChangeKind", "Source", "outbox_record", "outbox_subscribe"]
