"""Delivering the EPA outbox to the platform emulator over HTTP (R-EPA-12): in order per registration, plain
updates coalesced, transient failures retried with back-off, rejections parked as failed in their own lane only,
the admin's retry, and leases that let a dead worker's messages go."""

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from waypoint.core.errors import PermissionRefused
from waypoint.core.models import OutboxMessage
from waypoint.epa import delivery, emulator
from waypoint.epa.client import EpaClient, SendOutcome, SendResult
from waypoint.epa.delivery import (
    RetryPolicy,
    backoff_seconds,
    decide,
    outbox_deliver,
    outbox_next_due,
    outbox_retry,
)
from waypoint.epa.models import AttemptOutcome, DeliveryAttempt, EpaConnection, EpaRegistration
from waypoint.epa.tasks import outbox_deliver_task
from waypoint.people.models import Perm

from .conftest import break_in_learning, dates_change, drain, lane, plain_update, return_to_learning

pytestmark = [pytest.mark.urls("waypoint.epa.emulator"), pytest.mark.django_db]

MakeRegistration = Callable[..., EpaRegistration]


def statuses(registration: EpaRegistration) -> list[str]:
    return [message.status for message in lane(registration)]


def applied(registration: EpaRegistration) -> list[dict[str, Any]]:
    return list(emulator.state()["registrations"].get(str(registration.pk), {}).get("events", []))


def locked_dates_change(registration: EpaRegistration) -> None:
    """Deliver what is queued; the platform then confirms gateway, and Waypoint changes the planned end date (which
    the platform will refuse) and queues a break in learning behind it."""
    outbox_deliver()
    emulator.confirm_gateway(registration.pk)
    dates_change(registration, planned_end_date=dt.date(2028, 9, 1))
    break_in_learning(registration)


def supervisor() -> Any:
    return factories.staff([Perm.SUPERVISOR])


# --- delivery and order -------------------------------------------------------------------------------------------


def test_a_queued_message_is_delivered_and_recorded_as_sent(make_registration: MakeRegistration) -> None:
    """R-EPA-12: the registration's first snapshot is sent, its try recorded, the platform's id kept."""
    registration = make_registration()

    report = outbox_deliver()

    (message,) = lane(registration)
    assert (report.delivered, report.claimed, report.failed) == (1, 1, 0)
    assert message.kind == "registration.created"
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.sent_at is not None
    assert message.payload is not None
    assert message.payload["event_id"] == str(message.idempotency_key)
    assert message.payload["learner"]["uln"] == registration.learner.uln
    (attempt,) = DeliveryAttempt.objects.filter(message=message)
    assert (attempt.outcome, attempt.http_status, attempt.error) == (AttemptOutcome.DELIVERED, 201, "")
    registration.refresh_from_db()
    assert registration.version == 1
    assert registration.external_ref == emulator.state()["registrations"][str(registration.pk)]["external_ref"]
    assert report.next_due is None


def test_messages_of_one_registration_are_applied_in_the_order_they_were_recorded(
    make_registration: MakeRegistration,
) -> None:
    """R-EPA-12: in order per learner; each snapshot's version is higher than the one before."""
    registration = make_registration()
    break_in_learning(registration)
    return_to_learning(registration)
    break_in_learning(registration)

    drain()

    messages = lane(registration)
    assert [m.status for m in messages] == ["sent"] * 4
    events = applied(registration)
    assert [e["event_id"] for e in events] == [str(m.idempotency_key) for m in messages]
    assert [e["event_type"] for e in events] == [
        "registration.created",
        "registration.break_in_learning",
        "registration.returned_to_learning",
        "registration.break_in_learning",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4]


def test_registrations_are_independent_lanes_delivered_side_by_side(make_registration: MakeRegistration) -> None:
    registrations = [make_registration() for _ in range(5)]
    for registration in registrations:
        break_in_learning(registration)

    first = outbox_deliver(until_idle=False)

    assert first.claimed == 5  # one head per lane in a round: each registration's "created"
    assert all(statuses(r) == ["sent", "pending"] for r in registrations)
    drain()
    assert all(statuses(r) == ["sent", "sent"] for r in registrations)


