"""An admin logs in, opens a learner, changes a component's due date and sees the change in the journal."""

import datetime as dt
import re
from typing import Any

import pytest

from tests import factories
from tests.browser.conftest import Screenshots
from waypoint.people.models import Group, Perm
from waypoint.plans.models import Component, ComponentChange, ComponentStatus
from waypoint.programmes.models import ComponentTemplate, ComponentType, Programme, ReviewType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_NAMES = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Faisal", "Grace", "Harry", "Isla", "Kiran", "Lily", "Niamh"]
SURNAMES = ["Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal", "Jones", "Khan"]
TEMPLATE = [
    ("Induction and individual learning plan", ComponentType.LEARNING_ACTIVITY),
    ("Initial tripartite review", ComponentType.REVIEW),
    ("Programming fundamentals", ComponentType.LEARNING_ACTIVITY),
    ("Off-the-job training log: term 1", ComponentType.OFF_THE_JOB),
    ("Unit testing workshop", ComponentType.ASSESSMENT),
    ("Progress review 1", ComponentType.PROGRESS_REVIEW),
    ("Secure coding exam", ComponentType.EXAM),
    ("Employer declaration", ComponentType.DOCUMENT),
    ("Portfolio assessment", ComponentType.ASSESSMENT),
    ("Gateway readiness review", ComponentType.REVIEW),
]


def _programme(name: str, code: str, standard: str) -> Programme:
    programme = Programme.objects.create(
        name=name, code=code, standard_code=standard, epao_id="EPA0001", criteria=["K1", "K2", "K3", "S1", "S2", "B1"]
    )
    for position, (title, type_) in enumerate(TEMPLATE, start=1):
        review_type = {ComponentType.REVIEW: ReviewType.TRIPARTITE, ComponentType.PROGRESS_REVIEW: ReviewType.PROGRESS}
        ComponentTemplate.objects.create(
            programme=programme,
            position=position,
            name=title,
            type=type_,
            review_type=review_type.get(type_, ""),
            criteria_mappings=["K1", "S1"] if position % 2 else ["K2"],
            due_offset_days=30 * position,
            evidence_required=type_ == ComponentType.ASSESSMENT,
            min_evidence=1 if type_ == ComponentType.ASSESSMENT else 0,
            planned_for_qa=position == 9,
        )
    return programme


def _cohort() -> tuple[Any, Component]:
    """A small, realistic provider: a supervisor, three tutors, two programmes, 30 learners."""
    admin = factories.staff([Perm.SUPERVISOR], username="sam.okafor")
    admin.first_name, admin.last_name = "Sam", "Okafor"
    admin.save()
    admin.staff.job_title = "Head of Delivery"  # type: ignore[attr-defined]
    admin.staff.save()  # type: ignore[attr-defined]
    tutors = []
    for first, last in [("Priya", "Shah"), ("Tom", "Reilly"), ("Ivy", "Mensah")]:
        tutor = factories.staff([Perm.ADM_EDIT])
        tutor.first_name, tutor.last_name = first, last
        tutor.save()
        tutor.staff.is_tutor = True  # type: ignore[attr-defined]
        tutor.staff.save()  # type: ignore[attr-defined]
        tutors.append(tutor)
    groups = [Group.objects.create(name=n) for n in ("Leeds 2026 cohort", "Manchester evening", "Remote")]
    employers = []
    for name, town, postcode in [
        ("Northwind Logistics Ltd", "Leeds", "LS1 4AP"),
        ("Brightwater Health NHS Trust", "Manchester", "M1 2AB"),
        ("Castlegate Software", "York", "YO1 7HH"),
    ]:
        employer = factories.employer(name=name, address_line_1="1 Wellington Street", town=town)
        employer.postcode = postcode
        employer.save()
        employers.append((employer, factories.manager(employer)))
    software = _programme("Software Developer (Level 4)", "SD4", "ST0116")
    data = _programme("Data Analyst (Level 4)", "DA4", "ST0118")
    learners = []
    for i in range(30):
        surname, first = SURNAMES[i * 7 % len(SURNAMES)], FIRST_NAMES[i * 5 % len(FIRST_NAMES)]
        employer, manager = employers[i % 3]
        learner = factories.learner(
            first_name=first,
            surname=surname,
            email=f"{first.lower()}.{surname.lower()}@example.org",
            employer=employer,
            manager=manager,
            tutor=tutors[i % 3],
            groups=[groups[i % 3]],
        )
        factories.enrolment(learner, software if i % 3 else data, start_date=dt.date(2025, 9, 1))
        learners.append(learner)
    # Some progress on the first learner's plan, so the record looks lived-in.
    first_plan = list(Component.objects.filter(learner=learners[0]).order_by("position"))
    for component, status in zip(first_plan, [ComponentStatus.COMPLETED, ComponentStatus.IN_PROGRESS], strict=False):
        component.status = status
        component.save()
    target = first_plan[2]
    return admin, target


