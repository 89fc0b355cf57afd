"""An admin with Attainments (PLR) Import finds learners in the Learner Manager, downloads their PLR, exports it,
updates the attainments and sees them on a learner's record (R-PLR-1…8). The LRS is a fake client, run from the
test while the window polls."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.attainments.conftest import FakeLrs, lrs_on  # noqa: F401 - the fixture
from tests.browser.conftest import Screenshots
from waypoint.attainments.models import Attainment, PlrDownload
from waypoint.attainments.services import plr_download_run
from waypoint.people.models import Perm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_NAMES = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Faisal"]


@pytest.mark.usefixtures("lrs_on")
def test_admin_downloads_exports_and_updates_plr_attainments(
    live_server: Any, page: Page, screenshots: Screenshots
) -> None:
    admin = factories.staff([Perm.PLR_IMPORT], username="priya.shah")
    learners = [factories.learner(first_name=name, surname=f"Okafor-{name[:2]}") for name in FIRST_NAMES]
    factories.learner(first_name="Tom", surname="Reilly")

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))

    page.click("nav >> text=Learner Manager")
    page.wait_for_url(re.compile(r"/learner-manager/$"))
    page.click("#add-condition")
    expect(page.locator(".condition-row")).to_have_count(2)
    page.locator(".condition-row").nth(1).locator(".remove-condition").click()
    expect(page.locator(".condition-row")).to_have_count(1)
    row = page.locator(".condition-row").first
    row.locator("select[name=field]").select_option("surname")
    row.locator("select[name=op]").select_option("contains")
    row.locator("input[name=value]").fill("okafor")
    page.click("#apply-conditions")
    expect(page.get_by_test_id("match-count")).to_have_text(str(len(learners)))

    rows = page.locator("#learner-rows tr")
    rows.nth(0).locator("td").nth(2).click()
    rows.nth(2).locator("td").nth(2).click(modifiers=["Shift"])
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    rows.nth(4).locator("td").nth(2).click(modifiers=["Control"])
    expect(page.locator("#selection-count")).to_have_text("4 selected")
    page.check("#select-all-matching")
    expect(page.locator("#selection-count")).to_have_text(f"All {len(learners)} matching learners selected")
    screenshots.take(page, "plr-1-learner-manager", docs=True)

    page.click("#plr-download")
    page.wait_for_url(re.compile(r"/plr/downloads/\d+/$"))
    expect(page.locator("#plr-progress")).to_be_visible()
    download = PlrDownload.objects.get()
    assert download.total == len(learners)
    plr_download_run(download.pk, client=FakeLrs(delay=0.05))
    expect(page.get_by_test_id("download-done")).to_be_visible()
    expect(page.get_by_test_id("row-count")).to_have_text(str(2 * len(learners)))
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
        "12 processed, 12 updated, 0 not updated (unchanged), 0 skipped"
    )
    assert Attainment.objects.count() == 2 * len(learners)
    screenshots.take(page, "plr-3-updated", docs=True)

    first = learners[0]
    page.click(f".plr-grid a[href='/learners/{first.pk}/']")
    page.wait_for_url(re.compile(rf"/learners/{first.pk}/$"))
    expect(page.locator("#attainments")).to_contain_text(f"Subject 0 of {first.uln}")
