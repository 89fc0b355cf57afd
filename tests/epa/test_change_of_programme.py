"""A change of programme from an approved process-automation tracker, and the learner's EPA registration
(R-EPA-8…11), end to end: tracker → enrolments → registrations → outbox.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import AbstractUser

from tests import factories
from tests.api.conftest import assert_error, token_client
from tests.automation.helpers import approved, connect, enrolled, mark, messages, messages_after, programme
from waypoint.core.errors import NotFound, PermissionRefused
from waypoint.core.outbox import Source
from waypoint.epa.models import EpaRegistration
from waypoint.epa.registrations import RegistrationRefused, registration_register
from waypoint.people.models import Group, Perm
from waypoint.plans.services import enrolment_change_programme
from waypoint.programmes.models import Enrolment, Programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> AbstractUser:
    return factories.staff([Perm.ADM_EDIT])


def _change(enrolment: Enrolment, new_programme: Programme) -> Enrolment:
    """Approve a change of programme; returns the new enrolment."""
    details = {"programme": new_programme.pk, "start_date": "2027-02-01", "planned_end_date": "2028-09-01"}
    tracker = approved(enrolment, "change_of_programme", details)
    assert tracker.new_enrolment is not None
    return tracker.new_enrolment


def _registration(enrolment: Enrolment) -> EpaRegistration:
    return EpaRegistration.objects.get(enrolment=enrolment)


def test_moving_from_a_connected_programme_to_another_epao_without_a_connection_switches_to_manual() -> None:
    """R-EPA-8"""
    connect("EPA0001")
    enrolment = enrolled(programme("EPA0001"))
    before = mark()
    new = _change(enrolment, programme("EPA0002"))
    old_registration, new_registration = _registration(enrolment), _registration(new)
    assert old_registration.state == "manual"
    assert (new_registration.state, new_registration.connection_id, new_registration.can_register) == (
        "manual",
        None,
        False,
    )
    assert new_registration.epao_id == "EPA0002"
    assert messages_after(before) == []


def test_a_manual_learner_moved_onto_a_connected_programme_may_then_be_registered_on_it(admin: AbstractUser) -> None:
    """R-EPA-9"""
    connection = connect("EPA0001")
    enrolment = enrolled(programme("EPA0002"))
    assert _registration(enrolment).state == "manual"
    before = mark()
    new = _change(enrolment, programme("EPA0001"))
    offered = _registration(new)
    assert (offered.state, offered.can_register) == ("manual", True)
    assert messages_after(before) == []

    registered = registration_register(registration=offered, by=admin)
    assert (registered.state, registered.connection_id, registered.can_register) == (
        "registered",
        connection.pk,
        False,
    )
    [created] = messages_after(before)
    assert (created.kind, created.key, created.learner_id) == ("registration.created", offered.pk, new.learner_id)


def test_moving_between_two_connections_cancels_the_old_registration_and_registers_on_the_new(
    admin: AbstractUser,
) -> None:
    """R-EPA-10"""
    connect("EPA0001")
    second = connect("EPA0002")
    enrolment = enrolled(programme("EPA0001"))
    old_registration = _registration(enrolment)
    before = mark()
    new = _change(enrolment, programme("EPA0002"))
    old_registration.refresh_from_db()
    new_registration = _registration(new)
    assert old_registration.state == "cancelled"
    assert (new_registration.state, new_registration.connection_id) == ("registered", second.pk)
    withdrawn, created = messages_after(before)
    assert (withdrawn.kind, withdrawn.key) == ("registration.withdrawn", old_registration.pk)
    assert withdrawn.event["withdraw_reason"] == 40
    assert (created.kind, created.key) == ("registration.created", new_registration.pk)


def test_a_change_of_the_epao_id_on_the_same_connection_moves_the_registration_too() -> None:
    """R-EPA-10: the old registration was made with another EPAO id than the new programme's."""
    connection = connect("EPA0001")
    enrolment = enrolled(programme("EPA0001"))
    EpaRegistration.objects.filter(enrolment=enrolment).update(epao_id="EPA0009")
    before = mark()
    new = _change(enrolment, programme("EPA0001"))
    assert _registration(enrolment).state == "cancelled"
    assert (_registration(new).state, _registration(new).connection_id) == ("registered", connection.pk)
    assert [m.kind for m in messages_after(before)] == ["registration.withdrawn", "registration.created"]