def test_plain_updates_queued_behind_a_plain_head_go_with_it_as_one_snapshot_of_the_latest_state(
    make_registration: MakeRegistration,
) -> None:
    """R-EPA-12: plain updates coalesce (the snapshot is the current state); a change of circumstance never does,
    and coalescing stops at it."""
    registration = make_registration()
    outbox_deliver()  # created
    learner = registration.learner_id
    plain_update(learner, "learner.uln")
    plain_update(learner, "learner.sex", sex="M")
    plain_update(learner, "learner.ethnicity", ethnicity=42)
    break_in_learning(registration)
    plain_update(learner, "learner.sex", sex="F")
    plain_update(learner, "learner.ethnicity", ethnicity=39)

    report = outbox_deliver()

    _, first, second, third, bil, fourth, fifth = lane(registration)
    assert [m.status for m in (first, second, third)] == ["sent", "coalesced", "coalesced"]
    assert second.coalesced_into == third.coalesced_into == first.pk
    assert bil.status == "sent"
    assert (fourth.status, fifth.status, fifth.coalesced_into) == ("sent", "coalesced", fourth.pk)
    assert report.coalesced == 3
    events = applied(registration)
    assert [e["event_type"] for e in events] == [
        "registration.created",
        "registration.updated",
        "registration.break_in_learning",
        "registration.updated",
    ]
    assert events[1]["changed_fields"] == ["learner.uln", "learner.sex", "learner.ethnicity"]
    assert first.payload is not None
    assert first.payload["learner"]["ethnicity"]["code"] == 39  # the state when it was sent, not when recorded
    snapshot_now = emulator.state()["registrations"][str(registration.pk)]["snapshot"]
    assert snapshot_now["learner"]["ethnicity"] == {"code": 39, "label": "Indian"}
    assert snapshot_now["learner"]["sex"]["code"] == "F"


# --- transient failures -----------------------------------------------------------------------------------------


@given(
    attempts=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=0.001, max_value=60),
    cap=st.floats(min_value=0.001, max_value=7200),
    seed=st.integers(),
)
def test_full_jitter_back_off_stays_between_zero_and_the_capped_exponential(
    attempts: int, base: float, cap: float, seed: int
) -> None:
    """R-EPA-12: retried with back-off: random(0, min(cap, base x 2^(n-1))) after the n-th failure."""
    wait = backoff_seconds(attempts, RetryPolicy(base, cap, 10), random.Random(seed))
    assert 0 <= wait <= min(cap, base * 2 ** (attempts - 1))


def test_the_jitter_spreads_retries_rather_than_sending_them_together() -> None:
    policy = RetryPolicy(base=2, cap=3600, max_attempts=15)
    rng = random.Random(4)
    waits = [backoff_seconds(5, policy, rng) for _ in range(200)]
    assert min(waits) < 4 < 28 < max(waits) <= 32


def test_the_decision_for_each_kind_of_result() -> None:
    now = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    policy = RetryPolicy(base=2, cap=60, max_attempts=3)
    rng = random.Random(1)

    delivered = decide(SendResult(SendOutcome.DELIVERED), attempts=1, now=now, policy=policy, rng=rng)
    rejected = decide(SendResult(SendOutcome.REJECTED, message="No."), attempts=1, now=now, policy=policy, rng=rng)
    later = decide(SendResult(SendOutcome.TRANSIENT, message="Busy."), attempts=2, now=now, policy=policy, rng=rng)
    asked = decide(SendResult(SendOutcome.TRANSIENT, retry_after=600), attempts=1, now=now, policy=policy, rng=rng)
    spent = decide(SendResult(SendOutcome.TRANSIENT, message="Busy."), attempts=3, now=now, policy=policy, rng=rng)

    assert (delivered.status, delivered.outcome) == ("sent", AttemptOutcome.DELIVERED)
    assert (rejected.status, rejected.outcome, rejected.error) == ("failed", AttemptOutcome.REJECTED, "No.")
    assert later.status == "pending"
    assert later.next_attempt_at is not None
    assert now <= later.next_attempt_at <= now + dt.timedelta(seconds=4)
    assert asked.next_attempt_at == now + dt.timedelta(seconds=60)  # Retry-After, but never beyond the cap
    assert (spent.status, spent.outcome) == ("failed", AttemptOutcome.EXHAUSTED)
    assert spent.error == "Busy. Gave up after 3 tries."


