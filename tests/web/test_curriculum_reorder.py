"""Drag to reorder (R-CUR-2): the JSON endpoints the plan and milestone pages post a complete new order to, and the
handles those pages offer."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.curriculum import factories as cf
from waypoint.curriculum.models import Curriculum, Milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client) -> Any:
    user = cf.supervisor()
    client.force_login(user)
    return user


def _milestone_order(plan: Curriculum) -> list[int]:
    return list(plan.milestones.order_by("position").values_list("pk", flat=True))


def _program_order(milestone: Milestone) -> list[int]:
    return list(milestone.links.order_by("position").values_list("program_id", flat=True))


def _post_milestones(client: Client, plan: Curriculum, order: list[Any]) -> Any:
    return client.post(reverse("curriculum_milestones_order", args=[plan.pk]), {"order": order})


def _post_programs(client: Client, milestone: Milestone, order: list[Any]) -> Any:
    url = reverse("curriculum_programs_order", args=[milestone.curriculum_id, milestone.pk])
    return client.post(url, {"order": order})


# Milestones


@pytest.mark.parametrize("enforced", [True, False])
def test_admin_drags_milestones_into_a_new_order_whether_or_not_the_plan_enforces_it(
    client: Client, admin: Any, enforced: bool
) -> None:
    """R-CUR-2: milestones always have an order (professionals see them numbered and register in them in turn);
    Milestone order enforced only decides whether they must be taken in that order."""
    plan = cf.curriculum(name="Team leader pathway", milestone_order_enforced=enforced)
    a, b, c = cf.milestone(plan), cf.milestone(plan), cf.milestone(plan)
    response = _post_milestones(client, plan, [c.pk, a.pk, b.pk])
    assert response.status_code == 200
    assert response.json() == {"message": "Saved the new order of the milestones of Team leader pathway."}
    assert _milestone_order(plan) == [c.pk, a.pk, b.pk]
    assert list(plan.milestones.order_by("position").values_list("position", flat=True)) == [1, 2, 3]


def test_a_milestone_order_missing_a_milestone_is_refused_and_changes_nothing(client: Client, admin: Any) -> None:
    """R-CUR-2: the new order lists every milestone of the plan exactly once."""
    plan = cf.curriculum()
    a, b, c = cf.milestone(plan), cf.milestone(plan), cf.milestone(plan)
    response = _post_milestones(client, plan, [c.pk, a.pk])
    assert response.status_code == 400
    assert response.json() == {
        "error": f"List every milestone exactly once, in the new order (missing {b.pk}). "
        "It may have changed since this page was shown: reload the page."
    }
    assert _milestone_order(plan) == [a.pk, b.pk, c.pk]


def test_a_milestone_of_another_plan_is_refused_and_changes_nothing(client: Client, admin: Any) -> None:
    """R-CUR-2: only the plan's own milestones can be put in its order."""
    plan = cf.curriculum()
    a, b = cf.milestone(plan), cf.milestone(plan)
    foreign = cf.milestone(cf.curriculum())
    response = _post_milestones(client, plan, [b.pk, a.pk, foreign.pk])
    assert response.status_code == 400
    assert f"unknown {foreign.pk}" in response.json()["error"]
    assert _milestone_order(plan) == [a.pk, b.pk]
    assert foreign.curriculum.milestones.get().position == 1


def test_a_milestone_listed_twice_is_refused_and_changes_nothing(client: Client, admin: Any) -> None:
    plan = cf.curriculum()
    a, b = cf.milestone(plan), cf.milestone(plan)
    response = _post_milestones(client, plan, [b.pk, a.pk, b.pk])
    assert response.status_code == 400
    assert "some appear twice" in response.json()["error"]
    assert _milestone_order(plan) == [a.pk, b.pk]


@pytest.mark.parametrize("bad", ["first", "-1", "1.5", "", "²"])
def test_an_order_that_is_not_ids_is_refused_and_changes_nothing(client: Client, admin: Any, bad: str) -> None:
    plan = cf.curriculum()
    a, b = cf.milestone(plan), cf.milestone(plan)
    response = _post_milestones(client, plan, [b.pk, bad])
    assert response.status_code == 400
    assert response.json() == {"error": "The new order must list ids only, as whole numbers."}
    assert _milestone_order(plan) == [a.pk, b.pk]


