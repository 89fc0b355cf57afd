"""Learning plan set-up pages (seed 002): programs and sessions, catalogs, professional groups, notifications
(R-CUR-10) and the professionals' term (R-CUR-12), through the services."""

import datetime as dt
import html
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse

from tests.curriculum import factories as cf
from waypoint.curriculum.models import (
    Assignment,
    Catalog,
    NotificationKind,
    NotificationTemplate,
    ProfessionalGroup,
    Program,
    ProgramEnrolment,
    ProgramKind,
    Session,
    Terminology,
)
from waypoint.curriculum.notifications import notification_templates_ensure
from waypoint.curriculum.services.assignments import curriculum_assign
from waypoint.curriculum.terms import plan_term

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client) -> AbstractUser:
    user = cf.supervisor()
    client.force_login(user)
    return user


def _text(response: Any) -> str:
    """The page as a person reads it: entities unescaped."""
    return html.unescape(response.content.decode())


def _program_post(**values: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "Coaching basics", "code": "COACH1", "description": "", "kind": "program"}
    data["credits"] = "1.5"
    data.update(values)
    return data


def _session_post(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "starts_at": "2027-04-01T09:00",
        "ends_at": "2027-04-01T12:00",
        "capacity": "12",
        "location": "Room 4",
        "online_url": "",
    }
    data.update(values)
    return data


# Who may use the pages


def _every_page() -> list[str]:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    catalog = cf.catalog()
    group = cf.professional_group()
    return [
        reverse("curriculum_programs"),
        reverse("curriculum_program_new"),
        reverse("curriculum_program", args=[program.pk]),
        reverse("curriculum_session_new", args=[program.pk]),
        reverse("curriculum_session_edit", args=[program.pk, session.pk]),
        reverse("curriculum_session_delete", args=[program.pk, session.pk]),
        reverse("curriculum_catalog_list"),
        reverse("curriculum_catalog_new"),
        reverse("curriculum_catalog", args=[catalog.pk]),
        reverse("curriculum_catalog_delete", args=[catalog.pk]),
        reverse("curriculum_groups"),
        reverse("curriculum_group_new"),
        reverse("curriculum_group", args=[group.pk]),
        reverse("curriculum_group_delete", args=[group.pk]),
        reverse("curriculum_notifications"),
        reverse("curriculum_notification", args=["deadline"]),
        reverse("curriculum_term"),
    ]


def test_every_set_up_page_renders_for_a_supervisor(client: Client, admin: AbstractUser) -> None:
    for url in _every_page():
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Learning Plans" in _text(response), url


def test_a_professional_is_refused_every_set_up_page(client: Client) -> None:
    pages = _every_page()
    client.force_login(cf.professional())
    for url in pages:
        assert client.get(url).status_code == 403, url
    lists = {reverse(n) for n in ("curriculum_programs", "curriculum_catalog_list", "curriculum_groups")}
    for url in set(pages) - lists - {reverse("curriculum_notifications")}:
        assert client.post(url, {"name": "Changed"}).status_code == 403, url
    group = ProfessionalGroup.objects.get()
    for name in ("curriculum_group_members_add", "curriculum_group_members_remove", "curriculum_group_assign_plans"):
        assert client.post(reverse(name, args=[group.pk])).status_code == 403
    assert Program.objects.count() == 1
    assert Session.objects.count() == 1
    assert Catalog.objects.count() == 1


def test_the_hub_links_to_every_set_up_page(client: Client, admin: AbstractUser) -> None:
    text = _text(client.get(reverse("curriculum_list")))
    for name in (
        "curriculum_programs",
        "curriculum_catalog_list",
        "curriculum_groups",
        "curriculum_notifications",
        "curriculum_term",
    ):
        assert f'href="{reverse(name)}"' in text


def test_staff_without_supervisor_is_told_why_a_save_is_refused(client: Client) -> None:
    client.force_login(cf.staff_without_supervisor())
    response = client.post(reverse("curriculum_program_new"), _program_post())
    assert response.status_code == 403
    assert "Supervisor" in _text(response)
    assert not Program.objects.exists()
    response = client.post(reverse("curriculum_group_new"), {"name": "Mentors"})
    assert response.status_code == 403
    assert not ProfessionalGroup.objects.exists()


# Programs and sessions


