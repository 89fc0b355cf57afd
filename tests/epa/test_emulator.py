"""The EPA platform emulator over real HTTP: the contract the connector is tested against (R-EPA-12), and the
faults it injects on demand."""

import importlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.urls import clear_url_caches

from waypoint.epa import emulator
from waypoint.epa.payloads import SCHEMA

from .conftest import TOKEN

pytestmark = pytest.mark.urls("waypoint.epa.emulator")


def snapshot(registration_id: int = 3, version: int = 1, key: str | None = None, **programme: Any) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "event_id": key or str(uuid.uuid4()),
        "event_type": "registration.updated",
        "registration_id": registration_id,
        "version": version,
        "learner": {"uln": "9276308686"},
        "programme": {"standard_code": "ST0116", "learn_plan_end_date": "2027-03-01", **programme},
        "changed_fields": ["learner.uln"],
    }


@pytest.fixture
def http(platform_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform_url, timeout=3.0) as client:
        yield client


def post(
    http: httpx.Client, body: dict[str, Any], *, token: str = TOKEN, key: str | None = None, **headers: str
) -> httpx.Response:
    return http.post(
        f"/v1/registrations/{body['registration_id']}/events",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or body["event_id"], **headers},
    )


def test_the_first_snapshot_of_a_registration_is_created_later_ones_update_it(http: httpx.Client) -> None:
    first = post(http, snapshot(version=1))
    second = post(http, snapshot(version=2))

    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["external_ref"] == second.json()["external_ref"] != ""
    assert second.json() == {
        "status": "applied",
        "registration_id": 3,
        "external_ref": first.json()["external_ref"],
        "version": 2,
    }
    assert [e["version"] for e in emulator.state()["registrations"]["3"]["events"]] == [1, 2]


def test_a_call_without_the_right_token_is_refused(http: httpx.Client, settings: Any) -> None:
    assert post(http, snapshot(), token="wrong").status_code == 401
    settings.WAYPOINT_EPA_EMULATOR_TOKEN = ""
    refused = post(http, snapshot(), token="any-token")
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthorised")
    assert emulator.state()["unauthorised"] == 2


def test_a_repeated_idempotency_key_replays_the_first_answer_and_is_never_applied_twice(http: httpx.Client) -> None:
    body = snapshot()
    first = post(http, body)
    again = post(http, body)

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    state = emulator.state()
    assert (state["applied"], state["duplicates"], state["keys"]) == (1, 1, 1)


def test_a_key_used_again_with_another_body_is_refused(http: httpx.Client) -> None:
    body = snapshot()
    post(http, body)

    reused = post(http, {**body, "version": 9})

    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


def test_a_snapshot_older_than_the_applied_one_changes_nothing(http: httpx.Client) -> None:
    """Latest version wins: an older snapshot arriving late is a no-op, answered 200."""
    post(http, snapshot(version=5, standard_code="ST0117"))

    late = post(http, snapshot(version=4, standard_code="ST0116"))

    assert (late.status_code, late.json()["status"], late.json()["version"]) == (200, "stale", 5)
    held = emulator.state()["registrations"]["3"]
    assert held["snapshot"]["programme"]["standard_code"] == "ST0117"
    assert len(held["events"]) == 1
    assert emulator.state()["stale"] == 1


def test_after_gateway_the_standard_and_planned_end_date_are_locked(http: httpx.Client) -> None:
    """epaPRO locks the standard and dates once gateway is confirmed: a business rejection, in plain words."""
    post(http, snapshot(version=1))
    confirmed = http.post("/_control/gateway", json={"registration_id": 3, "confirmed": True})
    assert confirmed.json() == {"registration_id": 3, "gateway_confirmed": True}

    standard = post(http, snapshot(version=2, standard_code="ST0117"))
    end_date = post(http, snapshot(version=3, learn_plan_end_date="2027-09-01"))
    other = post(http, snapshot(version=4))

    assert (standard.status_code, standard.json()["code"]) == (422, "gateway_locked")
    assert standard.json()["message"] == emulator.GATEWAY_LOCKED_MESSAGE
    assert end_date.status_code == 422
    assert other.status_code == 200


def test_a_locked_change_is_not_remembered_under_its_key(http: httpx.Client) -> None:
    post(http, snapshot(version=1))
    emulator.confirm_gateway(3)
    body = snapshot(version=2, standard_code="ST0117")
    assert post(http, body).status_code == 422

    emulator.confirm_gateway(3, False)

    assert post(http, body).status_code == 200


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"schema": "other/v1"}, "invalid_payload"),
        ({"registration_id": 99}, "invalid_payload"),
        ({"version": 0}, "invalid_payload"),
        ({"event_id": "not-the-key"}, "invalid_payload"),
    ],
)
def test_a_snapshot_that_does_not_follow_the_contract_is_refused(
    http: httpx.Client, change: dict[str, Any], code: str
) -> None:
    body = snapshot()
    answer = http.post(
        "/v1/registrations/3/events",
        json={**body, **change},
        headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": body["event_id"]},
    )
    assert (answer.status_code, answer.json()["code"]) == (400, code)


