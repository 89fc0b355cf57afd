"""The Sync Activities wizard in the browser, on demo data (SPEC §2, R-SYNC-*, R-PLUS-*).

Each test builds the demo provider (a small one, to stay fast), logs in as a demo admin and goes through the wizard
as an admin would: the record, Sync Activities, the five steps, Confirm & Synchronise, the history. What the pages
claim is then checked in the database.
"""

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, Route, expect

from tests import factories
from tests.browser.conftest import Screenshots
from tests.plans.sync.conftest import many_targets
from waypoint.demo.builder import demo_build
from waypoint.demo.staff import DEMO_PASSWORD
from waypoint.people.models import Learner
from waypoint.plans.models import Component, ComponentStatus, SyncRun, SyncRunStatus, SyncTarget
from waypoint.plans.sync.selection import sync_learners_list
from waypoint.plans.sync.types import NotSynced
from waypoint.programmes.models import ComponentTemplate, Enrolment, ProgrammeStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_LEARNERS = 60
# Software Developer Level 4 has no sub-programmes, so Sync Activities goes straight to Select Components.
PROGRAMME = "SD-L4"
SUPERVISOR = "supervisor"  # Supervisor, sees every group (waypoint/demo/staff.py)
READ_ONLY = "quality"  # no plan permissions at all
NEW_DUE = dt.date(2031, 3, 31)
OTHER_DUE = dt.date(2031, 4, 30)
POLL = re.compile(r"/summary/\?was=")  # the summary page's status poll (R-PLUS-3)


# Demo data and reading it


def _demo() -> Enrolment:
    """The demo provider; the source: the first active learner on Software Developer Level 4."""
    demo_build(learners=DEMO_LEARNERS)
    source = (
        Enrolment.objects.select_related("learner", "programme")
        .filter(programme__code=PROGRAMME, status=ProgrammeStatus.ACTIVE)
        .order_by("learner_id")
        .first()
    )
    assert source is not None
    return source


def _component(enrolment: Enrolment, name: str) -> Component:
    return Component.objects.get(enrolment=enrolment, name=name)


def _admin(username: str = SUPERVISOR) -> Any:
    return get_user_model().objects.get(username=username)


def _eligible(source: Enrolment) -> list[int]:
    """The learners the supervisor may synchronise to from the source's plan (R-SYNC-5)."""
    return list(sync_learners_list(user=_admin(), enrolment=source).values_list("pk", flat=True))


def _plans_except(learner_id: int) -> dict[int, tuple[int, int | None, dt.date | None, int]]:
    """Every component of every other learner: learner, template, due date and revision (a write raises it)."""
    rows = Component.objects.exclude(learner_id=learner_id).values_list(
        "id", "learner_id", "template_id", "due_date", "revision"
    )
    return {pk: (learner, template, due, revision) for pk, learner, template, due, revision in rows}


def _run() -> SyncRun:
    return SyncRun.objects.exclude(status=SyncRunStatus.DRAFT).get()


# Moving through the pages