def test_program_list_searches_by_name_and_filters_by_kind(client: Client, admin: AbstractUser) -> None:
    cf.program(name="Coaching basics")
    cf.activity(name="Coaching reading list")
    cf.program(name="Giving feedback")
    found = _text(client.get(reverse("curriculum_programs"), {"q": "coaching"}))
    assert "Coaching basics" in found
    assert "Coaching reading list" in found
    assert "Giving feedback" not in found
    activities = _text(client.get(reverse("curriculum_programs"), {"kind": "activity"}))
    assert "Coaching reading list" in activities
    assert "Coaching basics" not in activities


def test_program_list_is_paged(client: Client, admin: AbstractUser) -> None:
    Program.objects.bulk_create(Program(name=f"Program {n:03}", code=f"P{n:03}") for n in range(55))
    first = _text(client.get(reverse("curriculum_programs")))
    assert "Program 000" in first
    assert "Program 054" not in first
    assert 'rel="next"' in first
    assert "Program 054" in _text(client.get(reverse("curriculum_programs"), {"page": 2}))


def test_creating_a_program_saves_every_field(client: Client, admin: AbstractUser) -> None:
    response = client.post(
        reverse("curriculum_program_new"), _program_post(description="Two mornings.", kind="activity", credits="2.5")
    )
    program = Program.objects.get(code="COACH1")
    assert response.status_code == 302
    assert response["Location"] == reverse("curriculum_program", args=[program.pk])
    assert (program.name, program.description, program.kind) == ("Coaching basics", "Two mornings.", "activity")
    assert program.credits == Decimal("2.5")


def test_a_code_already_used_is_refused_beside_the_field_and_nothing_is_created(
    client: Client, admin: AbstractUser
) -> None:
    cf.program(code="COACH1", sessions=0)
    response = client.post(reverse("curriculum_program_new"), _program_post())
    assert response.status_code == 422
    assert response.context["form"].errors["code"]
    assert Program.objects.count() == 1


def test_editing_a_program_changes_it(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=0, name="Old")
    client.post(reverse("curriculum_program", args=[program.pk]), _program_post(name="New name", code=program.code))
    program.refresh_from_db()
    assert program.name == "New name"
    assert program.credits == Decimal("1.5")


def test_a_program_with_sessions_cannot_become_an_activity_and_is_told_why(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1, name="Workshop")
    response = client.post(
        reverse("curriculum_program", args=[program.pk]), _program_post(code=program.code, kind="activity")
    )
    assert response.status_code == 422
    assert "delete this program's sessions first" in _text(response)
    program.refresh_from_db()
    assert program.kind == ProgramKind.PROGRAM
    assert program.name == "Workshop"


def test_program_page_lists_its_sessions_with_capacity_place_and_enrolled(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=0)
    cf.session(program, capacity=8, location="Room 9")
    online = cf.session(
        program,
        starts_at=cf.FIRST_SESSION + dt.timedelta(days=7),
        location="",
        online_url="https://meet.example.org/x",
    )
    ProgramEnrolment.objects.create(person=cf.professional(), program=program, session=online)
    page = client.get(reverse("curriculum_program", args=[program.pk]))
    rows = [(s.capacity, s.location, s.enrolled) for s in page.context["page"]]
    assert rows == [(8, "Room 9", 0), (None, "", 1)]
    text = _text(page)
    assert "Room 9" in text
    assert "https://meet.example.org/x" in text
    assert "No limit" in text


def test_a_session_is_added_and_edited(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=0)
    response = client.post(reverse("curriculum_session_new", args=[program.pk]), _session_post())
    assert response.status_code == 302
    session = Session.objects.get(program=program)
    assert (session.capacity, session.location) == (12, "Room 4")
    client.post(
        reverse("curriculum_session_edit", args=[program.pk, session.pk]),
        _session_post(capacity="", location="", online_url="https://meet.example.org/room"),
    )
    session.refresh_from_db()
    assert session.capacity is None
    assert session.online_url == "https://meet.example.org/room"


def test_a_session_ending_before_it_starts_is_refused_and_nothing_is_saved(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=0)
    response = client.post(
        reverse("curriculum_session_new", args=[program.pk]), _session_post(ends_at="2027-04-01T08:00")
    )
    assert response.status_code == 422
    assert "must end after it starts" in _text(response)
    assert not Session.objects.exists()


