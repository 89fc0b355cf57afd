"""Delivering the outbox's EPA topic to the platforms (R-EPA-12): at least once, applied once, in order per
registration, retried with back-off, every try recorded.

One round of `outbox_deliver`:

1. **Claim**, in a short transaction: the due head of each lane (a registration's oldest unsent message), locked
   with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL so that any number of workers share the work (SQLite has
   one writer at a time). The heads become `sending` with a lease (`claimed_until`). A head sent for the first
   time gets its snapshot now: the registration's version goes up by one, a plain update takes along every plain
   update queued behind it up to the lane's next change of circumstance (they become `coalesced` into it), and
   the state is read *after* that, so the snapshot holds every change it stands for. The snapshot is stored: every
   later try of the message sends the same body with the same idempotency key.
2. **Send**, outside any transaction, a few calls at once (WAYPOINT_EPA_CONCURRENCY), one per lane.
3. **Record**, in a second short transaction: a DeliveryAttempt per try; delivered → sent (and the platform's id
   for the apprentice kept); transient → pending again after full-jitter exponential back-off or the platform's
   Retry-After, and failed once WAYPOINT_EPA_MAX_ATTEMPTS tries are spent; rejected → failed at once, with the
   platform's reason in plain words. A failed or waiting head holds back only its own lane.

A worker killed between 1 and 3 loses nothing: once the lease has run out the head is claimed again and the same
body is sent with the same key, which the platform answers as it did the first time.
"""

import datetime as dt
import json
import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, F, Func, Min, Model, OuterRef, QuerySet, Subquery, UUIDField
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from waypoint.core.errors import Conflict
from waypoint.core.models import OutboxMessage, OutboxStatus
from waypoint.epa.capture import TOPIC, random_uuid_sql, wake
from waypoint.epa.client import Endpoint, EpaClient, SendOutcome, SendResult, connection_token
from waypoint.epa.models import AttemptOutcome, DeliveryAttempt, EpaRegistration
from waypoint.epa.payloads import MessageFacts, SendState, merged_fields, snapshot
from waypoint.epa.selectors import Gathered, delivery_gather
from waypoint.epa.triggers import PLAIN_UPDATE
from waypoint.people.services.checks import require_supervisor

logger = logging.getLogger(__name__)

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT
FAILED, COALESCED = OutboxStatus.FAILED, OutboxStatus.COALESCED
UNSENT = (PENDING, SENDING, FAILED)  # a lane's head is its oldest message in one of these


# --- the rules (pure) ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    base: float  # seconds
    cap: float  # seconds
    max_attempts: int

    @classmethod
    def from_settings(cls) -> "RetryPolicy":
        return cls(
            base=settings.WAYPOINT_EPA_BACKOFF_BASE,
            cap=settings.WAYPOINT_EPA_BACKOFF_CAP,
            max_attempts=max(1, settings.WAYPOINT_EPA_MAX_ATTEMPTS),
        )


@dataclass(frozen=True)
class Decision:
    status: OutboxStatus
    outcome: AttemptOutcome
    next_attempt_at: dt.datetime | None  # when a transient failure is tried again
    error: str