def _log_in(page: Page, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _open_record(page: Page, live_server: Any, learner_id: int) -> None:
    page.goto(f"{live_server.url}/learners/{learner_id}/")
    expect(page.locator("h1")).to_be_visible()


def _edit_due_date(page: Page, component: Component, due: dt.date) -> None:
    page.click(f"#component-{component.pk} >> text=Edit")
    page.wait_for_url(re.compile(rf"/components/{component.pk}/edit/$"))
    page.fill("input[name=due_date]", due.isoformat())
    page.click("button:has-text('Save changes')")
    page.wait_for_url(re.compile(rf"/learners/{component.learner_id}/(#.*)?$"))
    expect(page.locator(".messages")).to_contain_text("Saved")


def _delete(page: Page, component: Component) -> None:
    page.click(f"#component-{component.pk} >> text=Delete")
    page.wait_for_url(re.compile(rf"/components/{component.pk}/delete/$"))
    page.click("button:has-text('Delete component')")
    page.wait_for_url(re.compile(rf"/learners/{component.learner_id}/(#.*)?$"))
    expect(page.locator(".messages")).to_contain_text("Deleted")


def _start_sync(page: Page) -> None:
    page.get_by_test_id("sync-activities").click()
    page.wait_for_url(re.compile(r"/sync/\d+/components/$"))


def _next(page: Page, step: str) -> None:
    page.get_by_role("button", name="Next", exact=True).click()
    page.wait_for_url(re.compile(rf"/sync/\d+/{step}/$"))


def _component_box(page: Page, component: Component) -> Any:
    return page.locator(f"#component-grid input[data-code='t{component.template_id}']")


def _search_component(page: Page, component: Component) -> None:
    """Show only this component, with the grid's search (R-SYNC-3)."""
    page.fill("#component-search", component.name)
    expect(page.locator("#component-grid tbody tr")).to_have_count(1)


def _tick_component(page: Page, component: Component) -> None:
    _search_component(page, component)
    _component_box(page, component).check()
    expect(_component_box(page, component)).to_be_checked()


def _learner_box(page: Page, learner_id: int) -> Any:
    return page.locator(f"#learner-grid tr:has(a[href='/learners/{learner_id}/']) input[type=checkbox]")


def _tick_learner_found_by_uln(page: Page, learner: Learner, selected: int) -> None:
    page.fill("#learner-search", learner.uln)
    expect(page.get_by_test_id("learners-matching")).to_have_text("1")
    _learner_box(page, learner.pk).check()
    expect(page.get_by_test_id("learners-selected-count")).to_have_text(str(selected))


def _select_all_learners(page: Page, count: int) -> None:
    page.get_by_role("button", name=f"Select all {count} matching").click()
    expect(page.get_by_test_id("learners-selected-count")).to_have_text(str(count))


def _summary_row(page: Page, component: Component) -> Any:
    return page.locator("tbody.grid-row", has=page.locator("details.expander summary", has_text=component.name))


def _expand(row: Any) -> None:
    """Open a summary row: its two learner lists load (R-SYNC-14)."""
    row.locator("details.expander summary").click()
    expect(row.locator(".outcome-list")).to_have_count(2)


def _confirm_inline(page: Page) -> None:
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("sync-success")).to_be_visible()


# The acceptance scenarios


def test_only_changes_to_five_ticked_learners_changes_exactly_their_plans(
    live_server: Any, page: Page, screenshots: Screenshots
) -> None:
    """R-SYNC-4, 8, 11, 12, 15, R-PLUS-1: two due dates edited and one component deleted in the record are the
    preselected recent changes; ONLY changes to five ticked learners writes exactly those to exactly those plans."""
    source = _demo()
    agreement = _component(source, "Apprenticeship agreement")
    commitment = _component(source, "Commitment statement")
    skills_scan = _component(source, "Skills scan")
    before = _plans_except(source.learner_id)

    _log_in(page, live_server, SUPERVISOR)
    _open_record(page, live_server, source.learner_id)
    _edit_due_date(page, agreement, NEW_DUE)
    _edit_due_date(page, commitment, OTHER_DUE)
    _delete(page, skills_scan)

    _start_sync(page)
    expect(page.get_by_test_id("components-selected-count")).to_have_text("3")
    page.select_option("#component-filters select[name=type]", label="Document")  # R-SYNC-3: filter by type
    expect(page.locator("#component-grid tbody tr")).to_have_count(7)  # six on the plan and the deleted one
    for edited in (agreement, commitment, skills_scan):  # R-SYNC-4: the recent changes are preselected
        expect(_component_box(page, edited)).to_be_checked()
    expect(page.locator("#component-grid tr.recent")).to_have_count(3)
    screenshots.take(page, "sync-1-components", docs=True)

    _next(page, "learners")
    rows = page.locator("#learner-grid tbody tr")
    expect(rows.first).to_be_visible()
    hrefs = [rows.nth(i).locator("a").first.get_attribute("href") or "" for i in range(5)]
    chosen = [int(re.findall(r"\d+", href)[0]) for href in hrefs]
    for count, learner_id in enumerate(chosen, start=1):
        _learner_box(page, learner_id).check()
        expect(page.get_by_test_id("learners-selected-count")).to_have_text(str(count))
    expect(page.get_by_test_id("learners-selected")).to_have_text("5")  # the wizard's line follows the grid
    screenshots.take(page, "sync-2-learners", docs=True)

    _next(page, "conditions")
    screenshots.take(page, "sync-3-conditions", docs=True)
    _next(page, "type")
    expect(page.locator("#type-only_changes")).to_be_checked()  # R-SYNC-8: the default with recent changes
    screenshots.take(page, "sync-4-type", docs=True)
    _next(page, "summary")

    expect(page.get_by_test_id("figure-components")).to_have_text("3")
    expect(page.get_by_test_id("figure-learners")).to_have_text("5")
    expect(page.get_by_test_id("figure-synchronised")).to_have_text("15")
    expect(_summary_row(page, skills_scan)).to_contain_text("Delete")
    row = _summary_row(page, agreement)
    _expand(row)
    first = row.locator(".outcome-list").first.locator("li.outcome").first
    first.locator("details.diff summary").click()
    diff = first.locator(".diff-table")
    expect(diff.locator("td").first).to_have_text("Due date")  # R-PLUS-1: the exact diff, learner by learner
    expect(diff.locator("td.old")).not_to_have_text("31 Mar 2031")
    expect(diff.locator("td.new")).to_have_text("31 Mar 2031")  # the date as the admin reads it
    screenshots.take(page, "sync-5-summary", docs=True)

    _confirm_inline(page)
    expect(page.get_by_test_id("sync-success")).to_contain_text("15 changes for 5 learners")

    after = _plans_except(source.learner_id)
    new_due = {agreement.template_id: NEW_DUE, commitment.template_id: OTHER_DUE}
    updated = {pk for pk, (learner, template, *_) in before.items() if learner in chosen and template in new_due}
    deleted = {
        pk
        for pk, (learner, template, *_) in before.items()
        if learner in chosen and template == skills_scan.template_id
    }
    assert (len(updated), len(deleted)) == (10, 5)
    assert set(before) - set(after) == deleted
    assert set(after) <= set(before)  # nothing created
    assert {pk for pk in after if after[pk] != before[pk]} == updated  # nobody else's plan changed
    for template_id, due in new_due.items():
        assert {after[pk][2] for pk in updated if after[pk][1] == template_id} == {due}


