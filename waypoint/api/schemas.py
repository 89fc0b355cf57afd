"""Schemas and types every router shares: errors, paging, ids, text."""

from collections.abc import Collection, Mapping
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Schema
from pydantic import AfterValidator, Field

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_ID = 2**63 - 1

M = TypeVar("M", bound=Model)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, AfterValidator(_no_nul)]


def short_text(max_length: int, *, min_length: int = 0) -> Any:
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]


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


def reject_nulls(data: Any, *, nullable: Collection[str]) -> Any:
    """For PATCH bodies: an explicit null clears a field only where the field may be empty."""
    if isinstance(data, Mapping):
        nulls = sorted(k for k, v in data.items() if v is None and k not in nullable)
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
