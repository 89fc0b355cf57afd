"""Background delivery of EPA outbox messages (R-EPA-12).

Every commit that records messages enqueues `outbox_deliver_task` (capture.wake). A run delivers until nothing is
due; when messages still wait on back-off it enqueues itself again for the earliest of them, unless a run that
starts by then is already queued.
"""

import datetime as dt

from django.db.models import Q
from django_tasks import TaskResultStatus, task
from django_tasks_db.backend import DatabaseBackend

from waypoint.epa.delivery import outbox_deliver


@task()
def outbox_deliver_task() -> None:
    report = outbox_deliver()
    if report.next_due is not None:
        outbox_deliver_later(report.next_due)


def outbox_deliver_later(when: dt.datetime) -> None:
    """Have the worker deliver again at `when`, if no queued run starts by then."""
    backend = outbox_deliver_task.get_backend()
    if not backend.supports_defer:
        return
    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult, get_date_max

        queued = DBTaskResult.objects.filter(
            task_path=outbox_deliver_task.module_path, status=TaskResultStatus.READY
        ).filter(Q(run_after=get_date_max()) | Q(run_after__lte=when))
        if queued.exists():
            return
    outbox_deliver_task.using(run_after=when).enqueue()
