"""The people pages: a learner's details, employers and their managers, staff members.

Each write goes through the people services; what the EPA platform must hear of is recorded with source "ui"
(R-EPA-2…5), and a refusal says why and changes nothing.
"""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories
from tests.web.conftest import logged_in
from waypoint.core.models import OutboxMessage
from waypoint.epa.models import EpaConnection
from waypoint.people.models import Employer, Group, Learner, Manager, Perm

pytestmark = pytest.mark.django_db


def _epa_messages(**filters: Any) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="epa", source="ui", **filters))


def _said(response: Any) -> list[str]:
    """The messages shown on a page."""
    return [str(m) for m in response.context["messages"]]


def _registered_learner(**values: Any) -> Learner:
    """A learner on a programme with an EPA platform connection, so that a registration exists (R-EPA-1)."""
    if not EpaConnection.objects.filter(epao_id="EPA0001").exists():
        EpaConnection.objects.create(name="epaPRO", epao_id="EPA0001", base_url="http://emulator.invalid")
    programme = factories.programme(templates=1, review=False)
    enrolment = factories.enrolment(factories.learner(**values), programme)
    return enrolment.learner


def _learner_form(learner: Learner, **changes: Any) -> dict[str, Any]:
    """The learner details form as the browser submits it, with `changes`."""
    values: dict[str, Any] = {
        "first_name": learner.first_name,
        "surname": learner.surname,
        "date_of_birth": learner.date_of_birth.isoformat() if learner.date_of_birth else "",
        "uln": learner.uln,
        "sex": learner.sex,
        "ethnicity": learner.ethnicity or "",
        "email": learner.email,
        "employer": learner.employer_id or "",
        "manager": learner.manager_id or "",
        "tutor": learner.tutor_id or "",
    }
    values.update(changes)
    return values


# A learner's details


def test_learner_details_form_shows_ilr_codes_with_their_labels(client: Client) -> None:
    logged_in(client)
    learner = factories.learner()
    html = client.get(f"/learners/{learner.pk}/edit/").content.decode()
    assert "31 · English / Welsh / Scottish / Northern Irish / British" in html
    assert "F · Female" in html
    for name in ("first_name", "surname", "date_of_birth", "uln", "sex", "ethnicity", "email", "employer", "manager"):
        assert f'name="{name}"' in html
    assert "Case owner" in html


def test_the_learner_record_links_to_edit_details(client: Client) -> None:
    logged_in(client)
    learner = factories.learner()
    assert f'href="/learners/{learner.pk}/edit/"' in client.get(f"/learners/{learner.pk}/").content.decode()


def test_saving_learner_details_changes_them_and_names_what_changed(client: Client) -> None:
    logged_in(client)
    learner = factories.learner()

    response = client.post(
        f"/learners/{learner.pk}/edit/", _learner_form(learner, email="alex@example.org", ethnicity=39), follow=True
    )

    learner.refresh_from_db()
    assert (learner.email, learner.ethnicity) == ("alex@example.org", 39)
    assert _said(response) == [f"Saved {learner.full_name}'s ethnicity, email."]


def test_changing_uln_sex_and_ethnicity_of_a_registered_learner_is_sent_to_the_epa_platform(client: Client) -> None:
    logged_in(client)
    learner = _registered_learner()
    new_uln = factories.valid_uln(9000)

    client.post(f"/learners/{learner.pk}/edit/", _learner_form(learner, uln=new_uln, sex="M", ethnicity=42))

    learner.refresh_from_db()
    assert (learner.uln, learner.sex, learner.ethnicity) == (new_uln, "M", 42)
    [message] = _epa_messages(learner_id=learner.pk)
    assert set(message.changed) == {"learner.uln", "learner.sex", "learner.ethnicity"}


def test_changing_the_case_owner_of_a_registered_learner_is_sent_to_the_epa_platform(client: Client) -> None:
    logged_in(client)
    learner = _registered_learner()
    tutor = factories.staff()

    client.post(f"/learners/{learner.pk}/edit/", _learner_form(learner, tutor=tutor.pk))

    learner.refresh_from_db()
    assert learner.tutor_id == tutor.pk
    assert [m.changed for m in _epa_messages(learner_id=learner.pk)] == [["learner.tutor"]]


