"""An admin with Attainments (PLR) Import finds learners in the Learner Manager, downloads their PLR, exports it,
updates the attainments and sees them on a learner's record (R-PLR-1…8).

The download runs the real LRS client against the LRS emulator over real HTTP: the live server serves both the
pages and the emulator (docs/lrs-emulator.md). Any valid ULN gets its own deterministic learning events; Ada
Lovelace's test ULN answers "not agreed to share" (WSEC0206), and a learner without a ULN is never sent."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests import factories
from tests.attainments.lrs.conftest import CREDENTIALS, EMULATOR_PATH
from tests.browser.conftest import Screenshots
from waypoint.attainments.lrs import emulator
from waypoint.attainments.lrs.types import EXACT_MATCH
from waypoint.attainments.models import Attainment, PlrDownload, PlrRow
from waypoint.attainments.rows import MISSING_ULN
from waypoint.attainments.services import plr_download_run
from waypoint.people.models import Perm

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.attainments.lrs.urls"),
]

FIRST_NAMES = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Faisal"]
NOT_SHARED = "9000000059"  # the emulator's test ULN for WSEC0206; its record belongs to Ada Lovelace
NOT_SHARED_CODE = "WSEC0206"
POLL = re.compile(r"/plr/downloads/\d+/status/$")  # the download window's progress poll


@pytest.fixture
def lrs_emulated(settings: Any, live_server: Any) -> Iterator[None]:
    """The LRS connection pointed at the emulator the live server serves, with the credentials it accepts."""
    settings.WAYPOINT_LRS_URL = f"{live_server.url}{EMULATOR_PATH}"
    settings.WAYPOINT_LRS_UKPRN = CREDENTIALS["ukprn"]
    settings.WAYPOINT_LRS_USERNAME = CREDENTIALS["username"]
    settings.WAYPOINT_LRS_PASSWORD = CREDENTIALS["password"]
    settings.WAYPOINT_LRS_VENDOR_ID = CREDENTIALS["vendor_id"]
    settings.WAYPOINT_LRS_TIMEOUT = 10.0
    settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS = 0
    settings.WAYPOINT_LRS_EMULATOR_FAULT_RATE = 0.0
    emulator.reset()
    yield
    emulator.reset()


def _grid_row(page: Page, learner_id: int) -> Any:
    """The first grid row of a learner."""
    return page.locator(f".plr-grid tbody tr:has(a[href='/learners/{learner_id}/'])").first


@pytest.mark.usefixtures("lrs_emulated")
def test_admin_downloads_exports_and_updates_plr_attainments(
    live_server: Any, page: Page, screenshots: Screenshots
) -> None:
    admin = factories.staff([Perm.PLR_IMPORT], username="priya.shah")
    learners = [factories.learner(first_name=name, surname=f"Okafor-{name[:2]}") for name in FIRST_NAMES]
    no_uln = factories.learner(first_name="Grace", surname="Okafor-Gr", uln="")
    not_shared = factories.learner(first_name="Ada", surname="Lovelace", uln=NOT_SHARED)
    factories.learner(first_name="Tom", surname="Reilly")
    matching = len(learners) + 2

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))

    page.click("nav >> text=Learner Manager")
    page.wait_for_url(re.compile(r"/learner-manager/$"))
    page.click("#add-group")  # a sub-group with its own AND/OR and rows, then removed
    group = page.get_by_test_id("condition-group")
    expect(group).to_have_count(1)
    group.locator(".add-group-condition").click()
    expect(group.locator(".condition-row")).to_have_count(2)
    expect(group.locator("input[name=g]").first).to_have_value("1")
    group.locator(".remove-group").click()
    expect(page.get_by_test_id("condition-group")).to_have_count(0)
    page.click("#add-condition")
    page.click("#add-condition")
    expect(page.locator(".condition-row")).to_have_count(3)
    page.locator(".condition-row").nth(2).locator(".remove-condition").click()
    expect(page.locator(".condition-row")).to_have_count(2)
    page.check("input[name=logic][value=or]")
    first, second = page.locator(".condition-row").nth(0), page.locator(".condition-row").nth(1)
    first.locator("select[name=field]").select_option("surname")
    first.locator("select[name=op]").select_option("contains")
    first.locator("input[name=value]").fill("okafor")
    second.locator("select[name=field]").select_option("programme")
    second.locator("select[name=op]").select_option("equals")
    expect(second.locator("select.pick[data-field=programme]")).to_be_visible()  # a list of names, not an id
    expect(second.locator("input[name=value]")).to_be_hidden()
    second.locator("select[name=field]").select_option("surname")
    expect(second.locator("select.pick[data-field=programme]")).to_be_hidden()
    second.locator("select[name=op]").select_option("equals")
    second.locator("input[name=value]").fill("Lovelace")
    page.click("#apply-conditions")
    expect(page.get_by_test_id("match-count")).to_have_text(str(matching))

    rows = page.locator("#learner-rows tr")
    rows.nth(0).locator("td").nth(2).click()
    rows.nth(2).locator("td").nth(2).click(modifiers=["Shift"])
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    rows.nth(4).locator("td").nth(2).click(modifiers=["Control"])
    expect(page.locator("#selection-count")).to_have_text("4 selected")
    page.check("#select-all-matching")
    expect(page.locator("#selection-count")).to_have_text(f"All {matching} matching learners selected")
    screenshots.take(page, "plr-1-learner-manager", docs=True)

    # The live server shares this test's in-memory SQLite connection, so the download must not use it while a
    # progress poll does: polls are held back while it runs, then let through.
    held: list[Route] = []
    released = False

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(POLL, hold)
    page.click("#plr-download")
    page.wait_for_url(re.compile(r"/plr/downloads/\d+/$"))
    expect(page.locator("#plr-progress")).to_be_visible()
    expect(page.get_by_test_id("progress-total")).to_have_text(str(matching))
    page.wait_for_timeout(1200)
    assert held  # the window polls its progress
    download = PlrDownload.objects.get()
    assert download.total == matching

    plr_download_run(download.pk)  # the real client, over HTTP to the emulator

    asked = {r.values.get("uln") for r in emulator.received}
    assert asked == {learner.uln for learner in learners} | {NOT_SHARED}  # no ULN: never sent
    download_rows = PlrRow.objects.filter(download=download)
    row_count = download_rows.count()
    with_events = download_rows.filter(lrs_event_id__isnull=False).count()
    recorded = download_rows.filter(lrs_event_id__isnull=False).order_by("learner_id", "pk").first()
    assert recorded is not None
    released = True
    for route in held:
        route.continue_()
    expect(page.get_by_test_id("download-done")).to_be_visible(timeout=10_000)  # the window reloaded by itself
    page.unroute(POLL)
    expect(page.get_by_test_id("row-count")).to_have_text(str(row_count))
    expect(_grid_row(page, recorded.learner_id)).to_contain_text(EXACT_MATCH)
    expect(_grid_row(page, not_shared.pk)).to_contain_text(NOT_SHARED_CODE)
    expect(_grid_row(page, no_uln.pk)).to_contain_text(MISSING_ULN)
    screenshots.take(page, "plr-2-download", docs=True)

    with page.expect_download() as csv:
        page.click("#export-csv")
    assert csv.value.suggested_filename == f"plr-download-{download.pk}.csv"
    with page.expect_download() as xlsx:
        page.click("#export-xlsx")
    assert xlsx.value.suggested_filename == f"plr-download-{download.pk}.xlsx"

    page.check("#select-all-rows")
    page.click("#update-selected")
    expect(page.locator(".message-success").first).to_contain_text(
        f"{row_count} processed, {with_events} updated, 0 not updated (unchanged), "
        f"{row_count - with_events} skipped (no learning event)"
    )
    assert Attainment.objects.count() == with_events
    screenshots.take(page, "plr-3-updated", docs=True)

    page.click(f".plr-grid a[href='/learners/{recorded.learner_id}/'] >> nth=0")
    page.wait_for_url(re.compile(rf"/learners/{recorded.learner_id}/$"))
    expect(page.locator("#attainments")).to_contain_text(recorded.subject)
