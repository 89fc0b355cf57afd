"""Background work of sync runs: a large summary of the wizard, applying and undoing a large run (R-PLUS-3)."""

from django_tasks import task

from waypoint.plans.sync.runs import sync_run_apply, sync_run_undo_queued
from waypoint.plans.sync.wizard import sync_run_summarise


@task()
def sync_run_apply_task(run_id: int) -> None:
    sync_run_apply(run_id)


@task()
def sync_run_summarise_task(run_id: int) -> None:
    sync_run_summarise(run_id)


@task()
def sync_run_undo_task(run_id: int) -> None:
    sync_run_undo_queued(run_id)
