"""Changes of circumstance: what they do to the enrolment, and what the EPA platform hears of them (R-EPA-7).

A break in learning, a return to learning, a withdrawal and a change of programme are sent to the platform when
they come from an approved process-automation tracker, and not when they are applied by hand, through the web
pages (the services with their default source) or through the HTTP API.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser

from tests import factories
from tests.api.conftest import token_client
from tests.automation.helpers import approved, connect, enrolled, mark, messages_after, programme
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.core.outbox import Source
from waypoint.epa.models import EpaRegistration
from waypoint.people.models import Perm
from waypoint.plans.models import Component
from waypoint.plans.services import (
    CircumstanceRefused,
    enrolment_break,
    enrolment_change_programme,
    enrolment_return,
    enrolment_withdraw,
)
from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus

pytestmark = pytest.mark.django_db

START = dt.date(2026, 9, 1)


@pytest.fixture
def admin() -> AbstractUser:
    return factories.staff([Perm.ADM_EDIT])


@pytest.fixture
def connected() -> Programme:
    connect("EPA0001")
    return programme("EPA0001")


@pytest.fixture
def on_programme(connected: Programme) -> Enrolment:
    """An Active learner registered on the EPA platform through the programme's connection."""
    enrolment = enrolled(connected)
    assert EpaRegistration.objects.get(enrolment=enrolment).state == "registered"
    return enrolment


def _on_break(enrolment: Enrolment, by: AbstractUser) -> Enrolment:
    return enrolment_break(enrolment=enrolment, by=by, effective_date=dt.date(2027, 1, 31), reason="Illness")


