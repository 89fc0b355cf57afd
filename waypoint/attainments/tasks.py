"""Background work of PLR downloads (R-PLR-4, R-PLR-7, R-PLR-8)."""

from django_tasks import task

from waypoint.attainments.services import plr_download_run


@task()
def plr_download_task(download_id: int) -> None:
    plr_download_run(download_id)
