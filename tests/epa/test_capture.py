"""What the services and the API record for the EPA platform, by trigger and source (R-EPA-1…6, R-EPA-12).

Each test changes something through the real service (the web pages call these with source UI) or through the
HTTP API, and reads the outbox rows written in the same transaction.
"""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.api.conftest import ApiClient, token_client
from waypoint.core.errors import ValidationFailed
from waypoint.core.models import OutboxMessage
from waypoint.core.outbox import Source
from waypoint.epa.models import EpaConnection, EpaRegistration
from waypoint.people.models import Learner, Perm
from waypoint.people.services import employer_update, learner_update, manager_update, staff_update
from waypoint.plans.services import enrolment_update
from waypoint.programmes.models import Enrolment, Programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected() -> Programme:
    """A programme whose EPAO has a platform connection (R-EPA-1)."""
    EpaConnection.objects.create(name="epaPRO", epao_id="EPA0001", base_url="http://emulator.invalid/epa")
    return _programme("EPA0001")


def _programme(epao_id: str) -> Programme:
    made = factories.programme()
    Programme.objects.filter(pk=made.pk).update(epao_id=epao_id)
    made.refresh_from_db()
    return made


@pytest.fixture
def admin() -> AbstractUser:
    return factories.staff([Perm.SUPERVISOR, Perm.ADM_EDIT, Perm.ADM_ADD])


@pytest.fixture
def api(admin: AbstractUser) -> ApiClient:
    return token_client(admin)


def registered(programme: Programme, **values: Any) -> Learner:
    learner = factories.learner(**values)
    factories.enrolment(learner, programme)
    return learner


def messages(**filters: Any) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="epa", **filters).order_by("id"))


def updates() -> list[OutboxMessage]:
    return messages(kind="registration.updated")


# R-EPA-1


def test_a_learner_enrolled_on_a_connected_programme_is_registered_there(connected: Programme) -> None:
    """R-EPA-1"""
    learner = registered(connected)
    registration = EpaRegistration.objects.get(learner=learner)
    assert registration.state == "registered"
    assert registration.connection is not None
    assert registration.connection.epao_id == "EPA0001"
    [created] = messages()
    assert (created.kind, created.key, created.learner_id) == ("registration.created", registration.pk, learner.pk)


def test_a_learner_enrolled_on_a_programme_without_a_connection_is_registered_manually() -> None:
    """R-EPA-1: otherwise registration is manual, and nothing is sent."""
    learner = registered(_programme("EPA0002"))
    assert EpaRegistration.objects.get(learner=learner).state == "manual"
    assert messages() == []


# R-EPA-2


@pytest.mark.parametrize(("field", "value"), [("sex", "M"), ("ethnicity", 39), ("uln", factories.valid_uln(9000))])
def test_gender_ethnicity_or_uln_changed_in_the_ui_is_sent(
    connected: Programme, admin: AbstractUser, field: str, value: Any
) -> None:
    """R-EPA-2"""
    learner = registered(connected)
    learner_update(learner=learner, by=admin, changes={field: value})  # type: ignore[misc]
    [update] = updates()
    assert (update.source, update.changed, update.learner_id) == ("ui", [f"learner.{field}"], learner.pk)
    assert update.created_by_id == admin.pk
    assert update.status == "pending"


def test_gender_ethnicity_and_uln_changed_through_the_api_are_sent_with_source_api(
    connected: Programme, api: ApiClient
) -> None:
    """R-EPA-2"""
    learner = registered(connected)
    response = api.patch(f"/learners/{learner.pk}", {"sex": "M", "ethnicity": 42, "uln": factories.valid_uln(9001)})
    assert response.status_code == 200, response.content
    [update] = updates()
    assert update.source == "api"
    assert sorted(update.changed) == ["learner.ethnicity", "learner.sex", "learner.uln"]


def test_a_name_change_alone_is_not_sent(connected: Programme, admin: AbstractUser) -> None:
    """R-EPA-2 lists Gender, Ethnicity and ULN only."""
    learner = registered(connected)
    learner_update(learner=learner, by=admin, changes={"first_name": "Sam", "email": "sam@example.com"})
    assert updates() == []


def test_saving_the_same_values_again_sends_nothing(connected: Programme, admin: AbstractUser) -> None:
    learner = registered(connected, sex="F")
    learner_update(learner=learner, by=admin, changes={"sex": "F", "ethnicity": learner.ethnicity})
    assert updates() == []


