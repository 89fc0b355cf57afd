"""Turning a recorded change into EPA outbox messages, in the transaction of the change (R-EPA-1…12).

`record` is the EPA platform's subscriber to `core.outbox`: it is called by every service that changes something
the platform may need, with the learners concerned as a query. Plain updates become one message per active
registration of those learners, in one `INSERT … SELECT` whatever their number; a new episode gets its
registration; a change of programme applies the switching rules (R-EPA-8…11).
"""

import json
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.models import OutboxMessage
from waypoint.core.outbox import Change, ChangeKind, Source
from waypoint.epa.models import EpaConnection, EpaRegistration
from waypoint.epa.switching import Placement, RegistrationState, SwitchAction, registration_switch
from waypoint.epa.triggers import EVENT_TYPES, REASONS, is_sent
from waypoint.programmes.models import Enrolment, Programme

TOPIC = "epa"

_EPISODE_CHANGES = frozenset({ChangeKind.ENROLLED, ChangeKind.CHANGE_OF_PROGRAMME, ChangeKind.PROGRAMME_DATES})

# The reason code of the old episode's withdrawal on a change of programme (ILR WithdrawReason 40).
WITHDRAW_REASON_CHANGE_OF_PROGRAMME = 40


def record(learners: QuerySet[Any], change: Change) -> int:
    """Record `change` for `learners`; returns the number of outbox messages written."""
    if change.kind in _EPISODE_CHANGES and change.enrolment_id is None:
        raise ValueError(f"A {change.kind} change names its enrolment")
    if change.kind == ChangeKind.ENROLLED:
        return _register(change)
    if change.kind == ChangeKind.CHANGE_OF_PROGRAMME:
        return _change_programme(change)
    if not is_sent(change):
        return 0
    registrations = EpaRegistration.objects.filter(
        state=RegistrationState.REGISTERED, learner__in=learners.values("pk")
    )
    if change.enrolment_id is not None:
        registrations = registrations.filter(enrolment_id=change.enrolment_id)
    written = messages_insert(registrations, change, kind=EVENT_TYPES[change.kind], event=dict(change.event))
    if change.kind == ChangeKind.WITHDRAWAL:
        registrations.update(state=RegistrationState.WITHDRAWN, updated_at=timezone.now())
    return written


def wake() -> None:
    """After a commit that recorded messages: have the worker deliver them."""
    from waypoint.epa.tasks import outbox_deliver_task

    outbox_deliver_task.enqueue()


def messages_insert(
    registrations: QuerySet[EpaRegistration], change: Change, *, kind: str, event: dict[str, Any]
) -> int:
    """One message per registration of `registrations`, with a fresh idempotency key each: one statement."""
    sql, params = registrations.values("pk").query.sql_with_params()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    postgres = connection.vendor == "postgresql"
    uuid = random_uuid_sql(connection.vendor)
    as_json = "CAST(%s AS jsonb)" if postgres else "%s"
    outbox, registration = OutboxMessage._meta.db_table, EpaRegistration._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {outbox} (topic, key, learner_id, kind, changed, reason, source, event, created_by_id,
                                  created_at, idempotency_key, status, attempts, next_attempt_at, last_error)
            SELECT %s, r.id, r.learner_id, %s, {as_json}, %s, %s, {as_json}, %s, %s, {uuid}, 'pending', 0, %s, ''
            FROM {registration} r
            WHERE r.id IN ({sql})
            ORDER BY r.id
            """,
            [
                TOPIC,
                kind,
                json.dumps(list(change.fields)),
                REASONS[change.kind],
                change.source,
                json.dumps(event),
                change.by_id,
                now,
                now,
                *params,
            ],
        )
        return cursor.rowcount


def random_uuid_sql(vendor: str) -> str:
    """SQL that makes a fresh random UUID per row in the database."""
    if vendor == "postgresql":
        return "gen_random_uuid()"
    if vendor == "sqlite":
        return "lower(hex(randomblob(16)))"
    raise NotSupportedError(f"No random UUIDs on {vendor}")


def connection_for(programme: Programme) -> EpaConnection | None:
    """The active platform connection for the programme's EPAO, if any (R-EPA-1)."""
    if not programme.epao_id:
        return None
    return EpaConnection.objects.filter(epao_id=programme.epao_id, active=True).first()