def backoff_seconds(attempts: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Full jitter: a random wait between 0 and min(cap, base x 2^(attempts - 1)) after the attempts-th failure."""
    ceiling = min(policy.cap, policy.base * 2 ** min(max(attempts - 1, 0), 60))
    return rng.uniform(0, ceiling)


def decide(result: SendResult, *, attempts: int, now: dt.datetime, policy: RetryPolicy, rng: random.Random) -> Decision:
    """What one try's result means for its message; `attempts` counts the tries made, this one included."""
    if result.outcome == SendOutcome.DELIVERED:
        return Decision(SENT, AttemptOutcome.DELIVERED, None, "")
    if result.outcome == SendOutcome.REJECTED:
        return Decision(FAILED, AttemptOutcome.REJECTED, None, result.message)
    if attempts >= policy.max_attempts:
        return Decision(
            FAILED, AttemptOutcome.EXHAUSTED, None, f"{result.message} Gave up after {attempts} tries.".strip()
        )
    if result.retry_after is not None:
        wait = min(result.retry_after, policy.cap)
    else:
        wait = backoff_seconds(attempts, policy, rng)
    return Decision(PENDING, AttemptOutcome.TRANSIENT, now + dt.timedelta(seconds=wait), result.message)


# --- the report ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    batches: int = 0
    claimed: int = 0  # heads claimed (a message tried twice in one run counts twice)
    delivered: int = 0
    coalesced: int = 0  # plain updates that went with a delivered or to-be-delivered head
    retrying: int = 0  # transient failures waiting for their next try
    failed: int = 0  # rejected, or out of tries
    released: int = 0  # claimed but not tried: too little of the lease was left
    next_due: dt.datetime | None = None  # when a message waiting on back-off (or a lease) is next due


# --- one round: claim, send, record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outgoing:
    message_id: int
    registration_id: int
    idempotency_key: str
    attempts: int  # tries before this one
    lease: dt.datetime
    payload: dict[str, Any] | None
    endpoint: Endpoint | None
    problem: str  # why it cannot be sent at all, in plain words
    external_ref: str
    coalesced: int


def outbox_deliver(
    *,
    limit: int | None = None,
    until_idle: bool = True,
    client: EpaClient | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Deliver due EPA messages: rounds of at most `limit` heads (WAYPOINT_EPA_BATCH_SIZE), until none is due
    (`until_idle`) or once. Returns what happened and when a message waiting on back-off is next due."""
    size = max(1, limit or settings.WAYPOINT_EPA_BATCH_SIZE)
    policy = RetryPolicy.from_settings()
    rng = rng or random.Random()
    counts: Counter[str] = Counter()  # by the report's field names
    batch = _claim(size)
    if batch:  # an idle look makes no HTTP client (its TLS set-up costs more than the look itself)
        epa = client or EpaClient()
        pool = ThreadPoolExecutor(max_workers=max(1, settings.WAYPOINT_EPA_CONCURRENCY), thread_name_prefix="epa-send")
        try:
            while batch:
                counts["batches"] += 1
                counts["claimed"] += len(batch)
                counts["coalesced"] += sum(item.coalesced for item in batch)
                results = _send(pool, epa, batch, timeout=epa.timeout)
                counts.update(_record(batch, results, policy=policy, rng=rng))
                batch = _claim(size) if until_idle else []
        finally:
            pool.shutdown(wait=True)
            if client is None:
                epa.close()
    return DeliveryReport(**counts, next_due=outbox_next_due())


def outbox_next_due() -> dt.datetime | None:
    """The earliest moment a waiting lane head or an expired lease makes a message due; None when none waits."""
    pending = _heads_query().filter(status=PENDING).aggregate(due=Min("next_attempt_at"))["due"]
    leased = OutboxMessage.objects.filter(topic=TOPIC, status=SENDING).aggregate(due=Min("claimed_until"))["due"]
    moments = [moment for moment in (pending, leased) if moment is not None]
    return min(moments) if moments else None


def _heads_query() -> QuerySet[OutboxMessage]:
    """Messages at the head of their lane: no older message of the lane is still unsent."""
    earlier = OutboxMessage.objects.filter(topic=TOPIC, key=OuterRef("key"), pk__lt=OuterRef("pk"), status__in=UNSENT)
    return OutboxMessage.objects.filter(topic=TOPIC).filter(~Exists(earlier))


def _due_heads(now: dt.datetime) -> tuple[QuerySet[OutboxMessage], QuerySet[OutboxMessage]]:
    """Heads whose lease ran out (a worker died), and heads due now, oldest due first. Each is one range of the
    (topic, status, next_attempt_at) index, read in order: the database stops at the batch's size rather than
    sort every queued message."""
    expired = _heads_query().filter(status=SENDING, claimed_until__lte=now).order_by("pk")
    pending = _heads_query().filter(status=PENDING, next_attempt_at__lte=now).order_by("next_attempt_at", "pk")
    return expired, pending


def _locked(heads: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite: one writer at a time."""
    if connection.features.has_select_for_update_skip_locked:
        return heads.select_for_update(skip_locked=True)
    return heads


def _claim(size: int) -> list[_Outgoing]:
    now = timezone.now()
    expired, pending = _due_heads(now)
    if not (expired.exists() or pending.exists()):  # outside a transaction: an idle poll takes no write lock
        return []
    with transaction.atomic():
        heads = list(_locked(expired)[:size])
        if len(heads) < size:
            heads += list(_locked(pending)[: size - len(heads)])
        if not heads:
            return []
        lease = now + dt.timedelta(seconds=settings.WAYPOINT_EPA_LEASE)
        OutboxMessage.objects.filter(pk__in=[head.pk for head in heads]).update(status=SENDING, claimed_until=lease)
        fresh = [head for head in heads if head.payload is None]
        covered: dict[int, list[list[str]]] = {}
        if fresh:
            EpaRegistration.objects.filter(pk__in=[head.key for head in fresh]).update(version=F("version") + 1)
            covered = _coalesce([head for head in fresh if head.kind == PLAIN_UPDATE])
        # Read after the coalescing: the state includes every change of the messages it took along.
        gathered = delivery_gather({head.key for head in heads})
        outgoing: list[_Outgoing] = []
        built: list[tuple[int, str]] = []
        unsendable: list[int] = []
        for head in heads:
            found = gathered.get(head.key)
            endpoint, problem = _endpoint(found)
            if head.payload is None and not problem and found is not None:
                head.payload = snapshot(
                    SendState(
                        found.facts,
                        MessageFacts(
                            event_id=head.idempotency_key,
                            event_type=head.kind,
                            occurred_at=head.created_at,
                            event=head.event or {},
                            changed_fields=merged_fields(head.changed or [], *covered.get(head.pk, [])),
                        ),
                    )
                )
                built.append((head.pk, json.dumps(head.payload)))
            if problem:
                unsendable.append(head.pk)
            outgoing.append(
                _Outgoing(
                    message_id=head.pk,
                    registration_id=head.key,
                    idempotency_key=str(head.idempotency_key),
                    attempts=head.attempts,
                    lease=lease,
                    payload=head.payload,
                    endpoint=endpoint,
                    problem=problem,
                    external_ref=found.facts.external_ref if found else "",
                    coalesced=0 if problem else len(covered.get(head.pk, [])),
                )
            )
        _set_rows(OutboxMessage, {"payload": "jsonb"}, built)
        if unsendable and covered:
            # What cannot be sent takes nothing along: the plain updates wait behind it again.
            OutboxMessage.objects.filter(coalesced_into__in=unsendable, status=COALESCED).update(
                status=PENDING, coalesced_into=None
            )
    return outgoing


def _endpoint(found: Gathered | None) -> tuple[Endpoint | None, str]:
    if found is None:
        return None, "The registration no longer exists in Waypoint."
    link = found.connection
    if link is None:
        return None, "The registration has no EPA platform connection: the learner is registered manually."
    if not link.active:
        return None, f"The connection {link.name} is switched off: switch it on, then retry."
    token = connection_token(link.credential_setting)
    if not token:
        name = link.credential_setting or "WAYPOINT_EPA_TOKEN"
        return None, f"The connection {link.name} has no API token: set {name} in the environment, then retry."
    return Endpoint(base_url=link.base_url, token=token), ""


def _coalesce(heads: Sequence[OutboxMessage]) -> dict[int, list[list[str]]]:
    """Mark the plain updates queued behind each plain head, up to its lane's next other message, as coalesced
    into it; returns their changed fields by head. One statement whatever their number; it marks exactly the
    rows it could see, so the state read afterwards includes all their changes."""
    if not heads:
        return {}
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    key = connection.ops.quote_name("key")
    ids = [head.pk for head in heads]
    marks = ", ".join(["%s"] * len(ids))
    head_of_lane = f"(SELECT h.id FROM {table} h WHERE h.id IN ({marks}) AND h.{key} = {table}.{key})"
    sql = f"""
        UPDATE {table} SET status = %s, coalesced_into = {head_of_lane}
        WHERE topic = %s AND status = %s AND kind = %s
          AND {key} IN (SELECT h.{key} FROM {table} h WHERE h.id IN ({marks}))
          AND id > {head_of_lane}
          AND NOT EXISTS (
              SELECT 1 FROM {table} b
              WHERE b.topic = {table}.topic AND b.{key} = {table}.{key} AND b.kind <> %s
                AND b.id > {head_of_lane} AND b.id < {table}.id
          )
        RETURNING coalesced_into, changed
    """
    params: list[Any] = [COALESCED, *ids, TOPIC, PENDING, PLAIN_UPDATE, *ids, *ids, PLAIN_UPDATE, *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    covered: dict[int, list[list[str]]] = {}
    for head_id, changed in rows:
        covered.setdefault(head_id, []).append(json.loads(changed) if isinstance(changed, str) else changed or [])
    return covered


def _send(
    pool: ThreadPoolExecutor, epa: EpaClient, batch: Iterable[_Outgoing], *, timeout: float
) -> dict[int, SendResult | None]:
    """Each sendable head's result; None for one left untried because its lease would run out first."""
    futures = {
        item.message_id: pool.submit(_send_one, epa, item, timeout)
        for item in batch
        if not item.problem and item.payload is not None and item.endpoint is not None
    }
    return {message_id: future.result() for message_id, future in futures.items()}


def _send_one(epa: EpaClient, item: _Outgoing, timeout: float) -> SendResult | None:
    if timezone.now() + dt.timedelta(seconds=timeout) > item.lease:
        return None
    if item.endpoint is None or item.payload is None:
        return None
    try:
        return epa.send(
            item.endpoint,
            registration_id=item.registration_id,
            idempotency_key=item.idempotency_key,
            snapshot=item.payload,
        )
    except Exception as exc:  # a bug must not strand the batch until its lease runs out
        logger.exception("Sending EPA message %s failed unexpectedly", item.message_id)
        return SendResult(SendOutcome.TRANSIENT, message=f"Waypoint failed while sending: {type(exc).__name__}.")


def _record(
    batch: Sequence[_Outgoing],
    results: Mapping[int, SendResult | None],
    *,
    policy: RetryPolicy,
    rng: random.Random,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    now = timezone.now()
    lease = batch[0].lease
    with transaction.atomic():
        held_rows = OutboxMessage.objects.filter(
            pk__in=[item.message_id for item in batch], status=SENDING, claimed_until=lease
        )
        if connection.features.has_select_for_update:
            held_rows = held_rows.select_for_update()
        # A head whose lease ran out may have been claimed again by another worker: its try is still recorded,
        # but the message's state is that worker's to write.
        held = set(held_rows.values_list("pk", flat=True))
        attempts: list[DeliveryAttempt] = []
        sent: list[int] = []
        changed: list[tuple[int, str, int, dt.datetime, str]] = []
        refs: list[tuple[int, str]] = []
        for item in batch:
            result = _result_of(item, results)
            if result is None:
                counts["released"] += 1
                if item.message_id in held:
                    changed.append((item.message_id, PENDING, item.attempts, now, ""))
                continue
            tries = item.attempts + 1
            decision = decide(result, attempts=tries, now=now, policy=policy, rng=rng)
            attempts.append(
                DeliveryAttempt(
                    message_id=item.message_id,
                    attempted_at=now - dt.timedelta(milliseconds=result.duration_ms),
                    duration_ms=result.duration_ms,
                    outcome=decision.outcome,
                    http_status=result.http_status,
                    error=decision.error,
                )
            )
            counts[_COUNTED[decision.outcome]] += 1
            if result.external_ref and result.external_ref != item.external_ref:
                refs.append((item.registration_id, result.external_ref[:60]))
            if item.message_id not in held:
                continue
            if decision.status == SENT:
                sent.append(item.message_id)
            else:
                due = decision.next_attempt_at or now
                changed.append((item.message_id, decision.status, tries, due, decision.error))
        DeliveryAttempt.objects.bulk_create(attempts)
        if sent:
            OutboxMessage.objects.filter(pk__in=sent).update(
                status=SENT, sent_at=now, claimed_until=None, attempts=F("attempts") + 1, last_error=""
            )
        _set_rows(
            OutboxMessage,
            {
                "status": "text",
                "attempts": "integer",
                "next_attempt_at": "timestamptz",
                "last_error": "text",
                "claimed_until": "timestamptz",
            },
            [(*row, None) for row in changed],
        )
        _set_rows(EpaRegistration, {"external_ref": "text"}, refs)
    return counts


_COUNTED = {
    AttemptOutcome.DELIVERED: "delivered",
    AttemptOutcome.TRANSIENT: "retrying",
    AttemptOutcome.REJECTED: "failed",
    AttemptOutcome.EXHAUSTED: "failed",
}


def _result_of(item: _Outgoing, results: Mapping[int, SendResult | None]) -> SendResult | None:
    if item.problem:
        return SendResult(SendOutcome.REJECTED, message=item.problem, code="not_sendable")
    return results.get(item.message_id)


def _set_rows(model: type[Model], columns: Mapping[str, str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Give each row its own values, one statement per thousand rows: `UPDATE … FROM (VALUES …)`. Each row is
    (id, *values in the order of `columns`); `columns` maps a column to its PostgreSQL type."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ["id", *columns]
    postgres = connection.vendor == "postgresql"
    types = {"id": "bigint", **columns}
    placeholder = "(" + ", ".join(f"%s::{types[name]}" if postgres else "%s" for name in names) + ")"
    assignments = ", ".join(f"{connection.ops.quote_name(name)} = v.{name}" for name in columns)
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        params: list[Any] = []
        for row in chunk:
            params.extend(_db_value(value) for value in row)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH v({', '.join(names)}) AS (VALUES {', '.join([placeholder] * len(chunk))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id",
                params,
            )


def _db_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


# --- the admin's retry ------------------------------------------------------------------------------------------


class _NewUuid(Func):
    """A fresh random UUID per row, made by the database."""

    output_field = UUIDField()

    def __init__(self) -> None:
        super().__init__()

    def as_sql(self, compiler: SQLCompiler, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        return random_uuid_sql(connection.vendor), []


def outbox_retry(*, by: AbstractBaseUser, messages: QuerySet[OutboxMessage]) -> int:
    """Put the failed EPA messages among `messages` back in their lanes, due now; returns how many. Needs
    Supervisor.

    A message the platform rejected is built again from the current state (the admin has usually corrected
    something) and goes with a new idempotency key, since the platform may remember its answer to the old one. A
    message that ran out of tries goes again exactly as it was, with the same key: the platform may have applied
    one of the tries without Waypoint hearing back.
    """
    require_supervisor(by, "Retrying messages to the EPA platform")
    now = timezone.now()
    who = getattr(by, "get_full_name", lambda: "")() or by.get_username()
    note = f"Retry asked by {who} at {timezone.localtime(now):%d %b %Y %H:%M}."
    last_outcome = Subquery(
        DeliveryAttempt.objects.filter(message=OuterRef("pk")).order_by("-id").values("outcome")[:1]
    )
    again = {
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "last_error": note,
    }
    with transaction.atomic():
        failed = OutboxMessage.objects.filter(
            pk__in=messages.filter(topic=TOPIC, status=FAILED).order_by().values("pk")
        )
        rebuilt = (
            failed.alias(last_outcome=last_outcome)
            .filter(last_outcome=AttemptOutcome.REJECTED)
            .update(**again, payload=None, idempotency_key=_NewUuid())
        )
        resent = OutboxMessage.objects.filter(pk__in=failed.values("pk"), status=FAILED).update(**again)
        retried = rebuilt + resent
        if retried:
            transaction.on_commit(wake)
    return retried


def outbox_retry_message(*, by: AbstractBaseUser, message: OutboxMessage) -> None:
    """Retry one message, which must have failed. Needs Supervisor."""
    require_supervisor(by, "Retrying messages to the EPA platform")
    if message.status != FAILED:
        raise Conflict(
            f"Only a failed message can be retried; this one is {OutboxStatus(message.status).label.lower()}."
        )
    outbox_retry(by=by, messages=OutboxMessage.objects.filter(pk=message.pk))
