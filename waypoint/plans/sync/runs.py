"""Sync runs: create one with its summary, confirm it (inline or in the worker), undo it (R-SYNC-13…15, 27,
R-PLUS-1…3). Each service is one transaction; a refusal says why and changes nothing."""

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.bulk import insert_rows
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner
from waypoint.plans.models import ComponentStatus, SyncRun, SyncRunStatus, SyncTarget
from waypoint.plans.permissions import may_sync_anything
from waypoint.plans.sync.apply import StaleSummary, apply_run, plans_changed, store_pairs, undo_run
from waypoint.plans.sync.decide import only_changes_available, selectable_attributes
from waypoint.plans.sync.summarise import run_sources, summarise
from waypoint.plans.sync.types import ComponentKey, SourceComponent, SyncType
from waypoint.programmes.models import Enrolment

NO_SYNC_PERMISSION = "Synchronising learning plans needs Supervisor, Compliance QA, Internal Verifier or an Advanced Delivery Management permission."  # noqa: E501
STALE = (
    "Learning plans changed since this summary was made, so nothing was applied. "
    "The summary has been worked out again: check it and confirm again."
)


def sync_run_create(
    *,
    by: AbstractBaseUser,
    enrolment: Enrolment,
    keys: Sequence[ComponentKey],
    learners: QuerySet[Learner],
    learner_ids: Sequence[int] | None = None,
    sync_type: str,
    statuses: Sequence[str],
    attributes: Sequence[str] = (),
    visit_id: int | None,
) -> SyncRun:
    """A run with its summary. `learners` are the eligible learners the admin's filters match (R-SYNC-5); with
    `learner_ids`, only those of them (each must be eligible). The selection is stored as `SyncTarget` rows."""
    perms = staff_perms(by)
    if not may_sync_anything(perms):
        raise PermissionRefused(NO_SYNC_PERMISSION)  # R-SYNC-1
    errors = choice_errors(sync_type, statuses, attributes)
    if errors:
        raise ValidationFailed(" ".join(m for ms in errors.values() for m in ms), fields=errors)
    if not keys:
        raise ValidationFailed("Select at least one component to synchronise.", fields={"components": ["Required."]})
    with transaction.atomic():
        run = SyncRun.objects.create(
            by_id=by.pk,
            source_learner_id=enrolment.learner_id,
            enrolment=enrolment,
            programme_id=enrolment.programme_id,
            visit_id=visit_id,
            keys=[list(k) for k in dict.fromkeys(keys)],
            sync_type=sync_type,
            statuses=sorted(set(statuses)),
            attributes=sorted(set(attributes)),
            perms=sorted(p.value for p in perms),
        )
        sources = run_sources(run)
        check_sources(run, sources)
        _store_targets(run, learners.exclude(pk=enrolment.learner_id), learner_ids)
        summarise(run, sources)
        if run.learner_count == 0:
            raise ValidationFailed("Select at least one learner to synchronise.", fields={"learners": ["Required."]})
        run.save()
    return run


def check_sources(run: SyncRun, sources: Sequence[SourceComponent]) -> None:
    """Refuse selected components no longer on the plan, and ONLY changes without recent changes (R-SYNC-8)."""
    unknown = set(map(tuple, run.keys)) - {s.key for s in sources}
    if unknown:
        raise ValidationFailed(
            f"{len(unknown)} of the selected components are not on this learner's plan for the programme.",
            fields={"components": [f"Unknown: {', '.join(f'{k}{i}' for k, i in sorted(unknown))}."]},
        )
    if run.sync_type == SyncType.ONLY_CHANGES and not only_changes_available(sources):
        raise ValidationFailed(
            "ONLY changes is not available: you have made no changes to this learner's plan since opening it.",
            fields={"sync_type": ["No recent changes."]},
        )


