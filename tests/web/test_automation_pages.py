"""Process automation through the pages: request a change, then approve (apply) or reject it.

An approved tracker's change is sent to the EPA platform as from process automation (R-EPA-4, R-EPA-5, R-EPA-7);
deciding needs Process Automation (Approve).
"""

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests import factories
from tests.web.conftest import logged_in
from waypoint.automation.models import Tracker, TrackerKind, TrackerStatus
from waypoint.automation.services import APPROVE_NEEDED, tracker_request
from waypoint.core.models import OutboxMessage
from waypoint.epa.models import EpaConnection
from waypoint.people.models import Group, Learner, Perm
from waypoint.programmes.models import Enrolment, ProgrammeStatus

pytestmark = pytest.mark.django_db

APPROVER = (Perm.SUPERVISOR, Perm.AUTOMATION_APPROVE)


def _said(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _registered_enrolment(learner: Learner | None = None) -> Enrolment:
    EpaConnection.objects.get_or_create(
        epao_id="EPA0001", defaults={"name": "epaPRO", "base_url": "http://emulator.invalid"}
    )
    return factories.enrolment(learner or factories.learner(), factories.programme(templates=1, review=False))


def _break_request(enrolment: Enrolment, **details: Any) -> Tracker:
    return tracker_request(
        learner=enrolment.learner,
        enrolment=enrolment,
        kind=TrackerKind.BREAK_IN_LEARNING,
        details={"effective_date": "2027-02-14", "reason": "Injury", **details},
        by=factories.staff([Perm.SUPERVISOR]),
    )


# Requesting


def test_the_request_page_asks_for_the_kind_then_for_what_that_kind_needs(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    url = f"/learners/{enrolment.learner_id}/automation/new/"

    first = client.get(url).content.decode()
    assert "Change of working conditions" in first
    assert 'name="effective_date"' not in first

    employer = client.get(url, {"kind": "change_of_employer"}).content.decode()
    for name in ("employer", "manager", "effective_date"):
        assert f'name="{name}"' in employer
    programme = client.get(url, {"kind": "change_of_programme", "enrolment": enrolment.pk})
    assert programme.context["form"]["enrolment"].value() == str(enrolment.pk)
    for name in ("enrolment", "programme", "start_date", "planned_end_date"):
        assert f'name="{name}"' in programme.content.decode()
    conditions = client.get(url, {"kind": "change_of_working_conditions"}).content.decode()
    for name in ("manager", "hours_per_week", "notes"):
        assert f'name="{name}"' in conditions


def test_requesting_a_break_makes_a_tracker_and_changes_nothing_yet(client: Client) -> None:
    me = logged_in(client)
    enrolment = factories.enrolment()
    form = {"kind": "break_in_learning", "enrolment": enrolment.pk, "effective_date": "2027-02-14", "reason": "Injury"}

    response = client.post(f"/learners/{enrolment.learner_id}/automation/new/", form)

    tracker = Tracker.objects.get()
    assert response["Location"] == f"/automation/{tracker.pk}/"
    assert (tracker.kind, tracker.status, tracker.requested_by_id) == ("break_in_learning", "requested", me.pk)
    assert tracker.details == {"effective_date": "2027-02-14", "reason": "Injury"}
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE


def test_requesting_a_change_of_employer_needs_a_contact_of_the_new_employer(client: Client) -> None:
    logged_in(client)
    learner = factories.learner()
    employer = factories.employer()
    other = factories.manager()
    url = f"/learners/{learner.pk}/automation/new/"
    form = {"kind": "change_of_employer", "employer": employer.pk, "effective_date": "2027-01-01"}

    response = client.post(url, {**form, "manager": other.pk})

    assert response.status_code == 422
    assert response.context["form"].errors["manager"] == ["Choose a contact of the new employer."]
    assert not Tracker.objects.exists()


def test_a_request_the_rules_refuse_shows_the_services_message_beside_the_field(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    form = {"kind": "break_in_learning", "enrolment": enrolment.pk, "effective_date": "2025-01-01", "reason": "Injury"}

    response = client.post(f"/learners/{enrolment.learner_id}/automation/new/", form)

    assert response.status_code == 422
    assert "cannot start before the learner started" in response.context["form"].errors["effective_date"][0]
    assert not Tracker.objects.exists()


def test_a_second_open_request_for_the_same_enrolment_is_refused(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    _break_request(enrolment)
    form = {"kind": "withdrawal", "enrolment": enrolment.pk, "effective_date": "2027-03-01", "withdraw_reason": 43}

    response = client.post(f"/learners/{enrolment.learner_id}/automation/new/", form)

    assert response.status_code == 409
    assert "already waiting for a decision" in _said(response)[0]
    assert Tracker.objects.count() == 1


def test_requesting_a_change_of_programme_marks_the_enrolment_pending(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    new_programme = factories.programme(templates=1, review=False)
    form = {
        "kind": "change_of_programme",
        "enrolment": enrolment.pk,
        "programme": new_programme.pk,
        "start_date": "2027-01-04",
        "planned_end_date": "2028-06-30",
    }

    client.post(f"/learners/{enrolment.learner_id}/automation/new/", form)

    assert Tracker.objects.get().details["programme"] == new_programme.pk
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME
    html = client.get(f"/learners/{enrolment.learner_id}/").content.decode()
    assert "Change of programme awaiting approval" in html


# The list and the record


def test_the_list_shows_waiting_requests_first_and_filters_them(client: Client) -> None:
    logged_in(client, APPROVER)
    decided = _break_request(factories.enrolment())
    Tracker.objects.filter(pk=decided.pk).update(status=TrackerStatus.REJECTED, decided_at=dt.datetime.now(dt.UTC))
    waiting = _break_request(factories.enrolment(factories.learner(surname="Quill")))

    page = client.get("/automation/").context["page"]
    assert [t.pk for t in page.object_list] == [waiting.pk, decided.pk]
    assert [t.pk for t in client.get("/automation/", {"status": "rejected"}).context["page"]] == [decided.pk]
    assert [t.pk for t in client.get("/automation/", {"kind": "withdrawal"}).context["page"]] == []
    assert [t.pk for t in client.get("/automation/", {"q": "quill"}).context["page"]] == [waiting.pk]


def test_the_list_shows_only_trackers_of_learners_the_user_sees(client: Client) -> None:
    seen = Group.objects.create(name="Seen")
    logged_in(client, all_groups=False, groups=[seen])
    mine = _break_request(factories.enrolment(factories.learner(groups=[seen])))
    hidden = _break_request(factories.enrolment())
    assert [t.pk for t in client.get("/automation/").context["page"]] == [mine.pk]
    assert client.get(f"/automation/{hidden.pk}/").status_code == 404


def test_the_learner_record_loads_its_waiting_requests(client: Client) -> None:
    logged_in(client)
    enrolment = factories.enrolment()
    tracker = _break_request(enrolment)

    record = client.get(f"/learners/{enrolment.learner_id}/").content.decode()
    assert f'hx-get="/learners/{enrolment.learner_id}/automation/pending/"' in record

    pending = client.get(f"/learners/{enrolment.learner_id}/automation/pending/").content.decode()
    assert f'href="/automation/{tracker.pk}/"' in pending
    assert "Reason: Injury" in pending


# Deciding


def test_an_approver_sees_approve_and_reject_on_a_waiting_request(client: Client) -> None:
    logged_in(client, APPROVER)
    tracker = _break_request(factories.enrolment())
    response = client.get(f"/automation/{tracker.pk}/")
    html = response.content.decode()
    assert response.context["refusal"] is None
    assert f'action="/automation/{tracker.pk}/approve/"' in html
    assert "Last day of learning" in html
    assert "14 Feb 2027" in html


def test_without_the_permission_the_buttons_are_disabled_with_the_reason(client: Client) -> None:
    logged_in(client, [Perm.SUPERVISOR])
    tracker = _break_request(factories.enrolment())
    html = client.get(f"/automation/{tracker.pk}/").content.decode()
    assert "Process Automation (Approve) permission" in html
    assert "disabled" in html


def test_approving_applies_the_change_and_sends_it_to_the_epa_platform(client: Client) -> None:
    me = logged_in(client, APPROVER)
    enrolment = _registered_enrolment()
    tracker = _break_request(enrolment)

    response = client.post(f"/automation/{tracker.pk}/approve/", follow=True)

    tracker.refresh_from_db()
    assert (tracker.status, tracker.decided_by_id) == (TrackerStatus.APPROVED, me.pk)
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.BREAK_IN_LEARNING
    assert _said(response) == [f"Approved and applied the break in learning for {enrolment.learner.full_name}."]
    sent = OutboxMessage.objects.filter(topic="epa", source="automation", learner_id=enrolment.learner_id)
    assert list(sent.values_list("kind", flat=True)) == ["registration.break_in_learning"]


def test_approving_a_change_of_employer_moves_the_learner_and_sends_it(client: Client) -> None:
    logged_in(client, APPROVER)
    learner = _registered_enrolment().learner
    employer = factories.employer()
    manager = factories.manager(employer)
    form = {
        "kind": "change_of_employer",
        "employer": employer.pk,
        "manager": manager.pk,
        "effective_date": "2027-01-01",
    }
    client.post(f"/learners/{learner.pk}/automation/new/", form)
    tracker = Tracker.objects.get()

    client.post(f"/automation/{tracker.pk}/approve/")

    learner.refresh_from_db()
    assert (learner.employer_id, learner.manager_id) == (employer.pk, manager.pk)
    sent = OutboxMessage.objects.filter(topic="epa", source="automation", learner_id=learner.pk)
    assert sorted(m.changed[0] for m in sent) == ["learner.employer", "learner.manager"]


def test_approving_without_the_permission_is_refused_and_changes_nothing(client: Client) -> None:
    logged_in(client, [Perm.SUPERVISOR])
    enrolment = factories.enrolment()
    tracker = _break_request(enrolment)

    response = client.post(f"/automation/{tracker.pk}/approve/")

    assert response.status_code == 403
    assert _said(response) == [APPROVE_NEEDED]
    tracker.refresh_from_db()
    assert tracker.status == TrackerStatus.REQUESTED
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE


def test_rejecting_needs_a_reason(client: Client) -> None:
    logged_in(client, APPROVER)
    tracker = _break_request(factories.enrolment())

    response = client.post(f"/automation/{tracker.pk}/reject/", {"reason": ""})

    assert response.status_code == 422
    assert response.context["reject_form"].errors["reason"] == ["Give the reason for rejecting the request."]
    tracker.refresh_from_db()
    assert tracker.status == TrackerStatus.REQUESTED


def test_rejecting_with_a_reason_records_it_and_changes_nothing(client: Client) -> None:
    logged_in(client, APPROVER)
    enrolment = factories.enrolment()
    tracker = _break_request(enrolment)

    client.post(f"/automation/{tracker.pk}/reject/", {"reason": "No evidence of the injury."})

    tracker.refresh_from_db()
    assert (tracker.status, tracker.rejection_reason) == (TrackerStatus.REJECTED, "No evidence of the injury.")
    enrolment.refresh_from_db()
    assert enrolment.status == ProgrammeStatus.ACTIVE
    assert "No evidence of the injury." in client.get(f"/automation/{tracker.pk}/").content.decode()


def test_deciding_a_decided_request_again_is_refused(client: Client) -> None:
    logged_in(client, APPROVER)
    tracker = _break_request(factories.enrolment())
    client.post(f"/automation/{tracker.pk}/approve/")
    response = client.post(f"/automation/{tracker.pk}/reject/", {"reason": "Too late"})
    assert response.status_code == 409
    assert _said(response)[-1] == "This tracker was approved already."


# Query budget

AUTOMATION_LIST_BUDGET = 12


def test_the_list_costs_the_same_however_many_trackers(client: Client, django_assert_max_num_queries: Any) -> None:
    logged_in(client, APPROVER, all_groups=False, groups=[group := Group.objects.create(name="Cohort")])
    employer = factories.employer()

    def employer_changes(n: int) -> None:
        for _ in range(n):
            learner = factories.learner(groups=[group])
            manager = factories.manager(employer)
            Tracker.objects.create(
                learner=learner,
                kind=TrackerKind.CHANGE_OF_EMPLOYER,
                details={"employer": employer.pk, "manager": manager.pk, "effective_date": "2027-01-01"},
            )

    employer_changes(20)
    with django_assert_max_num_queries(AUTOMATION_LIST_BUDGET):
        client.get("/automation/", {"q": "Alex"})
    employer_changes(40)
    with django_assert_max_num_queries(AUTOMATION_LIST_BUDGET):
        response = client.get("/automation/", {"q": "Alex"})
    assert len(response.context["rows"]) == 50