def _register(change: Change) -> int:
    """A new episode on a connected programme is registered there; otherwise it is registered manually."""
    episode_id = change.enrolment_id
    assert episode_id is not None  # record() refuses an episode change without its enrolment
    enrolment = Enrolment.objects.select_related("programme").get(pk=episode_id)
    if enrolment.programme.parent_id is not None or enrolment.epa_registrations.exists():
        return 0  # a sub-programme is part of its programme's episode
    target = connection_for(enrolment.programme)
    registration = _registration_create(enrolment, target, registered=target is not None)
    if target is None:
        return 0
    return messages_insert(_one(registration), change, kind=EVENT_TYPES[ChangeKind.ENROLLED], event={})


def _change_programme(change: Change) -> int:
    """R-EPA-7…11: the old episode's registration follows the learner to the new one.

    Applied manually (not from an approved automation), the platform is told nothing: the old registration is
    detached (manual) and the new episode is registered manually, with the offer to register it where the new
    programme is connected.
    """
    old_id, new_id = change.enrolment_id, change.new_enrolment_id
    if old_id is None or new_id is None:
        raise ValueError("A change of programme names the old and the new enrolment")
    episodes = Enrolment.objects.select_related("programme").in_bulk([old_id, new_id])
    old_enrolment, new_enrolment = episodes[old_id], episodes[new_id]
    old = (
        EpaRegistration.objects.filter(
            enrolment=old_enrolment, state__in=[RegistrationState.REGISTERED, RegistrationState.MANUAL]
        )
        .order_by("-id")
        .first()
    )
    new_connection = connection_for(new_enrolment.programme)
    state = RegistrationState(old.state) if old else RegistrationState.MANUAL
    switch = registration_switch(
        Placement(
            old_enrolment.programme_id,
            old.epao_id if old else old_enrolment.programme.epao_id,
            old.connection_id if old else None,
        ),
        Placement(
            new_enrolment.programme_id, new_enrolment.programme.epao_id, new_connection.pk if new_connection else None
        ),
        state,
    )
    now = timezone.now()
    event = {
        **change.event,
        "old_programme": _programme(old_enrolment.programme),
        "new_programme": _programme(new_enrolment.programme),
        "withdraw_reason": WITHDRAW_REASON_CHANGE_OF_PROGRAMME,
    }

    if change.source != Source.AUTOMATION:
        if old is not None and old.state == RegistrationState.REGISTERED:
            _one(old).update(state=RegistrationState.MANUAL, updated_at=now)
        _registration_create(new_enrolment, new_connection, registered=False, can_register=new_connection is not None)
        return 0
    if switch.action == SwitchAction.RESTART_PROGRAMME and old is not None:
        _one(old).update(enrolment=new_enrolment, updated_at=now)
        return messages_insert(_one(old), change, kind=EVENT_TYPES[ChangeKind.CHANGE_OF_PROGRAMME], event=event)
    if switch.action == SwitchAction.MOVE_CONNECTION and old is not None:
        _one(old).update(state=RegistrationState.CANCELLED, updated_at=now)
        written = messages_insert(_one(old), change, kind=EVENT_TYPES[ChangeKind.WITHDRAWAL], event=event)
        created = _registration_create(new_enrolment, new_connection, registered=True)
        return written + messages_insert(_one(created), change, kind=EVENT_TYPES[ChangeKind.ENROLLED], event={})
    if switch.action == SwitchAction.SWITCH_TO_MANUAL and old is not None:
        _one(old).update(state=RegistrationState.MANUAL, updated_at=now)
    offered = switch.action == SwitchAction.OFFER_REGISTRATION
    _registration_create(new_enrolment, new_connection, registered=False, can_register=offered)
    return 0


def _registration_create(
    enrolment: Enrolment, target: EpaConnection | None, *, registered: bool, can_register: bool = False
) -> EpaRegistration:
    """The episode's registration: on `target` when registered there or offered to be, manual unless registered."""
    return EpaRegistration.objects.create(
        learner_id=enrolment.learner_id,
        enrolment=enrolment,
        connection=target if (registered or can_register) else None,
        epao_id=enrolment.programme.epao_id,
        state=RegistrationState.REGISTERED if registered else RegistrationState.MANUAL,
        can_register=can_register,
    )


def _one(registration: EpaRegistration) -> QuerySet[EpaRegistration]:
    return EpaRegistration.objects.filter(pk=registration.pk)


def _programme(programme: Programme) -> dict[str, str]:
    return {"code": programme.code, "name": programme.name, "standard": programme.standard_code}
