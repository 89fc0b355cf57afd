"""Learning plan pages (seed 002): staff administration, reports, and professionals' pages, through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.curriculum import factories as cf
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    EnrolmentStatus,
    Milestone,
    MilestoneStatus,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
    RegistrationType,
    Terminology,
)
from waypoint.curriculum.services.assignments import curriculum_assign
from waypoint.curriculum.services.registrations import registration_choose, registration_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client):  # type: ignore[no-untyped-def]
    user = cf.supervisor()
    client.force_login(user)
    return user


@pytest.fixture
def renamed() -> str:
    Terminology.objects.create(learning_plan="Pathway")
    return "Pathway"


def _plan_post(**values: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "Team leader pathway", "description": "", "registration_type": "non_enforced"}
    data.update(values)
    return data


# Administration


def test_hub_lists_plans_and_filters_by_search_and_registration_type(client: Client, admin: object) -> None:
    cf.curriculum(name="Onboarding", registration_type=RegistrationType.ENFORCED)
    cf.curriculum(name="Leadership")
    assert b"Onboarding" in client.get(reverse("curriculum_list")).content
    found = client.get(reverse("curriculum_list"), {"q": "leadership"}).content.decode()
    assert "Leadership" in found
    assert "Onboarding" not in found
    enforced = client.get(reverse("curriculum_list"), {"registration_type": "enforced"}).content.decode()
    assert "Onboarding" in enforced
    assert "Leadership" not in enforced


def test_professional_is_refused_the_admin_pages(client: Client) -> None:
    client.force_login(cf.professional())
    assert client.get(reverse("curriculum_list")).status_code == 403


def test_creating_a_plan_saves_every_field(client: Client, admin: object) -> None:
    catalog = cf.catalog()
    response = client.post(
        reverse("curriculum_new"),
        _plan_post(
            starts_at="2027-01-05T09:00",
            ends_at="2027-06-30T17:00",
            due_date="2027-07-01",
            milestone_order_enforced="on",
            registration_type="enforced",
            auto_register="on",
            catalogs=[catalog.pk],
        ),
    )
    plan = Curriculum.objects.get(name="Team leader pathway")
    assert response.status_code == 302
    assert response["Location"] == reverse("curriculum_edit", args=[plan.pk])
    assert plan.auto_register
    assert plan.milestone_order_enforced
    assert plan.due_date == dt.date(2027, 7, 1)
    assert list(plan.catalogs.all()) == [catalog]


def test_auto_register_without_enforced_registration_is_refused_beside_the_field(client: Client, admin: object) -> None:
    response = client.post(reverse("curriculum_new"), _plan_post(auto_register="on"))
    assert response.status_code == 422
    assert not Curriculum.objects.exists()
    assert response.context["form"].errors["auto_register"]


def test_staff_without_supervisor_is_told_why_a_save_is_refused(client: Client) -> None:
    client.force_login(cf.staff_without_supervisor())
    response = client.post(reverse("curriculum_new"), _plan_post())
    assert response.status_code == 403
    assert "Supervisor" in response.content.decode()
    assert not Curriculum.objects.exists()


def test_editing_a_plan_changes_it(client: Client, admin: object) -> None:
    plan = cf.curriculum(name="Old")
    client.post(reverse("curriculum_edit", args=[plan.pk]), _plan_post(name="New name"))
    plan.refresh_from_db()
    assert plan.name == "New name"


def test_milestone_is_created_then_programs_are_linked_from_the_picker(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    first, second = cf.program(name="Coaching basics"), cf.program(name="Giving feedback")
    client.post(
        reverse("curriculum_milestone_new", args=[plan.pk]),
        {"name": "Foundations", "metric": "sessions", "units": "2", "due_date": "2027-03-01"},
    )
    milestone = Milestone.objects.get(curriculum=plan)
    assert milestone.units == Decimal(2)
    page = client.get(reverse("curriculum_milestone_edit", args=[plan.pk, milestone.pk]), {"q": "coach"})
    assert "Coaching basics" in page.content.decode()
    assert "Giving feedback" not in page.content.decode()
    client.post(reverse("curriculum_milestone_link", args=[plan.pk, milestone.pk]), {"programs": [first.pk, second.pk]})
    assert list(milestone.links.order_by("position").values_list("program_id", flat=True)) == [first.pk, second.pk]


def test_credits_milestone_refuses_an_activity_and_says_which(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    milestone = cf.milestone(plan, metric="credits")
    activity = cf.activity(name="Reading list")
    response = client.post(
        reverse("curriculum_milestone_link", args=[plan.pk, milestone.pk]), {"programs": [activity.pk]}, follow=True
    )
    assert "Reading list" in response.content.decode()
    assert not milestone.links.exists()


def test_milestones_move_up_and_down(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    a, b = cf.milestone(plan, name="A"), cf.milestone(plan, name="B")
    client.post(reverse("curriculum_milestone_move", args=[plan.pk, b.pk]), {"direction": "up"})
    assert list(plan.milestones.order_by("position").values_list("pk", flat=True)) == [b.pk, a.pk]


def test_linked_programs_move_only_where_program_order_is_enforced(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    p1, p2 = cf.program(), cf.program()
    loose = cf.milestone(plan, programs=[p1, p2])
    response = client.post(
        reverse("curriculum_program_move", args=[plan.pk, loose.pk, p2.pk]), {"direction": "up"}, follow=True
    )
    assert "does not enforce program order" in response.content.decode()
    ordered = cf.milestone(plan, programs=[p1, p2], program_order_enforced=True)
    client.post(reverse("curriculum_program_move", args=[plan.pk, ordered.pk, p2.pk]), {"direction": "up"})
    assert list(ordered.links.order_by("position").values_list("program_id", flat=True)) == [p2.pk, p1.pk]


@pytest.mark.parametrize(("mode", "milestones", "links"), [("shell", 0, 0), ("milestones", 1, 0), ("everything", 1, 1)])
def test_duplicate_copies_what_was_chosen(
    client: Client, admin: object, mode: str, milestones: int, links: int
) -> None:
    plan = cf.curriculum(name="Source")
    cf.milestone(plan, programs=[cf.program()])
    client.post(reverse("curriculum_duplicate", args=[plan.pk]), {"mode": mode})
    copy = Curriculum.objects.get(name="Copy of Source")
    assert copy.milestones.count() == milestones
    assert sum(m.links.count() for m in copy.milestones.all()) == links


def test_catalogs_are_added_in_bulk_from_the_hub_and_removed_on_the_edit_page(client: Client, admin: object) -> None:
    one, two = cf.curriculum(), cf.curriculum()
    catalog = cf.catalog()
    client.post(reverse("curriculum_list"), {"plans": [one.pk, two.pk], "catalogs": [catalog.pk], "action": "add"})
    assert set(catalog.curricula.all()) == {one, two}
    client.post(reverse("curriculum_catalogs", args=[one.pk]), {"catalogs": [catalog.pk], "action": "remove"})
    assert set(catalog.curricula.all()) == {two}


def test_assigning_a_group_warns_about_people_already_assigned(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    already = cf.professional(first_name="Ada", last_name="Lovelace")
    other = cf.professional()
    curriculum_assign(curriculum=plan, people=type(already).objects.filter(pk=already.pk), by=admin)  # type: ignore[arg-type]
    group = cf.professional_group([already, other])
    response = client.post(reverse("curriculum_users", args=[plan.pk]), {"group": group.pk}, follow=True)
    text = response.content.decode()
    assert "Ada Lovelace" in text
    assert "not reassigned" in text
    assert Assignment.objects.get(curriculum=plan, person=other).group == group
    assert Assignment.objects.get(curriculum=plan, person=already).group is None


def test_adjusting_a_group_assignment_needs_the_detach_confirmation(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    milestone = cf.milestone(plan, programs=[cf.program(), cf.program()])
    person = cf.professional()
    group = cf.professional_group([person])
    curriculum_assign(curriculum=plan, group=group, by=admin)  # type: ignore[arg-type]
    assignment = Assignment.objects.get(person=person)
    url = reverse("curriculum_assignment_milestone", args=[plan.pk, assignment.pk, milestone.pk])
    assert "removes the group link" in client.get(url).content.decode()
    refused = client.post(url, {"action": "adjusted", "units": "1"})
    assert refused.status_code == 409
    assert not MilestoneStatus.objects.exists()
    client.post(url, {"action": "adjusted", "units": "1", "confirm_detach": "on"})
    assignment.refresh_from_db()
    assert assignment.group is None
    assert MilestoneStatus.objects.get().units == Decimal(1)


def test_deleting_a_registration_asks_first_then_unenrols(client: Client, admin: object) -> None:
    program = cf.program()
    plan = cf.curriculum()
    milestone = cf.milestone(plan, programs=[program])
    person = cf.professional(first_name="Grace", last_name="Hopper")
    registration = registration_start(curriculum=plan, person=person)
    registration_choose(registration=registration, milestone=milestone, sessions=[program.sessions.get()])
    users = client.get(reverse("curriculum_users", args=[plan.pk]), {"tab": "registered"}).content.decode()
    assert "Grace Hopper" in users
    url = reverse("curriculum_registration_delete", args=[plan.pk, registration.pk])
    assert "un-enrolled" in client.get(url).content.decode()
    client.post(url)
    assert Registration.objects.get().status == RegistrationStatus.CANCELLED
    assert ProgramEnrolment.objects.get().status == EnrolmentStatus.CANCELLED


def test_hub_query_count_does_not_grow_with_plans(client: Client, admin: object, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        cf.curriculum_with_milestones(1, 1)
    client.get(reverse("curriculum_list"))
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("curriculum_list"))
    for _ in range(20):
        cf.curriculum_with_milestones(1, 1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("curriculum_list"))


def test_manage_users_query_count_does_not_grow_with_people(
    client: Client,
    admin: object,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    plan, _ = cf.curriculum_with_milestones(2, 1)
    group = cf.professional_group([cf.professional() for _ in range(2)])
    curriculum_assign(curriculum=plan, group=group, by=admin)  # type: ignore[arg-type]
    url = reverse("curriculum_users", args=[plan.pk])
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    more = cf.professional_group([cf.professional() for _ in range(15)])
    curriculum_assign(curriculum=plan, group=more, by=admin)  # type: ignore[arg-type]
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


# Reports


def test_reports_render_with_chart_and_downloads(client: Client, admin: object) -> None:
    plan, _ = cf.curriculum_with_milestones(1, 1, name="Reported plan")
    person = cf.professional(first_name="Alan", last_name="Turing")
    curriculum_assign(curriculum=plan, people=type(person).objects.filter(pk=person.pk), by=admin)  # type: ignore[arg-type]
    for report in ("status-highlights", "people"):
        page = client.get(reverse("curriculum_report", args=[report]), {"plan": plan.pk})
        text = page.content.decode()
        assert page.status_code == 200
        assert "Turing" in text
        assert "<svg" in text
        csv = client.get(reverse("curriculum_report_csv", args=[report]), {"plan": plan.pk})
        assert "Turing" in b"".join(csv.streaming_content).decode()  # type: ignore[attr-defined]
        xlsx = client.get(reverse("curriculum_report_xlsx", args=[report]))
        assert xlsx.status_code == 200
        assert xlsx["Content-Disposition"].endswith('.xlsx"')
    people = client.get(reverse("curriculum_report", args=["people"]), {"plan": plan.pk}).content.decode()
    assert "Not Started (0 of 1)" in people  # each milestone's status in words, with its units


def test_admin_pages_keep_the_original_term(client: Client, admin: object, renamed: str) -> None:
    plan = cf.curriculum()
    for url in (reverse("curriculum_list"), reverse("curriculum_edit", args=[plan.pk])):
        text = client.get(url).content.decode()
        assert "Learning Plan" in text
        assert renamed not in text
    assert renamed not in client.get(reverse("curriculum_report", args=["people"])).content.decode()


# Professionals


@pytest.fixture
def pro(client: Client):  # type: ignore[no-untyped-def]
    user = cf.professional()
    client.force_login(user)
    return user


def test_professional_navigation_and_dashboard_list_assigned_plans(client: Client, pro: object, renamed: str) -> None:
    plan, _ = cf.curriculum_with_milestones(2, 1, name="Induction")
    curriculum_assign(curriculum=plan, people=type(pro).objects.filter(pk=pro.pk), by=cf.supervisor())  # type: ignore[arg-type, attr-defined]
    text = client.get(reverse("dashboard")).content.decode()
    assert "Induction" in text
    assert "0 / 2" in text
    assert renamed in text
    assert "My Learning" in text
    assert "Program Catalog" in text
    assert "Learners" not in text
    assert "Learning plans" not in text


@pytest.mark.parametrize("name", ["my_learning", "program_catalog"])
def test_professional_pages_use_the_renamed_term(client: Client, pro: object, renamed: str, name: str) -> None:
    cf.curriculum(name="Published", catalogs=[cf.catalog()])
    text = client.get(reverse(name)).content.decode()
    assert renamed in text
    assert "Learning Plan" not in text


def test_catalog_lists_only_plans_in_catalogs(client: Client, pro: object) -> None:
    cf.curriculum(name="Published", catalogs=[cf.catalog()])
    cf.curriculum(name="Hidden")
    text = client.get(reverse("program_catalog")).content.decode()
    assert "Published" in text
    assert "Hidden" not in text
    hidden = Curriculum.objects.get(name="Hidden")
    assert client.get(reverse("learning_plan", args=[hidden.pk])).status_code == 404


def test_registration_goes_milestone_by_milestone_to_the_summary_and_completes(
    client: Client, pro: object, renamed: str
) -> None:
    plan = cf.curriculum(registration_type=RegistrationType.ENFORCED, catalogs=[cf.catalog()])
    p1, p2 = cf.program(name="Coaching"), cf.program(name="Feedback")
    first, second = cf.milestone(plan, programs=[p1], name="First"), cf.milestone(plan, programs=[p2], name="Second")
    detail = client.get(reverse("learning_plan", args=[plan.pk])).content.decode()
    assert renamed in detail
    assert "Register" in detail
    client.post(reverse("learning_plan_start", args=[plan.pk]))
    step = client.get(reverse("learning_plan_register", args=[plan.pk]))
    assert step.context["step"].milestone == first
    early = client.post(reverse("learning_plan_complete", args=[plan.pk]), follow=True)
    assert "still to choose" in early.content.decode()
    client.post(
        reverse("learning_plan_register", args=[plan.pk]),
        {"milestone": first.pk, f"session_{p1.pk}": p1.sessions.get().pk},
    )
    assert client.get(reverse("learning_plan_register", args=[plan.pk])).context["step"].milestone == second
    client.post(
        reverse("learning_plan_register", args=[plan.pk]),
        {"milestone": second.pk, f"session_{p2.pk}": p2.sessions.get().pk},
    )
    summary = client.get(reverse("learning_plan_register", args=[plan.pk]))
    assert summary.context["step"].kind == "summary"
    assert "Review Summary" in summary.content.decode()
    client.post(reverse("learning_plan_complete", args=[plan.pk]))
    assert Registration.objects.get().status == RegistrationStatus.REGISTERED


def test_choosing_nothing_is_refused_with_a_message(client: Client, pro: object) -> None:
    plan = cf.curriculum(catalogs=[cf.catalog()])
    milestone = cf.milestone(plan, programs=[cf.program()])
    client.post(reverse("learning_plan_start", args=[plan.pk]))
    response = client.post(reverse("learning_plan_register", args=[plan.pk]), {"milestone": milestone.pk})
    assert response.status_code == 422
    assert "Choose at least one" in response.content.decode()


def test_auto_registration_goes_straight_to_the_summary(client: Client, pro: object) -> None:
    plan = cf.curriculum(registration_type=RegistrationType.ENFORCED, auto_register=True, catalogs=[cf.catalog()])
    cf.milestone(plan, programs=[cf.program(), cf.program()])
    client.post(reverse("learning_plan_start", args=[plan.pk]))
    step = client.get(reverse("learning_plan_register", args=[plan.pk]))
    assert step.context["step"].kind == "summary"
    assert ProgramEnrolment.objects.count() == 2


def test_add_and_remove_to_my_learning(client: Client, pro: object) -> None:
    plan = cf.curriculum(name="Bookmarked", add_to_my_learning=True, catalogs=[cf.catalog()])
    client.post(reverse("learning_plan_my_learning", args=[plan.pk]), {"action": "add"})
    assert "Bookmarked" in client.get(reverse("my_learning")).content.decode()
    client.post(reverse("learning_plan_my_learning", args=[plan.pk]), {"action": "remove"})
    assert Registration.objects.get().status == RegistrationStatus.CANCELLED


def test_plan_details_show_progress_per_milestone(client: Client, pro: object) -> None:
    program = cf.program()
    plan = cf.curriculum()
    cf.milestone(plan, programs=[program], name="Only step")
    curriculum_assign(curriculum=plan, people=type(pro).objects.filter(pk=pro.pk), by=cf.supervisor())  # type: ignore[arg-type, attr-defined]
    ProgramEnrolment.objects.create(person=pro, program=program, status=EnrolmentStatus.COMPLETED)
    text = client.get(reverse("learning_plan", args=[plan.pk])).content.decode()
    assert "Only step" in text
    assert "Met" in text
    assert "1 / 1" in text


def test_my_learning_query_count_does_not_grow_with_plans(
    client: Client,
    pro: object,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    boss = cf.supervisor()
    people = type(pro).objects.filter(pk=pro.pk)  # type: ignore[attr-defined]
    curriculum_assign(curriculum=cf.curriculum_with_milestones(2, 1)[0], people=people, by=boss)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("my_learning"))
    for _ in range(10):
        curriculum_assign(curriculum=cf.curriculum_with_milestones(2, 1)[0], people=people, by=boss)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("my_learning"))


def test_people_are_found_then_assigned_individually(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    ada = cf.professional(first_name="Ada", last_name="Lovelace")
    cf.professional(first_name="Bob", last_name="Builder")
    found = client.get(reverse("curriculum_users", args=[plan.pk]), {"find": "lovelace"}).content.decode()
    assert "Ada Lovelace" in found
    assert "Bob Builder" not in found
    client.post(reverse("curriculum_users", args=[plan.pk]), {"people": [ada.pk]})
    assert list(Assignment.objects.values_list("person_id", "group_id")) == [(ada.pk, None)]


def test_assigning_nobody_is_refused(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    response = client.post(reverse("curriculum_users", args=[plan.pk]), {})
    assert response.status_code == 422
    assert "Choose either people or one group" in response.content.decode()


def test_waived_milestone_shows_beside_the_person(client: Client, admin: object) -> None:
    plan = cf.curriculum()
    milestone = cf.milestone(plan, programs=[cf.program()])
    person = cf.professional()
    curriculum_assign(curriculum=plan, people=type(person).objects.filter(pk=person.pk), by=admin)  # type: ignore[arg-type]
    assignment = Assignment.objects.get()
    client.post(
        reverse("curriculum_assignment_milestone", args=[plan.pk, assignment.pk, milestone.pk]), {"action": "waived"}
    )
    assert "Waived" in client.get(reverse("curriculum_users", args=[plan.pk])).content.decode()


def test_assignment_notification_is_sent_from_manage_users(client: Client, admin: object, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    plan = cf.curriculum(name="Onboarding")
    people = [cf.professional(), cf.professional()]
    curriculum_assign(curriculum=plan, group=cf.professional_group(people), by=admin)  # type: ignore[arg-type]
    mailoutbox.clear()
    client.post(reverse("curriculum_notify", args=[plan.pk]), {"to": "chosen", "people": [people[0].pk]})
    assert [m.to for m in mailoutbox] == [[people[0].email]]
    response = client.post(reverse("curriculum_notify", args=[plan.pk]), {"to": "everyone"}, follow=True)
    assert len(mailoutbox) == 3
    assert "to 2 people" in response.content.decode()


def test_report_query_count_does_not_grow_with_people(
    client: Client, admin: object, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    plan, _ = cf.curriculum_with_milestones(2, 1)
    curriculum_assign(curriculum=plan, group=cf.professional_group([cf.professional() for _ in range(2)]), by=admin)  # type: ignore[arg-type]
    url = reverse("curriculum_report", args=["people"])
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    curriculum_assign(curriculum=plan, group=cf.professional_group([cf.professional() for _ in range(15)]), by=admin)  # type: ignore[arg-type]
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert "Professional" in client.get(url).content.decode()


def test_a_milestone_of_another_plan_is_not_found(client: Client, pro: object) -> None:
    plan = cf.curriculum(catalogs=[cf.catalog()])
    cf.milestone(plan, programs=[cf.program()])
    other = cf.milestone(cf.curriculum(), programs=[cf.program()])
    client.post(reverse("learning_plan_start", args=[plan.pk]))
    url = reverse("learning_plan_register", args=[plan.pk])
    assert client.post(url, {"milestone": other.pk}).status_code == 404
    assert client.post(url, {"milestone": "x"}).status_code == 404
