"""Background work of sync runs: a large summary of the wizard, and applying a large run (R-PLUS-3)."""

from django_tasks import task

from waypoint.plans.sync.runs import sync_run_apply
from waypoint.plans.sync.wizard import sync_run_summarise


@task()
def sync_run_apply_task(run_id: int) -> None:
    sync_run_apply(run_id)


@task()
def sync_run_summarise_task(run_id: int) -> None:
    sync_run_summarise(run_id)
