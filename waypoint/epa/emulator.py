"""An emulator of an EPA platform (epaPRO-like) for development, tests, benchmarks and demos.

Mounted at /emulators/epa/ only when settings.WAYPOINT_EMULATORS is on (`make run`); see docs/epa-connector.md.
It keeps what it receives in memory (thread-safe, lost on restart) and speaks the connector's contract:

    POST v1/registrations/<registration_id>/events   (Authorization: Bearer <token>, Idempotency-Key: <uuid>)

- The token must equal settings.WAYPOINT_EPA_EMULATOR_TOKEN (401 otherwise; an empty setting refuses every call).
- The body is a waypoint.epa-connector.registration/v1 snapshot whose registration_id is the one in the path and
  whose event_id is the Idempotency-Key (400 invalid_payload otherwise).
- A key seen before is answered exactly as the first time, with `Idempotent-Replayed: true`, and applied no second
  time (counted as a duplicate); the same key with another body is refused (422 idempotency_key_reused).
- Snapshots are versioned: one with a version no higher than the registration's applied version changes nothing
  and is answered 200 {"status": "stale"}. Otherwise it is applied: 201 the first time (the platform's id for the
  apprentice, `external_ref`, is made then), 200 afterwards.
- Gateway lock: once a registration is marked gateway-confirmed (control endpoint below), a snapshot that changes
  its standard or planned end date is refused: 422 {"code": "gateway_locked"}, not remembered under its key.

Faults, drawn at random per call after the token check (shares from settings WAYPOINT_EPA_EMULATOR_*, changed at
run time through the control endpoint): `error_rate` answers 503 and applies nothing; `rate_limit_rate` answers
429 with Retry-After `retry_after` seconds; `timeout_rate` applies the snapshot, then holds the answer for
`hang_seconds` (past the client's timeout: the client must send the same key again, and the platform must not
apply it twice); `latency_ms` is added before every answer.

Control endpoints (JSON, no token):

    GET  _control/state[?summary=1]   what was received: counters, and per registration the applied events
    POST _control/faults              {error_rate, rate_limit_rate, timeout_rate, latency_ms, retry_after,
                                       hang_seconds, seed}: any of them; answers the faults now in force
    POST _control/gateway             {registration_id, confirmed}: mark a registration gateway-confirmed or not
    POST _control/reset               forget everything; faults back to the settings
"""

import datetime as dt
import hashlib
import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from waypoint.epa.payloads import SCHEMA

FAULT_FIELDS = ("error_rate", "rate_limit_rate", "timeout_rate", "latency_ms", "retry_after", "hang_seconds")
GATEWAY_LOCKED_MESSAGE = (
    "The apprentice has passed gateway on the platform: their standard and planned end date can no longer be "
    "changed. Ask the EPAO to reopen gateway, or correct the record on the platform."
)


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    timeout_rate: float = 0.0
    latency_ms: int = 0
    retry_after: float = 1.0
    hang_seconds: float = 30.0


@dataclass
class AppliedEvent:
    event_id: str
    event_type: str
    version: int
    changed_fields: list[str]
    received_at: str


