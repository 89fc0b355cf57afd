"""Schemas and types every router shares: errors, paging, ids, text."""

from collections.abc import Collection, Mapping
from enum import Enum
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Path, Schema
from pydantic import AfterValidator, Field, StringConstraints

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_ID = 2**63 - 1

M = TypeVar("M", bound=Model)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, AfterValidator(_no_nul)]


# Text of at most N characters (Required*: at least one non-blank character).
Text9 = Annotated[str, StringConstraints(max_length=9), AfterValidator(_no_nul)]
Text10 = Annotated[str, StringConstraints(max_length=10), AfterValidator(_no_nul)]
Text30 = Annotated[str, StringConstraints(max_length=30), AfterValidator(_no_nul)]
Text100 = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
Text200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
Text254 = Annotated[str, StringConstraints(max_length=254), AfterValidator(_no_nul)]
Required30 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), AfterValidator(_no_nul)
]
Required100 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_no_nul)
]
Required120 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(_no_nul)
]
Required200 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_nul)
]


class ErrorOut(Schema):
    code: str = Field(description="Stable, machine-readable: invalid_input, not_found, permission_denied, …")
    message: str = Field(description="What went wrong, for a person.")
    fields: dict[str, list[str]] = Field(default_factory=dict, description="Messages per input field.")


class PageQuery(Schema):
    page: Annotated[int, Field(ge=1, le=MAX_ID)] = 1
    page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE


def paginate(queryset: QuerySet[M], query: PageQuery) -> dict[str, Any]:
    """One COUNT and one page query; a page past the end is empty (no huge OFFSET reaches the database)."""
    count = queryset.count()
    offset = (query.page - 1) * query.page_size
    items = list(queryset[offset : offset + query.page_size]) if offset < count else []
    return {"items": items, "count": count, "page": query.page, "page_size": query.page_size}


def plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """Enum members (TextChoices from schemas) as their plain values, for services and the journal."""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


def reject_nulls(data: Any, *, nullable: Collection[str]) -> Any:
    """For PATCH bodies: an explicit null clears a field only where the field may be empty."""
    raw = getattr(data, "_obj", data)  # ninja hands validators a DjangoGetter around the parsed body
    if isinstance(raw, Mapping):
        nulls = sorted(k for k, v in raw.items() if v is None and k not in nullable)
        if nulls:
            raise ValueError(f"These fields cannot be null: {', '.join(nulls)}.")
    return data


ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
