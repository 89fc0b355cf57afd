"""A component attribute's name and value as an admin reads them, in the journal and in a sync's diffs."""

import datetime as dt
from contextlib import suppress
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from waypoint.plans.models import Component
from waypoint.plans.services.reviews import REVIEW_SCHEDULE_FIELD

_FIELD_LABELS = {f.name: str(f.verbose_name) for f in Component._meta.fields}
_FIELD_LABELS[REVIEW_SCHEDULE_FIELD] = "review scheduled at"


def field_label(field: str) -> str:
    return _FIELD_LABELS.get(field, field.replace("_", " "))


def display_value(field: str, value: Any, owners: dict[int, str]) -> str:
    """A journalled JSON value as the admin knows it: labels for choices, names for owners."""
    if value is None or value == "":
        return "—"
    if field == "owner":
        return owners.get(int(value), f"user #{value}")
    if field == "due_date" and isinstance(value, str):
        with suppress(ValueError):
            return date_format(dt.date.fromisoformat(value), "j M Y")
    if field == REVIEW_SCHEDULE_FIELD and isinstance(value, str):
        with suppress(ValueError):
            return date_format(timezone.localtime(dt.datetime.fromisoformat(value)), "j M Y H:i")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return ""
    model_field = next((f for f in Component._meta.fields if f.name == field), None)
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)