def test_a_status_left_out_of_the_conditions_is_the_reason_shown_for_that_learner(live_server: Any, page: Page) -> None:
    """R-SYNC-6, 9, 13a, 14: ALL attributes with Referred not ticked; the learner whose component is Referred is
    listed under "Learners not synchronised" with the reason, the other learner is synchronised."""
    source = _demo()
    portfolio = _component(source, "Portfolio of evidence")
    excluded_id, included_id = _eligible(source)[:2]
    excluded, included = Learner.objects.get(pk=excluded_id), Learner.objects.get(pk=included_id)
    theirs = Component.objects.filter(template_id=portfolio.template_id)
    theirs.filter(learner=excluded).update(status=ComponentStatus.REFERRED)
    theirs.filter(learner=included).update(status=ComponentStatus.NOT_STARTED)

    _log_in(page, live_server, SUPERVISOR)
    _open_record(page, live_server, source.learner_id)
    _start_sync(page)
    expect(page.get_by_test_id("components-selected-count")).to_have_text("0")  # no recent changes
    _tick_component(page, portfolio)
    expect(page.get_by_test_id("components-selected")).to_have_text("1")  # the wizard's line follows the grid
    _next(page, "learners")
    _tick_learner_found_by_uln(page, excluded, selected=1)
    _tick_learner_found_by_uln(page, included, selected=2)
    _next(page, "conditions")
    page.uncheck("input[name=status][value=referred]")
    _next(page, "type")
    expect(page.locator("#type-only_changes")).to_be_disabled()  # R-SYNC-8: nothing changed in this visit
    expect(page.locator("#type-all")).to_be_checked()
    _next(page, "summary")

    expect(page.get_by_test_id("warning-SOME_NOT_SYNCHRONISED")).to_be_visible()  # R-SYNC-13a
    expect(page.get_by_test_id("figure-synchronised")).to_have_text("1")
    expect(page.get_by_test_id("figure-not-synchronised")).to_have_text("1")
    row = _summary_row(page, portfolio)
    _expand(row)
    skipped = row.locator("section", has_text="Learners not synchronised").locator("li.outcome")
    expect(skipped).to_have_count(1)
    expect(skipped).to_contain_text(excluded.full_name)
    expect(skipped.locator(".reason")).to_have_text(NotSynced.STATUS_NOT_SELECTED.message)
    synchronised = row.locator("section", has_text="Learners to be synchronised").locator("li.outcome")
    expect(synchronised).to_have_count(1)
    expect(synchronised).to_contain_text(included.full_name)


