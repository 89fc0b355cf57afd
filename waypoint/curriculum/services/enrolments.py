"""Recording that professionals completed the programs they were enrolled in: the facts progress is counted from
(R-CUR-2: a Sessions milestone counts completed programs, a Credits milestone sums their credits)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.errors import ValidationFailed
from waypoint.curriculum.models import EnrolmentStatus, ProgramEnrolment
from waypoint.curriculum.report_rows import report_rows_refresh
from waypoint.people.services.checks import require_supervisor


def enrolments_set_completed(*, enrolments: QuerySet[ProgramEnrolment], completed: bool, by: AbstractBaseUser) -> int:
    """Mark the chosen enrolments completed (or, to correct a mistake, back to enrolled), in one UPDATE, and rewrite
    the report rows of the people concerned. Refused, changing nothing, when nothing is chosen or a chosen enrolment
    was cancelled (un-enrolled enrolments are history). Returns how many changed; already-completed ones stay as
    they were, with their completion date."""
    require_supervisor(by, "Recording program completions")
    with transaction.atomic():
        chosen = ProgramEnrolment.objects.select_for_update().filter(pk__in=enrolments.values("pk"))
        rows = list(chosen.select_related("person", "program").order_by("pk"))
        if not rows:
            raise ValidationFailed("Choose at least one enrolment.", fields={"enrolments": ["Choose one."]})
        cancelled = [
            f"{e.person.get_full_name() or e.person.get_username()} ({e.program})"
            for e in rows
            if e.status == EnrolmentStatus.CANCELLED
        ]
        if cancelled:
            raise ValidationFailed(
                f"These enrolments were cancelled, so they cannot be completed: {', '.join(cancelled)}.",
                fields={"enrolments": ["Cancelled."]},
            )
        now = timezone.now()
        if completed:
            changed = chosen.filter(status=EnrolmentStatus.ENROLLED).update(
                status=EnrolmentStatus.COMPLETED, completed_at=now, updated_at=now
            )
        else:
            changed = chosen.filter(status=EnrolmentStatus.COMPLETED).update(
                status=EnrolmentStatus.ENROLLED, completed_at=None, updated_at=now
            )
        report_rows_refresh(people=sorted({e.person_id for e in rows}))
    return changed