def choice_errors(sync_type: str, statuses: Sequence[str], attributes: Sequence[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if sync_type not in {t.value for t in SyncType}:
        errors["sync_type"] = [f"Choose one of: {', '.join(t.value for t in SyncType)}."]  # R-SYNC-7
    known = set(ComponentStatus.values)
    if not statuses:
        errors["statuses"] = ["Select at least one component status (R-SYNC-6)."]
    elif unknown := sorted(set(statuses) - known):
        errors["statuses"] = [f"Unknown status: {', '.join(unknown)}."]
    offered = selectable_attributes(marking_aid_enabled=settings.WAYPOINT_MARKING_AID)
    if sync_type == SyncType.SELECTED:
        if not attributes:
            errors["attributes"] = ["Tick at least one template attribute."]
        elif not_offered := sorted(set(attributes) - set(offered)):
            errors["attributes"] = [f"Not offered for SELECTED: {', '.join(not_offered)}."]  # R-SYNC-10
    elif attributes:
        errors["attributes"] = ["Template attributes are chosen only with the SELECTED type."]
    return errors


def _store_targets(run: SyncRun, learners: QuerySet[Learner], learner_ids: Sequence[int] | None) -> None:
    """The selection as rows: from the matching learners' query, or the chosen ids checked against it."""
    if learner_ids is None:
        sql, params = learners.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SyncTarget._meta.db_table} (run_id, learner_id) SELECT %s, t.pk FROM ({sql}) t",
                [run.pk, *params],
            )
        return
    insert_rows(SyncTarget, ("run_id", "learner_id"), [(run.pk, i) for i in dict.fromkeys(learner_ids)])
    ineligible = SyncTarget.objects.filter(run=run).exclude(learner_id__in=learners.values("pk"))
    if count := ineligible.count():
        some = ", ".join(str(i) for i in ineligible.order_by("learner_id").values_list("learner_id", flat=True)[:10])
        raise ValidationFailed(
            f"{count} of the selected learners cannot be synchronised from this plan (not on the programme, "
            "not visible to you, the source learner, or in an excluded status).",
            fields={"learners": [f"Not eligible: {some}{' …' if count > 10 else ''}."]},
        )


def sync_run_confirm(*, run: SyncRun, by: AbstractBaseUser) -> SyncRun:
    """R-SYNC-15: apply exactly the summary, or nothing if a plan changed since (then a fresh summary is made).

    Confirming twice applies once. A run for many learners goes to the task worker (R-PLUS-3), which stores
    and checks its pairs when it applies it.
    """
    if run.by_id != by.pk:
        raise PermissionRefused("Only the admin who prepared this sync run can confirm it.")
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().get(pk=run.pk)
        if locked.status in (SyncRunStatus.QUEUED, SyncRunStatus.APPLYING, SyncRunStatus.APPLIED):
            return locked
        if locked.status != SyncRunStatus.SUMMARISED:
            raise Conflict(f"This sync run is {locked.get_status_display().lower()}; it cannot be confirmed.")
        stale = _perms_changed(locked, by)
        if not stale and locked.learner_count > settings.WAYPOINT_SYNC_BACKGROUND_FROM:
            locked.status = SyncRunStatus.QUEUED
            locked.save(update_fields=["status"])
            sync_run_report_progress(locked, 0)
            from waypoint.plans.sync.tasks import sync_run_apply_task

            transaction.on_commit(lambda: sync_run_apply_task.enqueue(locked.pk))
            return locked
        if not stale:
            stale = not _check_and_apply(locked)
    if stale:
        sync_run_refresh(run=locked)
        raise Conflict(STALE)
    return locked


def sync_run_apply(run_id: int) -> SyncRun:
    """The worker's half of a confirm: the same checks, then the apply."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRunStatus.QUEUED:
            return run
        run.status = SyncRunStatus.APPLYING
        run.save(update_fields=["status"])
    try:
        with transaction.atomic():
            run = SyncRun.objects.select_for_update().get(pk=run_id)
            applied = not _perms_changed(run, run.by) and _check_and_apply(run)
    except Exception as e:
        SyncRun.objects.filter(pk=run_id).update(status=SyncRunStatus.FAILED, error=f"Nothing was applied: {e}")
        raise
    if not applied:
        run = SyncRun.objects.get(pk=run_id)
        run.status = SyncRunStatus.SUMMARISED
        sync_run_refresh(run=run)
        SyncRun.objects.filter(pk=run_id).update(error=STALE)
        run.refresh_from_db()
    return run


def _perms_changed(run: SyncRun, by: AbstractBaseUser) -> bool:
    """The summary was decided with other permissions than the admin has now: it is stale (R-SYNC-15)."""
    return sorted(p.value for p in staff_perms(by)) != run.perms


def _check_and_apply(run: SyncRun) -> bool:
    """Store the run's pairs, check them against the summary and apply it; False (and nothing stored or
    applied) when a plan changed since the summary. The caller holds the run's lock."""
    try:
        with transaction.atomic():
            store_pairs(run)
            if plans_changed(run):
                raise StaleSummary
            _apply(run)
    except StaleSummary:
        return False
    return True


