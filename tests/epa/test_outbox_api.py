"""/api/v1/outbox: admins see what was sent to the EPA platform, what waits and what failed, and retry failures
(R-EPA-12: visible to admins with a retry action)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tests.api.conftest import token_client
from waypoint.core.models import OutboxMessage
from waypoint.epa.models import AttemptOutcome, DeliveryAttempt, EpaRegistration
from waypoint.people.models import Group, Perm

from .conftest import break_in_learning, plain_update

MakeRegistration = Callable[..., EpaRegistration]


def fail(message: OutboxMessage, error: str = "The platform rejected the update.") -> None:
    """A message the platform rejected, as the deliverer leaves it."""
    DeliveryAttempt.objects.create(
        message=message,
        attempted_at=timezone.now(),
        duration_ms=12,
        outcome=AttemptOutcome.REJECTED,
        http_status=422,
        error=error,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", attempts=1, last_error=error)


@pytest.fixture
def registration(make_registration: MakeRegistration) -> EpaRegistration:
    made = make_registration(first_name="Lucy", surname="Smith")
    break_in_learning(made)
    plain_update(made.learner_id)
    return made


def messages_of(registration: EpaRegistration) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(key=registration.pk).order_by("id"))


def test_any_staff_user_lists_the_messages_newest_first_with_learner_and_status(
    registration: EpaRegistration,
) -> None:
    api = token_client(factories.staff())

    answer = api.get("/outbox")

    assert answer.status_code == 200
    page = answer.json()
    assert (page["count"], page["page"]) == (3, 1)
    kinds = [item["kind"] for item in page["items"]]
    assert kinds == ["registration.updated", "registration.break_in_learning", "registration.created"]
    newest = page["items"][0]
    assert newest["learner"] == {"id": registration.learner_id, "name": "Lucy Smith"}
    assert (newest["status"], newest["status_label"], newest["registration_id"]) == (
        "pending",
        "Pending",
        registration.pk,
    )
    assert newest["changed"] == ["learner.uln"]
    assert newest["reason"] == "Personal details changed"


def test_the_list_filters_by_status_learner_and_search(
    registration: EpaRegistration, make_registration: MakeRegistration
) -> None:
    other = make_registration(first_name="Omar", surname="Patel")
    fail(messages_of(registration)[1], "The apprentice has passed gateway.")
    api = token_client(factories.staff())

    failed = api.get("/outbox", status="failed").json()
    by_learner = api.get("/outbox", learner_id=other.learner_id).json()
    by_name = api.get("/outbox", search="omar").json()
    by_error = api.get("/outbox", search="gateway").json()

    assert [item["kind"] for item in failed["items"]] == ["registration.break_in_learning"]
    assert [item["learner"]["id"] for item in by_learner["items"]] == [other.learner_id]
    assert by_name["count"] == 1
    assert [item["id"] for item in by_error["items"]] == [item["id"] for item in failed["items"]]
    assert api.get("/outbox", status="lost").status_code == 422


def test_an_admin_sees_only_the_messages_of_learners_in_their_groups(make_registration: MakeRegistration) -> None:
    """R-CORE-8 visibility applies to the outbox too."""
    seen_group, hidden_group = Group.objects.create(name="Leeds"), Group.objects.create(name="York")
    seen = make_registration(groups=[seen_group])
    make_registration(groups=[hidden_group])
    api = token_client(factories.staff(all_groups=False, groups=[seen_group]))

    page = api.get("/outbox").json()

    assert [item["learner"]["id"] for item in page["items"]] == [seen.learner_id]
    hidden = OutboxMessage.objects.exclude(learner_id=seen.learner_id).get()
    assert api.get(f"/outbox/{hidden.pk}").status_code == 404


def test_one_message_shows_every_attempt_and_the_snapshot_sent(registration: EpaRegistration) -> None:
    message = messages_of(registration)[0]
    fail(message)
    OutboxMessage.objects.filter(pk=message.pk).update(payload={"schema": "waypoint.epa-connector.registration/v1"})
    api = token_client(factories.staff())

    detail = api.get(f"/outbox/{message.pk}").json()

    assert detail["id"] == message.pk
    assert detail["idempotency_key"] == str(message.idempotency_key)
    assert detail["payload"] == {"schema": "waypoint.epa-connector.registration/v1"}
    assert detail["event"] == {}
    (attempt,) = detail["attempt_log"]
    assert (attempt["outcome"], attempt["http_status"], attempt["error"], attempt["duration_ms"]) == (
        "rejected",
        422,
        "The platform rejected the update.",
        12,
    )
    assert api.get("/outbox/999999").status_code == 404


def test_a_supervisor_retries_a_failed_message(registration: EpaRegistration) -> None:
    message = messages_of(registration)[1]
    fail(message)
    api = token_client(factories.staff([Perm.SUPERVISOR]))

    answer = api.post(f"/outbox/{message.pk}/retry")

    assert answer.status_code == 200
    retried = answer.json()
    assert (retried["status"], retried["attempts"]) == ("pending", 0)
    assert retried["last_error"].startswith("Retry asked by")
    assert retried["idempotency_key"] != str(message.idempotency_key)  # the platform refused it: built anew
    assert len(retried["attempt_log"]) == 1  # the history stays


def test_retrying_needs_supervisor(registration: EpaRegistration) -> None:
    message = messages_of(registration)[1]
    fail(message)
    api = token_client(factories.staff())

    one = api.post(f"/outbox/{message.pk}/retry")
    every = api.post("/outbox/retry-failed")

    assert (one.status_code, one.json()["code"]) == (403, "permission_denied")
    assert "Supervisor" in one.json()["message"]
    assert every.status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).status == "failed"


def test_only_a_failed_message_can_be_retried(registration: EpaRegistration) -> None:
    api = token_client(factories.staff([Perm.SUPERVISOR]))

    answer = api.post(f"/outbox/{messages_of(registration)[0].pk}/retry")

    assert (answer.status_code, answer.json()["code"]) == (409, "conflict")
    assert answer.json()["message"] == "Only a failed message can be retried; this one is pending."


def test_retry_failed_puts_every_failed_message_the_supervisor_may_see_back(
    registration: EpaRegistration, make_registration: MakeRegistration
) -> None:
    hidden_group = Group.objects.create(name="York")
    hidden = make_registration(groups=[hidden_group])
    for message in [*messages_of(registration)[:2], *messages_of(hidden)]:
        fail(message)
    api = token_client(factories.staff([Perm.SUPERVISOR], all_groups=False))

    answer = api.post("/outbox/retry-failed")

    assert (answer.status_code, answer.json()) == (200, {"retried": 0})
    everyone = token_client(factories.staff([Perm.SUPERVISOR]))
    assert everyone.post("/outbox/retry-failed").json() == {"retried": 3}
    assert not OutboxMessage.objects.filter(status="failed").exists()


def test_the_outbox_needs_a_signed_in_staff_user(client: Any, db: None) -> None:
    answer = client.get("/api/v1/outbox")
    assert (answer.status_code, answer.json()["code"]) == (401, "not_authenticated")