def test_an_activity_refuses_a_session_and_says_why(client: Client, admin: AbstractUser) -> None:
    activity = cf.activity(name="Reading list")
    response = client.post(reverse("curriculum_session_new", args=[activity.pk]), _session_post())
    assert response.status_code == 422
    assert "activities have no sessions" in _text(response)
    assert not Session.objects.exists()


def test_deleting_a_session_asks_first_then_deletes(client: Client, admin: AbstractUser) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    url = reverse("curriculum_session_delete", args=[program.pk, session.pk])
    confirm = _text(client.get(url))
    assert "Enrolments are never removed" in confirm
    assert Session.objects.exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Session.objects.exists()


def test_deleting_a_session_with_enrolments_is_refused_and_the_session_stays(
    client: Client, admin: AbstractUser
) -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ProgramEnrolment.objects.create(person=cf.professional(), program=program, session=session)
    url = reverse("curriculum_session_delete", args=[program.pk, session.pk])
    assert "cannot be deleted" in _text(client.get(url))
    response = client.post(url)
    assert response.status_code == 409
    assert "are enrolled in this session" in _text(response)
    assert Session.objects.filter(pk=session.pk).exists()
    assert ProgramEnrolment.objects.count() == 1


def test_a_session_of_another_program_is_not_found(client: Client, admin: AbstractUser) -> None:
    session = cf.program(sessions=1).sessions.get()
    other = cf.program(sessions=0)
    assert client.get(reverse("curriculum_session_edit", args=[other.pk, session.pk])).status_code == 404


# Catalogs (R-CUR-9)


def test_catalog_list_shows_how_many_plans_each_has_and_searches(client: Client, admin: AbstractUser) -> None:
    leaders = cf.catalog(name="Leadership")
    cf.catalog(name="Onboarding")
    cf.curriculum(catalogs=[leaders])
    cf.curriculum(catalogs=[leaders])
    page = client.get(reverse("curriculum_catalog_list"))
    assert {c.name: c.plan_count for c in page.context["page"]} == {"Leadership": 2, "Onboarding": 0}
    found = _text(client.get(reverse("curriculum_catalog_list"), {"q": "lead"}))
    assert "Leadership" in found
    assert "Onboarding" not in found


def test_a_catalog_is_created_then_renamed(client: Client, admin: AbstractUser) -> None:
    response = client.post(reverse("curriculum_catalog_new"), {"name": "Leadership", "description": "For managers."})
    catalog = Catalog.objects.get()
    assert response["Location"] == reverse("curriculum_catalog", args=[catalog.pk])
    client.post(reverse("curriculum_catalog", args=[catalog.pk]), {"name": "Leaders", "description": "Managers."})
    catalog.refresh_from_db()
    assert (catalog.name, catalog.description) == ("Leaders", "Managers.")


def test_a_catalog_name_already_used_is_refused_and_nothing_changes(client: Client, admin: AbstractUser) -> None:
    cf.catalog(name="Leadership")
    catalog = cf.catalog(name="Onboarding")
    response = client.post(reverse("curriculum_catalog", args=[catalog.pk]), {"name": "Leadership"})
    assert response.status_code == 422
    assert response.context["form"].errors["name"]
    catalog.refresh_from_db()
    assert catalog.name == "Onboarding"


def test_a_catalog_page_lists_its_plans_with_links(client: Client, admin: AbstractUser) -> None:
    catalog = cf.catalog()
    listed = cf.curriculum(name="Listed plan", catalogs=[catalog])
    cf.curriculum(name="Elsewhere")
    text = _text(client.get(reverse("curriculum_catalog", args=[catalog.pk])))
    assert "Listed plan" in text
    assert reverse("curriculum_edit", args=[listed.pk]) in text
    assert "Elsewhere" not in text


def test_deleting_an_empty_catalog_asks_first_then_deletes(client: Client, admin: AbstractUser) -> None:
    catalog = cf.catalog()
    url = reverse("curriculum_catalog_delete", args=[catalog.pk])
    assert "It lists no learning plans" in _text(client.get(url))
    assert Catalog.objects.exists()
    client.post(url)
    assert not Catalog.objects.exists()


def test_deleting_a_catalog_that_lists_plans_is_refused_and_it_stays(client: Client, admin: AbstractUser) -> None:
    catalog = cf.catalog(name="Leadership")
    plan = cf.curriculum(catalogs=[catalog])
    response = client.post(reverse("curriculum_catalog_delete", args=[catalog.pk]))
    assert response.status_code == 409
    assert "remove them from it first" in _text(response)
    assert list(plan.catalogs.all()) == [catalog]


