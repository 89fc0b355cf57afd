"""The HTTP client of an EPA platform connection (R-EPA-12): one call sends one snapshot.

    POST {base_url}/v1/registrations/{registration_id}/events
    Authorization: Bearer <the token in the setting or environment variable the connection names>
    Idempotency-Key: <the message's key: the same on every try of one message>
    body: the snapshot (payloads.snapshot)

Every answer becomes a `SendResult`: delivered (with the platform's id for the apprentice), transient (a timeout,
a connection failure, a 5xx, a 408 or a 429: worth trying again, after Retry-After when the platform says so) or
rejected (any other 4xx: the platform refused this update, and trying the same again will not help). httpx's
exceptions never leave this module.
"""

import datetime as dt
import email.utils
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any

import httpx
from django.conf import settings

DEFAULT_CREDENTIAL_SETTING = "WAYPOINT_EPA_TOKEN"
_TRANSIENT_STATUSES = frozenset({408, 425, 429})
_MESSAGE_LIMIT = 500


class SendOutcome(StrEnum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"
    REJECTED = "rejected"


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    http_status: int | None = None
    external_ref: str = ""
    retry_after: float | None = None  # seconds the platform asked us to wait
    message: str = ""  # in plain words
    code: str = ""  # the platform's own error code, e.g. gateway_locked
    duration_ms: int = 0
    replayed: bool = False  # the platform had seen this idempotency key and answered as the first time


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    token: str


def connection_token(credential_setting: str) -> str:
    """The API token held by the setting or environment variable a connection names (WAYPOINT_EPA_TOKEN when it
    names none). Tokens never live in the database."""
    name = credential_setting.strip() or DEFAULT_CREDENTIAL_SETTING
    value = getattr(settings, name, None)
    if isinstance(value, str) and value:
        return value
    return os.environ.get(name, "")


def events_url(base_url: str, registration_id: int) -> str:
    return f"{base_url.rstrip('/')}/v1/registrations/{registration_id}/events"


class EpaClient:
    """Thread-safe: one client (and its connection pool) serves every call of a delivery run."""

    def __init__(
        self,
        *,
        timeout: float | None = None,
        max_connections: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout = settings.WAYPOINT_EPA_TIMEOUT if timeout is None else timeout
        connections = max_connections or max(settings.WAYPOINT_EPA_CONCURRENCY, 1)
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "Waypoint EPA connector"},
        )

    def __enter__(self) -> "EpaClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(
        self, endpoint: Endpoint, *, registration_id: int, idempotency_key: uuid.UUID | str, snapshot: Mapping[str, Any]
    ) -> SendResult:
        started = time.monotonic()
        try:
            response = self._http.post(
                events_url(endpoint.base_url, registration_id),
                content=json.dumps(snapshot, separators=(",", ":")).encode(),
                headers={
                    "Authorization": f"Bearer {endpoint.token}",
                    "Idempotency-Key": str(idempotency_key),
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return unanswered(exc, endpoint.base_url, timeout=self.timeout, duration_ms=_since(started))
        return classify(
            response.status_code,
            response.content,
            retry_after=response.headers.get("Retry-After"),
            replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
            duration_ms=_since(started),
        )


def classify(
    status: int, body: bytes, *, retry_after: str | None = None, replayed: bool = False, duration_ms: int = 0
) -> SendResult:
    """What an HTTP answer means for the message (pure)."""
    data = _json(body)
    code = str(data.get("code") or "")
    said = _short(str(data.get("message") or ""))
    if 200 <= status < 300:
        return SendResult(
            SendOutcome.DELIVERED,
            http_status=status,
            external_ref=str(data.get("external_ref") or ""),
            duration_ms=duration_ms,
            replayed=replayed,
        )
    wait = parse_retry_after(retry_after) if retry_after else None
    if status in _TRANSIENT_STATUSES or status >= 500:
        if status == 429:
            default = "The platform asked us to slow down (HTTP 429)."
        else:
            default = f"The platform had a temporary problem (HTTP {status})."
        return SendResult(
            SendOutcome.TRANSIENT,
            http_status=status,
            retry_after=wait,
            message=_then(default, said),
            code=code or ("rate_limited" if status == 429 else "unavailable"),
            duration_ms=duration_ms,
        )
    if status in (401, 403):
        message = _then(
            f"The platform refused the connection's API token (HTTP {status}): check the token in the setting "
            "the connection names.",
            said,
        )
        fallback = "unauthorised"
    elif 400 <= status < 500:
        message, fallback = said or f"The platform rejected the update (HTTP {status}).", "rejected"
    else:
        message = f"The platform gave an answer Waypoint does not understand (HTTP {status})."
        fallback = "unexpected_answer"
    return SendResult(
        SendOutcome.REJECTED, http_status=status, message=message, code=code or fallback, duration_ms=duration_ms
    )


def unanswered(
    exc: httpx.HTTPError | httpx.InvalidURL, base_url: str, *, timeout: float, duration_ms: int
) -> SendResult:
    """What a call that got no answer means (pure): a timeout or an unreachable platform is worth trying again; an
    address that is not a usable URL is not."""
    if isinstance(exc, httpx.TimeoutException):
        outcome, code = SendOutcome.TRANSIENT, "timeout"
        message = f"The platform did not answer within {timeout:g} s."
    elif isinstance(exc, httpx.InvalidURL):
        outcome, code = SendOutcome.REJECTED, "invalid_url"
        message = f"The connection's address {base_url!r} is not a valid URL ({exc})."
    elif isinstance(exc, httpx.UnsupportedProtocol):
        outcome, code = SendOutcome.REJECTED, "invalid_url"
        message = f"The connection's address {base_url!r} must start with https:// or http://."
    else:
        outcome, code = SendOutcome.TRANSIENT, "unreachable"
        message = f"Could not reach the platform: {_short(str(exc) or type(exc).__name__)}."
    return SendResult(outcome, message=message, code=code, duration_ms=duration_ms)


def parse_retry_after(value: str, *, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds, or an HTTP date. None when unreadable."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _then(message: str, said: str) -> str:
    """Our message, followed by the platform's own words when it gave any."""
    return f"{message} {said}" if said else message


def _since(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))
