"""Process-automation trackers: request, approve (apply), reject.

Approving applies the change through the services that make it by hand, with source AUTOMATION: a change of
employer or of working conditions then reaches the EPA platform as a manager or employer update (R-EPA-4, R-EPA-5).
"""

import datetime as dt

import pytest
from django.contrib.auth.models import AbstractUser

from tests import factories
from tests.automation.helpers import (
    approved,
    approver,
    connect,
    enrolled,
    mark,
    messages_after,
    programme,
    requested,
    requester,
)
from waypoint.automation.models import Tracker, TrackerKind, TrackerStatus
from waypoint.automation.selectors import tracker_get_for, tracker_list_for
from waypoint.automation.services import (
    TrackerDecided,
    TrackerOpen,
    TrackerRefused,
    tracker_approve,
    tracker_reject,
    tracker_request,
)
from waypoint.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from waypoint.epa.models import EpaRegistration
from waypoint.people.models import Group, Learner, Perm
from waypoint.plans.services import CircumstanceRefused, enrolment_withdraw
from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus

pytestmark = pytest.mark.django_db

BREAK = {"effective_date": "2027-01-31", "reason": "Illness"}


@pytest.fixture
def connected() -> Programme:
    connect("EPA0001")
    return programme("EPA0001")


@pytest.fixture
def on_programme(connected: Programme) -> Enrolment:
    """A learner with an employer and manager, Active on a connected programme (registered on the platform)."""
    employer = factories.employer()
    learner = factories.learner(employer=employer, manager=factories.manager(employer))
    return enrolled(connected, learner)


