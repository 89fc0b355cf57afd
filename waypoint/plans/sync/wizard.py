"""The Sync Activities wizard's state: a sync run in draft, changed step by step until its summary is made.

The draft holds every choice (programme, components, learners, statuses, type), so Back, Next and a reload lose
nothing. Selected learners are `SyncTarget` rows from the first click: "select all matching" is one
`INSERT … SELECT` of the filters' query, never a list of ids (R-SYNC-26). Each service is one transaction and
refuses, with the reason, anything but a draft of the acting admin's own.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, NotFound, ValidationFailed
from waypoint.people.access import AnyUser, staff_perms
from waypoint.people.models import Learner
from waypoint.plans.models import ComponentStatus, SyncRun, SyncRunComponent, SyncRunStatus, SyncTarget
from waypoint.plans.sync.decide import only_changes_available
from waypoint.plans.sync.runs import check_sources, choice_errors
from waypoint.plans.sync.selection import (
    ComponentChoice,
    LearnerFilters,
    decode_key,
    learners_matching,
    require_sync_permission,
    sync_components_filter,
    sync_components_list,
    sync_enrolment_for,
)
from waypoint.plans.sync.summarise import run_sources, summarise
from waypoint.plans.sync.types import SyncType
from waypoint.programmes.models import Enrolment

DRAFTS_KEPT = dt.timedelta(days=7)
NOT_A_DRAFT = "This sync's summary has been made, so its choices can no longer change: go back to the choices first."


@dataclass(frozen=True)
class SavedFilters:
    """The Select Learners filters as the draft keeps them (a `LearnerFilters`)."""

    status: Sequence[str] = ()
    group: Sequence[int] = ()
    tutor: Sequence[int] = ()
    search: str = ""


def saved_filters(run: SyncRun) -> SavedFilters:
    f = run.learner_filters or {}
    return SavedFilters(
        status=[str(s) for s in f.get("status", [])],
        group=[int(g) for g in f.get("group", [])],
        tutor=[int(t) for t in f.get("tutor", [])],
        search=str(f.get("search", "")),
    )


def _filters_json(filters: LearnerFilters) -> dict[str, object]:
    return {
        "status": [str(s) for s in filters.status],
        "group": [int(g) for g in filters.group],
        "tutor": [int(t) for t in filters.tutor],
        "search": filters.search,
    }


# Starting, finding and locking a draft


def sync_draft_start(*, by: AbstractBaseUser, enrolment: Enrolment, visit_id: int | None) -> SyncRun:
    """A new draft on the enrolment: the recent changes' components preselected (R-SYNC-4), every component status
    selected, ONLY changes when there are recent changes, else ALL attributes (R-SYNC-8). The admin's earlier
    drafts from this learner, and those older than a week, are dropped: one wizard per learner at a time."""
    require_sync_permission(by)
    with transaction.atomic():
        stale = Q(source_learner_id=enrolment.learner_id) | Q(created_at__lt=timezone.now() - DRAFTS_KEPT)
        SyncRun.objects.filter(stale, by_id=by.pk, status=SyncRunStatus.DRAFT).delete()
        run = SyncRun.objects.create(
            by_id=by.pk,
            source_learner_id=enrolment.learner_id,
            enrolment=enrolment,
            programme_id=enrolment.programme_id,
            visit_id=visit_id,
            status=SyncRunStatus.DRAFT,
            statuses=list(ComponentStatus.values),
        )
        _reset_components(run)
        run.save()
    return run


def _reset_components(run: SyncRun) -> list[ComponentChoice]:
    choices = sync_components_list(enrolment=run.enrolment, by_id=run.by_id, visit_id=run.visit_id)
    run.keys = [list(c.key) for c in choices if c.preselected]
    recent = any(c.preselected for c in choices)
    run.sync_type = SyncType.ONLY_CHANGES.value if recent else SyncType.ALL.value
    run.attributes = []
    return choices


def sync_draft_get_for(user: AnyUser, *, learner_id: int, run_id: int) -> SyncRun:
    """The acting admin's own sync run from this learner: a draft, or one with its summary (404 otherwise)."""
    require_sync_permission(user)
    run = (
        SyncRun.objects.select_related("enrolment", "programme", "programme__parent", "source_learner", "by")
        .filter(pk=run_id, by_id=user.pk, source_learner_id=learner_id)
        .first()
    )
    if run is None:
        raise NotFound("No such sync in progress for this learner. Start again with Sync Activities.")
    run.enrolment.learner = run.source_learner
    return run


