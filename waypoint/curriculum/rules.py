"""The rules of curricula and milestones (R-CUR-1…3) as pure functions of plain values.

Services call these before writing; tests exercise them without a database.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

ENFORCED = "enforced"
SESSIONS = "sessions"
CREDITS = "credits"
NONE = "none"
ACTIVITY = "activity"

Problems = dict[str, str]


def curriculum_problems(
    registration_type: str,
    auto_register: bool,
    add_to_my_learning: bool,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
) -> Problems:
    """What is wrong with a curriculum's settings, per field (R-CUR-1); empty when it may be saved."""
    problems: Problems = {}
    if auto_register and registration_type != ENFORCED:
        problems["auto_register"] = "Auto-register is only available when registration is Enforced."
    if add_to_my_learning and registration_type == ENFORCED:
        problems["add_to_my_learning"] = (
            "The Add to My Learning button is only available when registration is not Enforced."
        )
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        problems["ends_at"] = "The end must be after the start."
    return problems


def milestone_problems(metric: str, units: Decimal | int | None, linked_kinds: Iterable[str] = ()) -> Problems:
    """What is wrong with a milestone's requirement and its linked programs' kinds, per field (R-CUR-2).

    Sessions and Credits milestones need units above zero; an elective (None) milestone has no units. Activities
    may be linked only to Sessions or elective milestones.
    """
    problems: Problems = {}
    if metric in (SESSIONS, CREDITS):
        if units is None:
            problems["units"] = f"Enter the number of {metric} a professional must complete."
        elif units <= 0:
            problems["units"] = "The units must be more than zero."
        elif metric == SESSIONS and Decimal(units) != Decimal(units).to_integral_value():
            problems["units"] = "Sessions are counted in whole numbers."
    elif metric == NONE and units is not None:
        problems["units"] = "An elective milestone (metric None) has no units; leave them empty."
    if metric == CREDITS and ACTIVITY in set(linked_kinds):
        problems["programs"] = (
            "Activities can be linked only to session-based or elective milestones; "
            "unlink the activities or change the metric."
        )
    return problems


def auto_registers(metric: str, units: Decimal | int | None, linked_sessions_or_activities: int) -> bool:
    """Whether a milestone registers a professional automatically (R-CUR-3).

    Exactly when a Sessions milestone requires as many sessions as the offerings linked to it: there is then
    nothing to choose. `linked_sessions_or_activities` counts linked offerings — each linked program counts one
    (a professional enrols in one of its sessions) and each activity counts one — so 5 required with 5 linked
    one-session programs registers automatically, and 4 or 6 linked do not. Credits and elective milestones never
    do: credits are not a count of offerings, and an elective has no requirement to meet.
    """
    if metric != SESSIONS or units is None:
        return False
    return linked_sessions_or_activities > 0 and Decimal(units) == linked_sessions_or_activities