def test_a_transient_failure_waits_its_back_off_and_holds_back_its_lane(
    make_registration: MakeRegistration, settings: Any
) -> None:
    settings.WAYPOINT_EPA_BACKOFF_BASE = 30
    settings.WAYPOINT_EPA_BACKOFF_CAP = 300
    registration = make_registration()
    break_in_learning(registration)
    emulator.set_faults(error_rate=1.0)

    before = timezone.now()
    report = outbox_deliver()

    head, follower = lane(registration)
    assert (report.retrying, report.delivered) == (1, 0)
    assert (head.status, head.attempts, follower.status) == ("pending", 1, "pending")
    assert before <= head.next_attempt_at <= timezone.now() + dt.timedelta(seconds=30)
    assert "temporary problem (HTTP 503)" in head.last_error
    assert report.next_due == head.next_attempt_at
    (attempt,) = DeliveryAttempt.objects.filter(message=head)
    assert (attempt.outcome, attempt.http_status) == (AttemptOutcome.TRANSIENT, 503)
    emulator.set_faults(error_rate=0.0)
    assert outbox_deliver().claimed == 0  # not due yet, and the follower waits behind it


def test_the_platforms_retry_after_sets_the_next_try(make_registration: MakeRegistration, settings: Any) -> None:
    settings.WAYPOINT_EPA_BACKOFF_CAP = 300
    registration = make_registration()
    emulator.set_faults(rate_limit_rate=1.0, retry_after=45)

    outbox_deliver()

    (message,) = lane(registration)
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert message.status == "pending"
    assert 40 < wait <= 45


def test_a_message_out_of_tries_is_parked_as_failed(make_registration: MakeRegistration, settings: Any) -> None:
    settings.WAYPOINT_EPA_MAX_ATTEMPTS = 3
    registration = make_registration()
    emulator.set_faults(error_rate=1.0)

    drain()

    (message,) = lane(registration)
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.last_error.endswith("Gave up after 3 tries.")
    outcomes = list(DeliveryAttempt.objects.filter(message=message).values_list("outcome", flat=True))
    assert outcomes == ["transient", "transient", "exhausted"]


def test_transient_failures_recover_once_the_platform_does(make_registration: MakeRegistration) -> None:
    registrations = [make_registration() for _ in range(6)]
    emulator.set_faults(error_rate=0.5, seed=3)

    drain()

    assert all(statuses(r) == ["sent"] for r in registrations)
    assert emulator.state()["injected"]["errors"] > 0


# --- rejections and the admin's retry ----------------------------------------------------------------------------


def test_a_rejection_is_parked_as_failed_at_once_and_holds_back_only_its_own_lane(
    make_registration: MakeRegistration,
) -> None:
    """R-EPA-12: a business rejection is not retried; it stays visible as failed, in plain words, and the other
    registrations go on."""
    locked, other = make_registration(), make_registration()
    locked_dates_change(locked)
    break_in_learning(other)
    plain_update(other.learner_id)

    report = outbox_deliver()

    _, rejected, waiting = lane(locked)
    assert (rejected.status, rejected.attempts) == ("failed", 1)
    assert rejected.last_error == emulator.GATEWAY_LOCKED_MESSAGE
    assert waiting.status == "pending"
    assert statuses(other) == ["sent", "sent", "sent"]
    assert report.failed == 1
    (attempt,) = DeliveryAttempt.objects.filter(message=rejected)
    assert (attempt.outcome, attempt.http_status) == (AttemptOutcome.REJECTED, 422)
    assert outbox_deliver().claimed == 0
    assert outbox_next_due() is None  # a lane held back by a failure is not "due later": no busy loop