def test_a_refused_change_records_nothing(connected: Programme, admin: AbstractUser) -> None:
    """R-EPA-12: a change that is refused half-way leaves no message behind."""
    learner = registered(connected)
    with pytest.raises(ValidationFailed):
        learner_update(learner=learner, by=admin, changes={"sex": "M", "uln": "1234567890"})
    assert updates() == []
    assert Learner.objects.get(pk=learner.pk).sex == "F"


def test_a_manually_registered_learner_sends_nothing(admin: AbstractUser) -> None:
    """R-EPA-1: only learners with an active registration on a connection are sent."""
    learner = registered(_programme("EPA0002"))
    learner_update(learner=learner, by=admin, changes={"sex": "M"})
    assert messages() == []


# R-EPA-3


def test_changing_a_learners_case_owner_in_the_ui_or_api_is_sent(
    connected: Programme, admin: AbstractUser, api: ApiClient
) -> None:
    """R-EPA-3"""
    learner = registered(connected)
    first, second = factories.staff(), factories.staff()
    learner_update(learner=learner, by=admin, changes={"tutor": first.pk})
    assert api.patch(f"/learners/{learner.pk}", {"tutor_id": second.pk}).status_code == 200
    assert [(m.source, m.changed, m.reason) for m in updates()] == [
        ("ui", ["learner.tutor"], "Case owner changed"),
        ("api", ["learner.tutor"], "Case owner changed"),
    ]


def test_a_case_owners_own_details_are_sent_for_every_learner_linked_to_them(
    connected: Programme, admin: AbstractUser
) -> None:
    """R-EPA-3: fan-out to every learner of that tutor with an active registration."""
    tutor = factories.staff()
    theirs = [registered(connected, tutor=tutor) for _ in range(3)]
    registered(connected)  # another tutor's learner
    registered(_programme("EPA0002"), tutor=tutor)  # theirs, but registered manually
    staff_update(user=tutor, by=admin, changes={"email": "new.address@provider.example"})
    assert sorted(m.learner_id for m in updates()) == sorted(learner.pk for learner in theirs)
    assert {m.changed[0] for m in updates()} == {"tutor.email"}


def test_a_case_owner_may_change_their_own_details_through_the_api(connected: Programme) -> None:
    """R-EPA-3, through the API (source api)."""
    tutor = factories.staff()
    registered(connected, tutor=tutor)
    response = token_client(tutor).patch(f"/staff/{tutor.pk}", {"last_name": "Okafor", "job_title": "Lead tutor"})
    assert response.status_code == 200, response.content
    assert response.json()["job_title"] == "Lead tutor"
    [update] = updates()
    assert update.source == "api"
    assert sorted(update.changed) == ["tutor.job_title", "tutor.last_name"]


def test_changing_another_staff_members_details_needs_supervisor(connected: Programme) -> None:
    tutor, colleague = factories.staff(), factories.staff()
    registered(connected, tutor=tutor)
    response = token_client(colleague).patch(f"/staff/{tutor.pk}", {"email": "x@provider.example"})
    assert response.status_code == 403
    assert "Supervisor" in response.json()["message"]
    assert updates() == []


def test_the_tutor_fan_out_costs_the_same_statements_for_3_and_30_learners(
    connected: Programme, admin: AbstractUser
) -> None:
    """The fan-out is one INSERT … SELECT, whatever the number of learners."""
    counts = []
    for size in (3, 30):
        tutor = factories.staff()
        for _ in range(size):
            registered(connected, tutor=tutor)
        with CaptureQueriesContext(connection) as queries:
            staff_update(user=tutor, by=admin, changes={"first_name": f"Pat{size}"})
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert OutboxMessage.objects.filter(changed=["tutor.first_name"]).count() == 33


# R-EPA-4


def test_a_managers_details_are_sent_for_every_learner_they_manage(connected: Programme, admin: AbstractUser) -> None:
    """R-EPA-4"""
    employer = factories.employer()
    manager = factories.manager(employer)
    theirs = [registered(connected, employer=employer, manager=manager) for _ in range(2)]
    registered(connected, employer=employer)
    manager_update(manager=manager, by=admin, changes={"phone": "0113 496 0000"})
    assert sorted(m.learner_id for m in updates()) == sorted(learner.pk for learner in theirs)
    assert {(m.source, m.changed[0]) for m in updates()} == {("ui", "manager.phone")}


