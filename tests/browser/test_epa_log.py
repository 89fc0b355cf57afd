"""A change the EPA platform must hear about fails while the platform is down, shows as Failed in the integration log
with its error, and is sent once a Supervisor retries it after the platform is back (R-EPA-2, R-EPA-12).

Everything is real but the platform: the learner's ULN is changed through the HTTP API, the real delivery code sends
over real HTTP to the EPA-platform emulator that the live server mounts at /emulators/epa/ (this module is its URL
configuration), and its faults are switched on and off through the emulator's control endpoint. Delivery runs in
this process between the steps, as the worker would.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import include, path
from playwright.sync_api import Page, expect

from config.urls import urlpatterns as project_urlpatterns
from tests import factories
from tests.browser.conftest import Screenshots
from waypoint.core.models import OutboxMessage, OutboxStatus
from waypoint.demo.builder import EPA_DEMO_TOKEN, demo_build
from waypoint.demo.staff import DEMO_PASSWORD
from waypoint.epa import emulator
from waypoint.epa.delivery import outbox_deliver
from waypoint.epa.models import AttemptOutcome, DeliveryAttempt, EpaConnection, EpaRegistration
from waypoint.epa.switching import RegistrationState
from waypoint.programmes.models import ProgrammeStatus

urlpatterns = [path("emulators/epa/", include("waypoint.epa.emulator")), *project_urlpatterns]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

TOKEN = "browser-epa-token"
SUPERVISOR = "supervisor"  # Supervisor, sees every group (waypoint/demo/staff.py)
EMULATOR = "/emulators/epa"
BUSY = "The platform is busy; try again later."
MAX_ATTEMPTS = 2


@pytest.fixture
def platform(settings: Any, live_server: Any) -> Iterator[str]:
    """The demo's connections pointed at the emulator the live server serves, few tries and no back-off."""
    setattr(settings, EPA_DEMO_TOKEN, TOKEN)
    settings.WAYPOINT_EPA_EMULATOR_TOKEN = TOKEN
    settings.WAYPOINT_EPA_TIMEOUT = 5.0
    settings.WAYPOINT_EPA_MAX_ATTEMPTS = MAX_ATTEMPTS
    settings.WAYPOINT_EPA_BACKOFF_BASE = 0.0
    settings.WAYPOINT_EPA_BACKOFF_CAP = 0.0
    settings.WAYPOINT_EPA_EMULATOR_ERROR_RATE = 0.0
    settings.WAYPOINT_EPA_EMULATOR_RATE_LIMIT_RATE = 0.0
    settings.WAYPOINT_EPA_EMULATOR_TIMEOUT_RATE = 0.0
    settings.WAYPOINT_EPA_EMULATOR_LATENCY_MS = 0
    emulator.reset()
    url = f"{live_server.url}{EMULATOR}"
    yield url
    emulator.reset()


