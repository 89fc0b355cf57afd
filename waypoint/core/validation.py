"""Turning model validation into `ValidationFailed` with a message per field and a summary a person can read."""

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import models

from waypoint.core.errors import ValidationFailed


def refuse(noun: str, errors: Mapping[str, list[str]]) -> NoReturn:
    fields = {("body" if f == "__all__" else f): list(m) for f, m in errors.items()}
    summary = "; ".join(f"{f.replace('_', ' ')}: {' '.join(m)}" for f, m in fields.items())
    raise ValidationFailed(f"The {noun} was not saved. {summary}", fields=fields)


def refuse_unknown(values: Mapping[str, Any], allowed: Iterable[str], noun: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationFailed(
            f"These cannot be set on a {noun}: {', '.join(unknown)}.",
            fields={f: ["Unknown field."] for f in unknown},
        )


def full_clean_or_refuse(instance: models.Model, noun: str, *, exclude: Iterable[str] = ()) -> None:
    """Model validation (fields, `clean()`, unique fields) as a `ValidationFailed`."""
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as e:
        refuse(noun, e.message_dict)