# Professional groups (R-CUR-5, R-CUR-6)


def test_group_list_shows_member_counts_and_searches(client: Client, admin: AbstractUser) -> None:
    cf.professional_group([cf.professional(), cf.professional()], name="Mentors")
    cf.professional_group(name="Coaches")
    page = client.get(reverse("curriculum_groups"))
    assert {g.name: g.member_count for g in page.context["page"]} == {"Mentors": 2, "Coaches": 0}
    found = _text(client.get(reverse("curriculum_groups"), {"q": "ment"}))
    assert "Mentors" in found
    assert "Coaches" not in found


def test_a_group_is_created_then_renamed(client: Client, admin: AbstractUser) -> None:
    response = client.post(reverse("curriculum_group_new"), {"name": "Mentors"})
    group = ProfessionalGroup.objects.get()
    assert response["Location"] == reverse("curriculum_group", args=[group.pk])
    client.post(reverse("curriculum_group", args=[group.pk]), {"name": "Senior mentors"})
    group.refresh_from_db()
    assert group.name == "Senior mentors"


def test_a_group_name_already_used_is_refused_beside_the_field(client: Client, admin: AbstractUser) -> None:
    cf.professional_group(name="Mentors")
    response = client.post(reverse("curriculum_group_new"), {"name": "mentors"})
    assert response.status_code == 422
    assert "already exists" in response.context["form"].errors["name"][0]
    assert ProfessionalGroup.objects.count() == 1


def test_members_are_listed_searched_and_paged(client: Client, admin: AbstractUser) -> None:
    people = [cf.professional(first_name="Member", last_name=f"N{n:03}") for n in range(52)]
    ada = cf.professional(first_name="Ada", last_name="Lovelace")
    group = cf.professional_group([*people, ada])
    url = reverse("curriculum_group", args=[group.pk])
    first = client.get(url)
    assert first.context["member_count"] == 53
    assert len(first.context["page"].object_list) == 50
    assert 'rel="next"' in _text(first)
    found = client.get(url, {"q": "lovelace"})
    assert [p.pk for p in found.context["page"]] == [ada.pk]