@pytest.mark.parametrize("source", [Source.API, Source.AUTOMATION])
def test_a_learners_manager_changed_through_the_api_or_an_approved_automation_is_sent(
    connected: Programme, admin: AbstractUser, source: Source
) -> None:
    """R-EPA-4 (the automation's approval applies the change through this same service)."""
    employer = factories.employer()
    learner = registered(connected, employer=employer, manager=factories.manager(employer))
    learner_update(learner=learner, by=admin, changes={"manager": factories.manager(employer).pk}, source=source)
    [update] = updates()
    assert (update.source, update.changed, update.reason) == (source.value, ["learner.manager"], "Manager changed")


def test_manager_details_changed_through_the_api_are_sent(connected: Programme, api: ApiClient) -> None:
    """R-EPA-4"""
    employer = factories.employer()
    manager = factories.manager(employer)
    registered(connected, employer=employer, manager=manager)
    assert api.patch(f"/managers/{manager.pk}", {"email": "m@employer.example"}).status_code == 200
    [update] = updates()
    assert (update.source, update.changed) == ("api", ["manager.email"])


# R-EPA-5


def test_an_employer_address_edit_is_sent_for_every_learner_it_employs(
    connected: Programme, admin: AbstractUser, api: ApiClient
) -> None:
    """R-EPA-5: the employer record edited in the UI, then through the API."""
    employer = factories.employer()
    theirs = [registered(connected, employer=employer) for _ in range(2)]
    registered(connected, employer=factories.employer())
    employer_update(employer=employer, by=admin, changes={"postcode": "LS2 7EW", "town": "Leeds"})
    assert api.patch(f"/employers/{employer.pk}", {"address_line_1": "1 Park Row"}).status_code == 200
    sent = updates()
    assert sorted(m.learner_id for m in sent) == sorted([learner.pk for learner in theirs] * 2)
    assert {(m.source, tuple(m.changed)) for m in sent} == {
        ("ui", ("employer.postcode", "employer.town")),
        ("api", ("employer.address_line_1",)),
    }


@pytest.mark.parametrize("source", [Source.UI, Source.API, Source.AUTOMATION])
def test_a_learners_employer_link_changed_is_sent(connected: Programme, admin: AbstractUser, source: Source) -> None:
    """R-EPA-5: the learner's employer (and so its manager) changed."""
    learner = registered(connected, employer=factories.employer())
    employer = factories.employer()
    manager = factories.manager(employer)
    learner_update(learner=learner, by=admin, changes={"employer": employer.pk, "manager": manager.pk}, source=source)
    assert sorted((m.source, m.changed[0]) for m in updates()) == [
        (source.value, "learner.employer"),
        (source.value, "learner.manager"),
    ]


# R-EPA-6


def _episode(learner: Learner) -> Enrolment:
    return Enrolment.objects.get(learner=learner)


@pytest.mark.parametrize("source", [Source.UI, Source.API])
def test_programme_start_and_end_dates_from_edit_programme_details_are_sent(
    connected: Programme, admin: AbstractUser, source: Source
) -> None:
    """R-EPA-6"""
    learner = registered(connected)
    changes = {"start_date": dt.date(2026, 10, 1), "planned_end_date": dt.date(2028, 4, 1)}
    enrolment_update(enrolment=_episode(learner), by=admin, changes=changes, source=source)  # type: ignore[arg-type]
    [update] = updates()
    assert update.source == source.value
    assert sorted(update.changed) == ["programme.planned_end_date", "programme.start_date"]


def test_a_change_of_epa_period_is_not_sent(connected: Programme, admin: AbstractUser, api: ApiClient) -> None:
    """R-EPA-6"""
    learner = registered(connected)
    episode = _episode(learner)
    changes = {"epa_period_start": dt.date(2028, 3, 1), "epa_period_end": dt.date(2028, 6, 1)}
    enrolment_update(enrolment=episode, by=admin, changes=changes)  # type: ignore[arg-type]
    response = api.patch(f"/learners/{learner.pk}/enrolments/{episode.pk}", {"epa_period_end": "2028-07-01"})
    assert response.status_code == 200, response.content
    assert updates() == []


def test_programme_dates_through_the_api_are_sent_for_that_episode_only(connected: Programme, api: ApiClient) -> None:
    """R-EPA-6: a learner with two episodes hears about the one whose dates changed."""
    learner = registered(connected)
    other = factories.enrolment(learner, _programme("EPA0001"))
    response = api.patch(f"/learners/{learner.pk}/enrolments/{other.pk}", {"planned_end_date": "2028-09-01"})
    assert response.status_code == 200, response.content
    [update] = updates()
    assert update.key == EpaRegistration.objects.get(enrolment=other).pk
