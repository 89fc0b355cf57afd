"""Each page renders for a user who may see it, and answers 404 for a learner they may not see."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.web.conftest import form_values, logged_in
from waypoint.people.models import Group, Perm
from waypoint.plans.models import Component
from waypoint.programmes.models import ComponentType

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client: Client) -> None:
    learner = factories.learner()
    for url in ["/", "/learners/", f"/learners/{learner.pk}/", "/programmes/", "/learners/export.csv"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_logs_a_user_in(client: Client) -> None:
    user = factories.staff()
    assert "Log in to Waypoint" in client.get("/login/").content.decode()
    response = client.post("/login/", {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_logout_is_a_post_and_returns_to_login(client: Client) -> None:
    logged_in(client)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_dashboard_shows_permissions_and_status_counts(client: Client) -> None:
    logged_in(client, [Perm.ADM_EDIT])
    factories.enrolment()
    html = client.get("/").content.decode()
    assert "Advanced Delivery Management (Edit)" in html
    assert "Learners by programme status" in html
    assert 'href="/learners/?status=active">1</a>' in html


def test_dashboard_counts_only_visible_learners(client: Client) -> None:
    seen = Group.objects.create(name="Seen")
    factories.enrolment(factories.learner(groups=[seen]))
    factories.enrolment(factories.learner())
    logged_in(client, all_groups=False, groups=[seen])
    response = client.get("/")
    assert response.context["learner_total"] == 1
    assert "You see learners in Seen." in response.content.decode()


def test_learner_list_lists_filters_and_pages(client: Client) -> None:
    logged_in(client)
    programme = factories.programme()
    on_it = factories.enrolment(factories.learner(surname="Zebedee"), programme).learner
    factories.learner(surname="Other")
    html = client.get("/learners/", {"programme": programme.pk}).content.decode()
    assert "Zebedee" in html
    assert "Other" not in html
    assert programme.name in html
    assert client.get("/learners/", {"q": "zeb"}).context["page"].paginator.count == 1
    assert f'href="/learners/{on_it.pk}/"' in html


def test_learner_list_pages_fifty_at_a_time(client: Client) -> None:
    logged_in(client)
    for _ in range(51):
        factories.learner()
    first = client.get("/learners/")
    assert len(first.context["page"].object_list) == 50
    assert "?page=2" in first.content.decode()
    assert len(client.get("/learners/", {"page": 2}).context["page"].object_list) == 1


def test_learner_list_ignores_a_bad_filter_value(client: Client) -> None:
    logged_in(client)
    factories.learner()
    response = client.get("/learners/", {"programme": "999999", "status": "nonsense"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1


def test_learner_list_answers_htmx_with_the_grid_only(client: Client) -> None:
    logged_in(client)
    factories.learner(surname="Gridonly")
    response = client.get("/learners/", headers={"HX-Request": "true", "HX-Target": "learner-grid"})
    html = response.content.decode()
    assert "Gridonly" in html
    assert "<html" not in html


def test_learner_list_hides_learners_of_other_groups(client: Client) -> None:
    seen = Group.objects.create(name="Seen")
    factories.learner(surname="Visible", groups=[seen])
    factories.learner(surname="Hidden")
    logged_in(client, all_groups=False, groups=[seen])
    html = client.get("/learners/").content.decode()
    assert "Visible" in html
    assert "Hidden" not in html


def test_csv_export_holds_the_filtered_learners(client: Client) -> None:
    logged_in(client)
    programme = factories.programme()
    factories.enrolment(factories.learner(surname="Exported"), programme)
    factories.learner(surname="Left-out")
    response = client.get("/learners/export.csv", {"programme": programme.pk})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    lines = body.strip().splitlines()
    assert lines[0].startswith("Id,First name,Surname")
    assert len(lines) == 2
    assert "Exported" in lines[1]
    assert programme.name in lines[1]


def test_learner_record_shows_details_enrolments_and_plan(client: Client) -> None:
    logged_in(client)
    employer = factories.employer(name="Acme Widgets", town="Leeds")
    learner = factories.learner(employer=employer, manager=factories.manager(employer))
    enrolment = factories.enrolment(learner)
    html = client.get(f"/learners/{learner.pk}/").content.decode()
    assert learner.full_name in html
    assert learner.uln in html
    assert "Acme Widgets" in html
    assert "Manager" in html
    assert enrolment.programme.name in html
    for component in Component.objects.filter(enrolment=enrolment):
        assert component.name in html
    assert "Learning Activity" in html
    assert "Review" in html


def test_learner_record_filters_the_plan_by_type(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    review = Component.objects.get(enrolment=enrolment, type=ComponentType.REVIEW)
    activity = Component.objects.filter(enrolment=enrolment, type=ComponentType.LEARNING_ACTIVITY).first()
    assert activity is not None
    html = client.get(f"/learners/{enrolment.learner_id}/", {"type": "review"}).content.decode()
    assert review.name in html
    assert f'id="component-{activity.pk}"' not in html


def test_record_pages_answer_404_for_an_invisible_learner(client: Client) -> None:
    seen = Group.objects.create(name="Seen")
    hidden = factories.learner(groups=[Group.objects.create(name="Other")])
    enrolment = factories.enrolment(hidden)
    component = Component.objects.filter(enrolment=enrolment).first()
    assert component is not None
    logged_in(client, all_groups=False, groups=[seen])
    for url in [
        f"/learners/{hidden.pk}/",
        f"/learners/{hidden.pk}/journal/",
        f"/learners/{hidden.pk}/components/{component.pk}/edit/",
        f"/learners/{hidden.pk}/components/{component.pk}/delete/",
        f"/learners/{hidden.pk}/enrolments/{enrolment.pk}/components/add/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.content.decode()
    assert client.post(f"/learners/{hidden.pk}/components/{component.pk}/delete/").status_code == 404
    assert Component.objects.filter(pk=component.pk).exists()


def test_a_component_of_another_learner_is_not_found_under_this_one(client: Client) -> None:
    logged_in(client)
    mine = factories.learner()
    theirs = factories.component()
    assert client.get(f"/learners/{mine.pk}/components/{theirs.pk}/edit/").status_code == 404


def test_journal_page_lists_changes(client: Client) -> None:
    logged_in(client)
    component = factories.component()
    client.post(
        f"/learners/{component.learner_id}/components/{component.pk}/edit/",
        {**form_values(component), "name": "Renamed activity"},
    )
    html = client.get(f"/learners/{component.learner_id}/journal/").content.decode()
    assert "Renamed activity" in html
    assert "this visit" in html


def test_programme_pages_show_sub_programmes_and_template(client: Client) -> None:
    logged_in(client)
    parent = factories.programme(templates=4)
    child = factories.programme(templates=1, parent=parent)
    listing = client.get("/programmes/").content.decode()
    assert parent.name in listing
    assert child.name in listing
    detail = client.get(f"/programmes/{parent.pk}/").content.decode()
    assert child.name in detail
    assert f"Component 4 of {parent.code}" in detail
    assert client.get("/programmes/999999/").status_code == 404


def test_unknown_address_shows_our_not_found_page(client: Client) -> None:
    logged_in(client)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_vendored_assets_are_served_without_a_cdn(client: Client, settings: object) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    logged_in(client)
    html = client.get("/").content.decode()
    assert "https://" not in html.split("<body")[0]
    response = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200


def test_server_error_page_is_in_our_layout_without_a_stack_trace(rf: object) -> None:
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))  # type: ignore[attr-defined]
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "Traceback" not in html
