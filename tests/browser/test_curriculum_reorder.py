"""Drag to reorder (R-CUR-2): an admin drags milestones and linked programs into a new order, with the pointer or
the keyboard, and the order persists; a refused order is put back and the page says why."""

import re
from typing import Any

import pytest

from tests import factories
from tests.curriculum import factories as cf
from waypoint.curriculum.models import Curriculum, Milestone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MILESTONE_NAMES = "[data-testid=milestones] tbody tr[data-reorder-id] td:nth-child(2)"
PROGRAM_ITEMS = "[data-testid=linked-programs] ol li[data-reorder-id]"


def _log_in(page: Any, url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _plan_page(page: Any, live_server: Any) -> tuple[Curriculum, list[Milestone]]:
    admin = cf.supervisor()
    plan = cf.curriculum(name="Team leader pathway")
    milestones = [cf.milestone(plan, name=name) for name in ("Foundations", "Practice", "Reflection")]
    _log_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/learning-plans/{plan.pk}/")
    page.wait_for_selector("[data-testid=milestones] [data-reorder-handle]:visible")
    return plan, milestones


def _milestone_page(page: Any, live_server: Any) -> Milestone:
    admin = cf.supervisor()
    programs = [cf.program(name=name) for name in ("Coaching basics", "Giving feedback", "Running meetings")]
    milestone = cf.milestone(cf.curriculum(), name="Foundations", programs=programs, program_order_enforced=True)
    _log_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/learning-plans/{milestone.curriculum_id}/milestones/{milestone.pk}/")
    page.wait_for_selector("[data-testid=linked-programs] [data-reorder-handle]:visible")
    return milestone


def _program_names(page: Any) -> list[str]:
    return [text.split(" (")[0].replace("⠿", "").strip() for text in page.locator(PROGRAM_ITEMS).all_inner_texts()]


def test_admin_drags_the_third_milestone_to_the_top_and_the_order_persists(live_server: Any, page: Any) -> None:
    """R-CUR-2: milestones are dragged into order; the ↑/↓ buttons give way to the handle when scripts run."""
    plan, _ = _plan_page(page, live_server)
    assert not page.locator("[data-testid=milestones] [data-reorder-fallback]").first.is_visible()

    rows = page.locator("[data-testid=milestones] tbody tr[data-reorder-id]")
    rows.nth(2).locator("[data-reorder-handle]").drag_to(rows.nth(0))
    page.wait_for_selector("#milestone-order-status.message-success")
    assert page.locator("#milestone-order-status").inner_text() == (
        "Saved the new order of the milestones of Team leader pathway."
    )
    assert page.locator(MILESTONE_NAMES).all_inner_texts() == ["Reflection", "Foundations", "Practice"]
    assert page.locator("[data-testid=milestones] tbody td[data-reorder-position]").all_inner_texts() == ["1", "2", "3"]

    page.reload()
    assert page.locator(MILESTONE_NAMES).all_inner_texts() == ["Reflection", "Foundations", "Practice"]
    assert list(plan.milestones.order_by("position").values_list("name", flat=True)) == [
        "Reflection",
        "Foundations",
        "Practice",
    ]


def test_admin_drags_a_linked_program_to_the_top_where_program_order_is_enforced(live_server: Any, page: Any) -> None:
    """R-CUR-2: linked programs are dragged into order when program order is enforced."""
    milestone = _milestone_page(page, live_server)
    items = page.locator(PROGRAM_ITEMS)
    items.nth(2).locator("[data-reorder-handle]").drag_to(items.nth(0))
    page.wait_for_selector("#program-order-status.message-success")
    assert page.locator("#program-order-status").inner_text() == (
        "Saved the new order of the programs linked to Foundations."
    )

    page.reload()
    assert _program_names(page) == ["Running meetings", "Coaching basics", "Giving feedback"]
    names = milestone.links.order_by("position").values_list("program__name", flat=True)
    assert list(names) == ["Running meetings", "Coaching basics", "Giving feedback"]


def test_admin_reorders_milestones_with_the_keyboard(live_server: Any, page: Any) -> None:
    """R-CUR-2, by keyboard: Space picks a milestone up, the arrows move it, Space drops it; Alt+↓ moves one place."""
    plan, _ = _plan_page(page, live_server)
    handle = page.get_by_role("button", name="Reorder Reflection")
    handle.focus()
    page.keyboard.press("Space")
    assert "Picked up Reflection: position 3 of 3." in page.locator("#milestone-order-status").inner_text()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.locator("#milestone-order-status").inner_text() == "Reflection: position 1 of 3."
    page.keyboard.press("Space")
    page.wait_for_selector("#milestone-order-status.message-success")
    assert page.locator(MILESTONE_NAMES).all_inner_texts() == ["Reflection", "Foundations", "Practice"]

    page.reload()
    page.get_by_role("button", name="Reorder Foundations").focus()
    page.keyboard.press("Alt+ArrowDown")
    page.wait_for_selector("#milestone-order-status.message-success")
    page.reload()
    assert page.locator(MILESTONE_NAMES).all_inner_texts() == ["Reflection", "Practice", "Foundations"]
    assert list(plan.milestones.order_by("position").values_list("name", flat=True)) == [
        "Reflection",
        "Practice",
        "Foundations",
    ]


def test_escape_puts_a_picked_up_program_back(live_server: Any, page: Any) -> None:
    milestone = _milestone_page(page, live_server)
    page.get_by_role("button", name="Reorder Coaching basics").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("End")
    assert _program_names(page) == ["Giving feedback", "Running meetings", "Coaching basics"]
    page.keyboard.press("Escape")
    assert _program_names(page) == ["Coaching basics", "Giving feedback", "Running meetings"]
    assert "Cancelled" in page.locator("#program-order-status").inner_text()
    names = milestone.links.order_by("position").values_list("program__name", flat=True)
    assert list(names) == ["Coaching basics", "Giving feedback", "Running meetings"]


def test_a_refused_order_is_put_back_and_the_page_says_why(live_server: Any, page: Any) -> None:
    """R-CUR-2: once program order is no longer enforced, the server refuses the new order; the page restores it."""
    milestone = _milestone_page(page, live_server)
    Milestone.objects.filter(pk=milestone.pk).update(program_order_enforced=False)
    items = page.locator(PROGRAM_ITEMS)
    items.nth(2).locator("[data-reorder-handle]").drag_to(items.nth(0))
    page.wait_for_selector("#program-order-status.message-error")
    assert "does not enforce program order" in page.locator("#program-order-status").inner_text()
    assert _program_names(page) == ["Coaching basics", "Giving feedback", "Running meetings"]


def test_no_handles_where_program_order_is_not_enforced(live_server: Any, page: Any) -> None:
    admin = cf.supervisor()
    milestone = cf.milestone(cf.curriculum(), programs=[cf.program(name="Coaching basics"), cf.program()])
    _log_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/learning-plans/{milestone.curriculum_id}/milestones/{milestone.pk}/")
    assert page.locator("[data-testid=linked-programs]").get_by_text("Coaching basics").is_visible()
    assert page.locator("[data-reorder-handle]").count() == 0
    assert page.locator("[data-testid=program-order-off]").is_visible()


def test_dragging_to_the_top_of_the_window_scrolls_a_long_plan(live_server: Any, page: Any) -> None:
    """R-CUR-2: a milestone can be dragged past the rows the window shows; the page scrolls while it is held."""
    admin = cf.supervisor()
    plan = cf.curriculum()
    milestones = [cf.milestone(plan, name=f"Step {n:02}") for n in range(1, 26)]
    _log_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/learning-plans/{plan.pk}/")
    last = page.locator("[data-testid=milestones] tbody tr[data-reorder-id]").last
    last.scroll_into_view_if_needed()
    box = last.locator("[data-reorder-handle]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, 5, steps=10)
    page.wait_for_function(
        "id => document.querySelector('[data-testid=milestones] tbody tr[data-reorder-id]').dataset.reorderId === id",
        arg=str(milestones[-1].pk),
    )
    page.mouse.up()
    page.wait_for_selector("#milestone-order-status.message-success")
    order = list(plan.milestones.order_by("position").values_list("pk", flat=True))
    assert order == [milestones[-1].pk] + [m.pk for m in milestones[:-1]]


def test_without_javascript_the_arrow_buttons_still_reorder(live_server: Any, chromium: Any) -> None:
    """R-CUR-2: the ↑/↓ buttons remain for browsers that run no scripts; no drag handle is shown there."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        plan = cf.curriculum()
        first, second = cf.milestone(plan, name="Foundations"), cf.milestone(plan, name="Practice")
        _log_in(page, live_server.url, cf.supervisor().username)
        page.goto(f"{live_server.url}/learning-plans/{plan.pk}/")
        assert not page.locator("[data-reorder-handle]").first.is_visible()
        page.get_by_role("button", name="Move Practice up").click()
        page.wait_for_selector("text=Moved Practice up.")
        assert page.locator(MILESTONE_NAMES).all_inner_texts() == ["Practice", "Foundations"]
        assert list(plan.milestones.order_by("position").values_list("pk", flat=True)) == [second.pk, first.pk]
    finally:
        context.close()