def test_reordering_the_milestones_of_a_plan_that_does_not_exist_answers_404(client: Client, admin: Any) -> None:
    response = client.post(reverse("curriculum_milestones_order", args=[999_999]), {"order": [1]})
    assert response.status_code == 404
    assert response.json() == {"error": "No such learning plan."}


def test_the_order_endpoints_take_posts_only(client: Client, admin: Any) -> None:
    plan = cf.curriculum()
    assert client.get(reverse("curriculum_milestones_order", args=[plan.pk])).status_code == 405


# Linked programs


def test_admin_drags_linked_programs_into_a_new_order_where_program_order_is_enforced(
    client: Client, admin: Any
) -> None:
    """R-CUR-2: linked programs are ordered; drag to reorder when order is enforced."""
    p1, p2, p3 = cf.program(), cf.program(), cf.program()
    milestone = cf.milestone(programs=[p1, p2, p3], name="Foundations", program_order_enforced=True)
    response = _post_programs(client, milestone, [p3.pk, p1.pk, p2.pk])
    assert response.status_code == 200
    assert response.json() == {"message": "Saved the new order of the programs linked to Foundations."}
    assert _program_order(milestone) == [p3.pk, p1.pk, p2.pk]


def test_reordering_programs_where_program_order_is_not_enforced_is_refused(client: Client, admin: Any) -> None:
    """R-CUR-2: drag to reorder only when order is enforced; without it the programs have no order to change."""
    p1, p2 = cf.program(), cf.program()
    milestone = cf.milestone(programs=[p1, p2], program_order_enforced=False)
    response = _post_programs(client, milestone, [p2.pk, p1.pk])
    assert response.status_code == 400
    assert "does not enforce program order" in response.json()["error"]
    assert _program_order(milestone) == [p1.pk, p2.pk]


def test_a_program_not_linked_to_the_milestone_is_refused_and_changes_nothing(client: Client, admin: Any) -> None:
    """R-CUR-2: the new order lists every linked program exactly once, and nothing else."""
    p1, p2, stranger = cf.program(), cf.program(), cf.program()
    milestone = cf.milestone(programs=[p1, p2], program_order_enforced=True)
    response = _post_programs(client, milestone, [p2.pk, stranger.pk])
    assert response.status_code == 400
    assert response.json() == {
        "error": f"List every linked program exactly once, in the new order (missing {p1.pk}; unknown {stranger.pk}). "
        "It may have changed since this page was shown: reload the page."
    }
    assert _program_order(milestone) == [p1.pk, p2.pk]


def test_a_milestone_of_another_plan_in_the_address_answers_404(client: Client, admin: Any) -> None:
    p1, p2 = cf.program(), cf.program()
    milestone = cf.milestone(programs=[p1, p2], program_order_enforced=True)
    other_plan = cf.curriculum()
    url = reverse("curriculum_programs_order", args=[other_plan.pk, milestone.pk])
    response = client.post(url, {"order": [p2.pk, p1.pk]})
    assert response.status_code == 404
    assert response.json() == {"error": "No such milestone in this learning plan."}
    assert _program_order(milestone) == [p1.pk, p2.pk]


# Who may reorder


def test_a_professional_may_not_reorder_milestones_or_programs(client: Client) -> None:
    """R-CUR-2: building a learning plan is for staff."""
    p1, p2 = cf.program(), cf.program()
    plan = cf.curriculum()
    first = cf.milestone(plan, programs=[p1, p2], program_order_enforced=True)
    second = cf.milestone(plan)
    client.force_login(cf.professional())
    refused = _post_milestones(client, plan, [second.pk, first.pk])
    assert refused.status_code == 403
    assert refused.json() == {"error": "Learning plan administration is for staff."}
    assert _post_programs(client, first, [p2.pk, p1.pk]).status_code == 403
    assert _milestone_order(plan) == [first.pk, second.pk]
    assert _program_order(first) == [p1.pk, p2.pk]