def test_selected_template_attributes_warn_about_the_source_and_keep_the_component_preselected(
    live_server: Any, page: Page
) -> None:
    """R-SYNC-10, 13c, 4: SELECTED Instructions writes the template's instructions to the learners and to the
    source, the summary says so, and the next wizard from the same record visit preselects the component."""
    source = _demo()
    plan = _component(source, "Individual learning plan")
    template = ComponentTemplate.objects.get(pk=plan.template_id)
    local = "Use last year's ILP form and email it to your coach."
    Component.objects.filter(template=template).update(instructions=local)  # not in any visit: not recent

    _log_in(page, live_server, SUPERVISOR)
    _open_record(page, live_server, source.learner_id)
    _start_sync(page)
    _tick_component(page, plan)
    _next(page, "learners")
    targets = len(_eligible(source))
    _select_all_learners(page, targets)
    _next(page, "conditions")
    _next(page, "type")
    page.check("#type-selected")
    page.check("input[name=attribute][value=instructions]")
    _next(page, "summary")

    expect(page.get_by_test_id("warning-SOURCE_UPDATED")).to_be_visible()  # R-SYNC-13c
    expect(page.get_by_test_id("warning-SOURCE_UPDATED")).to_contain_text("source learner")
    _confirm_inline(page)
    on_plans = Component.objects.filter(template=template, learner_id__in=[source.learner_id, *_eligible(source)])
    assert on_plans.count() == targets + 1
    assert set(on_plans.values_list("instructions", flat=True)) == {template.instructions}

    page.get_by_role("button", name="Back to the learner's record").click()
    page.wait_for_url(re.compile(rf"/learners/{source.learner_id}/$"))
    _start_sync(page)
    expect(_component_box(page, plan)).to_be_checked()  # R-SYNC-4: still a recent change
    expect(page.locator("#component-grid tr.recent")).to_have_count(1)
    expect(page.get_by_test_id("components-selected-count")).to_have_text("1")


def test_an_admin_without_sync_permissions_has_no_button_and_the_api_refuses(live_server: Any, page: Page) -> None:
    """R-SYNC-1: no Sync Activities button, no Sync runs in the menu, and 403 from the API with the browser's session
    and with an API token; the same request with a supervisor's token is answered."""
    source = _demo()
    _log_in(page, live_server, READ_ONLY)
    _open_record(page, live_server, source.learner_id)
    expect(page.locator("h1")).to_contain_text(source.learner.full_name)
    expect(page.get_by_test_id("sync-activities")).to_have_count(0)
    expect(page.locator("header.topbar")).not_to_contain_text("Sync runs")

    url = f"{live_server.url}/api/v1/learners/{source.learner_id}/sync/components"
    assert page.request.get(url).status == 403
    token = factories.api_token(_admin(READ_ONLY))
    assert page.request.get(url, headers={"Authorization": f"Bearer {token}"}).status == 403
    allowed = factories.api_token(_admin(SUPERVISOR))
    assert page.request.get(url, headers={"Authorization": f"Bearer {allowed}"}).status == 200
    assert not SyncRun.objects.exists()


