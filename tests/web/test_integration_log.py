"""The EPA platform's integration log, its message page and the learner's EPA page (R-EPA-9, R-EPA-12): what admins
see of what was sent, what waits and what failed, and the Retry they may use."""

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.web.conftest import logged_in
from waypoint.core.models import OutboxMessage, OutboxSource, OutboxStatus
from waypoint.epa.capture import TOPIC
from waypoint.epa.models import AttemptOutcome, DeliveryAttempt, EpaConnection, EpaRegistration
from waypoint.epa.switching import RegistrationState
from waypoint.people.models import Group, Perm
from waypoint.programmes.models import Programme
from waypoint.web.views.integrations import RETRY_NEEDED

pytestmark = pytest.mark.django_db

LOG = "/integrations/epa/"
EPAO = "EPA0001"  # the EPAO of factories.programme()
LOG_BUDGET = 10
MESSAGE_BUDGET = 11  # leaving a record ends its visit (R-SYNC-12)
LEARNER_PAGE_BUDGET = 13  # the record visit (R-SYNC-12) adds its own


def connected_programme() -> Programme:
    EpaConnection.objects.get_or_create(
        epao_id=EPAO, defaults={"name": "epaPRO", "base_url": "https://epa.example.test/api"}
    )
    return factories.programme(templates=1, review=False)


def registered(programme: Programme | None = None, **learner_values: Any) -> EpaRegistration:
    """A learner registered on the platform, without the registration's own message (each test makes its own)."""
    enrolment = factories.enrolment(factories.learner(**learner_values), programme or connected_programme())
    registration = EpaRegistration.objects.get(enrolment=enrolment)
    OutboxMessage.objects.filter(topic=TOPIC, key=registration.pk).delete()
    return registration


def message(
    registration: EpaRegistration,
    status: str = OutboxStatus.PENDING,
    *,
    kind: str = "registration.updated",
    source: str = OutboxSource.UI,
    changed: list[str] | None = None,
    reason: str = "Personal details changed",
    **values: Any,
) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        topic=TOPIC,
        key=registration.pk,
        learner_id=registration.learner_id,
        kind=kind,
        changed=["learner.uln"] if changed is None else changed,
        reason=reason,
        source=source,
        created_at=values.pop("created_at", now),
        idempotency_key=uuid.uuid4(),
        status=status,
        next_attempt_at=values.pop("next_attempt_at", now),
        **values,
    )


def failed(registration: EpaRegistration, **values: Any) -> OutboxMessage:
    values.setdefault("attempts", 3)
    values.setdefault("last_error", "The platform is busy; try again later. Gave up after 3 tries.")
    made = message(registration, OutboxStatus.FAILED, **values)
    DeliveryAttempt.objects.create(
        message=made,
        attempted_at=timezone.now(),
        duration_ms=12,
        outcome=AttemptOutcome.EXHAUSTED,
        http_status=503,
        error=made.last_error,
    )
    return made


def ids(response: Any) -> list[int]:
    return [row["m"].pk for row in response.context["rows"]]


# The log


def test_the_log_shows_when_who_what_changed_source_status_attempts_and_the_error_in_plain_words(
    client: Client,
) -> None:
    logged_in(client)
    registration = registered(first_name="Priya", surname="Shah")
    learner = registration.learner
    made = failed(registration, source=OutboxSource.API, changed=["learner.uln", "learner.sex"])
    response = client.get(LOG)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/learners/{learner.pk}/epa/"' in html
    assert "Priya Shah" in html
    assert learner.uln in html
    assert "Personal details changed" in html
    assert "ULN, Sex" in html
    assert "API" in html
    assert "Failed" in html
    assert "The platform is busy; try again later. Gave up after 3 tries." in html
    assert f'href="/integrations/epa/{made.pk}/"' in html
    assert ids(response) == [made.pk]


def test_the_tabs_count_pending_with_sending_sent_with_coalesced_and_failed(client: Client) -> None:
    logged_in(client)
    registration = registered()
    message(registration, OutboxStatus.PENDING)
    message(registration, OutboxStatus.SENDING)
    sent = message(registration, OutboxStatus.SENT, sent_at=timezone.now())
    message(registration, OutboxStatus.COALESCED, coalesced_into=sent.pk, sent_at=timezone.now())
    failed(registration)
    response = client.get(LOG)
    assert response.context["counts"] == {"": 5, "pending": 2, "sent": 2, "failed": 1}
    html = response.content.decode()
    assert "Sent with a later update" in html
    assert f'With <a href="/integrations/epa/{sent.pk}/">#{sent.pk}</a>' in html


