"""Which changes the EPA platform hears about, by where they came from (R-EPA-2…7): one pure rule."""

from waypoint.core.outbox import Change, ChangeKind, Source

# ILR personal details the platform is told about (R-EPA-2). Other learner fields travel with the next snapshot.
PERSONAL_FIELDS = frozenset({"learner.sex", "learner.ethnicity", "learner.uln"})

_EDITS = frozenset({Source.UI, Source.API})
_EDITS_AND_AUTOMATION = _EDITS | {Source.AUTOMATION}

SENT_FROM: dict[ChangeKind, frozenset[Source]] = {
    ChangeKind.PERSONAL: _EDITS,  # R-EPA-2
    ChangeKind.TUTOR: _EDITS,  # R-EPA-3
    ChangeKind.MANAGER: _EDITS_AND_AUTOMATION,  # R-EPA-4
    ChangeKind.EMPLOYER: _EDITS_AND_AUTOMATION,  # R-EPA-5
    ChangeKind.PROGRAMME_DATES: _EDITS,  # R-EPA-6: Edit Programme Details, on the page or through the API
    ChangeKind.EPA_PERIOD: frozenset(),  # R-EPA-6
    ChangeKind.ENROLLED: frozenset(Source),  # R-EPA-1: a learner on a connected programme is registered there
    ChangeKind.BREAK_IN_LEARNING: frozenset({Source.AUTOMATION}),  # R-EPA-7
    ChangeKind.RETURN_TO_LEARNING: frozenset({Source.AUTOMATION}),
    ChangeKind.WITHDRAWAL: frozenset({Source.AUTOMATION}),
    ChangeKind.CHANGE_OF_PROGRAMME: frozenset({Source.AUTOMATION}),
}

# The snapshot's event type for each change.
EVENT_TYPES: dict[ChangeKind, str] = {
    ChangeKind.PERSONAL: "registration.updated",
    ChangeKind.TUTOR: "registration.updated",
    ChangeKind.MANAGER: "registration.updated",
    ChangeKind.EMPLOYER: "registration.updated",
    ChangeKind.PROGRAMME_DATES: "registration.updated",
    ChangeKind.ENROLLED: "registration.created",
    ChangeKind.BREAK_IN_LEARNING: "registration.break_in_learning",
    ChangeKind.RETURN_TO_LEARNING: "registration.returned_to_learning",
    ChangeKind.WITHDRAWAL: "registration.withdrawn",
    ChangeKind.CHANGE_OF_PROGRAMME: "registration.programme_changed",
}

# Plain updates carry no event of their own: several queued for one registration may go as one snapshot.
PLAIN_UPDATE = "registration.updated"

REASONS: dict[ChangeKind, str] = {
    ChangeKind.PERSONAL: "Personal details changed",
    ChangeKind.TUTOR: "Case owner changed",
    ChangeKind.MANAGER: "Manager changed",
    ChangeKind.EMPLOYER: "Employer changed",
    ChangeKind.PROGRAMME_DATES: "Programme dates changed",
    ChangeKind.ENROLLED: "Registered on the EPA platform",
    ChangeKind.BREAK_IN_LEARNING: "Break in learning",
    ChangeKind.RETURN_TO_LEARNING: "Return to learning",
    ChangeKind.WITHDRAWAL: "Withdrawal from learning",
    ChangeKind.CHANGE_OF_PROGRAMME: "Change of programme",
}


def is_sent(change: Change) -> bool:
    """Whether the EPA platform is told about `change` (R-EPA-2…7)."""
    if change.source not in SENT_FROM[change.kind]:
        return False
    if change.kind == ChangeKind.PERSONAL:
        return bool(PERSONAL_FIELDS.intersection(change.fields))
    return True