def _reload(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.get(pk=enrolment.pk)


def _new_employment(learner: Learner) -> dict[str, object]:
    employer = factories.employer()
    return {"employer": employer.pk, "manager": factories.manager(employer).pk, "effective_date": "2027-01-04"}


# Requests


def test_any_staff_user_who_sees_the_learner_may_request_a_change(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "break_in_learning", BREAK | {"expected_return": "2027-09-01"})
    assert (tracker.status, tracker.kind, tracker.enrolment_id) == ("requested", "break_in_learning", on_programme.pk)
    assert tracker.details == BREAK | {"expected_return": "2027-09-01"}
    assert tracker.requested_by is not None
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE  # nothing is applied before approval


def test_a_learner_out_of_sight_cannot_have_changes_requested(on_programme: Enrolment) -> None:
    elsewhere = factories.staff(all_groups=False, groups=[Group.objects.create(name="Elsewhere")])
    with pytest.raises(NotFound):
        tracker_request(
            learner=on_programme.learner, enrolment=on_programme, kind="break_in_learning", details=BREAK, by=elsewhere
        )


def test_bad_details_are_refused_field_by_field_and_no_tracker_is_made(on_programme: Enrolment) -> None:
    with pytest.raises(ValidationFailed) as refused:
        requested(on_programme, "withdrawal", {"effective_date": "soon", "withdraw_reason": "illness", "why": "x"})
    assert set(refused.value.fields) == {"details.effective_date", "details.withdraw_reason", "details.why"}
    assert not Tracker.objects.exists()


def test_an_unknown_kind_and_a_change_of_circumstance_without_an_enrolment_are_refused(
    on_programme: Enrolment,
) -> None:
    with pytest.raises(ValidationFailed, match="No such kind"):
        requested(on_programme, "change_of_heart", {})
    with pytest.raises(ValidationFailed) as refused:
        requested(None, "break_in_learning", BREAK, learner=on_programme.learner)
    assert set(refused.value.fields) == {"enrolment"}


def test_an_enrolment_of_another_learner_is_not_found(on_programme: Enrolment) -> None:
    with pytest.raises(NotFound):
        requested(on_programme, "break_in_learning", BREAK, learner=factories.learner())


def test_a_change_of_employer_that_changes_nothing_is_refused(on_programme: Enrolment) -> None:
    learner = on_programme.learner
    same = {"employer": learner.employer_id, "manager": learner.manager_id, "effective_date": "2027-01-04"}
    with pytest.raises(ValidationFailed, match="changes nothing"):
        requested(None, "change_of_employer", same, learner=learner)


def test_a_change_of_employer_names_a_manager_of_the_new_employer(on_programme: Enrolment) -> None:
    details = _new_employment(on_programme.learner) | {"manager": on_programme.learner.manager_id}
    with pytest.raises(ValidationFailed) as refused:
        requested(None, "change_of_employer", details, learner=on_programme.learner)
    assert refused.value.fields == {"details.manager": ["The manager must be a contact of the new employer."]}


def test_a_change_of_working_conditions_that_changes_nothing_is_refused(on_programme: Enrolment) -> None:
    learner = on_programme.learner
    for details in ({"effective_date": "2027-01-04"}, {"effective_date": "2027-01-04", "manager": learner.manager_id}):
        with pytest.raises(ValidationFailed, match="changes nothing"):
            requested(None, "change_of_working_conditions", details, learner=learner)


def test_a_change_of_circumstance_the_learner_cannot_take_is_refused_when_requested(on_programme: Enrolment) -> None:
    with pytest.raises(TrackerRefused, match="Break in Learning"):
        requested(on_programme, "return_to_learning", {"return_date": "2027-06-01", "planned_end_date": "2028-08-01"})
    with pytest.raises(ValidationFailed) as refused:
        requested(on_programme, "break_in_learning", {"effective_date": "2020-01-01", "reason": "Illness"})
    assert set(refused.value.fields) == {"details.effective_date"}
    assert not Tracker.objects.exists()


def test_one_change_of_circumstance_waits_for_a_decision_per_enrolment(on_programme: Enrolment) -> None:
    requested(on_programme, "break_in_learning", BREAK)
    with pytest.raises(TrackerOpen):
        requested(on_programme, "withdrawal", {"effective_date": "2027-03-01", "withdraw_reason": 3})
    learner = on_programme.learner
    requested(None, "change_of_employer", _new_employment(learner), learner=learner)
    with pytest.raises(TrackerOpen):
        requested(None, "change_of_employer", _new_employment(learner), learner=learner)
    assert Tracker.objects.count() == 2


# Change of programme: pending until decided


def _programme_change(enrolment: Enrolment, new_programme: Programme | None = None) -> Tracker:
    details = {
        "programme": (new_programme or programme("EPA0001")).pk,
        "start_date": "2027-02-01",
        "planned_end_date": "2028-09-01",
    }
    return requested(enrolment, "change_of_programme", details)


def test_a_requested_change_of_programme_is_pending_until_decided(on_programme: Enrolment) -> None:
    sub = factories.programme(templates=1, parent=on_programme.programme)
    enrolled(sub, on_programme.learner)
    tracker = _programme_change(on_programme)
    assert tracker.previous_status == ProgrammeStatus.ACTIVE
    assert _reload(on_programme).status == ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME
    assert Enrolment.objects.get(programme=sub).status == ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME
    with pytest.raises(TrackerRefused, match="awaiting approval"):
        requested(on_programme, "withdrawal", {"effective_date": "2027-03-01", "withdraw_reason": 3})


def test_rejecting_a_change_of_programme_restores_the_status_it_had(on_programme: Enrolment) -> None:
    approved(on_programme, "break_in_learning", BREAK)
    tracker = _programme_change(on_programme)
    rejected = tracker_reject(tracker=tracker, by=approver(), reason="Wrong standard chosen")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Wrong standard chosen")
    assert rejected.decided_by is not None
    assert rejected.decided_at is not None
    assert _reload(on_programme).status == ProgrammeStatus.BREAK_IN_LEARNING


def test_approving_a_change_of_programme_withdraws_the_old_enrolment_and_links_the_new(
    on_programme: Enrolment,
) -> None:
    new_programme = programme("EPA0001")
    tracker = tracker_approve(tracker=_programme_change(on_programme, new_programme), by=approver())
    assert tracker.status == TrackerStatus.APPROVED
    assert tracker.new_enrolment is not None
    assert (tracker.new_enrolment.programme_id, tracker.new_enrolment.status) == (new_programme.pk, "active")
    assert (_reload(on_programme).status, _reload(on_programme).withdraw_reason) == ("withdrawn", 40)


def test_a_refused_change_of_programme_leaves_the_tracker_requested_and_nothing_changed(
    on_programme: Enrolment,
) -> None:
    new_programme = programme("EPA0001")
    tracker = _programme_change(on_programme, new_programme)
    enrolled(new_programme, on_programme.learner)  # meanwhile, enrolled on it by hand
    before = mark()
    with pytest.raises(Conflict, match="already enrolled"):
        tracker_approve(tracker=tracker, by=approver())
    tracker.refresh_from_db()
    assert tracker.status == TrackerStatus.REQUESTED
    assert tracker.decided_at is None
    assert _reload(on_programme).status == ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME
    assert messages_after(before) == []


# Decisions


def test_a_change_refused_by_the_applying_service_leaves_the_tracker_requested(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "break_in_learning", BREAK)
    admin = factories.staff([Perm.ADM_EDIT])
    enrolment_withdraw(enrolment=on_programme, by=admin, effective_date=dt.date(2027, 1, 10), withdraw_reason=3)
    before = mark()
    with pytest.raises(CircumstanceRefused, match="Withdrawn"):
        tracker_approve(tracker=tracker, by=approver())
    tracker.refresh_from_db()
    assert tracker.status == TrackerStatus.REQUESTED
    assert messages_after(before) == []


def test_deciding_needs_process_automation_approve(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "break_in_learning", BREAK)
    supervisor = factories.staff([Perm.SUPERVISOR])
    with pytest.raises(PermissionRefused, match="Process Automation"):
        tracker_approve(tracker=tracker, by=supervisor)
    with pytest.raises(PermissionRefused, match="Process Automation"):
        tracker_reject(tracker=tracker, by=supervisor, reason="No")
    tracker.refresh_from_db()
    assert tracker.status == TrackerStatus.REQUESTED
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE


def test_approving_applies_the_change_as_the_approver_who_needs_its_own_permission(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "break_in_learning", BREAK)
    with pytest.raises(PermissionRefused, match=r"Advanced Delivery Management \(Edit\)"):
        tracker_approve(tracker=tracker, by=factories.staff([Perm.AUTOMATION_APPROVE]))
    tracker.refresh_from_db()
    assert tracker.status == TrackerStatus.REQUESTED
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE


def test_a_tracker_is_decided_once(on_programme: Enrolment) -> None:
    tracker = approved(on_programme, "break_in_learning", BREAK)
    with pytest.raises(TrackerDecided, match="approved already"):
        tracker_approve(tracker=tracker, by=approver())
    with pytest.raises(TrackerDecided):
        tracker_reject(tracker=tracker, by=approver(), reason="Too late")


def test_a_rejection_needs_a_reason(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "break_in_learning", BREAK)
    with pytest.raises(ValidationFailed) as refused:
        tracker_reject(tracker=tracker, by=approver(), reason="  ")
    assert set(refused.value.fields) == {"reason"}


def test_a_rejected_change_is_not_applied_and_nothing_is_sent(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "withdrawal", {"effective_date": "2027-03-01", "withdraw_reason": 3})
    before = mark()
    tracker_reject(tracker=tracker, by=approver(), reason="The learner stays")
    assert _reload(on_programme).status == ProgrammeStatus.ACTIVE
    assert messages_after(before) == []


# R-EPA-4, R-EPA-5: employment changes from an approved automation are sent


def test_an_approved_change_of_employer_sends_the_employer_and_manager_update(on_programme: Enrolment) -> None:
    """R-EPA-4, R-EPA-5"""
    learner = on_programme.learner
    details = _new_employment(learner)
    before = mark()
    approved(None, "change_of_employer", details, learner=learner)
    learner.refresh_from_db()
    assert (learner.employer_id, learner.manager_id) == (details["employer"], details["manager"])
    sent = messages_after(before)
    registration = EpaRegistration.objects.get(enrolment=on_programme)
    assert {(m.kind, m.reason, m.source, m.key) for m in sent} == {
        ("registration.updated", "Employer changed", "automation", registration.pk),
        ("registration.updated", "Manager changed", "automation", registration.pk),
    }


def test_an_approved_change_of_working_conditions_sends_the_new_manager(on_programme: Enrolment) -> None:
    """R-EPA-4"""
    learner = on_programme.learner
    assert learner.employer is not None
    new_manager = factories.manager(learner.employer)
    details = {"effective_date": "2027-01-04", "manager": new_manager.pk, "hours_per_week": 30, "notes": "Part time"}
    before = mark()
    tracker = approved(None, "change_of_working_conditions", details, learner=learner)
    learner.refresh_from_db()
    assert learner.manager_id == new_manager.pk
    assert tracker.details["hours_per_week"] == 30
    [sent] = messages_after(before)
    assert (sent.kind, sent.reason, sent.source) == ("registration.updated", "Manager changed", "automation")


def test_a_change_of_working_hours_alone_is_recorded_and_changes_nothing_to_send(on_programme: Enrolment) -> None:
    learner = on_programme.learner
    before = mark()
    tracker = approved(
        None, "change_of_working_conditions", {"effective_date": "2027-01-04", "hours_per_week": 16}, learner=learner
    )
    assert tracker.status == TrackerStatus.APPROVED
    assert messages_after(before) == []


def test_a_change_of_employer_requested_is_not_sent_until_approved(on_programme: Enrolment) -> None:
    before = mark()
    requested(None, "change_of_employer", _new_employment(on_programme.learner), learner=on_programme.learner)
    assert messages_after(before) == []


# Reading trackers


def test_trackers_are_listed_for_the_learners_a_user_sees_and_filtered(on_programme: Enrolment) -> None:
    group = Group.objects.create(name="North")
    on_programme.learner.groups.set([group])
    mine = requested(on_programme, "break_in_learning", BREAK)
    hidden = enrolled(programme("EPA0001"))
    other = requested(hidden, "withdrawal", {"effective_date": "2027-03-01", "withdraw_reason": 3})
    tracker_reject(tracker=other, by=approver(), reason="No")
    viewer = factories.staff(all_groups=False, groups=[group])
    assert list(tracker_list_for(viewer)) == [mine]
    everyone = requester()
    assert list(tracker_list_for(everyone)) == [other, mine]
    assert list(tracker_list_for(everyone, status="rejected")) == [other]
    assert list(tracker_list_for(everyone, kind=TrackerKind.BREAK_IN_LEARNING)) == [mine]
    assert list(tracker_list_for(everyone, learner_id=hidden.learner_id)) == [other]
    with pytest.raises(NotFound):
        tracker_get_for(viewer, other.pk)


def test_deciding_needs_sight_of_the_learner(on_programme: Enrolment) -> None:
    tracker = requested(on_programme, "break_in_learning", BREAK)
    elsewhere = factories.staff(
        [Perm.AUTOMATION_APPROVE, Perm.ADM_EDIT], all_groups=False, groups=[Group.objects.create(name="Elsewhere")]
    )
    with pytest.raises(NotFound):
        tracker_approve(tracker=tracker, by=elsewhere)


def test_the_requester_is_recorded_and_may_be_the_approver(on_programme: Enrolment) -> None:
    both: AbstractUser = approver()
    tracker = tracker_request(
        learner=on_programme.learner, enrolment=on_programme, kind="break_in_learning", details=BREAK, by=both
    )
    decided = tracker_approve(tracker=tracker, by=both)
    assert decided.requested_by_id == decided.decided_by_id == both.pk