def test_each_tab_shows_only_its_messages_newest_first(client: Client) -> None:
    logged_in(client)
    registration = registered()
    pending = message(registration, OutboxStatus.PENDING)
    sending = message(registration, OutboxStatus.SENDING)
    sent = message(registration, OutboxStatus.SENT, sent_at=timezone.now())
    coalesced = message(registration, OutboxStatus.COALESCED, coalesced_into=sent.pk)
    broken = failed(registration)
    assert ids(client.get(LOG, {"status": "pending"})) == [sending.pk, pending.pk]
    assert ids(client.get(LOG, {"status": "sent"})) == [coalesced.pk, sent.pk]
    assert ids(client.get(LOG, {"status": "failed"})) == [broken.pk]
    assert ids(client.get(LOG)) == [broken.pk, coalesced.pk, sent.pk, sending.pk, pending.pk]


def test_search_finds_messages_by_learner_name_or_uln(client: Client) -> None:
    logged_in(client)
    programme = connected_programme()
    ada = message(registered(programme, first_name="Ada", surname="Lovelace"))
    ben_registration = registered(programme, first_name="Ben", surname="Okafor")
    ben = message(ben_registration)
    assert ids(client.get(LOG, {"search": "lovelace"})) == [ada.pk]
    assert ids(client.get(LOG, {"search": "Ben Okafor"})) == [ben.pk]
    assert ids(client.get(LOG, {"search": ben_registration.learner.uln})) == [ben.pk]
    assert ids(client.get(LOG, {"search": "Nobody"})) == []


def test_kind_and_source_filters_narrow_the_list_and_the_tab_counts(client: Client) -> None:
    logged_in(client)
    registration = registered()
    update = message(registration, kind="registration.updated", source=OutboxSource.UI)
    withdrawn = message(
        registration, kind="registration.withdrawn", source=OutboxSource.AUTOMATION, reason="Withdrawal from learning"
    )
    by_api = failed(registration, source=OutboxSource.API)
    assert ids(client.get(LOG, {"kind": "registration.withdrawn"})) == [withdrawn.pk]
    assert ids(client.get(LOG, {"source": "automation"})) == [withdrawn.pk]
    response = client.get(LOG, {"kind": "registration.updated"})
    assert ids(response) == [by_api.pk, update.pk]
    assert response.context["counts"] == {"": 2, "pending": 1, "sent": 0, "failed": 1}
    assert "Approved process automation" in client.get(LOG, {"source": "automation"}).content.decode()
    assert ids(client.get(LOG, {"kind": "not-a-kind"})) == [by_api.pk, withdrawn.pk, update.pk]


def test_the_log_pages_fifty_messages_at_a_time(client: Client) -> None:
    logged_in(client)
    registration = registered()
    made = [message(registration, OutboxStatus.SENT) for _ in range(55)]
    first = client.get(LOG)
    assert first.context["page"].paginator.count == 55
    assert ids(first) == [m.pk for m in reversed(made)][:50]
    second = client.get(LOG, {"page": 2})
    assert ids(second) == [m.pk for m in reversed(made[:5])]
    assert 'rel="next"' in first.content.decode()