def _locked_draft(run: SyncRun) -> SyncRun:
    """Call inside a transaction: the run, locked, still a draft."""
    locked = SyncRun.objects.select_for_update().select_related("enrolment").get(pk=run.pk)
    if locked.status != SyncRunStatus.DRAFT:
        raise Conflict(NOT_A_DRAFT)
    return locked


# Programme (R-SYNC-2) and components (R-SYNC-3, 4)


def sync_draft_programme(*, run: SyncRun, programme_id: int) -> SyncRun:
    """Change the programme synchronised from: its recent components preselected again, no learners selected."""
    with transaction.atomic():
        locked = _locked_draft(run)
        enrolment = sync_enrolment_for(run.source_learner, programme_id)
        if enrolment.pk == locked.enrolment_id:
            return locked
        locked.enrolment, locked.programme_id = enrolment, enrolment.programme_id
        _reset_components(locked)
        locked.learner_filters = {}
        locked.save()
        SyncTarget.objects.filter(run=locked).delete()
    return locked


def sync_draft_components(*, run: SyncRun, codes: Sequence[str], selected: bool) -> SyncRun:
    """Select or unselect components by key code (one, or a page's)."""
    keys = [decode_key(c) for c in codes]
    with transaction.atomic():
        locked = _locked_draft(run)
        known = {c.key for c in _choices(locked)}
        if unknown := [code for code, key in zip(codes, keys, strict=True) if key not in known]:
            raise ValidationFailed(
                f"Not a component of this plan: {', '.join(unknown[:5])}.", fields={"components": ["Unknown."]}
            )
        _set_keys(locked, keys, selected)
    return locked


def sync_draft_components_matching(*, run: SyncRun, type: str | None, search: str, selected: bool) -> SyncRun:
    """Select or unselect every component the type filter and search match, on every page (R-SYNC-3)."""
    with transaction.atomic():
        locked = _locked_draft(run)
        matching = sync_components_filter(_choices(locked), type=type, search=search)
        _set_keys(locked, [c.key for c in matching], selected)
    return locked


def _choices(run: SyncRun) -> list[ComponentChoice]:
    return sync_components_list(enrolment=run.enrolment, by_id=run.by_id, visit_id=run.visit_id)


def _set_keys(run: SyncRun, keys: Sequence[tuple[str, int]], selected: bool) -> None:
    current = [tuple(k) for k in run.keys]
    if selected:
        current += [k for k in keys if k not in set(current)]
    else:
        current = [k for k in current if k not in set(keys)]
    run.keys = [list(k) for k in dict.fromkeys(current)]
    run.save(update_fields=["keys"])


# Learners (R-SYNC-5, 26)


def sync_draft_filters(*, run: SyncRun, filters: LearnerFilters) -> None:
    """Keep the Select Learners filters, so Back and Next come back to the same list."""
    SyncRun.objects.filter(pk=run.pk, status=SyncRunStatus.DRAFT).update(learner_filters=_filters_json(filters))


def sync_draft_learners(*, run: SyncRun, by: AnyUser, ids: Sequence[int], selected: bool) -> int:
    """Select or unselect learners of one page (each must be eligible); the number now selected."""
    with transaction.atomic():
        locked = _locked_draft(run)
        wanted = list(dict.fromkeys(int(i) for i in ids))
        eligible = set(
            _eligible(locked, by).filter(pk__in=wanted).values_list("pk", flat=True)
        )  # a page: a few dozen ids
        if not_eligible := [i for i in wanted if i not in eligible]:
            raise ValidationFailed(
                f"{len(not_eligible)} of these learners cannot be synchronised from this plan (not on the programme,"
                " not visible to you, the source learner, or in an excluded status).",
                fields={"learners": [f"Not eligible: {', '.join(map(str, not_eligible[:10]))}."]},
            )
        targets = SyncTarget.objects.filter(run=locked)
        if selected:
            have = set(targets.filter(learner_id__in=wanted).values_list("learner_id", flat=True))
            SyncTarget.objects.bulk_create([SyncTarget(run=locked, learner_id=i) for i in wanted if i not in have])
        else:
            targets.filter(learner_id__in=wanted).delete()
        return targets.count()


def sync_draft_learners_matching(*, run: SyncRun, by: AnyUser, filters: LearnerFilters, selected: bool) -> int:
    """Select, or unselect, every learner the filters match, on every page: one statement, whatever their number.
    The number now selected."""
    with transaction.atomic():
        locked = _locked_draft(run)
        matching = learners_matching(by, locked.enrolment, filters).order_by().values("pk")
        targets = SyncTarget.objects.filter(run=locked)
        if selected:
            sql, params = matching.exclude(pk__in=targets.values("learner_id")).query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {SyncTarget._meta.db_table} (run_id, learner_id) SELECT %s, m.pk FROM ({sql}) m",
                    [locked.pk, *params],
                )
        else:
            targets.filter(learner_id__in=matching).delete()
        sync_draft_filters(run=locked, filters=filters)
        return targets.count()