def test_admin_changes_a_due_date_and_sees_it_in_the_journal(
    live_server: Any, page: Any, screenshots: Screenshots
) -> None:
    admin, component = _cohort()
    learner = component.learner
    old_due = component.due_date
    assert old_due is not None
    new_due = old_due + dt.timedelta(days=14)

    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", factories.PASSWORD)
    screenshots.take(page, "login")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("h1").inner_text().startswith("Good to see you")
    screenshots.take(page, "dashboard", docs=True)

    page.click("nav >> text=Learners")
    page.wait_for_selector("#learner-grid table")
    screenshots.take(page, "learner-list", docs=True)
    page.fill("#id_q", learner.surname)
    page.click(".filter-actions button[type=submit]")
    page.wait_for_selector(f"#learner-grid a[href='/learners/{learner.pk}/']")
    page.click(f"#learner-grid a[href='/learners/{learner.pk}/']")
    page.wait_for_url(re.compile(rf"/learners/{learner.pk}/$"))
    assert learner.full_name in page.locator("h1").inner_text()
    screenshots.take(page, "learner-record", docs=True)

    page.click(f"#component-{component.pk} >> text=Edit")
    page.wait_for_url(re.compile(rf"/learners/{learner.pk}/components/{component.pk}/edit/$"))
    page.fill("input[name=due_date]", new_due.isoformat())
    screenshots.take(page, "component-edit")
    page.click("button:has-text('Save changes')")
    page.wait_for_url(re.compile(rf"/learners/{learner.pk}/"))
    assert "Saved" in page.locator(".messages").inner_text()
    assert f"{new_due.day} {new_due:%b %Y}" in page.locator(f"#component-{component.pk}").inner_text()

    page.click("nav.tabs >> text=Journal")
    page.wait_for_url(re.compile(rf"/learners/{learner.pk}/journal/$"))
    row = page.locator("table.journal tbody tr").first
    text = row.inner_text()
    assert component.name in text
    assert "Due date" in text
    assert f"{old_due.day} {old_due:%b %Y} → {new_due.day} {new_due:%b %Y}" in text
    assert "this visit" in text
    screenshots.take(page, "journal", docs=True)

    change = ComponentChange.objects.get(component=component)
    assert change.field == "due_date"
    assert change.by_id == admin.pk
    assert change.visit is not None
    assert change.visit.learner_id == learner.pk


def test_filters_reload_the_learner_grid_in_place(live_server: Any, page: Any) -> None:
    admin, _ = _cohort()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/learners/")
    assert "30 learners" in page.locator(".grid-summary").inner_text()
    page.evaluate("window.notReloaded = true")

    page.select_option("#id_programme", label="Data Analyst (Level 4)")

    page.wait_for_function("document.querySelector('.grid-summary').innerText.includes('10 learners')")
    assert page.evaluate("window.notReloaded") is True  # the grid was swapped, not the page
    assert "programme=" in page.url
    assert "programme=" in (page.locator("#export-link").get_attribute("href") or "")
