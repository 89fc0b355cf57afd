"""Background work of sync runs: applying a large run in the task worker (R-PLUS-3)."""

from django_tasks import task

from waypoint.plans.sync.runs import sync_run_apply


@task()
def sync_run_apply_task(run_id: int) -> None:
    sync_run_apply(run_id)