def test_an_invalid_uln_shows_the_services_message_beside_the_field_and_saves_nothing(client: Client) -> None:
    logged_in(client)
    learner = factories.learner()
    before = learner.uln

    response = client.post(f"/learners/{learner.pk}/edit/", _learner_form(learner, uln="1234567890"))

    assert response.status_code == 422
    form = response.context["form"]
    assert "not a valid ULN" in " ".join(form.errors["uln"])
    learner.refresh_from_db()
    assert learner.uln == before


def test_a_new_employer_and_one_of_its_contacts_are_saved_together(client: Client) -> None:
    logged_in(client)
    learner = _registered_learner()
    employer = factories.employer()
    manager = factories.manager(employer)

    response = client.post(
        f"/learners/{learner.pk}/edit/", _learner_form(learner, employer=employer.pk, manager=manager.pk), follow=True
    )

    learner.refresh_from_db()
    assert (learner.employer_id, learner.manager_id) == (employer.pk, manager.pk)
    assert _said(response) == [f"Saved {learner.full_name}'s employer, manager."]
    assert sorted(m.changed[0] for m in _epa_messages(learner_id=learner.pk)) == ["learner.employer", "learner.manager"]


def test_a_manager_of_another_employer_is_refused_beside_the_field(client: Client) -> None:
    logged_in(client)
    employer = factories.employer()
    learner = factories.learner(employer=employer)
    elsewhere = factories.manager()

    response = client.post(f"/learners/{learner.pk}/edit/", _learner_form(learner, manager=elsewhere.pk))

    assert response.status_code == 422
    assert response.context["form"].errors["manager"] == ["Choose a contact of the chosen employer."]
    learner.refresh_from_db()
    assert learner.manager_id is None


def test_the_manager_choices_are_the_contacts_of_the_learners_employer(client: Client) -> None:
    logged_in(client)
    employer = factories.employer()
    ours = factories.manager(employer)
    theirs = factories.manager()
    learner = factories.learner(employer=employer)

    form = client.get(f"/learners/{learner.pk}/edit/").context["form"]
    assert list(form.fields["manager"].queryset) == [ours]

    options = client.get("/managers/options/", {"employer": theirs.employer_id}).content.decode()
    assert f'value="{theirs.pk}"' in options
    assert f'value="{ours.pk}"' not in options


def test_an_unchanged_submit_saves_nothing_and_sends_nothing(client: Client) -> None:
    logged_in(client)
    learner = _registered_learner()
    response = client.post(f"/learners/{learner.pk}/edit/", _learner_form(learner), follow=True)
    assert _said(response) == [f"Nothing to save: no detail of {learner.full_name} was changed."]
    assert _epa_messages() == []


def test_a_user_who_is_not_staff_is_told_why_and_the_employer_is_unchanged(client: Client) -> None:
    client.force_login(get_user_model().objects.create_user(username="visitor"))
    employer = factories.employer(name="Northwind")

    assert "Only staff users may change records." in client.get(f"/employers/{employer.pk}/").content.decode()
    response = client.post(f"/employers/{employer.pk}/", {"name": "Renamed", "postcode": "LS1 4AP"})

    assert response.status_code == 403
    assert "Only staff users may change records." in response.content.decode()
    employer.refresh_from_db()
    assert employer.name == "Northwind"


def test_a_learner_outside_the_users_groups_is_not_found(client: Client) -> None:
    seen = Group.objects.create(name="Seen")
    logged_in(client, all_groups=False, groups=[seen])
    hidden = factories.learner()
    assert client.get(f"/learners/{hidden.pk}/edit/").status_code == 404
    assert client.post(f"/learners/{hidden.pk}/edit/", _learner_form(hidden, surname="X")).status_code == 404


# Employers and managers


def test_employer_list_searches_and_pages(client: Client) -> None:
    logged_in(client)
    for n in range(55):
        factories.employer(name=f"Acme {n:02d}")
    factories.employer(name="Brightwater Ltd")

    first = client.get("/employers/")
    assert first.context["page"].paginator.count == 56
    assert len(first.context["page"].object_list) == 50
    assert len(client.get("/employers/", {"page": 2}).context["page"].object_list) == 6
    found = client.get("/employers/", {"q": "bright"})
    assert [e.name for e in found.context["page"].object_list] == ["Brightwater Ltd"]
    assert "Brightwater Ltd" in found.content.decode()


