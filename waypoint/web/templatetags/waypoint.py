"""Small template helpers shared by the pages."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def person(user: Any) -> str:
    """A staff user as people call them: full name, else username; a dash for nobody."""
    if user is None:
        return "—"
    return str(user.get_full_name() or user.get_username())


@register.filter
def slug_class(value: Any) -> str:
    """A CSS-safe class suffix from a status value (`awaiting_marking` → `awaiting-marking`)."""
    return str(value or "none").replace("_", "-")


@register.filter
def lookup(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key, 0) if mapping else 0


@register.simple_tag
def page_links(page: Any) -> list[Any]:
    """Page numbers around the current one, with ellipses: 1 … 4 5 [6] 7 8 … 400."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


@register.filter
def may_sync(user: Any) -> bool:
    """Whether the admin holds a permission that allows some sync: the Sync Activities button (R-SYNC-1)."""
    from waypoint.people.access import staff_perms
    from waypoint.plans.permissions import may_sync_anything

    return bool(getattr(user, "is_authenticated", False)) and may_sync_anything(staff_perms(user))