def test_people_are_found_by_name_or_email_and_several_are_added(client: Client, admin: AbstractUser) -> None:
    ada = cf.professional(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    alan = cf.professional(first_name="Alan", last_name="Turing", email="alan@example.org")
    group = cf.professional_group()
    url = reverse("curriculum_group", args=[group.pk])
    picker = client.get(url, {"find": "example.org"})
    assert {p.pk for p in picker.context["candidates"]} == {ada.pk, alan.pk}
    assert [p.pk for p in client.get(url, {"find": "turing"}).context["candidates"]] == [alan.pk]
    response = client.post(
        reverse("curriculum_group_members_add", args=[group.pk]), {"people": [ada.pk, alan.pk]}, follow=True
    )
    assert "Added 2 people" in _text(response)
    assert set(group.members.values_list("pk", flat=True)) == {ada.pk, alan.pk}
    assert client.get(url, {"find": "example.org"}).context["candidates"] == []


def test_adding_nobody_is_refused_with_a_message(client: Client, admin: AbstractUser) -> None:
    group = cf.professional_group()
    response = client.post(reverse("curriculum_group_members_add", args=[group.pk]), {}, follow=True)
    assert "Choose at least one person to add" in _text(response)


def test_adding_members_does_not_assign_and_the_page_offers_to(client: Client, admin: AbstractUser) -> None:
    first, later = cf.professional(), cf.professional()
    group = cf.professional_group([first])
    plan = cf.curriculum(name="Induction")
    curriculum_assign(curriculum=plan, group=group, by=admin)
    response = client.post(
        reverse("curriculum_group_members_add", args=[group.pk]), {"people": [later.pk]}, follow=True
    )
    text = _text(response)
    assert "does not assign them the group's learning plans" in text
    assert "Assign the group's plans to members who lack them" in text
    assert not Assignment.objects.filter(person=later).exists()
    client.post(reverse("curriculum_group_assign_plans", args=[group.pk]))
    assert Assignment.objects.get(person=later, curriculum=plan).group == group
    assert "members who lack them" not in _text(client.get(reverse("curriculum_group", args=[group.pk])))


def test_removing_members_asks_first_and_says_they_keep_their_plans(client: Client, admin: AbstractUser) -> None:
    leaving = cf.professional(first_name="Grace", last_name="Hopper")
    staying = cf.professional()
    group = cf.professional_group([leaving, staying])
    curriculum_assign(curriculum=cf.curriculum(), group=group, by=admin)
    url = reverse("curriculum_group_members_remove", args=[group.pk])
    confirm = client.post(url, {"people": [leaving.pk]})
    assert confirm.status_code == 200
    text = _text(confirm)
    assert "Grace Hopper" in text
    assert "maintained individually" in text
    assert group.members.count() == 2
    done = client.post(url, {"people": [leaving.pk], "confirm": "yes"}, follow=True)
    assert "Removed 1 people" in _text(done)
    assert set(group.members.values_list("pk", flat=True)) == {staying.pk}
    assert Assignment.objects.get(person=leaving).group is None


def test_removing_nobody_is_refused_with_a_message(client: Client, admin: AbstractUser) -> None:
    group = cf.professional_group([cf.professional()])
    response = client.post(reverse("curriculum_group_members_remove", args=[group.pk]), {}, follow=True)
    assert "Choose at least one member to remove" in _text(response)
    assert group.members.count() == 1


def test_deleting_a_group_asks_first_then_keeps_assignments(client: Client, admin: AbstractUser) -> None:
    person = cf.professional()
    group = cf.professional_group([person])
    curriculum_assign(curriculum=cf.curriculum(), group=group, by=admin)
    url = reverse("curriculum_group_delete", args=[group.pk])
    assert "maintained individually" in _text(client.get(url))
    assert ProfessionalGroup.objects.exists()
    done = client.post(url, follow=True)
    assert "1 learning plan assignment(s) are now maintained individually" in _text(done)
    assert not ProfessionalGroup.objects.exists()
    assert Assignment.objects.get(person=person).group is None


# Notifications (R-CUR-10)


def test_notification_list_shows_the_three_notifications(client: Client, admin: AbstractUser) -> None:
    text = _text(client.get(reverse("curriculum_notifications")))
    for kind in NotificationKind:
        assert kind.label in text
        assert reverse("curriculum_notification", args=[kind.value]) in text


def _notification_post(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "enabled": "on",
        "subject": "Due soon: {{ plan.name }}",
        "body": "Dear {{ person.first_name }}, {{ plan.name }} is due on {{ due_date }}.",
        "days_before": "5",
        "all_curricula": "on",
    }
    data.update(values)
    return data


def test_editing_a_notification_saves_every_field(client: Client, admin: AbstractUser) -> None:
    plan = cf.curriculum()
    url = reverse("curriculum_notification", args=["deadline"])
    response = client.post(url, _notification_post(enabled="", all_curricula="", curricula=[plan.pk]))
    assert response.status_code == 302
    saved = NotificationTemplate.objects.get(kind="deadline")
    assert (saved.enabled, saved.days_before, saved.all_curricula) == (False, 5, False)
    assert saved.subject == "Due soon: {{ plan.name }}"
    assert list(saved.curricula.all()) == [plan]


def test_a_template_that_cannot_be_read_is_refused_and_nothing_changes(client: Client, admin: AbstractUser) -> None:
    notification_templates_ensure()
    before = NotificationTemplate.objects.get(kind="assignment").subject
    response = client.post(
        reverse("curriculum_notification", args=["assignment"]), _notification_post(body="{% for %}")
    )
    assert response.status_code == 422
    assert "cannot be read" in _text(response)
    assert response.context["form"].errors["body"]
    assert NotificationTemplate.objects.get(kind="assignment").subject == before


def test_a_notification_for_no_plan_is_refused(client: Client, admin: AbstractUser) -> None:
    response = client.post(
        reverse("curriculum_notification", args=["registration"]), _notification_post(all_curricula="")
    )
    assert response.status_code == 422
    assert "Choose the Learning Plans" in _text(response)
    assert NotificationTemplate.objects.get(kind="registration").all_curricula


def test_an_unknown_notification_is_not_found(client: Client, admin: AbstractUser) -> None:
    assert client.get(reverse("curriculum_notification", args=["birthday"])).status_code == 404


def test_staff_without_supervisor_may_not_change_a_notification(client: Client) -> None:
    client.force_login(cf.staff_without_supervisor())
    response = client.post(reverse("curriculum_notification", args=["deadline"]), _notification_post(days_before="1"))
    assert response.status_code == 403
    assert "Only a Supervisor" in _text(response)
    assert NotificationTemplate.objects.get(kind="deadline").days_before == 7


# The term (R-CUR-12)


def test_the_term_is_renamed_for_professionals(client: Client, admin: AbstractUser) -> None:
    assert "Learning Plan" in _text(client.get(reverse("curriculum_term")))
    response = client.post(reverse("curriculum_term"), {"value": "Pathway"}, follow=True)
    assert "now say “Pathway”" in _text(response)
    assert plan_term() == "Pathway"


def test_a_term_over_twenty_characters_is_refused_and_the_term_stays(client: Client, admin: AbstractUser) -> None:
    Terminology.objects.create(learning_plan="Pathway")
    response = client.post(reverse("curriculum_term"), {"value": "A very long name for plans"})
    assert response.status_code == 422
    assert "at most 20 characters" in _text(response)
    assert response.context["form"].errors["value"]
    assert plan_term() == "Pathway"


def test_a_blank_term_is_refused(client: Client, admin: AbstractUser) -> None:
    response = client.post(reverse("curriculum_term"), {"value": "  "})
    assert response.status_code == 422
    assert not Terminology.objects.exists()


# What the lists cost


def _costs_the_same(client: Client, url: str, more: Any, budget: Any, cap: int) -> None:
    client.get(url)
    with budget(cap) as small:
        client.get(url)
    more()
    with budget(len(small.captured_queries)):
        client.get(url)


def test_the_program_list_costs_the_same_however_many_programs(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    for _ in range(2):
        cf.program(sessions=2)
    _costs_the_same(
        client,
        reverse("curriculum_programs"),
        lambda: [cf.program(sessions=2) for _ in range(20)],
        django_assert_max_num_queries,
        10,
    )


def test_the_program_page_costs_the_same_however_many_sessions(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    program = cf.program(sessions=2)

    def more() -> None:
        for n in range(20):
            session = cf.session(program, starts_at=cf.FIRST_SESSION + dt.timedelta(days=n + 30))
            ProgramEnrolment.objects.create(person=cf.professional(), program=cf.program(sessions=0), session=session)

    _costs_the_same(client, reverse("curriculum_program", args=[program.pk]), more, django_assert_max_num_queries, 10)


def test_the_catalog_list_costs_the_same_however_many_catalogs(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    cf.curriculum(catalogs=[cf.catalog(), cf.catalog()])
    _costs_the_same(
        client,
        reverse("curriculum_catalog_list"),
        lambda: [cf.curriculum(catalogs=[cf.catalog(), cf.catalog()]) for _ in range(15)],
        django_assert_max_num_queries,
        10,
    )


def test_the_group_list_costs_the_same_however_many_groups(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    cf.professional_group([cf.professional()])
    _costs_the_same(
        client,
        reverse("curriculum_groups"),
        lambda: [cf.professional_group([cf.professional(), cf.professional()]) for _ in range(15)],
        django_assert_max_num_queries,
        10,
    )


def test_the_group_page_costs_the_same_however_many_members_and_plans(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    group = cf.professional_group([cf.professional() for _ in range(2)])
    curriculum_assign(curriculum=cf.curriculum(), group=group, by=admin)

    def more() -> None:
        people = [cf.professional() for _ in range(20)]
        group.members.add(*people)
        for _ in range(3):
            curriculum_assign(curriculum=cf.curriculum(), group=group, by=admin)

    _costs_the_same(
        client, reverse("curriculum_group", args=[group.pk]) + "?find=Pat", more, django_assert_max_num_queries, 14
    )


def test_the_notification_list_costs_the_same_however_many_plans_are_chosen(
    client: Client, admin: AbstractUser, django_assert_max_num_queries: Any
) -> None:
    notification_templates_ensure()
    template = NotificationTemplate.objects.get(kind="deadline")
    template.all_curricula = False
    template.save()
    template.curricula.set([cf.curriculum()])
    _costs_the_same(
        client,
        reverse("curriculum_notifications"),
        lambda: template.curricula.add(*[cf.curriculum() for _ in range(10)]),
        django_assert_max_num_queries,
        10,
    )