def test_staff_without_the_supervisor_permission_may_not_reorder(client: Client) -> None:
    plan = cf.curriculum()
    a, b = cf.milestone(plan), cf.milestone(plan)
    client.force_login(cf.staff_without_supervisor())
    response = _post_milestones(client, plan, [b.pk, a.pk])
    assert response.status_code == 403
    assert response.json() == {"error": "Reordering milestones needs the Supervisor permission."}
    assert _milestone_order(plan) == [a.pk, b.pk]


def test_someone_not_logged_in_is_sent_to_log_in_and_nothing_changes(client: Client) -> None:
    plan = cf.curriculum()
    a, b = cf.milestone(plan), cf.milestone(plan)
    response = _post_milestones(client, plan, [b.pk, a.pk])
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert _milestone_order(plan) == [a.pk, b.pk]


def test_the_order_is_saved_with_the_csrf_token_the_page_gives_the_script() -> None:
    """The page hands reorder.js its CSRF token; a post without it is refused."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(cf.supervisor())
    plan = cf.curriculum()
    a, b = cf.milestone(plan), cf.milestone(plan)
    page = client.get(reverse("curriculum_edit", args=[plan.pk])).content.decode()
    found = re.search(r'data-reorder-csrf="([^"]+)"', page)
    assert found is not None
    url = reverse("curriculum_milestones_order", args=[plan.pk])
    assert client.post(url, {"order": [b.pk, a.pk]}).status_code == 403
    assert _milestone_order(plan) == [a.pk, b.pk]
    saved = client.post(url, {"order": [b.pk, a.pk]}, headers={"X-CSRFToken": found.group(1)})
    assert saved.status_code == 200
    assert _milestone_order(plan) == [b.pk, a.pk]


# The pages


def test_the_plan_page_offers_a_drag_handle_per_milestone_and_keeps_the_arrow_buttons(
    client: Client, admin: Any
) -> None:
    """R-CUR-2: drag to reorder, with the ↑/↓ buttons kept for browsers without JavaScript."""
    plan = cf.curriculum()
    a, b = cf.milestone(plan, name="Foundations"), cf.milestone(plan, name="Practice")
    page = client.get(reverse("curriculum_edit", args=[plan.pk])).content.decode()
    assert f'data-reorder-url="{reverse("curriculum_milestones_order", args=[plan.pk])}"' in page
    assert f'data-reorder-id="{a.pk}"' in page
    assert f'data-reorder-id="{b.pk}"' in page
    assert 'aria-label="Reorder Foundations"' in page
    assert 'aria-label="Move Practice up"' in page
    assert "/static/reorder.js" in page
    assert "may take them in any order" in page


def test_the_plan_page_says_when_milestone_order_is_enforced(client: Client, admin: Any) -> None:
    plan = cf.curriculum(milestone_order_enforced=True)
    cf.milestone(plan)
    page = client.get(reverse("curriculum_edit", args=[plan.pk])).content.decode()
    assert "they must take them in this order" in page


def test_the_milestone_page_offers_drag_handles_where_program_order_is_enforced(client: Client, admin: Any) -> None:
    """R-CUR-2: drag to reorder when order is enforced."""
    p1, p2 = cf.program(name="Coaching basics"), cf.program()
    milestone = cf.milestone(programs=[p1, p2], program_order_enforced=True)
    page = client.get(reverse("curriculum_milestone_edit", args=[milestone.curriculum_id, milestone.pk]))
    text = page.content.decode()
    url = reverse("curriculum_programs_order", args=[milestone.curriculum_id, milestone.pk])
    assert f'data-reorder-url="{url}"' in text
    assert 'aria-label="Reorder Coaching basics"' in text
    assert "/static/reorder.js" in text


def test_the_milestone_page_offers_no_reordering_where_program_order_is_not_enforced(
    client: Client, admin: Any
) -> None:
    """R-CUR-2: without enforced order the page says why the programs cannot be reordered."""
    p1, p2 = cf.program(name="Coaching basics"), cf.program()
    milestone = cf.milestone(programs=[p1, p2], program_order_enforced=False)
    page = client.get(reverse("curriculum_milestone_edit", args=[milestone.curriculum_id, milestone.pk]))
    text = page.content.decode()
    assert "Coaching basics" in text
    assert "data-reorder-url" not in text
    assert "Move Coaching basics" not in text
    assert "Program order enforced is off" in text