def test_employer_list_answers_htmx_with_the_grid_only(client: Client) -> None:
    logged_in(client)
    factories.employer(name="Brightwater Ltd")
    response = client.get("/employers/", {"q": "bright"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="employer-grid")
    html = response.content.decode()
    assert "Brightwater Ltd" in html
    assert "<html" not in html


def test_employer_page_lists_its_managers_with_edit_links_and_counts_its_learners(client: Client) -> None:
    logged_in(client)
    employer = factories.employer(name="Northwind")
    manager = factories.manager(employer)
    factories.learner(employer=employer, manager=manager)
    factories.learner(employer=employer)

    response = client.get(f"/employers/{employer.pk}/")

    html = response.content.decode()
    assert f'href="/managers/{manager.pk}/edit/"' in html
    assert response.context["learner_count"] == 2
    assert [m.learner_count for m in response.context["managers"]] == [1]


def test_saving_an_employer_address_is_sent_for_every_learner_it_employs(client: Client) -> None:
    logged_in(client)
    employer = factories.employer(name="Northwind")
    one = _registered_learner(employer=employer)
    two = _registered_learner(employer=employer)
    form = {"name": "Northwind Trading", "edrs_number": "", "address_line_1": "1 Quay St", "address_line_2": ""}

    response = client.post(f"/employers/{employer.pk}/", {**form, "town": "Leeds", "postcode": "LS1 4AP"}, follow=True)

    employer.refresh_from_db()
    assert (employer.name, employer.address_line_1, employer.town) == ("Northwind Trading", "1 Quay St", "Leeds")
    assert _said(response) == ["Saved Northwind Trading: name, address line 1, town."]
    assert sorted(m.learner_id for m in _epa_messages()) == sorted([one.pk, two.pk])


def test_an_invalid_employer_value_shows_beside_the_field(client: Client) -> None:
    logged_in(client)
    employer = factories.employer(name="Northwind")
    form = {"name": "Northwind", "edrs_number": "1234567890", "postcode": "LS1 4AP"}
    response = client.post(f"/employers/{employer.pk}/", form)
    assert response.status_code == 422
    assert response.context["form"].errors["edrs_number"]
    employer.refresh_from_db()
    assert employer.edrs_number == ""


def test_saving_a_manager_is_sent_for_every_learner_they_manage(client: Client) -> None:
    logged_in(client)
    employer = factories.employer()
    manager = factories.manager(employer)
    learner = _registered_learner(employer=employer, manager=manager)

    response = client.post(
        f"/managers/{manager.pk}/edit/",
        {"first_name": "Morgan", "surname": manager.surname, "email": "morgan@example.org", "phone": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/employers/{employer.pk}/#manager-{manager.pk}"
    manager.refresh_from_db()
    assert manager.email == "morgan@example.org"
    assert [(m.learner_id, m.changed) for m in _epa_messages()] == [(learner.pk, ["manager.email"])]


def test_a_manager_email_that_is_not_an_email_is_refused(client: Client) -> None:
    logged_in(client)
    manager = factories.manager()
    response = client.post(
        f"/managers/{manager.pk}/edit/", {"first_name": "Morgan", "surname": manager.surname, "email": "nope"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["email"]
    manager.refresh_from_db()
    assert manager.email == ""


def test_adding_a_manager_makes_a_contact_of_the_employer(client: Client) -> None:
    logged_in(client)
    employer = factories.employer()
    response = client.post(
        f"/employers/{employer.pk}/managers/new/", {"first_name": "Robin", "surname": "Hale", "email": "", "phone": ""}
    )
    manager = Manager.objects.get(surname="Hale")
    assert manager.employer_id == employer.pk
    assert response["Location"] == f"/employers/{employer.pk}/#manager-{manager.pk}"


# Staff


def test_staff_list_searches_and_offers_edit_only_where_allowed(client: Client) -> None:
    me = logged_in(client, [Perm.ADM_EDIT])
    other = factories.staff(username="jordan")

    response = client.get("/staff/")
    rows = dict(response.context["rows"])
    assert rows[me] is None
    assert rows[other] == "Changing another staff member's details needs the Supervisor permission."
    assert f'href="/staff/{me.pk}/edit/"' in response.content.decode()
    assert f'href="/staff/{other.pk}/edit/"' not in response.content.decode()
    assert [u.username for u in client.get("/staff/", {"q": "jordan"}).context["page"].object_list] == ["jordan"]


def test_saving_your_own_details_is_sent_for_every_learner_you_are_case_owner_of(client: Client) -> None:
    me = logged_in(client, [Perm.ADM_EDIT])
    learner = _registered_learner(tutor=me)

    response = client.post(
        f"/staff/{me.pk}/edit/",
        {"first_name": "Sam", "last_name": me.last_name, "email": "sam@example.org", "job_title": "Tutor"},
        follow=True,
    )

    me.refresh_from_db()
    assert (me.first_name, me.email, me.staff.job_title) == ("Sam", "sam@example.org", "Tutor")
    assert _said(response) == ["Saved your first name, email, job title."]
    [message] = _epa_messages()
    assert message.learner_id == learner.pk
    assert set(message.changed) == {"tutor.first_name", "tutor.email", "tutor.job_title"}


def test_changing_another_staff_members_details_without_supervisor_is_refused(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    other = factories.staff()

    page = client.get(f"/staff/{other.pk}/edit/").content.decode()
    assert "needs the Supervisor permission" in page
    assert "disabled" in page
    response = client.post(f"/staff/{other.pk}/edit/", {"first_name": "Changed", "last_name": other.last_name})

    assert response.status_code == 403
    assert "needs the Supervisor permission" in response.content.decode()
    other.refresh_from_db()
    assert other.first_name == "Staff"


def test_a_supervisor_may_change_another_staff_members_details(client: Client) -> None:
    logged_in(client, [Perm.SUPERVISOR])
    other = factories.staff()
    client.post(f"/staff/{other.pk}/edit/", {"first_name": "Jo", "last_name": "Bloggs", "email": "", "job_title": ""})
    other.refresh_from_db()
    assert (other.first_name, other.last_name) == ("Jo", "Bloggs")


def test_a_user_without_a_staff_profile_has_no_staff_page(client: Client) -> None:
    logged_in(client)
    plain = get_user_model().objects.create_user(username="plain")
    assert client.get(f"/staff/{plain.pk}/edit/").status_code == 404


# Query budgets


EMPLOYER_LIST_BUDGET = 8
STAFF_LIST_BUDGET = 8


def test_employer_list_costs_the_same_however_many_employers(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    logged_in(client, all_groups=False, groups=[Group.objects.create(name="Cohort")])
    for _ in range(20):
        employer = factories.employer()
        factories.manager(employer)
        factories.learner(employer=employer)
    with django_assert_max_num_queries(EMPLOYER_LIST_BUDGET):
        client.get("/employers/")
    for _ in range(40):
        employer = factories.employer()
        factories.manager(employer)
        factories.learner(employer=employer)
    with django_assert_max_num_queries(EMPLOYER_LIST_BUDGET):
        response = client.get("/employers/")
    assert len(response.context["page"].object_list) == 50


def test_staff_list_costs_the_same_however_many_staff(client: Client, django_assert_max_num_queries: Any) -> None:
    logged_in(client)
    for _ in range(20):
        factories.learner(tutor=factories.staff())
    with django_assert_max_num_queries(STAFF_LIST_BUDGET):
        client.get("/staff/")
    for _ in range(40):
        factories.learner(tutor=factories.staff())
    with django_assert_max_num_queries(STAFF_LIST_BUDGET):
        response = client.get("/staff/")
    assert len(response.context["page"].object_list) == 50


def test_employer_pages_need_a_login(client: Client) -> None:
    employer = Employer.objects.create(name="Anon")
    for url in ["/employers/", f"/employers/{employer.pk}/", "/staff/", "/automation/"]:
        assert client.get(url).status_code == 302
