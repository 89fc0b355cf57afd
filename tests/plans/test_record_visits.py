"""R-SYNC-12: opening a learner record starts a visit; pages inside the record keep it; leaving ends it.
Changes journalled with the visit are the admin's recent changes."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from tests import factories as make
from waypoint.people.models import Group, Perm
from waypoint.plans.models import RecordVisit
from waypoint.plans.selectors import recent_changes
from waypoint.plans.services import component_update
from waypoint.plans.visits import RecordVisitMiddleware

pytestmark = pytest.mark.django_db


class Browser:
    """One admin's session passing requests through the record-visit middleware."""

    def __init__(self, user: AbstractUser) -> None:
        self.user = user
        self.session_key: str | None = None
        self.factory = RequestFactory()

    def request(self, path: str, *, method: str = "get", **headers: str) -> HttpRequest:
        request: HttpRequest = getattr(self.factory, method)(path, headers=headers)
        request.user = self.user
        SessionMiddleware(lambda r: HttpResponse()).process_request(request)
        if self.session_key:
            request.session = request.session.__class__(self.session_key)
        seen: list[HttpRequest] = []
        respond: Callable[[HttpRequest], HttpResponse] = lambda r: seen.append(r) or HttpResponse()  # noqa: E731
        RecordVisitMiddleware(respond)(request)
        request.session.save()
        self.session_key = request.session.session_key
        return seen[0]

    def visit_id(self, path: str, **kwargs: str) -> int | None:
        return self.request(path, **kwargs).record_visit_id  # type: ignore[attr-defined]


@pytest.fixture
def admin() -> AbstractUser:
    return make.staff({Perm.SUPERVISOR})


def test_opening_a_learner_record_starts_a_visit(admin: AbstractUser) -> None:
    learner = make.learner()
    visit_id = Browser(admin).visit_id(f"/learners/{learner.pk}/")
    visit = RecordVisit.objects.get(pk=visit_id)
    assert (visit.admin, visit.learner, visit.is_open) == (admin, learner, True)


def test_pages_inside_the_record_keep_the_visit(admin: AbstractUser) -> None:
    learner = make.learner()
    browser = Browser(admin)
    first = browser.visit_id(f"/learners/{learner.pk}/")
    assert browser.visit_id(f"/learners/{learner.pk}/journal/") == first
    assert browser.visit_id(f"/learners/{learner.pk}/components/7/edit/", method="post") == first
    assert browser.visit_id(f"/learners/{learner.pk}") == first
    assert RecordVisit.objects.count() == 1


def test_leaving_the_record_ends_the_visit(admin: AbstractUser) -> None:
    learner = make.learner()
    browser = Browser(admin)
    visit_id = browser.visit_id(f"/learners/{learner.pk}/")
    browser.request("/learners/")
    assert RecordVisit.objects.get(pk=visit_id).ended_at is not None
    assert browser.visit_id(f"/learners/{learner.pk}/") != visit_id  # coming back is a new visit


def test_going_to_another_learner_ends_the_visit_and_starts_another(admin: AbstractUser) -> None:
    first, second = make.learner(), make.learner()
    browser = Browser(admin)
    first_visit = browser.visit_id(f"/learners/{first.pk}/")
    second_visit = browser.visit_id(f"/learners/{second.pk}/")
    assert first_visit != second_visit
    assert RecordVisit.objects.get(pk=first_visit).ended_at is not None
    assert RecordVisit.objects.get(pk=second_visit).learner == second


def test_static_files_api_calls_and_partial_reloads_do_not_end_the_visit(admin: AbstractUser) -> None:
    learner = make.learner()
    browser = Browser(admin)
    visit_id = browser.visit_id(f"/learners/{learner.pk}/")
    browser.request("/static/waypoint.css")
    browser.request("/api/v1/learners")
    browser.request("/learners/", HX_Request="true")
    assert RecordVisit.objects.get(pk=visit_id).is_open
    assert browser.visit_id(f"/learners/{learner.pk}/") == visit_id


def test_a_learner_that_does_not_exist_starts_no_visit(admin: AbstractUser) -> None:
    assert Browser(admin).visit_id("/learners/999999/") is None
    assert not RecordVisit.objects.exists()


def test_each_admin_has_their_own_visit(admin: AbstractUser) -> None:
    learner = make.learner()
    other = make.staff({Perm.SUPERVISOR})
    assert Browser(admin).visit_id(f"/learners/{learner.pk}/") != Browser(other).visit_id(f"/learners/{learner.pk}/")


def test_changes_made_in_the_visit_are_recent_and_stop_being_recent_after_leaving(admin: AbstractUser) -> None:
    component = make.component()
    learner_page = f"/learners/{component.learner_id}/"
    browser = Browser(admin)
    visit_id = browser.visit_id(learner_page)
    component_update(component=component, by=admin, changes={"due_date": dt.date(2027, 2, 1)}, visit_id=visit_id)
    assert visit_id is not None
    assert [c.field for c in recent_changes(visit_id=visit_id, by_id=admin.pk)] == ["due_date"]

    browser.request("/")  # the dashboard: the admin left the record
    new_visit = browser.visit_id(learner_page)
    assert new_visit is not None
    assert not recent_changes(visit_id=new_visit, by_id=admin.pk).exists()


def test_visits_are_timed_by_the_server_clock_in_aware_datetimes(admin: AbstractUser) -> None:
    visit = RecordVisit.objects.get(pk=Browser(admin).visit_id(f"/learners/{make.learner().pk}/"))
    assert visit.started_at.tzinfo is not None


def test_a_learner_the_admin_may_not_see_starts_no_visit() -> None:  # R-CORE-8
    hidden = make.learner(groups=[Group.objects.create(name="North")])
    limited = make.staff({Perm.SUPERVISOR}, all_groups=False, groups=[Group.objects.create(name="South")])
    assert Browser(limited).visit_id(f"/learners/{hidden.pk}/") is None
    assert not RecordVisit.objects.exists()
