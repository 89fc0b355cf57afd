"""What a tracker's `details` hold for each kind, checked without the database.

A request's details arrive as JSON (from the API) or as Python values (from a form or a test). `details_clean` turns
either into the tracker's stored JSON values (dates as YYYY-MM-DD, records as ids), or names what is wrong with each
field. Whether the records exist, and whether the change is possible for the learner now, the service checks.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from waypoint.automation.models import TrackerKind
from waypoint.plans.services.circumstances import REASON_MAX_LENGTH

NOTES_MAX_LENGTH = 1000
HOURS_IN_A_WEEK = 168


class Type(StrEnum):
    DATE = "date"
    ID = "id"  # a record's id: a positive integer
    CODE = "code"  # an ILR code: an integer
    TEXT = "text"
    HOURS = "hours"  # hours a week


@dataclass(frozen=True)
class Spec:
    type: Type
    required: bool = True
    max_length: int = 0


FIELDS: dict[TrackerKind, dict[str, Spec]] = {
    TrackerKind.CHANGE_OF_EMPLOYER: {
        "employer": Spec(Type.ID),
        "manager": Spec(Type.ID),  # a contact of the new employer: the learner's old manager cannot stay
        "effective_date": Spec(Type.DATE),
    },
    TrackerKind.CHANGE_OF_WORKING_CONDITIONS: {
        "effective_date": Spec(Type.DATE),
        "manager": Spec(Type.ID, required=False),  # a contact of the learner's employer
        "hours_per_week": Spec(Type.HOURS, required=False),
        "notes": Spec(Type.TEXT, required=False, max_length=NOTES_MAX_LENGTH),
    },
    TrackerKind.BREAK_IN_LEARNING: {
        "effective_date": Spec(Type.DATE),  # the last day of learning
        "reason": Spec(Type.TEXT, max_length=REASON_MAX_LENGTH),
        "expected_return": Spec(Type.DATE, required=False),
    },
    TrackerKind.RETURN_TO_LEARNING: {
        "return_date": Spec(Type.DATE),
        "planned_end_date": Spec(Type.DATE),
    },
    TrackerKind.WITHDRAWAL: {
        "effective_date": Spec(Type.DATE),
        "withdraw_reason": Spec(Type.CODE),
    },
    TrackerKind.CHANGE_OF_PROGRAMME: {
        "programme": Spec(Type.ID),
        "start_date": Spec(Type.DATE),
        "planned_end_date": Spec(Type.DATE),
    },
}


def details_clean(kind: TrackerKind, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The details as stored JSON values, and the problems by field (`details.<name>`); empty when all is well."""
    fields = FIELDS[kind]
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in sorted(set(raw) - set(fields)):
        errors[f"details.{name}"] = [f"Not a detail of a {kind.label.lower()}."]
    for name, spec in fields.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[f"details.{name}"] = ["Required."]
            continue
        converted, problem = _convert(spec, value)
        if problem:
            errors[f"details.{name}"] = [problem]
        else:
            clean[name] = converted
    return clean, errors


def detail_date(details: Mapping[str, Any], name: str) -> dt.date | None:
    """A stored date detail as a date (None when absent)."""
    value = details.get(name)
    return dt.date.fromisoformat(value) if value else None


def _convert(spec: Spec, value: Any) -> tuple[Any, str]:
    if spec.type == Type.DATE:
        if isinstance(value, dt.datetime):
            return None, "A date (YYYY-MM-DD), not a date and time."
        if isinstance(value, dt.date):
            return value.isoformat(), ""
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat(), ""
            except ValueError:
                pass
        return None, "A date, as YYYY-MM-DD."
    if spec.type in (Type.ID, Type.CODE):
        if isinstance(value, bool) or not isinstance(value, int):
            return None, "A whole number."
        if spec.type == Type.ID and not 1 <= value < 2**63:
            return None, "An id is a positive whole number."
        return value, ""
    if spec.type == Type.HOURS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "A number of hours."
        if not 0 < value <= HOURS_IN_A_WEEK:
            return None, f"More than 0 and at most {HOURS_IN_A_WEEK} hours a week."
        return value, ""
    if not isinstance(value, str):
        return None, "Text."
    text = value.strip()
    if "\x00" in text:
        return None, "Text may not contain NUL characters."
    if spec.max_length and len(text) > spec.max_length:
        return None, f"At most {spec.max_length} characters."
    return text, ""
