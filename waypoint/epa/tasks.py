"""Background delivery of EPA outbox messages (R-EPA-12)."""

from django_tasks import task

from waypoint.epa.delivery import outbox_deliver


@task()
def outbox_deliver_task() -> None:
    outbox_deliver()
