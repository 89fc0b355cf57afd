"""Enrolling learners and building their plans from the programme template (R-CORE-3, R-CORE-4)."""

import datetime as dt
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, PermissionRefused
from waypoint.core.outbox import Change, ChangeKind, Source, outbox_record
from waypoint.core.validation import full_clean_or_refuse, refuse_unknown
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner
from waypoint.plans.models import Component, Review
from waypoint.plans.permissions import PlanAction, enrolment_change_refusal
from waypoint.plans.services.components import TEMPLATE_FIELDS
from waypoint.programmes.models import ComponentTemplate, ComponentType, Enrolment, Programme, ProgrammeStatus

_RELATIONS = ("learner", "programme", "enrolled_by")


class EnrolmentValues(TypedDict, total=False):
    status: str
    start_date: dt.date
    planned_end_date: dt.date
    epa_period_start: dt.date | None
    epa_period_end: dt.date | None


def enrolment_create(
    *,
    learner: Learner,
    programme: Programme,
    start_date: dt.date,
    planned_end_date: dt.date,
    by: AbstractBaseUser | None,
    status: str = ProgrammeStatus.ACTIVE,
    source: Source = Source.UI,
) -> Enrolment:
    """Enrol a learner on a programme (and on each of its sub-programmes) and build their plans.

    `by=None` is the system itself (demo data, imports) and is not permission-checked. The new episode is
    registered on the EPA platform when its programme has a connection (R-EPA-1).
    """
    if by is not None:
        _check(by, PlanAction.ADD)
    with transaction.atomic():
        enrolment = _episode_enrol(
            learner=learner,
            programme=programme,
            start_date=start_date,
            planned_end_date=planned_end_date,
            by=by,
            status=status,
        )
        episode = Change(
            ChangeKind.ENROLLED,
            Source.SYSTEM if by is None else source,
            by.pk if by else None,
            enrolment_id=enrolment.pk,
        )
        outbox_record(learners=Learner.objects.filter(pk=learner.pk), change=episode)
    return enrolment


def _episode_enrol(
    *,
    learner: Learner,
    programme: Programme,
    start_date: dt.date,
    planned_end_date: dt.date,
    by: AbstractBaseUser | None,
    status: str,
) -> Enrolment:
    """The enrolments of a new episode (the programme and each of its sub-programmes) with their plans, in the
    caller's transaction; the caller records what the episode means for the EPA platform."""
    programmes = [programme, *programme.sub_programmes.all()]
    taken = Enrolment.objects.filter(learner=learner, programme__in=programmes).select_related("programme").first()
    if taken is not None:
        raise Conflict(f"{learner} is already enrolled on {taken.programme}.")
    enrolments = [
        Enrolment(
            learner=learner,
            programme=p,
            status=status,
            start_date=start_date,
            planned_end_date=planned_end_date,
            enrolled_by_id=by.pk if by else None,
        )
        for p in programmes
    ]
    for enrolment in enrolments:
        full_clean_or_refuse(enrolment, "enrolment", exclude=_RELATIONS)
    Enrolment.objects.bulk_create(enrolments)
    plans_create_for(Enrolment.objects.filter(learner=learner, programme__in=programmes))
    return enrolments[0]


_DATES = ("start_date", "planned_end_date")
_EPA_PERIOD = ("epa_period_start", "epa_period_end")


def enrolment_update(
    *, enrolment: Enrolment, by: AbstractBaseUser, changes: EnrolmentValues, source: Source = Source.UI
) -> Enrolment:
    """Edit Programme Details: a change of start or planned end date is sent to the EPA platform, a change of the
    EPA period is not (R-EPA-6)."""
    refuse_unknown(changes, EnrolmentValues.__annotations__, "enrolment")
    _check(by, PlanAction.EDIT)
    with transaction.atomic():
        current = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        changed = [f for f, v in changes.items() if getattr(current, f) != v]
        for field, value in changes.items():
            setattr(current, field, value)
        full_clean_or_refuse(current, "enrolment", exclude=_RELATIONS)
        current.save()
        this = Learner.objects.filter(pk=current.learner_id)
        for kind, group in ((ChangeKind.PROGRAMME_DATES, _DATES), (ChangeKind.EPA_PERIOD, _EPA_PERIOD)):
            if fields := tuple(f"programme.{f}" for f in changed if f in group):
                change = Change(kind, source, by.pk, fields=fields, enrolment_id=_episode_id(current))
                outbox_record(learners=this, change=change)
    return current


def _episode_id(enrolment: Enrolment) -> int:
    """The enrolment an EPA registration is for: the programme's, for a sub-programme's enrolment."""
    if enrolment.programme.parent_id is None:
        return enrolment.pk
    parent = Enrolment.objects.filter(learner_id=enrolment.learner_id, programme_id=enrolment.programme.parent_id)
    return parent.values_list("pk", flat=True).first() or enrolment.pk


def plans_create_for(enrolments: QuerySet[Enrolment]) -> int:
    """Create every template component (and review entity) for the given enrolments, set-based.

    One INSERT … SELECT for the components and one for the reviews, however many enrolments.
    Returns the number of components created.
    """
    enrolment_sql, enrolment_params = enrolments.values("pk").query.sql_with_params()
    component, template, enrolment, review = (
        Component._meta.db_table,
        ComponentTemplate._meta.db_table,
        Enrolment._meta.db_table,
        Review._meta.db_table,
    )
    columns = ", ".join(TEMPLATE_FIELDS)
    template_columns = ", ".join(f"t.{c}" for c in TEMPLATE_FIELDS)
    due = (
        "e.start_date + t.due_offset_days"
        if connection.vendor == "postgresql"
        else "date(e.start_date, '+' || t.due_offset_days || ' days')"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # stored exactly as the ORM stores it
    review_types = tuple(ComponentType.with_review())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {component} (learner_id, enrolment_id, template_id, position, status, due_date, owner_id,
                                     marking_aid_submitted, revision, created_at, updated_at, {columns})
            SELECT e.learner_id, e.id, t.id, t.position, 'not_started', {due}, l.tutor_id,
                   %s, 1, %s, %s, {template_columns}
            FROM {enrolment} e
            JOIN {template} t ON t.programme_id = e.programme_id
            JOIN {Learner._meta.db_table} l ON l.id = e.learner_id
            WHERE e.id IN ({enrolment_sql})
              AND NOT EXISTS (SELECT 1 FROM {component} c WHERE c.enrolment_id = e.id AND c.template_id = t.id)
            """,
            [False, now, now, *enrolment_params],
        )
        created = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {review} (component_id, status, review_type, scheduled_at)
            SELECT c.id, 'not_scheduled', c.review_type, NULL
            FROM {component} c
            WHERE c.enrolment_id IN ({enrolment_sql}) AND c.type IN (%s, %s)
              AND NOT EXISTS (SELECT 1 FROM {review} r WHERE r.component_id = c.id)
            """,
            [*enrolment_params, *review_types],
        )
    return created


def _check(by: AbstractBaseUser, action: PlanAction) -> None:
    refusal = enrolment_change_refusal(staff_perms(by), action)
    if refusal is not None:
        raise PermissionRefused(refusal.message)
