"""Edit Programme Details and the manual changes of circumstance, through the pages.

Start and planned end dates are sent to the EPA platform and the EPA period is not (R-EPA-6); a break, return,
withdrawal or change of programme applied by hand is not sent (R-EPA-7). Withdrawal and change of programme ask for
confirmation; every refusal says why and changes nothing.
"""

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests import factories
from tests.web.conftest import logged_in
from waypoint.core.models import OutboxMessage
from waypoint.epa.models import EpaConnection
from waypoint.people.models import Perm
from waypoint.programmes.models import Enrolment, ProgrammeStatus, WithdrawReason

pytestmark = pytest.mark.django_db

EDIT_REFUSAL = "Changing an enrolment needs Advanced Delivery Management (Edit), Supervisor or Compliance QA."


def _said(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _registered_enrolment(**values: Any) -> Enrolment:
    """An enrolment on a programme with an EPA platform connection: the learner is registered there (R-EPA-1)."""
    EpaConnection.objects.get_or_create(
        epao_id="EPA0001", defaults={"name": "epaPRO", "base_url": "http://emulator.invalid"}
    )
    return factories.enrolment(factories.learner(), factories.programme(templates=1, review=False), **values)


def _url(enrolment: Enrolment, action: str) -> str:
    return f"/learners/{enrolment.learner_id}/enrolments/{enrolment.pk}/{action}/"


def _ui_messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="epa", source="ui"))


def _on_break(enrolment: Enrolment, last_day: dt.date = dt.date(2027, 1, 31)) -> None:
    Enrolment.objects.filter(pk=enrolment.pk).update(status=ProgrammeStatus.BREAK_IN_LEARNING, actual_end_date=last_day)
    enrolment.refresh_from_db()


# Edit Programme Details


