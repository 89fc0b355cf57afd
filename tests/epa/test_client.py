"""The EPA platform client against the emulator over real HTTP (R-EPA-12): every answer, and every failure to get
one, becomes a SendResult that says whether trying again can help."""

import datetime as dt
import socket
import uuid
from typing import Any

import pytest

from waypoint.epa import emulator
from waypoint.epa.client import (
    Endpoint,
    EpaClient,
    SendOutcome,
    classify,
    connection_token,
    events_url,
    parse_retry_after,
)
from waypoint.epa.payloads import (
    LearnerState,
    MessageFacts,
    ProgrammeState,
    RegistrationFacts,
    SendState,
    snapshot,
)

from .conftest import TOKEN

pytestmark = pytest.mark.urls("waypoint.epa.emulator")


def body(registration_id: int = 7, version: int = 1, key: str | None = None, **programme: Any) -> dict[str, Any]:
    facts = RegistrationFacts(
        registration_id=registration_id,
        version=version,
        platform="epapro",
        epao_id="EPA0001",
        external_ref="",
        learner=LearnerState("9276308686", "Lucy", "Smith", dt.date(2003, 2, 19), "F", 31, ""),
        programme=ProgrammeState(
            code="SE-L4",
            name="Software Developer",
            standard_code=programme.get("standard_code", "ST0116"),
            start_date=dt.date(2025, 9, 1),
            planned_end_date=programme.get("planned_end_date", dt.date(2027, 3, 1)),
            status="active",
        ),
        employer=None,
        manager=None,
        tutor=None,
    )
    event_id = uuid.UUID(key) if key else uuid.uuid4()
    return snapshot(
        SendState(facts, MessageFacts(event_id, "registration.updated", dt.datetime(2025, 10, 3, tzinfo=dt.UTC)))
    )


def send(client: EpaClient, url: str, sent: dict[str, Any], *, token: str = TOKEN) -> Any:
    return client.send(
        Endpoint(url, token),
        registration_id=sent["registration_id"],
        idempotency_key=sent["event_id"],
        snapshot=sent,
    )


@pytest.fixture
def client() -> Any:
    with EpaClient(timeout=2.0) as made:
        yield made


def test_a_delivered_snapshot_returns_the_platforms_id_for_the_apprentice(client: EpaClient, platform_url: str) -> None:
    result = send(client, platform_url, body())

    assert result.outcome == SendOutcome.DELIVERED
    assert result.http_status == 201
    assert result.external_ref.startswith("AP")
    assert not result.replayed
    assert result.duration_ms >= 0


def test_sending_the_same_idempotency_key_again_replays_the_first_answer_and_applies_once(
    client: EpaClient, platform_url: str
) -> None:
    """R-EPA-12: applied exactly once, however many times it is delivered."""
    sent = body()
    first = send(client, platform_url, sent)
    again = send(client, platform_url, sent)

    assert again.outcome == SendOutcome.DELIVERED
    assert again.replayed
    assert (again.http_status, again.external_ref) == (first.http_status, first.external_ref)
    seen = emulator.state()
    assert seen["applied"] == 1
    assert seen["duplicates"] == 1
    assert len(seen["registrations"]["7"]["events"]) == 1


def test_a_503_is_transient(client: EpaClient, platform_url: str) -> None:
    emulator.set_faults(error_rate=1.0)

    result = send(client, platform_url, body())

    assert (result.outcome, result.http_status, result.code) == (SendOutcome.TRANSIENT, 503, "unavailable")
    assert "temporary problem" in result.message
    assert emulator.state()["applied"] == 0


def test_a_429_is_transient_and_carries_the_platforms_retry_after(client: EpaClient, platform_url: str) -> None:
    emulator.set_faults(rate_limit_rate=1.0, retry_after=7)

    result = send(client, platform_url, body())

    assert (result.outcome, result.http_status, result.retry_after) == (SendOutcome.TRANSIENT, 429, 7.0)
    assert "slow down" in result.message


def test_no_answer_within_the_timeout_is_transient(platform_url: str) -> None:
    emulator.set_faults(timeout_rate=1.0, hang_seconds=1.0)

    with EpaClient(timeout=0.2) as impatient:
        result = send(impatient, platform_url, body())

    assert (result.outcome, result.http_status, result.code) == (SendOutcome.TRANSIENT, None, "timeout")
    assert result.message == "The platform did not answer within 0.2 s."


def test_a_platform_that_cannot_be_reached_is_transient(client: EpaClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    result = send(client, f"http://127.0.0.1:{closed_port}", body())

    assert (result.outcome, result.code) == (SendOutcome.TRANSIENT, "unreachable")
    assert result.message.startswith("Could not reach the platform")


def test_a_refused_token_is_rejected_in_plain_words(client: EpaClient, platform_url: str) -> None:
    result = send(client, platform_url, body(), token="not-the-token")

    assert (result.outcome, result.http_status, result.code) == (SendOutcome.REJECTED, 401, "unauthorised")
    assert "refused the connection's API token" in result.message


def test_a_change_locked_by_gateway_is_rejected_with_the_platforms_reason(client: EpaClient, platform_url: str) -> None:
    """Business rejections are not retried: a standard change after gateway confirmation stays refused."""
    assert send(client, platform_url, body(version=1)).outcome == SendOutcome.DELIVERED
    emulator.confirm_gateway(7)

    result = send(client, platform_url, body(version=2, standard_code="ST0117"))

    assert (result.outcome, result.http_status, result.code) == (SendOutcome.REJECTED, 422, "gateway_locked")
    assert result.message == emulator.GATEWAY_LOCKED_MESSAGE


def test_an_invalid_snapshot_is_rejected(client: EpaClient, platform_url: str) -> None:
    sent = body()
    sent["schema"] = "something/else"

    result = send(client, platform_url, sent)

    assert (result.outcome, result.http_status, result.code) == (SendOutcome.REJECTED, 400, "invalid_payload")


def test_an_address_that_is_not_a_url_is_rejected_not_retried(client: EpaClient) -> None:
    result = send(client, "ftp://platform.example", body())

    assert (result.outcome, result.code) == (SendOutcome.REJECTED, "invalid_url")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, SendOutcome.DELIVERED),
        (408, SendOutcome.TRANSIENT),
        (500, SendOutcome.TRANSIENT),
        (502, SendOutcome.TRANSIENT),
        (404, SendOutcome.REJECTED),
        (409, SendOutcome.REJECTED),
        (302, SendOutcome.REJECTED),
    ],
)
def test_answers_are_classified_by_whether_trying_again_can_help(status: int, outcome: SendOutcome) -> None:
    assert classify(status, b"<html>not json</html>").outcome == outcome


def test_retry_after_may_be_seconds_or_an_http_date() -> None:
    now = dt.datetime(2026, 1, 5, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 05 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 05 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None


def test_the_token_comes_from_the_setting_or_environment_variable_the_connection_names(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_EPAPRO_TOKEN", "from-the-environment")
    settings.WAYPOINT_EPA_TOKEN = "from-settings"

    assert connection_token("ACME_EPAPRO_TOKEN") == "from-the-environment"
    assert connection_token("WAYPOINT_EPA_TOKEN") == "from-settings"
    assert connection_token("") == "from-settings"
    assert connection_token("NOT_SET_ANYWHERE_EPA") == ""


def test_events_are_posted_under_the_registration() -> None:
    assert events_url("https://platform.example/api/", 42) == "https://platform.example/api/v1/registrations/42/events"