def test_a_supervisor_retry_rebuilds_a_rejected_message_with_a_new_key_and_the_lane_moves_on(
    make_registration: MakeRegistration,
) -> None:
    """R-EPA-12: visible to admins with a retry action. The admin has put right what the platform refused."""
    registration = make_registration()
    locked_dates_change(registration)
    outbox_deliver()
    _, rejected, _ = lane(registration)
    old_key = rejected.idempotency_key
    emulator.confirm_gateway(registration.pk, False)  # the EPAO reopened gateway

    retried = outbox_retry(by=supervisor(), messages=OutboxMessage.objects.filter(pk=rejected.pk))

    rejected.refresh_from_db()
    assert retried == 1
    assert (rejected.status, rejected.attempts, rejected.payload) == ("pending", 0, None)
    assert rejected.idempotency_key != old_key
    assert rejected.last_error.startswith("Retry asked by Staff Member")
    drain()
    assert statuses(registration) == ["sent", "sent", "sent"]
    events = applied(registration)
    assert [e["event_type"] for e in events][1:] == ["registration.updated", "registration.break_in_learning"]
    assert events[1]["event_id"] == str(rejected.idempotency_key)


def test_a_retry_of_a_message_out_of_tries_sends_the_same_body_with_the_same_key(
    make_registration: MakeRegistration, settings: Any
) -> None:
    """The platform may have applied one of the tries without Waypoint hearing back: the same key again."""
    settings.WAYPOINT_EPA_MAX_ATTEMPTS = 2
    registration = make_registration()
    emulator.set_faults(error_rate=1.0)
    drain()
    (message,) = lane(registration)
    key, payload = message.idempotency_key, message.payload
    emulator.set_faults(error_rate=0.0)

    assert outbox_retry(by=supervisor(), messages=OutboxMessage.objects.all()) == 1
    drain()

    message.refresh_from_db()
    assert (message.status, message.idempotency_key, message.payload) == ("sent", key, payload)


def test_only_a_supervisor_may_retry(make_registration: MakeRegistration) -> None:
    make_registration()
    with pytest.raises(PermissionRefused, match="Supervisor"):
        outbox_retry(by=factories.staff(), messages=OutboxMessage.objects.all())


def test_retrying_leaves_messages_that_did_not_fail_alone(make_registration: MakeRegistration) -> None:
    registration = make_registration()
    assert outbox_retry(by=supervisor(), messages=OutboxMessage.objects.all()) == 0
    assert statuses(registration) == ["pending"]


def test_a_registration_whose_connection_is_switched_off_fails_in_plain_words_taking_nothing_along(
    make_registration: MakeRegistration, connection: EpaConnection
) -> None:
    registration = make_registration()
    outbox_deliver()
    plain_update(registration.learner_id)
    plain_update(registration.learner_id)
    EpaConnection.objects.filter(pk=connection.pk).update(active=False)

    outbox_deliver()

    _, head, follower = lane(registration)
    assert head.status == "failed"
    assert head.last_error == "The connection Test EPAO platform is switched off: switch it on, then retry."
    assert (follower.status, follower.coalesced_into) == ("pending", None)


def test_a_connection_without_a_token_fails_naming_the_setting_to_set(
    make_registration: MakeRegistration, connection: EpaConnection
) -> None:
    EpaConnection.objects.filter(pk=connection.pk).update(credential_setting="ACME_EPA_TOKEN_NOT_SET")
    registration = make_registration()

    outbox_deliver()

    (message,) = lane(registration)
    assert message.status == "failed"
    assert "set ACME_EPA_TOKEN_NOT_SET in the environment" in message.last_error
    assert emulator.state()["requests"] == 0


# --- leases: a worker that dies ----------------------------------------------------------------------------------


def test_an_expired_lease_makes_a_sending_message_claimable_again_with_the_same_key_and_body(
    make_registration: MakeRegistration, settings: Any
) -> None:
    """R-EPA-12: a worker killed after its call reached the platform loses nothing and applies nothing twice."""
    registration = make_registration()
    settings.WAYPOINT_EPA_LEASE = 0.3
    (claimed,) = delivery._claim(10)  # the worker that will die claims the message…
    assert claimed.payload is not None
    with EpaClient() as dying:  # …and its call reaches the platform before it is killed
        assert claimed.endpoint is not None
        dying.send(
            claimed.endpoint,
            registration_id=claimed.registration_id,
            idempotency_key=claimed.idempotency_key,
            snapshot=claimed.payload,
        )
    (message,) = lane(registration)
    assert message.status == "sending"
    assert outbox_deliver().claimed == 0  # still leased
    time.sleep(0.35)
    settings.WAYPOINT_EPA_LEASE = 60.0

    report = outbox_deliver()

    message.refresh_from_db()
    assert (report.delivered, message.status) == (1, "sent")
    assert message.payload == claimed.payload
    state = emulator.state()
    assert (state["applied"], state["duplicates"]) == (1, 1)
    assert len(applied(registration)) == 1