def test_programme_details_page_shows_the_dates_and_says_what_is_sent(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    response = client.get(_url(enrolment, "edit"))
    html = response.content.decode()
    assert 'value="2026-09-01"' in html
    for name in ("start_date", "planned_end_date", "epa_period_start", "epa_period_end"):
        assert f'name="{name}"' in html
    assert 'name="status"' not in html
    assert "a change of the EPA period is not" in html


def test_changing_the_programme_dates_of_a_registered_learner_is_sent_to_the_epa_platform(client: Client) -> None:
    logged_in(client)
    enrolment = _registered_enrolment()
    form = {"start_date": "2026-09-08", "planned_end_date": "2028-04-01", "epa_period_start": "", "epa_period_end": ""}

    response = client.post(_url(enrolment, "edit"), form, follow=True)

    enrolment.refresh_from_db()
    assert (enrolment.start_date, enrolment.planned_end_date) == (dt.date(2026, 9, 8), dt.date(2028, 4, 1))
    assert _said(response) == [
        f"Saved the start date, planned end date of {enrolment.learner.full_name} on {enrolment.programme}."
    ]
    [message] = _ui_messages()
    assert (message.learner_id, set(message.changed)) == (
        enrolment.learner_id,
        {"programme.start_date", "programme.planned_end_date"},
    )


def test_changing_only_the_epa_period_is_saved_but_not_sent(client: Client) -> None:
    logged_in(client)
    enrolment = _registered_enrolment()
    form = {"start_date": "2026-09-01", "planned_end_date": "2028-03-01"}

    client.post(_url(enrolment, "edit"), {**form, "epa_period_start": "2028-01-01", "epa_period_end": "2028-03-01"})

    enrolment.refresh_from_db()
    assert (enrolment.epa_period_start, enrolment.epa_period_end) == (dt.date(2028, 1, 1), dt.date(2028, 3, 1))
    assert _ui_messages() == []


def test_an_end_date_before_the_start_shows_the_services_message_beside_the_field(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    response = client.post(_url(enrolment, "edit"), {"start_date": "2026-09-01", "planned_end_date": "2026-01-01"})
    assert response.status_code == 422
    assert response.context["form"].errors["planned_end_date"] == [
        "The planned end date cannot be before the start date."
    ]
    enrolment.refresh_from_db()
    assert enrolment.planned_end_date == dt.date(2028, 3, 1)


def test_editing_programme_details_without_the_edit_permission_is_refused(client: Client) -> None:
    logged_in(client, [Perm.ADM_ADD])
    enrolment = factories.enrolment()
    page = client.get(_url(enrolment, "edit")).content.decode()
    assert EDIT_REFUSAL in page

    response = client.post(_url(enrolment, "edit"), {"start_date": "2026-10-01", "planned_end_date": "2028-03-01"})

    assert response.status_code == 403
    assert _said(response) == [EDIT_REFUSAL]
    enrolment.refresh_from_db()
    assert enrolment.start_date == dt.date(2026, 9, 1)


# The learner record


def test_the_record_offers_the_changes_each_status_allows(client: Client) -> None:
    logged_in(client)
    active = factories.enrolment()
    on_break = factories.enrolment(active.learner)
    _on_break(on_break)

    html = client.get(f"/learners/{active.learner_id}/").content.decode()

    assert f'href="{_url(active, "edit")}"' in html
    assert f'href="{_url(active, "break")}"' in html
    assert f'href="{_url(active, "return")}"' not in html
    assert f'href="{_url(on_break, "return")}"' in html
    assert f'href="{_url(on_break, "break")}"' not in html
    for enrolment in (active, on_break):
        assert f'href="{_url(enrolment, "withdraw")}"' in html
        assert f'href="{_url(enrolment, "change-programme")}"' in html
    assert f"/learners/{active.learner_id}/automation/new/?enrolment={active.pk}" in html


# Break and return


def test_a_break_in_learning_applied_by_hand_is_recorded_and_not_sent(client: Client) -> None:
    logged_in(client)
    enrolment = _registered_enrolment()

    response = client.post(
        _url(enrolment, "break"), {"effective_date": "2027-02-14", "reason": "Injury", "expected_return": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/learners/{enrolment.learner_id}/#plan-{enrolment.pk}"
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.actual_end_date) == (ProgrammeStatus.BREAK_IN_LEARNING, dt.date(2027, 2, 14))
    assert _ui_messages() == []


def test_a_break_without_a_reason_is_refused_beside_the_field(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    response = client.post(_url(enrolment, "break"), {"effective_date": "2027-02-14", "reason": ""})
    assert response.status_code == 422
    assert response.context["form"].errors["reason"]
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE


def test_a_break_before_the_start_shows_the_services_message(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    response = client.post(_url(enrolment, "break"), {"effective_date": "2026-01-01", "reason": "Illness"})
    assert response.status_code == 422
    assert "cannot start before the learner started" in response.context["form"].errors["effective_date"][0]
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE


def test_returning_from_a_break_makes_the_learner_active_again(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    _on_break(enrolment)

    client.post(_url(enrolment, "return"), {"return_date": "2027-04-01", "planned_end_date": "2028-06-01"})

    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE
    assert (enrolment.start_date, enrolment.original_start_date) == (dt.date(2027, 4, 1), dt.date(2026, 9, 1))


def test_a_return_for_an_active_learner_is_refused_with_the_reason(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    page = client.get(_url(enrolment, "return")).content.decode()
    assert "A return to learning needs the learner to be Break in Learning on the programme" in page

    response = client.post(_url(enrolment, "return"), {"return_date": "2027-04-01", "planned_end_date": "2028-06-01"})

    assert response.status_code == 409
    assert _said(response) == [
        "A return to learning needs the learner to be Break in Learning on the programme; they are Active."
    ]
    enrolment.refresh_from_db()
    assert enrolment.start_date == dt.date(2026, 9, 1)


def test_changes_of_circumstance_need_the_edit_permission(client: Client) -> None:
    logged_in(client, [Perm.INTERNAL_VERIFIER])
    enrolment = factories.enrolment()
    response = client.post(_url(enrolment, "break"), {"effective_date": "2027-02-14", "reason": "Injury"})
    assert response.status_code == 403
    assert _said(response) == [EDIT_REFUSAL]
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE


def test_a_sub_programme_is_changed_through_its_programme(client: Client) -> None:
    logged_in(client)
    parent = factories.programme(templates=1, review=False)
    factories.programme(templates=1, review=False, parent=parent)
    enrolment = factories.enrolment(programme_=parent)
    sub = Enrolment.objects.get(learner=enrolment.learner, programme__parent=parent)

    assert "is a sub-programme" in client.get(_url(sub, "break")).content.decode()
    client.post(_url(enrolment, "break"), {"effective_date": "2027-02-14", "reason": "Injury"})

    sub.refresh_from_db()
    assert sub.status == ProgrammeStatus.BREAK_IN_LEARNING


# Withdrawal


def test_withdrawing_asks_for_confirmation_first_and_changes_nothing_until_then(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    form = {"effective_date": "2027-03-31", "withdraw_reason": WithdrawReason.FINANCIAL.value}

    response = client.post(_url(enrolment, "withdraw"), form)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm withdrawal" in html
    assert "43 · Financial reasons" in html
    assert 'name="confirmed" value="yes"' in html
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE


def test_a_confirmed_withdrawal_withdraws_the_learner_and_is_not_sent(client: Client) -> None:
    logged_in(client)
    enrolment = _registered_enrolment()
    form = {"effective_date": "2027-03-31", "withdraw_reason": WithdrawReason.FINANCIAL.value, "confirmed": "yes"}

    response = client.post(_url(enrolment, "withdraw"), form, follow=True)

    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.withdraw_reason) == (ProgrammeStatus.WITHDRAWN, WithdrawReason.FINANCIAL)
    assert enrolment.actual_end_date == dt.date(2027, 3, 31)
    assert _said(response) == [f"Withdrew {enrolment.learner.full_name} from {enrolment.programme}."]
    assert _ui_messages() == []


def test_the_withdrawal_reasons_leave_out_the_change_of_programme_reason(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    choices = dict(client.get(_url(enrolment, "withdraw")).context["form"].fields["withdraw_reason"].choices)
    assert WithdrawReason.NEW_LEARNING_AIM.value not in choices
    assert WithdrawReason.FINANCIAL.value in choices


def test_withdrawing_a_withdrawn_learner_is_refused(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    Enrolment.objects.filter(pk=enrolment.pk).update(status=ProgrammeStatus.WITHDRAWN)
    form = {"effective_date": "2027-03-31", "withdraw_reason": WithdrawReason.FINANCIAL.value, "confirmed": "yes"}
    response = client.post(_url(enrolment, "withdraw"), form)
    assert response.status_code == 409
    assert "they are Withdrawn" in _said(response)[0]


# Change of programme


def test_the_programme_picker_searches_programmes_but_not_sub_programmes_or_the_current_one(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    wanted = factories.programme(templates=1, review=False)
    wanted.name = "Digital Marketer"
    wanted.save()
    factories.programme(templates=1, review=False, parent=wanted)

    everything = client.get(_url(enrolment, "change-programme")).context["candidates"]
    assert enrolment.programme not in everything
    assert all(p.parent_id is None for p in everything)
    found = client.get(_url(enrolment, "change-programme"), {"q": "digital"})
    assert found.context["candidates"] == [wanted]
    partial = client.get(
        _url(enrolment, "change-programme"),
        {"q": "digital"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="programme-picker",
    ).content.decode()
    assert "Digital Marketer" in partial
    assert "<html" not in partial


def test_changing_programme_asks_for_confirmation_then_moves_the_learner(client: Client) -> None:
    logged_in(client)
    enrolment = _registered_enrolment()
    new_programme = factories.programme(templates=2, review=False)
    form = {"programme": new_programme.pk, "start_date": "2027-01-04", "planned_end_date": "2028-07-01"}

    confirm = client.post(_url(enrolment, "change-programme"), form)
    assert "Confirm change of programme" in confirm.content.decode()
    assert not Enrolment.objects.filter(programme=new_programme).exists()

    response = client.post(_url(enrolment, "change-programme"), {**form, "confirmed": "yes"}, follow=True)

    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.withdraw_reason) == (ProgrammeStatus.WITHDRAWN, 40)
    new = Enrolment.objects.get(learner_id=enrolment.learner_id, programme=new_programme)
    assert (new.status, new.start_date) == (ProgrammeStatus.ACTIVE, dt.date(2027, 1, 4))
    assert _said(response) == [f"Moved {enrolment.learner.full_name} from {enrolment.programme} to {new_programme}."]
    assert _ui_messages() == []


def test_changing_programme_without_choosing_one_says_so(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    response = client.post(
        _url(enrolment, "change-programme"), {"start_date": "2027-01-04", "planned_end_date": "2028-07-01"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["programme"] == ["Choose the programme to move to."]


def test_a_new_programme_starting_too_early_shows_the_services_message(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    new_programme = factories.programme(templates=1, review=False)
    form = {"programme": new_programme.pk, "start_date": "2026-01-04", "planned_end_date": "2028-07-01"}
    response = client.post(_url(enrolment, "change-programme"), {**form, "confirmed": "yes"})
    assert response.status_code == 422
    assert "starts after the old one started" in response.context["form"].errors["start_date"][0]
    assert not Enrolment.objects.filter(programme=new_programme).exists()


def test_an_enrolment_of_another_learner_is_not_found(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    other = factories.learner()
    assert client.get(f"/learners/{other.pk}/enrolments/{enrolment.pk}/break/").status_code == 404