def test_all_2500_learners_of_a_programme_are_synchronised_by_the_worker_with_live_progress(
    live_server: Any, page: Page, screenshots: Screenshots, settings: Any
) -> None:
    """R-SYNC-3, 5, 26, R-PLUS-3: "Select all 2500 matching" selects across every page; more learners than
    WAYPOINT_SYNC_BACKGROUND_FROM go to the task worker, the summary page shows the progress bar and turns into the
    success message by itself once the worker has applied the run."""
    source = _demo()
    declaration = _component(source, "Gateway declaration")
    many_targets(source.programme, 2500 - len(_eligible(source)))
    assert len(_eligible(source)) == 2500
    assert settings.WAYPOINT_SYNC_BACKGROUND_FROM < 2500

    _log_in(page, live_server, SUPERVISOR)
    _open_record(page, live_server, source.learner_id)
    _edit_due_date(page, declaration, NEW_DUE)
    _start_sync(page)
    _search_component(page, declaration)
    expect(_component_box(page, declaration)).to_be_checked()
    _next(page, "learners")
    expect(page.locator("#learner-grid .pager")).to_contain_text("Page 1 of 100")
    _select_all_learners(page, 2500)
    _next(page, "conditions")
    _next(page, "type")
    _next(page, "summary")
    expect(page.get_by_test_id("figure-learners")).to_have_text("2,500")

    # The live server shares this test's in-memory SQLite connection, so the worker must not use it while a status
    # poll does: polls are held back while the worker runs, then let through.
    held: list[Route] = []
    page.route(POLL, lambda route: held.append(route))
    page.get_by_test_id("confirm").click()
    status = page.locator("#run-status")
    expect(status).to_contain_text("Waiting for the worker")
    expect(status.locator("progress")).to_be_visible()
    expect(page.get_by_test_id("progress-done")).to_have_text("0")
    screenshots.take(page, "sync-6-progress", docs=True)
    page.wait_for_timeout(1200)
    assert held  # the page polls the run's status
    assert _run().status == SyncRunStatus.QUEUED

    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)

    assert _run().status == SyncRunStatus.APPLIED
    for route in held:
        route.continue_()
    page.unroute(POLL)
    expect(page.get_by_test_id("sync-success")).to_be_visible(timeout=10_000)  # the page reloaded by itself
    expect(page.get_by_test_id("sync-success")).to_contain_text("2,500 changes for 2,500 learners")
    screenshots.take(page, "sync-6-applied", docs=True)

    synced = Component.objects.filter(template_id=declaration.template_id, learner_id__in=_eligible(source))
    assert synced.filter(due_date=NEW_DUE).count() == 2500
    assert SyncTarget.objects.filter(run=_run()).count() == 2500


def test_undoing_a_run_from_the_history_restores_the_plans(
    live_server: Any, page: Page, screenshots: Screenshots
) -> None:
    """R-SYNC-27, R-PLUS-2: the run is listed in Sync runs; Undo on its page restores every value it changed and
    says how many."""
    source = _demo()
    declaration = _component(source, "Gateway declaration")
    targets = _eligible(source)
    theirs = Component.objects.filter(template_id=declaration.template_id, learner_id__in=targets)
    before = dict(theirs.values_list("id", "due_date"))
    assert len(before) == len(targets)

    _log_in(page, live_server, SUPERVISOR)
    _open_record(page, live_server, source.learner_id)
    _edit_due_date(page, declaration, NEW_DUE)
    _start_sync(page)
    _next(page, "learners")
    _select_all_learners(page, len(targets))
    _next(page, "conditions")
    _next(page, "type")
    _next(page, "summary")
    _confirm_inline(page)
    assert set(theirs.values_list("due_date", flat=True)) == {NEW_DUE}
    run = _run()

    page.click("header.topbar >> text=Sync runs")
    page.wait_for_url(re.compile(r"/sync-runs/$"))
    listed = page.locator("#run-grid tbody tr", has=page.locator(f"a[href='/sync-runs/{run.pk}/']"))
    expect(listed).to_contain_text("Applied")
    expect(listed).to_contain_text(source.learner.full_name)
    screenshots.take(page, "sync-7-history", docs=True)

    listed.locator(f"a[href='/sync-runs/{run.pk}/']").click()
    page.wait_for_url(re.compile(rf"/sync-runs/{run.pk}/$"))
    page.get_by_text("Undo this sync…").click()
    page.get_by_test_id("undo-confirm").click()
    expect(page.locator(".messages")).to_contain_text(f"Undone: {len(targets)} restored.")
    result = page.get_by_test_id("undo-result")
    expect(result).to_contain_text(f"{len(targets)} restored")
    expect(result).to_contain_text("no conflicts")
    expect(page.get_by_test_id("undo-confirm")).to_have_count(0)
    screenshots.take(page, "sync-8-run-undone", docs=True)

    assert dict(theirs.values_list("id", "due_date")) == before
    run.refresh_from_db()
    assert (run.status, run.undo_restored, run.undo_conflicts) == (SyncRunStatus.UNDONE, len(targets), 0)