@dataclass
class Registration:
    registration_id: int
    external_ref: str = ""
    version: int = 0
    gateway_confirmed: bool = False
    snapshot: dict[str, Any] | None = None
    events: list[AppliedEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    fingerprint: str


@dataclass
class _State:
    registrations: dict[int, Registration] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    refs: int = 0
    in_flight: int = 0


_lock = threading.Lock()
_state = _State()


# --- in-process use (tests) and the control endpoints -------------------------------------------------------------


def reset() -> None:
    """Forget everything received; faults back to the settings."""
    global _state
    with _lock:
        _state = _State()


def faults() -> Faults:
    """The faults in force: the settings, with what the control endpoint changed."""
    with _lock:
        return _faults_locked()


def set_faults(*, seed: int | None = None, **values: float) -> Faults:
    """Change faults at run time (any of FAULT_FIELDS); `seed` makes the draws repeatable."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fault settings: {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a number, 0 or more.")
        if name.endswith("_rate") and value > 1:
            raise ValueError(f"{name} is a share of calls, between 0 and 1.")
    with _lock:
        merged = {**_state.overrides, **values}
        wanted = _faults_with(merged)
        if wanted.error_rate + wanted.rate_limit_rate + wanted.timeout_rate > 1:
            raise ValueError("The fault rates add up to more than 1.")
        _state.overrides = merged
        if seed is not None:
            _state.rng = random.Random(seed)
        return _faults_locked()


def confirm_gateway(registration_id: int, confirmed: bool = True) -> None:
    with _lock:
        _registration(registration_id).gateway_confirmed = confirmed


def state(*, summary: bool = False) -> dict[str, Any]:
    """What the emulator received, as plain JSON values."""
    with _lock:
        counts = dict(_state.counts)
        body: dict[str, Any] = {
            "requests": counts.get("requests", 0),
            "applied": counts.get("applied", 0),
            "stale": counts.get("stale", 0),
            "duplicates": counts.get("duplicates", 0),
            "rejected": counts.get("rejected", 0),
            "unauthorised": counts.get("unauthorised", 0),
            "injected": {
                "errors": counts.get("errors", 0),
                "rate_limited": counts.get("rate_limited", 0),
                "timeouts": counts.get("timeouts", 0),
            },
            "in_flight": _state.in_flight,
            "keys": len(_state.answers),
            "registration_count": len(_state.registrations),
            "faults": asdict(_faults_locked()),
        }
        if not summary:
            body["registrations"] = {
                str(registration.registration_id): {
                    "external_ref": registration.external_ref,
                    "version": registration.version,
                    "gateway_confirmed": registration.gateway_confirmed,
                    "events": [asdict(event) for event in registration.events],
                    "snapshot": registration.snapshot,
                }
                for registration in _state.registrations.values()
            }
        return body


# --- the platform's API ---------------------------------------------------------------------------------------


@csrf_exempt
def registration_events(request: HttpRequest, registration_id: int) -> HttpResponse:
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Send the registration's snapshot with POST.")
    with _lock:
        _state.in_flight += 1
        _count("requests")
    try:
        return _receive(request, registration_id)
    finally:
        with _lock:
            _state.in_flight = max(0, _state.in_flight - 1)


def _receive(request: HttpRequest, registration_id: int) -> HttpResponse:
    expected = settings.WAYPOINT_EPA_EMULATOR_TOKEN
    if not expected or request.headers.get("Authorization", "") != f"Bearer {expected}":
        with _lock:
            _count("unauthorised")
        return _error(401, "unauthorised", "The API token is missing or not valid for this platform.")
    with _lock:
        now_faults = _faults_locked()
        draw = _state.rng.random()
    if now_faults.latency_ms:
        time.sleep(now_faults.latency_ms / 1000)
    if draw < now_faults.error_rate:
        with _lock:
            _count("errors")
        return _error(503, "unavailable", "The platform is busy; try again later.")
    draw -= now_faults.error_rate
    if draw < now_faults.rate_limit_rate:
        with _lock:
            _count("rate_limited")
        response = _error(429, "rate_limited", "Too many requests; slow down.")
        response["Retry-After"] = f"{now_faults.retry_after:g}"
        return response
    draw -= now_faults.rate_limit_rate
    hang = draw < now_faults.timeout_rate

    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return _error(400, "idempotency_key_missing", "Send an Idempotency-Key header with every event.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", "The body is not valid JSON.")
    problem = _invalid(body, registration_id, key)
    if problem:
        return _error(400, "invalid_payload", problem)
    answer = _apply(registration_id, key, body)
    if hang:
        with _lock:
            _count("timeouts")
        time.sleep(now_faults.hang_seconds)
    return answer


def _invalid(body: Any, registration_id: int, key: str) -> str:
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    if body.get("schema") != SCHEMA:
        return f"The schema must be {SCHEMA}."
    if body.get("registration_id") != registration_id:
        return "The body's registration_id is not the registration in the address."
    if body.get("event_id") != key:
        return "The body's event_id must be the Idempotency-Key."
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "The version must be a whole number, 1 or more."
    if not isinstance(body.get("event_type"), str) or not isinstance(body.get("programme"), dict):
        return "The snapshot needs an event_type and a programme."
    return ""


def _apply(registration_id: int, key: str, body: dict[str, Any]) -> HttpResponse:
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    with _lock:
        seen = _state.answers.get(key)
        if seen is not None:
            if seen.fingerprint != fingerprint:
                _count("rejected")
                return _error(
                    422, "idempotency_key_reused", "This Idempotency-Key was used before with a different body."
                )
            _count("duplicates")
            response = JsonResponse(seen.body, status=seen.status)
            response["Idempotent-Replayed"] = "true"
            return response
        registration = _state.registrations.get(registration_id)
        if registration is not None and _locked_change(registration, body):
            _count("rejected")
            return _error(422, "gateway_locked", GATEWAY_LOCKED_MESSAGE)
        registration = _registration(registration_id)
        version = body["version"]
        if version <= registration.version:
            _count("stale")
            status, outcome = 200, "stale"
        else:
            status = 201 if not registration.events else 200
            outcome = "applied"
            _count("applied")
            registration.version = version
            registration.snapshot = body
            registration.events.append(
                AppliedEvent(
                    event_id=key,
                    event_type=str(body["event_type"]),
                    version=version,
                    changed_fields=[str(name) for name in body.get("changed_fields") or []],
                    received_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                )
            )
        answer_body = {
            "status": outcome,
            "registration_id": registration_id,
            "external_ref": registration.external_ref,
            "version": registration.version,
        }
        _state.answers[key] = Answer(status, answer_body, fingerprint)
    return JsonResponse(answer_body, status=status)


def _locked_change(registration: Registration, body: dict[str, Any]) -> bool:
    if not registration.gateway_confirmed or registration.snapshot is None:
        return False
    before, after = registration.snapshot.get("programme") or {}, body.get("programme") or {}
    return any(before.get(name) != after.get(name) for name in ("standard_code", "learn_plan_end_date"))


def _registration(registration_id: int) -> Registration:
    """The registration's record, made (with the platform's id for the apprentice) on first sight. Under _lock."""
    registration = _state.registrations.get(registration_id)
    if registration is None:
        _state.refs += 1
        registration = Registration(registration_id, external_ref=f"AP{_state.refs:07d}")
        _state.registrations[registration_id] = registration
    return registration


def _faults_locked() -> Faults:
    return _faults_with(_state.overrides)


def _faults_with(overrides: Mapping[str, float]) -> Faults:
    """The settings, with `overrides` on top."""
    return Faults(
        error_rate=float(overrides.get("error_rate", settings.WAYPOINT_EPA_EMULATOR_ERROR_RATE)),
        rate_limit_rate=float(overrides.get("rate_limit_rate", settings.WAYPOINT_EPA_EMULATOR_RATE_LIMIT_RATE)),
        timeout_rate=float(overrides.get("timeout_rate", settings.WAYPOINT_EPA_EMULATOR_TIMEOUT_RATE)),
        latency_ms=int(overrides.get("latency_ms", settings.WAYPOINT_EPA_EMULATOR_LATENCY_MS)),
        retry_after=float(overrides.get("retry_after", settings.WAYPOINT_EPA_EMULATOR_RETRY_AFTER)),
        hang_seconds=float(overrides.get("hang_seconds", settings.WAYPOINT_EPA_EMULATOR_HANG_SECONDS)),
    )


def _count(name: str) -> None:
    _state.counts[name] = _state.counts.get(name, 0) + 1


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


# --- control ------------------------------------------------------------------------------------------------------


def control_state(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _error(405, "method_not_allowed", "Read the state with GET.")
    return JsonResponse(state(summary=request.GET.get("summary", "") in {"1", "true", "yes"}))


@csrf_exempt
def control_faults(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse(asdict(faults()))
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Change faults with POST.")
    values = _json_object(request)
    if values is None:
        return _error(400, "invalid_json", "Send a JSON object.")
    seed = values.pop("seed", None)
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        return _error(400, "invalid_input", "seed must be a whole number.")
    try:
        now_in_force = set_faults(seed=seed, **values)
    except ValueError as exc:
        return _error(400, "invalid_input", str(exc))
    return JsonResponse(asdict(now_in_force))


@csrf_exempt
def control_gateway(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Mark gateway with POST.")
    values = _json_object(request)
    registration_id = values.get("registration_id") if values else None
    if not isinstance(registration_id, int) or isinstance(registration_id, bool):
        return _error(400, "invalid_input", "Send {registration_id, confirmed}.")
    confirmed = bool(values.get("confirmed", True)) if values else True
    confirm_gateway(registration_id, confirmed)
    return JsonResponse({"registration_id": registration_id, "gateway_confirmed": confirmed})


@csrf_exempt
def control_reset(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Reset with POST.")
    reset()
    return JsonResponse({"reset": True})


def _json_object(request: HttpRequest) -> dict[str, Any] | None:
    try:
        values = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return values if isinstance(values, dict) else None


urlpatterns = [
    path("v1/registrations/<int:registration_id>/events", registration_events, name="epa_emulator_events"),
    path("_control/state", control_state, name="epa_emulator_state"),
    path("_control/faults", control_faults, name="epa_emulator_faults"),
    path("_control/gateway", control_gateway, name="epa_emulator_gateway"),
    path("_control/reset", control_reset, name="epa_emulator_reset"),
]