def _apply(run: SyncRun) -> None:
    def progress(done: int) -> None:
        sync_run_report_progress(run, done)

    progress(0)
    apply_run(run, progress=progress)
    run.status = SyncRunStatus.APPLIED
    run.applied_at = timezone.now()
    run.progress_done = run.progress_total
    run.error = ""
    run.save(update_fields=["status", "applied_at", "progress_done", "error"])


def sync_run_report_progress(run: SyncRun, done: int) -> None:
    """Progress of an apply, readable by other processes while its transaction is still open (R-PLUS-3)."""
    cache.set(_progress_key(run.pk), (min(done, run.progress_total), run.progress_total), timeout=24 * 3600)


def sync_run_progress(run: SyncRun) -> tuple[int, int]:
    """(done, total) learner/component changes."""
    if run.status in (SyncRunStatus.APPLYING, SyncRunStatus.QUEUED):
        done, total = cache.get(_progress_key(run.pk), (0, run.progress_total))
        return int(done), int(total)
    return run.progress_done, run.progress_total


def _progress_key(run_id: int) -> str:
    return f"sync-run-progress:{run_id}"


def sync_run_refresh(*, run: SyncRun) -> SyncRun:
    """Work the summary out again from the current plans (after a stale confirm)."""
    with transaction.atomic():
        run.perms = sorted(p.value for p in staff_perms(run.by))
        run.summarised_at = timezone.now()
        run.status = SyncRunStatus.SUMMARISED
        summarise(run, run_sources(run))
        run.save()
    return run


def sync_run_undo(*, run: SyncRun, by: AbstractBaseUser) -> SyncRun:
    """R-PLUS-2: restore every before-value of an applied run; rows changed since are reported as conflicts. A run
    for many learners is undone by the task worker (status `undoing` until then)."""
    if not may_sync_anything(staff_perms(by)):
        raise PermissionRefused(NO_SYNC_PERMISSION)
    if run.by_id != by.pk and not getattr(by, "is_superuser", False):
        raise PermissionRefused("Only the admin who ran this sync (or a superuser) can undo it.")
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == SyncRunStatus.UNDOING:
            return locked
        if locked.status == SyncRunStatus.UNDONE:
            raise Conflict("This sync run has already been undone.")
        if locked.status != SyncRunStatus.APPLIED:
            raise Conflict("Only an applied sync run can be undone.")
        if locked.learner_count > settings.WAYPOINT_SYNC_BACKGROUND_FROM:  # R-PLUS-3, as for the confirm
            locked.status = SyncRunStatus.UNDOING
            locked.error = ""
            locked.save(update_fields=["status", "error"])
            from waypoint.plans.sync.tasks import sync_run_undo_task

            transaction.on_commit(lambda: sync_run_undo_task.enqueue(locked.pk))
            return locked
        _undo(locked)
    return locked


def sync_run_undo_queued(run_id: int) -> SyncRun:
    """The worker's half of undoing a large run; a failure leaves the run applied, with the reason."""
    try:
        with transaction.atomic():
            run = SyncRun.objects.select_for_update().get(pk=run_id)
            if run.status != SyncRunStatus.UNDOING:
                return run
            _undo(run)
    except Exception as e:
        SyncRun.objects.filter(pk=run_id).update(
            status=SyncRunStatus.APPLIED, error=f"The undo failed and changed nothing: {e}"
        )
        raise
    return run


def _undo(run: SyncRun) -> None:
    run.undo_restored, run.undo_conflicts = undo_run(run)
    run.status = SyncRunStatus.UNDONE
    run.undone_at = timezone.now()
    run.save(update_fields=["undo_restored", "undo_conflicts", "status", "undone_at"])