def _log_in(page: Page, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _set_faults(page: Page, platform: str, **faults: float) -> None:
    response = page.request.post(f"{platform}/_control/faults", data=faults)
    assert response.ok, response.text()
    assert response.json()["error_rate"] == faults["error_rate"]


def _registered_learner(platform: str) -> EpaRegistration:
    """An active demo learner registered on a connection, the connection pointed at the emulator."""
    EpaConnection.objects.update(base_url=platform)
    registration = (
        EpaRegistration.objects.select_related("learner")
        .filter(state=RegistrationState.REGISTERED, enrolment__status=ProgrammeStatus.ACTIVE)
        .exclude(learner__uln="")
        .order_by("id")
        .first()
    )
    assert registration is not None
    return registration


def test_a_change_that_failed_while_the_platform_was_down_is_sent_after_a_supervisor_retries_it(
    live_server: Any, page: Page, platform: str, screenshots: Screenshots
) -> None:
    demo_build(learners=24)
    assert not OutboxMessage.objects.exists()  # the demo's registrations are as the platform already knows them
    registration = _registered_learner(platform)
    learner = registration.learner
    new_uln = factories.valid_uln(9_000)
    token = factories.api_token(get_user_model().objects.get(username=SUPERVISOR))

    # The platform fails every call; the ULN is corrected through the API.
    _set_faults(page, platform, error_rate=1.0)
    answer = page.request.patch(
        f"{live_server.url}/api/v1/learners/{learner.pk}",
        data={"uln": new_uln},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.ok, answer.text()
    change = OutboxMessage.objects.get(key=registration.pk)
    assert (change.status, change.source, change.changed) == (OutboxStatus.PENDING, "api", ["learner.uln"])

    report = outbox_deliver()
    assert (report.delivered, report.failed) == (0, 1)
    change.refresh_from_db()
    assert change.status == OutboxStatus.FAILED
    assert change.attempts == MAX_ATTEMPTS

    # The Supervisor finds it under Failed, with the platform's answer in plain words.
    _log_in(page, live_server, SUPERVISOR)
    expect(page.get_by_test_id("epa-failed").locator(".stat-value")).to_have_text("1")
    page.click("nav >> text=Integration log")
    page.wait_for_url(re.compile(r"/integrations/epa/$"))
    expect(page.get_by_test_id("tab-failed")).to_contain_text("1")
    page.get_by_test_id("tab-failed").click()
    page.wait_for_url(re.compile(r"/integrations/epa/\?status=failed$"))
    row = page.locator(f"#message-{change.pk}")
    expect(row.get_by_test_id("status")).to_have_text("Failed")
    expect(row).to_contain_text(learner.full_name)
    expect(row).to_contain_text("Personal details changed")
    expect(row).to_contain_text("ULN")
    expect(row).to_contain_text("API")
    expect(row.get_by_test_id("error")).to_contain_text(BUSY)
    expect(row.get_by_test_id("error")).to_contain_text(f"Gave up after {MAX_ATTEMPTS} tries.")
    screenshots.take(page, "epa-log-failed", docs=True)

    # Its page shows both tries and the 503s.
    row.locator(f"a[href='/integrations/epa/{change.pk}/']").click()
    page.wait_for_url(re.compile(rf"/integrations/epa/{change.pk}/$"))
    expect(page.get_by_test_id("message-status")).to_have_text("Failed")
    attempts = page.get_by_test_id("attempts").locator("tbody tr")
    expect(attempts).to_have_count(MAX_ATTEMPTS)
    expect(attempts.first).to_contain_text("503")
    expect(page.get_by_test_id("payload")).to_contain_text(new_uln)
    screenshots.take(page, "epa-message-failed", docs=True)

    # The platform is back; the Supervisor retries from the log.
    _set_faults(page, platform, error_rate=0.0)
    page.go_back()
    page.wait_for_url(re.compile(r"/integrations/epa/\?status=failed$"))
    page.locator(f"#message-{change.pk}").get_by_test_id("retry").click()
    page.wait_for_url(re.compile(r"/integrations/epa/\?status=failed$"))
    expect(page.locator(".message-success")).to_contain_text(f"Message #{change.pk} will be sent again shortly.")
    expect(page.locator(f"#message-{change.pk}")).to_have_count(0)  # no longer failed
    page.get_by_test_id("tab-all").click()
    page.wait_for_url(re.compile(r"/integrations/epa/$"))
    row = page.locator(f"#message-{change.pk}")
    expect(row.get_by_test_id("status")).to_have_text("Pending")
    expect(page.locator("#epa-status")).to_contain_text("1 message waiting for delivery")
    change.refresh_from_db()
    assert change.status == OutboxStatus.PENDING

    # The worker delivers it; the page, polling while a message waits, reloads and shows it Sent.
    report = outbox_deliver()
    assert report.delivered == 1
    expect(row.get_by_test_id("status")).to_have_text("Sent")
    expect(row.get_by_test_id("error")).to_have_count(0)
    expect(page.get_by_test_id("tab-failed")).to_contain_text("0")
    expect(page.get_by_test_id("tab-sent")).to_contain_text("1")
    screenshots.take(page, "epa-log-sent", docs=True)

    outcomes = list(DeliveryAttempt.objects.filter(message=change).values_list("outcome", "http_status"))
    assert outcomes == [
        (AttemptOutcome.TRANSIENT, 503),
        (AttemptOutcome.EXHAUSTED, 503),
        (AttemptOutcome.DELIVERED, 201),
    ]
    received = page.request.get(f"{platform}/_control/state").json()["registrations"][str(registration.pk)]
    assert received["snapshot"]["learner"]["uln"] == new_uln

    # The learner's EPA page shows the registration and the message, sent.
    page.goto(f"{live_server.url}/learners/{learner.pk}/epa/")
    expect(page.get_by_test_id("registrations")).to_contain_text(registration.connection.name)  # type: ignore[union-attr]
    expect(page.locator(f"#message-{change.pk}").get_by_test_id("status")).to_have_text("Sent")
    screenshots.take(page, "epa-learner-page")