def test_every_event_needs_an_idempotency_key(http: httpx.Client) -> None:
    answer = http.post("/v1/registrations/3/events", json=snapshot(), headers={"Authorization": f"Bearer {TOKEN}"})
    assert (answer.status_code, answer.json()["code"]) == (400, "idempotency_key_missing")


def test_injected_errors_apply_nothing(http: httpx.Client) -> None:
    emulator.set_faults(error_rate=1.0)

    answer = post(http, snapshot())

    assert (answer.status_code, answer.json()["code"]) == (503, "unavailable")
    state = emulator.state()
    assert (state["applied"], state["injected"]["errors"]) == (0, 1)


def test_injected_rate_limits_ask_to_retry_after_a_while(http: httpx.Client) -> None:
    emulator.set_faults(rate_limit_rate=1.0, retry_after=3)

    answer = post(http, snapshot())

    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")


def test_an_injected_timeout_applies_the_snapshot_then_holds_the_answer_past_the_clients_patience(
    platform_url: str,
) -> None:
    emulator.set_faults(timeout_rate=1.0, hang_seconds=0.5)
    body = snapshot()

    with httpx.Client(base_url=platform_url, timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        post(impatient, body)

    assert emulator.state()["applied"] == 1
    emulator.set_faults(timeout_rate=0.0)
    with httpx.Client(base_url=platform_url, timeout=3.0) as patient:
        again = post(patient, body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert emulator.state()["applied"] == 1


def test_latency_is_added_to_every_answer(http: httpx.Client) -> None:
    emulator.set_faults(latency_ms=150)
    started = time.monotonic()
    post(http, snapshot())
    assert time.monotonic() - started >= 0.15


def test_faults_come_from_the_settings_until_changed_at_run_time(http: httpx.Client, settings: Any) -> None:
    settings.WAYPOINT_EPA_EMULATOR_ERROR_RATE = 0.25
    assert http.get("/_control/faults").json()["error_rate"] == 0.25

    changed = http.post("/_control/faults", json={"error_rate": 0.1, "timeout_rate": 0.05, "latency_ms": 20})

    assert changed.status_code == 200
    assert changed.json() == {
        "error_rate": 0.1,
        "rate_limit_rate": 0.0,
        "timeout_rate": 0.05,
        "latency_ms": 20,
        "retry_after": 0.05,
        "hang_seconds": 1.0,
    }
    assert http.post("/_control/reset").json() == {"reset": True}
    assert http.get("/_control/faults").json()["error_rate"] == 0.25


@pytest.mark.parametrize(
    "body",
    [{"error_rate": 1.5}, {"error_rate": 0.6, "timeout_rate": 0.6}, {"latency_ms": -1}, {"colour": 1}, {"seed": "x"}],
)
def test_fault_settings_out_of_range_are_refused(http: httpx.Client, body: dict[str, Any]) -> None:
    answer = http.post("/_control/faults", json=body)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_input")


def test_the_state_lists_what_was_applied_per_registration_and_the_summary_only_counts(http: httpx.Client) -> None:
    body = snapshot()
    post(http, body)

    full = http.get("/_control/state").json()
    summary = http.get("/_control/state", params={"summary": "1"}).json()

    (event,) = full["registrations"]["3"]["events"]
    assert (event["event_id"], event["version"], event["changed_fields"]) == (body["event_id"], 1, ["learner.uln"])
    assert "registrations" not in summary
    assert (summary["requests"], summary["applied"], summary["registration_count"]) == (1, 1, 1)


def test_reset_forgets_everything(http: httpx.Client) -> None:
    post(http, snapshot())
    http.post("/_control/reset")
    assert emulator.state()["registrations"] == {}
    assert emulator.state()["requests"] == 0


def test_the_emulator_is_mounted_beside_the_lrs_one_only_with_emulators_on(settings: Any) -> None:
    import config.urls

    routes = {str(pattern.pattern) for pattern in importlib.reload(config.urls).urlpatterns}
    assert "emulators/epa/" not in routes
    try:
        settings.WAYPOINT_EMULATORS = True
        routes = {str(pattern.pattern) for pattern in importlib.reload(config.urls).urlpatterns}
        assert {"emulators/epa/", "emulators/lrs/"} <= routes
    finally:
        settings.WAYPOINT_EMULATORS = False
        importlib.reload(config.urls)
        clear_url_caches()