def _reload(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.get(pk=enrolment.pk)


# R-EPA-7: from an approved tracker, each change of circumstance is sent with its details


def test_an_approved_break_in_learning_is_sent_with_its_dates_and_reason(on_programme: Enrolment) -> None:
    """R-EPA-7"""
    before = mark()
    details = {"effective_date": "2027-01-31", "reason": "Maternity leave", "expected_return": "2027-10-01"}
    approved(on_programme, "break_in_learning", details)
    [sent] = messages_after(before)
    registration = EpaRegistration.objects.get(enrolment=on_programme)
    assert (sent.kind, sent.key, sent.source) == ("registration.break_in_learning", registration.pk, "automation")
    assert sent.event["effective_date"] == "2027-01-31"
    assert sent.event["reason"] == "Maternity leave"
    assert sent.event["expected_return"] == "2027-10-01"


def test_an_approved_return_to_learning_is_sent_with_the_new_dates(on_programme: Enrolment) -> None:
    """R-EPA-7"""
    approved(on_programme, "break_in_learning", {"effective_date": "2027-01-31", "reason": "Illness"})
    before = mark()
    approved(on_programme, "return_to_learning", {"return_date": "2027-06-01", "planned_end_date": "2028-08-01"})
    [sent] = messages_after(before)
    assert (sent.kind, sent.source) == ("registration.returned_to_learning", "automation")
    assert sent.event["return_date"] == "2027-06-01"
    assert sent.event["planned_end_date"] == "2028-08-01"
    assert sent.event["original_start_date"] == START.isoformat()


def test_an_approved_withdrawal_is_sent_with_its_reason_and_the_registration_is_withdrawn(
    on_programme: Enrolment,
) -> None:
    """R-EPA-7"""
    before = mark()
    approved(on_programme, "withdrawal", {"effective_date": "2027-03-15", "withdraw_reason": 44})
    [sent] = messages_after(before)
    assert (sent.kind, sent.source) == ("registration.withdrawn", "automation")
    assert sent.event["effective_date"] == "2027-03-15"
    assert sent.event["withdraw_reason"] == 44
    assert EpaRegistration.objects.get(enrolment=on_programme).state == "withdrawn"


def test_an_approved_change_of_programme_is_sent_with_its_dates(on_programme: Enrolment) -> None:
    """R-EPA-7 (and R-EPA-11: the same EPAO and connection)"""
    new_programme = programme("EPA0001")
    before = mark()
    details = {"programme": new_programme.pk, "start_date": "2027-02-01", "planned_end_date": "2028-09-01"}
    approved(on_programme, "change_of_programme", details)
    [sent] = messages_after(before)
    assert (sent.kind, sent.source) == ("registration.programme_changed", "automation")
    assert sent.event["start_date"] == "2027-02-01"
    assert sent.event["planned_end_date"] == "2028-09-01"
    assert sent.event["withdraw_reason"] == 40


# R-EPA-7: applied by hand, through the web pages' services or through the API, nothing is sent

ByHand = Callable[[Enrolment, AbstractUser], Any]


def _break_by_ui(enrolment: Enrolment, by: AbstractUser) -> Any:
    return _on_break(enrolment, by)


def _return_by_ui(enrolment: Enrolment, by: AbstractUser) -> Any:
    return enrolment_return(
        enrolment=enrolment, by=by, return_date=dt.date(2027, 6, 1), planned_end_date=dt.date(2028, 8, 1)
    )


def _withdraw_by_ui(enrolment: Enrolment, by: AbstractUser) -> Any:
    return enrolment_withdraw(enrolment=enrolment, by=by, effective_date=dt.date(2027, 3, 15), withdraw_reason=3)


def _change_by_ui(enrolment: Enrolment, by: AbstractUser) -> Any:
    return enrolment_change_programme(
        enrolment=enrolment,
        new_programme=programme("EPA0001"),
        by=by,
        start_date=dt.date(2027, 2, 1),
        planned_end_date=dt.date(2028, 9, 1),
    )


def _by_api(action: str, body: Callable[[], dict[str, Any]], status: int = 200) -> ByHand:
    def apply(enrolment: Enrolment, by: AbstractUser) -> Any:
        path = f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/{action}"
        response = token_client(by).post(path, body())
        assert response.status_code == status, response.content
        return response

    return apply


_BY_HAND: dict[str, tuple[ByHand, str]] = {
    "break, UI": (_break_by_ui, "break_in_learning"),
    "return, UI": (_return_by_ui, "active"),
    "withdrawal, UI": (_withdraw_by_ui, "withdrawn"),
    "change of programme, UI": (_change_by_ui, "withdrawn"),
    "break, API": (
        _by_api("break", lambda: {"effective_date": "2027-01-31", "reason": "Illness"}),
        "break_in_learning",
    ),
    "return, API": (
        _by_api("return", lambda: {"return_date": "2027-06-01", "planned_end_date": "2028-08-01"}),
        "active",
    ),
    "withdrawal, API": (
        _by_api("withdraw", lambda: {"effective_date": "2027-03-15", "withdraw_reason": 3}),
        "withdrawn",
    ),
    "change of programme, API": (
        _by_api(
            "change-programme",
            lambda: {
                "programme_id": programme("EPA0001").pk,
                "start_date": "2027-02-01",
                "planned_end_date": "2028-09-01",
            },
            status=201,
        ),
        "withdrawn",
    ),
}


@pytest.mark.parametrize("how", sorted(_BY_HAND))
def test_a_change_of_circumstance_applied_by_hand_is_not_sent(
    how: str, on_programme: Enrolment, admin: AbstractUser
) -> None:
    """R-EPA-7"""
    apply, status_after = _BY_HAND[how]
    if how.startswith("return"):
        _on_break(on_programme, admin)
    before = mark()
    apply(on_programme, admin)
    assert _reload(on_programme).status == status_after  # the change itself was made
    assert messages_after(before) == []


def test_a_withdrawal_by_hand_leaves_the_platform_registration_as_it_was(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    """R-EPA-7: the platform has not been told, so its registration is not marked withdrawn."""
    _withdraw_by_ui(on_programme, admin)
    assert EpaRegistration.objects.get(enrolment=on_programme).state == "registered"


# What each change does to the enrolment (R-CORE-3, the ILR facts)


def test_a_break_puts_the_learner_on_a_break_from_their_last_day_of_learning(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    changed = _on_break(on_programme, admin)
    assert changed.status == ProgrammeStatus.BREAK_IN_LEARNING
    assert changed.actual_end_date == dt.date(2027, 1, 31)


def test_a_sub_programme_enrolment_follows_its_programme(admin: AbstractUser) -> None:
    parent = programme("EPA0001", templates=1)
    sub = factories.programme(templates=1, parent=parent)
    enrolment = enrolled(parent)
    _on_break(enrolment, admin)
    sub_enrolment = Enrolment.objects.get(learner=enrolment.learner, programme=sub)
    assert (sub_enrolment.status, sub_enrolment.actual_end_date) == ("break_in_learning", dt.date(2027, 1, 31))
    with pytest.raises(CircumstanceRefused, match="sub-programme"):
        enrolment_withdraw(enrolment=sub_enrolment, by=admin, effective_date=dt.date(2027, 3, 1), withdraw_reason=3)


def test_only_an_active_learner_can_take_a_break(on_programme: Enrolment, admin: AbstractUser) -> None:
    _on_break(on_programme, admin)
    with pytest.raises(CircumstanceRefused, match="needs the learner to be Active"):
        _on_break(on_programme, admin)


def test_a_break_needs_a_reason_and_a_last_day_after_the_start(on_programme: Enrolment, admin: AbstractUser) -> None:
    with pytest.raises(ValidationFailed) as refused:
        enrolment_break(
            enrolment=on_programme,
            by=admin,
            effective_date=START - dt.timedelta(days=1),
            reason="  ",
            expected_return=START - dt.timedelta(days=10),
        )
    assert set(refused.value.fields) == {"effective_date", "reason", "expected_return"}
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE


def test_a_return_makes_the_learner_active_with_new_dates_and_keeps_the_first_start(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    _on_break(on_programme, admin)
    returned = _return_by_ui(on_programme, admin)
    assert returned.status == ProgrammeStatus.ACTIVE
    assert (returned.start_date, returned.planned_end_date) == (dt.date(2027, 6, 1), dt.date(2028, 8, 1))
    assert returned.original_start_date == START
    assert returned.actual_end_date is None
    enrolment_break(enrolment=returned, by=admin, effective_date=dt.date(2027, 12, 31), reason="Illness")
    again = enrolment_return(
        enrolment=returned, by=admin, return_date=dt.date(2028, 2, 1), planned_end_date=dt.date(2028, 12, 1)
    )
    assert again.original_start_date == START  # a second return keeps the first start


def test_only_a_learner_on_a_break_can_return(on_programme: Enrolment, admin: AbstractUser) -> None:
    with pytest.raises(CircumstanceRefused, match="Break in Learning"):
        _return_by_ui(on_programme, admin)


def test_a_return_is_after_the_last_day_of_learning(on_programme: Enrolment, admin: AbstractUser) -> None:
    _on_break(on_programme, admin)
    with pytest.raises(ValidationFailed) as refused:
        enrolment_return(
            enrolment=on_programme, by=admin, return_date=dt.date(2027, 1, 31), planned_end_date=dt.date(2027, 1, 1)
        )
    assert set(refused.value.fields) == {"return_date", "planned_end_date"}
    assert _reload(on_programme).status == ProgrammeStatus.BREAK_IN_LEARNING


def test_a_withdrawal_records_the_last_day_and_the_ilr_reason(on_programme: Enrolment, admin: AbstractUser) -> None:
    withdrawn = _withdraw_by_ui(on_programme, admin)
    assert (withdrawn.status, withdrawn.actual_end_date, withdrawn.withdraw_reason) == (
        "withdrawn",
        dt.date(2027, 3, 15),
        3,
    )


def test_a_learner_who_never_returns_from_a_break_keeps_the_breaks_last_day(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    _on_break(on_programme, admin)
    withdrawn = _withdraw_by_ui(on_programme, admin)
    assert (withdrawn.status, withdrawn.actual_end_date) == ("withdrawn", dt.date(2027, 1, 31))


def test_a_withdrawal_needs_an_ilr_reason_other_than_a_change_of_programme(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    for code in (1, 40):
        with pytest.raises(ValidationFailed) as refused:
            enrolment_withdraw(enrolment=on_programme, by=admin, effective_date=START, withdraw_reason=code)
        assert set(refused.value.fields) == {"withdraw_reason"}
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE


def test_a_change_of_programme_withdraws_the_old_episode_and_builds_the_new_plan(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    new_programme = programme("EPA0001", templates=4)
    factories.programme(templates=2, parent=new_programme)
    new = _change_programme(on_programme, new_programme, admin)
    old = _reload(on_programme)
    assert (old.status, old.withdraw_reason, old.actual_end_date) == ("withdrawn", 40, dt.date(2027, 1, 31))
    assert (new.programme_id, new.status, new.start_date) == (new_programme.pk, "active", dt.date(2027, 2, 1))
    assert new.enrolled_by_id == admin.pk
    assert Component.objects.filter(enrolment=new).count() == 4
    assert Enrolment.objects.filter(learner=old.learner, programme__parent=new_programme).count() == 1


def test_a_change_of_programme_must_change_the_programme_and_start_after_the_old_one(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        enrolment_change_programme(
            enrolment=on_programme,
            new_programme=on_programme.programme,
            by=admin,
            start_date=START,
            planned_end_date=START,
        )
    assert set(refused.value.fields) == {"programme", "start_date"}


def test_a_change_onto_a_programme_the_learner_is_already_on_is_refused_and_changes_nothing(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    other = programme("EPA0001")
    enrolled(other, on_programme.learner)
    with pytest.raises(Conflict, match="already enrolled"):
        _change_programme(on_programme, other, admin)
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE


def test_changes_of_circumstance_need_adm_edit_supervisor_or_compliance_qa(on_programme: Enrolment) -> None:
    with pytest.raises(PermissionRefused):
        _on_break(on_programme, factories.staff([Perm.ADM_ADD, Perm.AUTOMATION_APPROVE]))
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE
    assert _on_break(on_programme, factories.staff([Perm.COMPLIANCE_QA])).status == "break_in_learning"


def test_nothing_is_changed_by_hand_while_a_change_of_programme_awaits_approval(
    on_programme: Enrolment, admin: AbstractUser
) -> None:
    Enrolment.objects.filter(pk=on_programme.pk).update(status=ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME)
    for change in (_break_by_ui, _withdraw_by_ui, _change_by_ui):
        with pytest.raises(CircumstanceRefused, match="awaiting approval"):
            change(on_programme, admin)
    # Only approving its tracker settles it.
    new = enrolment_change_programme(
        enrolment=on_programme,
        new_programme=programme("EPA0001"),
        by=admin,
        start_date=dt.date(2027, 2, 1),
        planned_end_date=dt.date(2028, 9, 1),
        source=Source.AUTOMATION,
    )
    assert new.status == ProgrammeStatus.ACTIVE


def _change_programme(enrolment: Enrolment, new_programme: Programme, by: AbstractUser) -> Enrolment:
    return enrolment_change_programme(
        enrolment=enrolment,
        new_programme=new_programme,
        by=by,
        start_date=dt.date(2027, 2, 1),
        planned_end_date=dt.date(2028, 9, 1),
    )