def sync_draft_learners_clear(*, run: SyncRun) -> None:
    with transaction.atomic():
        SyncTarget.objects.filter(run=_locked_draft(run)).delete()


def _eligible(run: SyncRun, by: AnyUser) -> QuerySet[Learner]:
    return learners_matching(by, run.enrolment, SavedFilters()).order_by()


# Conditions (R-SYNC-6) and type (R-SYNC-7…10)


def sync_draft_conditions(*, run: SyncRun, statuses: Sequence[str]) -> SyncRun:
    errors = choice_errors(SyncType.ALL.value, statuses, ())
    if errors:
        raise ValidationFailed(" ".join(m for ms in errors.values() for m in ms), fields=errors)
    with transaction.atomic():
        locked = _locked_draft(run)
        locked.statuses = [s for s in ComponentStatus.values if s in set(statuses)]
        locked.save(update_fields=["statuses"])
    return locked


def sync_draft_type(*, run: SyncRun, sync_type: str, attributes: Sequence[str]) -> SyncRun:
    chosen = list(attributes) if sync_type == SyncType.SELECTED else []
    errors = choice_errors(sync_type, run.statuses or list(ComponentStatus.values), chosen)
    if errors:
        raise ValidationFailed(" ".join(m for ms in errors.values() for m in ms), fields=errors)
    with transaction.atomic():
        locked = _locked_draft(run)
        if sync_type == SyncType.ONLY_CHANGES and not only_changes_available(run_sources(locked)):  # R-SYNC-8
            raise ValidationFailed(
                "ONLY changes is not available: you have made no changes to this learner's plan since opening it.",
                fields={"sync_type": ["No recent changes."]},
            )
        locked.sync_type, locked.attributes = sync_type, sorted(set(chosen))
        locked.save(update_fields=["sync_type", "attributes"])
    return locked


# The summary (R-SYNC-13, 14)


def sync_draft_summarise(*, run: SyncRun, by: AbstractBaseUser) -> tuple[SyncRun, int]:
    """Work out the draft's summary: here, or in the task worker for a large selection, with the summary page
    showing that it is being worked out. Selected learners no longer eligible are left out; their number is
    returned with the run."""
    require_sync_permission(by)
    errors = choice_errors(run.sync_type, run.statuses, run.attributes)
    if not run.keys:
        errors["components"] = ["Select at least one component to synchronise."]
    if errors:
        raise ValidationFailed(" ".join(m for ms in errors.values() for m in ms), fields=errors)
    with transaction.atomic():
        locked = _locked_draft(run)
        sources = run_sources(locked)
        check_sources(locked, sources)
        targets = SyncTarget.objects.filter(run=locked)
        left_out, _ = targets.exclude(learner_id__in=_eligible(locked, by).values("pk")).delete()
        selected = targets.count()
        if not selected:
            raise ValidationFailed("Select at least one learner to synchronise.", fields={"learners": ["Required."]})
        locked.perms = sorted(p.value for p in staff_perms(by))
        locked.summarised_at = timezone.now()
        locked.error = ""
        if selected * len(locked.keys) > settings.WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM:
            locked.status = SyncRunStatus.SUMMARISING
            locked.save()
            from waypoint.plans.sync.tasks import sync_run_summarise_task

            transaction.on_commit(lambda: sync_run_summarise_task.enqueue(locked.pk))
        else:
            summarise(locked, sources)
            locked.status = SyncRunStatus.SUMMARISED
            locked.save()
    return locked, left_out


def sync_run_summarise(run_id: int) -> None:
    """The worker's half of a large summary."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRunStatus.SUMMARISING:
            return
        try:
            with transaction.atomic():
                summarise(run, run_sources(run))
                run.status = SyncRunStatus.SUMMARISED
                run.save()
        except Exception as e:
            SyncRun.objects.filter(pk=run_id).update(
                status=SyncRunStatus.DRAFT, error=f"The summary could not be worked out: {e}"
            )
            raise


def sync_draft_reopen(*, run: SyncRun) -> SyncRun:
    """Back from the summary: the run is a draft again and its summary is dropped. A run already confirmed stays."""
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == SyncRunStatus.DRAFT:
            return locked
        if locked.status != SyncRunStatus.SUMMARISED:
            raise Conflict(f"This sync run is {locked.get_status_display().lower()}; its choices cannot change now.")
        SyncRunComponent.objects.filter(run=locked).delete()
        locked.status = SyncRunStatus.DRAFT
        locked.save(update_fields=["status"])
    return locked
