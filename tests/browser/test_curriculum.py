"""An admin builds a learning plan with two milestones and assigns it to a group; a professional in the group
registers through the workflow; the admin sees the registration in the report (seed 002)."""

import re
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import Screenshots
from tests.curriculum import factories as cf
from waypoint.curriculum.models import Curriculum, Registration, RegistrationStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Any, url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _add_milestone(page: Any, name: str, program: str) -> None:
    page.click("text=Create Milestone")
    page.fill("input[name=name]", name)
    page.select_option("select[name=metric]", "sessions")
    page.fill("input[name=units]", "1")
    page.click("button:has-text('Save milestone')")
    page.wait_for_selector("[data-testid=program-picker]")
    page.fill("input[name=q]", program)
    page.click("button:has-text('Search')")
    page.check(f"[data-testid=program-picker] label:has-text('{program}') input")
    page.click("button:has-text('Link chosen programs')")
    page.wait_for_selector(f"[data-testid=linked-programs] li:has-text('{program}')")
    page.click("text=Back to the learning plan")


def test_admin_builds_assigns_and_sees_a_professionals_registration(
    live_server: Any, page: Any, screenshots: Screenshots
) -> None:
    admin = cf.supervisor(username="sam.okafor")
    pro = cf.professional(username="priya.shah", first_name="Priya", last_name="Shah")
    group = cf.professional_group([pro, cf.professional()], name="New team leaders")
    cf.program(name="Coaching conversations", sessions=2)
    cf.program(name="Giving feedback", sessions=1)

    _log_in(page, live_server.url, admin.username)
    page.click("nav >> text=Learning plans")
    page.click("text=Create a Learning Plan")
    page.fill("input[name=name]", "Team leader pathway")
    page.fill("textarea[name=description]", "Two steps to leading a team.")
    page.select_option("select[name=registration_type]", "enforced")
    page.click("button:has-text('Save')")
    page.wait_for_selector("[data-testid=milestones]")
    assert "Created the learning plan" in page.locator(".messages").inner_text()
    _add_milestone(page, "Foundations", "Coaching conversations")
    _add_milestone(page, "Practice", "Giving feedback")
    milestones = page.locator("[data-testid=milestones] tbody").inner_text()
    assert "Foundations" in milestones
    assert "Practice" in milestones
    screenshots.take(page, "learning-plan-edit", docs=True)

    page.click("text=Manage Users")
    page.select_option("select[name=group]", label="New team leaders")
    page.click("[data-testid=assign-form] button:has-text('Assign')")
    assert "to 2 people" in page.locator(".messages").inner_text()
    assert "Priya Shah" in page.locator("[data-testid=assigned-table]").inner_text()

    _log_in(page, live_server.url, pro.username)
    nav = page.locator("header nav").inner_text()
    assert "My Learning" in nav
    assert "Program Catalog" in nav
    assert "Learners" not in nav
    page.click("[data-testid=assigned-plans] >> text=Team leader pathway")
    page.click("button:has-text('Register')")
    page.wait_for_selector("[data-testid=choose-form]")
    assert "Foundations" in page.locator("h2").first.inner_text()
    page.locator("[data-testid=choose-form] input[type=radio]").nth(1).check()
    page.click("button:has-text('Enrol and continue')")
    page.wait_for_selector("[data-testid=choose-form] legend:has-text('Giving feedback')")
    page.locator("[data-testid=choose-form] input[type=radio]").nth(1).check()
    page.click("button:has-text('Enrol and continue')")
    page.wait_for_selector("text=Review Summary")
    screenshots.take(page, "learning-plan-review-summary", docs=True)
    page.click("button:has-text('Complete')")
    page.wait_for_selector("text=You are registered.")

    plan = Curriculum.objects.get(name="Team leader pathway")
    assert Registration.objects.get(curriculum=plan, person=pro).status == RegistrationStatus.REGISTERED

    _log_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/learning-plans/reports/people/?plan={plan.pk}")
    row = page.locator("[data-testid=report-table] tr:has-text('Shah')").inner_text()
    assert "Registered" in row
    screenshots.take(page, "learning-plan-report", docs=True)
    assert group.members.count() == 2
