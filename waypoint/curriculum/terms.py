"""What professionals' pages call a learning plan (R-CUR-12).

Professional-facing pages (dashboard, My Learning, catalog, plan preview and details) show `plan_term()`; admin
pages, reports and notifications always say `ADMIN_TERM`.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from waypoint.core.errors import PermissionRefused, ValidationFailed
from waypoint.curriculum.models import Terminology
from waypoint.people.access import staff_perms
from waypoint.people.models import Perm

ADMIN_TERM = "Learning Plan"
TERM_MAX_LENGTH = 20


def plan_term() -> str:
    """The term professionals see; the original one until a Supervisor renames it."""
    value = Terminology.objects.order_by("pk").values_list("learning_plan", flat=True).first()
    return value or ADMIN_TERM


def term_problem(value: str) -> str | None:
    """Why `value` cannot be the term, or None."""
    if not value.strip():
        return "Enter the term professionals see for a Learning Plan."
    if len(value.strip()) > TERM_MAX_LENGTH:
        return f"The term may be at most {TERM_MAX_LENGTH} characters; this one has {len(value.strip())}."
    return None


@transaction.atomic
def term_update(*, value: str, by: AbstractBaseUser | AnonymousUser) -> Terminology:
    """Rename the Learning Plan term on professional-facing pages; Supervisors only (R-CUR-12)."""
    if Perm.SUPERVISOR not in staff_perms(by):
        raise PermissionRefused("Only a Supervisor may rename the Learning Plan term.")
    problem = term_problem(value)
    if problem:
        raise ValidationFailed(problem, fields={"value": [problem]})
    row = Terminology.objects.select_for_update().order_by("pk").first()
    if row is None:
        return Terminology.objects.create(learning_plan=value.strip())
    row.learning_plan = value.strip()
    row.save(update_fields=["learning_plan"])
    return row