def test_the_filters_reload_only_the_grid_through_htmx(client: Client) -> None:
    logged_in(client)
    registration = registered()
    message(registration)
    response = client.get(LOG, {"status": "pending"}, headers={"HX-Request": "true", "HX-Target": "epa-log"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="tab-pending"' in html


def test_an_admin_sees_only_messages_about_learners_of_their_groups(client: Client) -> None:
    cohort, other = Group.objects.create(name="Cohort"), Group.objects.create(name="Other")
    logged_in(client, all_groups=False, groups=[cohort])
    programme = connected_programme()
    mine = message(registered(programme, groups=[cohort]))
    theirs = message(registered(programme, groups=[other]))
    assert ids(client.get(LOG)) == [mine.pk]
    assert client.get(f"{LOG}{theirs.pk}/").status_code == 404
    assert client.get(f"/learners/{theirs.learner_id}/epa/").status_code == 404


def test_the_log_needs_a_login(client: Client) -> None:
    response = client.get(LOG)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_navigation_offers_the_integration_log(client: Client) -> None:
    logged_in(client)
    html = client.get("/learners/").content.decode()
    assert f'href="{LOG}"' in html
    assert "Integration log" in html


# Retry


def test_a_supervisor_retries_a_failed_message_which_is_pending_again_and_wakes_the_worker(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    logged_in(client, [Perm.SUPERVISOR])
    made = failed(registered())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{LOG}{made.pk}/retry/", {"next": f"{LOG}?status=failed"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{LOG}?status=failed"
    made.refresh_from_db()
    assert made.status == OutboxStatus.PENDING
    assert made.attempts == 0
    assert made.next_attempt_at <= timezone.now()
    assert f"Message #{made.pk} will be sent again shortly." in response.content.decode()
    assert DBTaskResult.objects.filter(task_path__endswith="outbox_deliver_task").exists()


def test_retry_is_refused_without_supervisor_and_the_buttons_say_why(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    made = failed(registered())
    page = client.get(LOG).content.decode()
    assert f'disabled title="{RETRY_NEEDED}"' in page
    assert 'data-testid="retry"' not in page
    assert 'data-testid="retry-all-confirm"' not in page
    assert f'disabled title="{RETRY_NEEDED}"' in client.get(f"{LOG}{made.pk}/").content.decode()
    response = client.post(f"{LOG}{made.pk}/retry/", follow=True)
    assert RETRY_NEEDED in [str(m) for m in response.context["messages"]]
    response = client.post(f"{LOG}retry-failed/", follow=True)
    assert RETRY_NEEDED in [str(m) for m in response.context["messages"]]
    made.refresh_from_db()
    assert made.status == OutboxStatus.FAILED


def test_retrying_a_message_that_has_not_failed_changes_nothing_and_says_so(client: Client) -> None:
    logged_in(client)
    sent = message(registered(), OutboxStatus.SENT, sent_at=timezone.now())
    response = client.post(f"{LOG}{sent.pk}/retry/", follow=True)
    assert f"Message #{sent.pk} has not failed (it is Sent)." in [str(m) for m in response.context["messages"]]
    sent.refresh_from_db()
    assert sent.status == OutboxStatus.SENT


def test_retry_all_failed_confirms_how_many_and_retries_only_those_the_filters_match(client: Client) -> None:
    logged_in(client)
    programme = connected_programme()
    ada = registered(programme, first_name="Ada", surname="Lovelace")
    ben = registered(programme, first_name="Ben", surname="Okafor")
    ada_failed = [failed(ada), failed(ada)]
    ben_failed = failed(ben)
    untouched = message(ada, OutboxStatus.SENT)
    page = client.get(LOG, {"search": "Lovelace"})
    html = page.content.decode()
    assert '<strong data-testid="retry-all-count">2</strong> failed messages' in html
    assert "matching this search and these filters" in html
    assert "Yes, retry 2 failed messages" in html
    response = client.post(f"{LOG}retry-failed/", {"search": "Lovelace"}, follow=True)
    assert "2 failed messages will be sent again shortly." in [str(m) for m in response.context["messages"]]
    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in ada_failed] == [OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert statuses[ben_failed.pk] == OutboxStatus.FAILED
    assert statuses[untouched.pk] == OutboxStatus.SENT
    response = client.post(f"{LOG}retry-failed/", follow=True)
    assert "1 failed message will be sent again shortly." in [str(m) for m in response.context["messages"]]
    response = client.post(f"{LOG}retry-failed/", follow=True)
    assert "No failed messages to retry." in [str(m) for m in response.context["messages"]]


def test_retry_all_failed_retries_no_message_of_a_learner_the_admin_may_not_see(client: Client) -> None:
    cohort, other = Group.objects.create(name="Cohort"), Group.objects.create(name="Other")
    logged_in(client, all_groups=False, groups=[cohort])
    programme = connected_programme()
    mine = failed(registered(programme, groups=[cohort]))
    theirs = failed(registered(programme, groups=[other]))
    client.post(f"{LOG}retry-failed/")
    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert statuses == {mine.pk: OutboxStatus.PENDING, theirs.pk: OutboxStatus.FAILED}


def test_retry_goes_back_only_to_a_page_of_this_site(client: Client) -> None:
    logged_in(client)
    made = failed(registered())
    response = client.post(f"{LOG}{made.pk}/retry/", {"next": "https://elsewhere.example/"})
    assert response["Location"] == f"{LOG}{made.pk}/"


# One message


def test_the_message_page_shows_the_payload_the_event_every_attempt_and_what_it_went_with(client: Client) -> None:
    logged_in(client)
    registration = registered(first_name="Ada", surname="Lovelace")
    later = message(registration, OutboxStatus.SENT, sent_at=timezone.now(), payload={"schema": "x", "version": 2})
    went_with = message(registration, OutboxStatus.COALESCED, coalesced_into=later.pk)
    withdrawal = failed(
        registration,
        kind="registration.withdrawn",
        reason="Withdrawal from learning",
        source=OutboxSource.AUTOMATION,
        event={"withdraw_reason": 40},
        payload={"schema": "waypoint.epa-connector.registration/v1", "event_id": "e-1"},
    )
    DeliveryAttempt.objects.create(
        message=withdrawal,
        attempted_at=timezone.now() - dt.timedelta(minutes=1),
        duration_ms=321,
        outcome=AttemptOutcome.TRANSIENT,
        http_status=429,
        error="Too many requests; slow down.",
    )
    html = client.get(f"{LOG}{withdrawal.pk}/").content.decode()
    assert "&quot;schema&quot;: &quot;waypoint.epa-connector.registration/v1&quot;" in html
    assert "&quot;withdraw_reason&quot;: 40" in html
    assert "Approved process automation" in html
    assert "Failed, no retries left" in html
    assert "Failed, will retry" in html
    assert "321 ms" in html
    assert ">429<" in html
    assert ">503<" in html
    assert "Too many requests; slow down." in html
    assert 'data-testid="retry"' in html
    coalesced_page = client.get(f"{LOG}{went_with.pk}/").content.decode()
    assert f'<a href="/integrations/epa/{later.pk}/">#{later.pk}</a>' in coalesced_page
    later_page = client.get(f"{LOG}{later.pk}/").content.decode()
    assert f'<a href="/integrations/epa/{went_with.pk}/">#{went_with.pk}</a>' in later_page


def test_a_pending_message_says_what_is_sent_is_built_at_send_time(client: Client) -> None:
    logged_in(client)
    made = message(registered())
    html = client.get(f"{LOG}{made.pk}/").content.decode()
    assert "Not built yet" in html
    assert "Not tried yet." in html
    assert 'hx-trigger="every 3s"' in html


def test_an_unknown_message_is_not_found(client: Client) -> None:
    logged_in(client)
    assert client.get(f"{LOG}999999/").status_code == 404
    assert client.post(f"{LOG}999999/retry/").status_code == 404


# Polling while messages wait


def test_the_log_polls_while_messages_wait_and_reloads_once_the_counts_move_on(client: Client) -> None:
    logged_in(client)
    registration = registered()
    made = message(registration)
    page = client.get(LOG)
    signature = page.context["signature"]
    assert 'hx-trigger="every 3s"' in page.content.decode()
    poll = {"HX-Request": "true", "HX-Target": "epa-status"}
    same = client.get(LOG, {"was": signature}, headers=poll)
    assert same.status_code == 200
    assert "HX-Refresh" not in same
    assert "1 message waiting for delivery" in same.content.decode()
    OutboxMessage.objects.filter(pk=made.pk).update(status=OutboxStatus.SENT, sent_at=timezone.now())
    moved = client.get(LOG, {"was": signature}, headers=poll)
    assert moved["HX-Refresh"] == "true"
    assert 'hx-trigger="every 3s"' not in client.get(LOG).content.decode()


def test_the_message_page_reloads_once_its_status_changes(client: Client) -> None:
    logged_in(client)
    made = message(registered())
    poll = {"HX-Request": "true", "HX-Target": "epa-status"}
    assert "HX-Refresh" not in client.get(f"{LOG}{made.pk}/", {"was": "pending"}, headers=poll)
    OutboxMessage.objects.filter(pk=made.pk).update(status=OutboxStatus.SENT)
    assert client.get(f"{LOG}{made.pk}/", {"was": "pending"}, headers=poll)["HX-Refresh"] == "true"


# The learner's EPA page


def test_the_learners_epa_page_shows_their_registrations_and_only_their_messages(client: Client) -> None:
    logged_in(client)
    programme = connected_programme()
    registration = registered(programme)
    EpaRegistration.objects.filter(pk=registration.pk).update(external_ref="EP-00042", version=3)
    mine = failed(registration)
    message(registered(programme))
    response = client.get(f"/learners/{registration.learner_id}/epa/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "epaPRO" in html
    assert EPAO in html
    assert "EP-00042" in html
    assert "Registered" in html
    assert ids(response) == [mine.pk]
    assert 'aria-current="page">EPA platform</a>' in html
    assert response.context["counts"] == {"": 1, "pending": 0, "sent": 0, "failed": 1}
    assert f'name="learner" value="{registration.learner_id}"' in html


def test_the_learner_record_links_to_the_epa_page(client: Client) -> None:
    logged_in(client)
    learner = registered().learner
    assert f'href="/learners/{learner.pk}/epa/"' in client.get(f"/learners/{learner.pk}/").content.decode()


def test_retry_all_failed_from_the_learners_page_retries_only_that_learners_messages(client: Client) -> None:
    logged_in(client)
    programme = connected_programme()
    mine, other = registered(programme), registered(programme)
    made, elsewhere = failed(mine), failed(other)
    client.post(f"{LOG}retry-failed/", {"learner": mine.learner_id, "next": f"/learners/{mine.learner_id}/epa/"})
    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert statuses == {made.pk: OutboxStatus.PENDING, elsewhere.pk: OutboxStatus.FAILED}


def _manual_on_connected_programme() -> EpaRegistration:
    """A learner registered by hand whose programme has since got a platform connection (R-EPA-9)."""
    programme = factories.programme(templates=1, review=False)
    enrolment = factories.enrolment(factories.learner(), programme)
    registration = EpaRegistration.objects.get(enrolment=enrolment)
    assert registration.state == RegistrationState.MANUAL
    connection = EpaConnection.objects.create(name="epaPRO North", epao_id=EPAO, base_url="https://epa.example.test")
    EpaRegistration.objects.filter(pk=registration.pk).update(connection=connection, can_register=True)
    return registration


def test_register_on_the_connection_registers_a_manual_registration_and_records_its_message(client: Client) -> None:
    logged_in(client, [Perm.SUPERVISOR])
    registration = _manual_on_connected_programme()
    page = client.get(f"/learners/{registration.learner_id}/epa/").content.decode()
    assert "Register on epaPRO North" in page
    response = client.post(
        f"/learners/{registration.learner_id}/epa/registrations/{registration.pk}/register/", follow=True
    )
    assert "Registered on epaPRO North (EPA0001): the platform will be told shortly." in [
        str(m) for m in response.context["messages"]
    ]
    registration.refresh_from_db()
    assert registration.state == RegistrationState.REGISTERED
    assert not registration.can_register
    created = OutboxMessage.objects.get(topic=TOPIC, key=registration.pk)
    assert created.kind == "registration.created"
    assert ids(response) == [created.pk]


def test_register_is_disabled_with_the_reason_and_refused_without_the_permission(client: Client) -> None:
    logged_in(client, [Perm.PLR_VIEW])
    registration = _manual_on_connected_programme()
    url = f"/learners/{registration.learner_id}/epa/"
    page = client.get(url).content.decode()
    assert 'disabled title="Registering a learner on the EPA platform needs' in page
    response = client.post(f"{url}registrations/{registration.pk}/register/", follow=True)
    assert any("Registering a learner on the EPA platform needs" in str(m) for m in response.context["messages"])
    registration.refresh_from_db()
    assert registration.state == RegistrationState.MANUAL


def test_registering_twice_shows_the_refusal_as_a_message(client: Client) -> None:
    logged_in(client)
    registration = _manual_on_connected_programme()
    url = f"/learners/{registration.learner_id}/epa/registrations/{registration.pk}/register/"
    client.post(url)
    response = client.post(url, follow=True)
    assert any("Only a manual registration can be registered" in str(m) for m in response.context["messages"])
    assert OutboxMessage.objects.filter(topic=TOPIC, key=registration.pk).count() == 1


# CSV export


def test_the_csv_export_streams_the_filtered_list(client: Client) -> None:
    logged_in(client)
    registration = registered(first_name="Ada", surname="Lovelace")
    made = failed(registration, changed=["tutor.email"], reason="Case owner changed")
    message(registration, OutboxStatus.SENT)
    response = client.get(f"{LOG}export.csv", {"status": "failed"})
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="epa-integration-log-' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0][:5] == ["Id", "Recorded at", "Learner id", "Learner", "ULN"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Id"] == str(made.pk)
    assert row["Learner"] == "Ada Lovelace"
    assert row["ULN"] == registration.learner.uln
    assert row["What changed"] == "Case owner changed"
    assert row["Changed fields"] == "Case owner's email"
    assert row["Status"] == "Failed"
    assert row["Attempts"] == "3"
    assert row["Last error"] == made.last_error
    assert row["Idempotency key"] == str(made.idempotency_key)


# Dashboard


def test_the_dashboard_counts_waiting_and_failed_messages_and_links_to_the_log(client: Client) -> None:
    logged_in(client)
    registration = registered()
    message(registration, OutboxStatus.PENDING)
    message(registration, OutboxStatus.SENDING)
    failed(registration)
    message(registration, OutboxStatus.SENT)
    response = client.get("/")
    assert response.context["epa"]["pending"] == 2
    assert response.context["epa"]["failed"] == 1
    html = response.content.decode()
    assert f'href="{LOG}?status=pending">2</a>' in html
    assert f'href="{LOG}?status=failed">1</a>' in html


# Query budgets


def _many(registration: EpaRegistration, n: int) -> None:
    for i in range(n):
        if i % 3 == 0:
            failed(registration)
        else:
            message(registration, OutboxStatus.SENT if i % 3 == 1 else OutboxStatus.PENDING)


def test_the_log_costs_the_same_however_many_messages(client: Client, django_assert_max_num_queries: Any) -> None:
    logged_in(client, all_groups=False, groups=[cohort := Group.objects.create(name="Cohort")])
    programme = connected_programme()
    registrations = [registered(programme, groups=[cohort]) for _ in range(3)]
    for registration in registrations:
        _many(registration, 4)
    with django_assert_max_num_queries(LOG_BUDGET):
        client.get(LOG, {"search": "Alex", "kind": "registration.updated"})
    for registration in registrations:
        _many(registration, 30)
    with django_assert_max_num_queries(LOG_BUDGET):
        response = client.get(LOG, {"search": "Alex", "kind": "registration.updated"})
    assert len(response.context["rows"]) == 50
    with django_assert_max_num_queries(LOG_BUDGET):
        client.get(LOG, {"status": "failed", "page": "2"})


def test_the_message_and_learner_pages_cost_the_same_however_many_messages(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    logged_in(client)
    registration = registered()
    head = failed(registration)
    url = f"/learners/{registration.learner_id}/epa/"
    with django_assert_max_num_queries(LEARNER_PAGE_BUDGET):
        client.get(url)
    with django_assert_max_num_queries(MESSAGE_BUDGET):
        client.get(f"{LOG}{head.pk}/")
    _many(registration, 80)
    for _ in range(10):
        message(registration, OutboxStatus.COALESCED, coalesced_into=head.pk)
    with django_assert_max_num_queries(LEARNER_PAGE_BUDGET):
        response = client.get(url)
    assert len(response.context["rows"]) == 50
    with django_assert_max_num_queries(MESSAGE_BUDGET):
        client.get(f"{LOG}{head.pk}/")


def test_the_export_costs_a_fixed_number_of_queries(client: Client, django_assert_max_num_queries: Any) -> None:
    logged_in(client)
    registration = registered()
    _many(registration, 120)
    with django_assert_max_num_queries(6):
        response = client.get(f"{LOG}export.csv")
        rows = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert len(rows) == 121
