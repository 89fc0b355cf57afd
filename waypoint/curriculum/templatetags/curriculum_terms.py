"""`{% plan_term %}`: the Learning Plan term professionals see (R-CUR-12).

For professional-facing templates only; admin pages, reports and notifications write "Learning Plan".
`{% plan_term plural=True %}` adds an "s"; `lower=True` lowercases it. The term is read once per render.
"""

from typing import Any

from django import template

from waypoint.curriculum.terms import plan_term as current_plan_term

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_term(context: Any, *, plural: bool = False, lower: bool = False) -> str:
    cache = context.render_context
    if "curriculum_plan_term" not in cache:
        cache["curriculum_plan_term"] = current_plan_term()
    term: str = cache["curriculum_plan_term"]
    if plural:
        term = f"{term}s"
    return term.lower() if lower else term