def test_a_worker_that_lost_its_lease_records_its_try_but_leaves_the_message_to_the_new_owner(
    make_registration: MakeRegistration, settings: Any
) -> None:
    registration = make_registration()
    settings.WAYPOINT_EPA_LEASE = 0.2
    slow_batch = delivery._claim(10)
    time.sleep(0.25)
    settings.WAYPOINT_EPA_LEASE = 60.0
    outbox_deliver()  # another worker takes the message over and delivers it
    policy, rng = RetryPolicy.from_settings(), random.Random(0)

    delivery._record(
        slow_batch,
        {slow_batch[0].message_id: SendResult(SendOutcome.TRANSIENT, http_status=503, message="Busy.")},
        policy=policy,
        rng=rng,
    )

    (message,) = lane(registration)
    assert message.status == "sent"
    assert list(DeliveryAttempt.objects.filter(message=message).values_list("outcome", flat=True)) == [
        "delivered",
        "transient",
    ]


def test_messages_are_released_untried_when_too_little_of_the_lease_is_left(
    make_registration: MakeRegistration, settings: Any
) -> None:
    registration = make_registration()
    settings.WAYPOINT_EPA_LEASE = 1.0  # shorter than one call may take (WAYPOINT_EPA_TIMEOUT = 2)

    report = outbox_deliver(until_idle=False)

    (message,) = lane(registration)
    assert (report.released, message.status, message.attempts) == (1, "pending", 0)
    assert emulator.state()["requests"] == 0


# --- cost and scheduling ------------------------------------------------------------------------------------------


def test_a_delivery_round_costs_the_same_number_of_queries_whatever_its_size(
    make_registration: MakeRegistration, django_assert_max_num_queries: Any
) -> None:
    """R-EPA-12 at scale: claim, gather, coalesce and record are set-based; a round of 2 lanes and one of 25 make
    the same statements."""
    rounds = []
    for lanes in (2, 25):
        registrations = [make_registration() for _ in range(lanes)]
        outbox_deliver()
        for registration in registrations:
            plain_update(registration.learner_id)
            plain_update(registration.learner_id, "learner.sex")
            break_in_learning(registration)

        with django_assert_max_num_queries(18) as captured:
            report = outbox_deliver(until_idle=False)

        assert (report.claimed, report.delivered, report.coalesced) == (lanes, lanes, lanes)
        rounds.append(len(captured))
    assert rounds[0] == rounds[1]


def test_the_task_delivers_and_enqueues_itself_again_for_the_earliest_back_off(
    make_registration: MakeRegistration, settings: Any
) -> None:
    settings.WAYPOINT_EPA_BACKOFF_BASE = 60
    settings.WAYPOINT_EPA_BACKOFF_CAP = 60
    make_registration()
    emulator.set_faults(error_rate=1.0)

    outbox_deliver_task.call()
    outbox_deliver_task.call()

    (message,) = OutboxMessage.objects.all()
    scheduled = DBTaskResult.objects.filter(
        task_path=outbox_deliver_task.module_path, status=TaskResultStatus.READY
    ).get()  # one, not one per run
    assert message.status == "pending"
    assert scheduled.run_after == message.next_attempt_at


def test_idempotency_keys_are_uuids_unique_per_message(make_registration: MakeRegistration) -> None:
    registration = make_registration()
    plain_update(registration.learner_id)
    keys = [m.idempotency_key for m in lane(registration)]
    assert all(isinstance(k, uuid.UUID) for k in keys)
    assert len(set(keys)) == 2