def test_a_change_within_the_same_epao_and_connection_stops_the_old_programme_and_starts_the_new() -> None:
    """R-EPA-11"""
    connect("EPA0001")
    old_programme, new_programme = programme("EPA0001"), programme("EPA0001")
    enrolment = enrolled(old_programme)
    registration = _registration(enrolment)
    before = mark()
    new = _change(enrolment, new_programme)
    registration.refresh_from_db()
    assert registration.enrolment_id == new.pk  # the same registration, now on the new enrolment
    assert EpaRegistration.objects.filter(learner=enrolment.learner).count() == 1
    [changed] = messages_after(before)
    assert (changed.kind, changed.key) == ("registration.programme_changed", registration.pk)
    assert changed.event["old_programme"]["code"] == old_programme.code
    assert changed.event["new_programme"]["code"] == new_programme.code


def test_a_change_of_programme_by_hand_tells_the_platform_nothing_and_offers_the_registration(
    admin: AbstractUser,
) -> None:
    """R-EPA-7, R-EPA-9: by hand the learner is registered manually on the new programme, and may be registered."""
    connect("EPA0001")
    enrolment = enrolled(programme("EPA0001"))
    before = mark()
    new = enrolment_change_programme(
        enrolment=enrolment,
        new_programme=programme("EPA0001"),
        by=admin,
        start_date=dt.date(2027, 2, 1),
        planned_end_date=dt.date(2028, 9, 1),
    )
    offered = _registration(new)
    assert (offered.state, offered.can_register) == ("manual", True)
    assert messages_after(before) == []
    registration_register(registration=offered, by=admin, source=Source.UI)
    assert [m.kind for m in messages_after(before)] == ["registration.created"]


# Registering a manual registration (R-EPA-9)


def test_a_registration_needs_an_active_connection_for_its_programme(admin: AbstractUser) -> None:
    """R-EPA-9: without a connection the learner stays registered manually."""
    enrolment = enrolled(programme("EPA0002"))
    with pytest.raises(RegistrationRefused, match="no active EPA platform connection"):
        registration_register(registration=_registration(enrolment), by=admin)
    assert _registration(enrolment).state == "manual"
    assert messages() == []


def test_a_registration_made_manual_before_the_connection_existed_can_be_registered(admin: AbstractUser) -> None:
    """R-EPA-9: the programme "now has" a connection, whenever it came."""
    enrolment = enrolled(programme("EPA0001"))
    connect("EPA0001")
    registered = registration_register(registration=_registration(enrolment), by=admin)
    assert registered.state == "registered"


def test_only_a_manual_registration_of_an_active_learner_is_registered(admin: AbstractUser) -> None:
    connect("EPA0001")
    enrolment = enrolled(programme("EPA0001"))
    with pytest.raises(RegistrationRefused, match="this one is registered"):
        registration_register(registration=_registration(enrolment), by=admin)
    EpaRegistration.objects.filter(enrolment=enrolment).update(state="manual")
    Enrolment.objects.filter(pk=enrolment.pk).update(status="withdrawn")
    with pytest.raises(RegistrationRefused, match="only an Active learner"):
        registration_register(registration=_registration(enrolment), by=admin)


def test_registering_needs_adm_edit_and_sight_of_the_learner() -> None:
    connect("EPA0001")
    enrolment = enrolled(programme("EPA0002"))
    registration = _registration(enrolment)
    with pytest.raises(PermissionRefused):
        registration_register(registration=registration, by=factories.staff([Perm.AUTOMATION_APPROVE]))
    elsewhere = factories.staff([Perm.ADM_EDIT], all_groups=False, groups=[Group.objects.create(name="Elsewhere")])
    with pytest.raises(NotFound):
        registration_register(registration=registration, by=elsewhere)


def test_a_registration_is_registered_over_the_api(admin: AbstractUser) -> None:
    """R-EPA-9, R-PLUS-4"""
    connect("EPA0001")
    enrolment = enrolled(programme("EPA0002"))
    new = _change(enrolment, programme("EPA0001"))
    registration = _registration(new)
    api = token_client(admin)
    response = api.post(f"/epa/registrations/{registration.pk}/register")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["can_register"], body["enrolment_id"]) == ("registered", False, new.pk)
    [created] = messages(kind="registration.created", key=registration.pk)
    assert created.source == "api"
    assert_error(api.post(f"/epa/registrations/{registration.pk}/register"), 409, "registration_refused")
    assert_error(api.post("/epa/registrations/999999/register"), 404, "not_found")
    [listed] = [
        r for r in api.get(f"/learners/{new.learner_id}/epa/registrations").json() if r["id"] == registration.pk
    ]
    assert listed["state"] == "registered"
