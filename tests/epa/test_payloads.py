"""The snapshot sent to the EPA platform (R-EPA-12): built from plain values, codes with their ILR labels."""

import datetime as dt
import json
import uuid

import pytest

from tests import factories
from waypoint.epa.payloads import (
    SCHEMA,
    EmployerState,
    LearnerState,
    ManagerState,
    MessageFacts,
    PlatformStatus,
    ProgrammeState,
    RegistrationFacts,
    SendState,
    TutorState,
    merged_fields,
    platform_status,
    snapshot,
)
from waypoint.epa.selectors import delivery_gather
from waypoint.people.models import Employer, Manager, StaffProfile

EVENT_ID = uuid.UUID("5b0c4a53-52a9-4d8e-9a51-0b1f3d3c2e11")


def facts(**changes: object) -> RegistrationFacts:
    values: dict[str, object] = {
        "registration_id": 17,
        "version": 4,
        "platform": "epapro",
        "epao_id": "EPA0001",
        "external_ref": "AP0000012",
        "learner": LearnerState(
            uln="9276308686",
            first_name="Lucy",
            surname="Smith",
            date_of_birth=dt.date(2003, 2, 19),
            sex="F",
            ethnicity=31,
            email="lucy@example.com",
        ),
        "programme": ProgrammeState(
            code="SE-L4",
            name="Software Developer L4",
            standard_code="ST0116",
            start_date=dt.date(2025, 9, 1),
            planned_end_date=dt.date(2027, 3, 1),
            status="active",
        ),
        "employer": EmployerState(
            name="Widgets plc",
            edrs_number="",
            address_line_1="1 High St",
            address_line_2="",
            town="Leeds",
            postcode="LS1 1AA",
        ),
        "manager": ManagerState(name="Sam Jones", email="sam@widgets.example", phone=""),
        "tutor": TutorState(name="Pat Lee", email="pat@acme.example", job_title="Skills coach"),
    }
    values.update(changes)
    return RegistrationFacts(**values)  # type: ignore[arg-type]


def message(**changes: object) -> MessageFacts:
    values: dict[str, object] = {
        "event_id": EVENT_ID,
        "event_type": "registration.updated",
        "occurred_at": dt.datetime(2025, 10, 3, 10, 14, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "event": {},
        "changed_fields": ("learner.uln",),
    }
    values.update(changes)
    return MessageFacts(**values)  # type: ignore[arg-type]


def test_snapshot_holds_the_registration_in_the_versioned_canonical_shape() -> None:
    """R-EPA-12: a full snapshot, keyed by registration, with the message's key as its event id."""
    sent = snapshot(SendState(facts(), message()))

    assert sent["schema"] == SCHEMA == "waypoint.epa-connector.registration/v1"
    assert sent["event_id"] == str(EVENT_ID)
    assert sent["event_type"] == "registration.updated"
    assert sent["occurred_at"] == "2025-10-03T09:14:00.000Z"
    assert (sent["registration_id"], sent["version"], sent["external_ref"]) == (17, 4, "AP0000012")
    assert sent["connection"] == {"platform": "epapro", "epao_id": "EPA0001"}
    assert sent["learner"] == {
        "uln": "9276308686",
        "given_names": "Lucy",
        "family_name": "Smith",
        "date_of_birth": "2003-02-19",
        "sex": {"code": "F", "label": "Female"},
        "ethnicity": {"code": 31, "label": "English / Welsh / Scottish / Northern Irish / British"},
        "email": "lucy@example.com",
    }
    assert sent["programme"] == {
        "code": "SE-L4",
        "name": "Software Developer L4",
        "standard_code": "ST0116",
        "learn_start_date": "2025-09-01",
        "learn_plan_end_date": "2027-03-01",
        "comp_status": {"code": 1, "label": "Continuing"},
        "status": {"lms": "active", "platform_target": "On-programme"},
    }
    assert sent["employer"] == {
        "name": "Widgets plc",
        "edrs_number": None,
        "address": {"line1": "1 High St", "line2": None, "town": "Leeds", "postcode": "LS1 1AA"},
    }
    assert sent["manager"] == {"name": "Sam Jones", "email": "sam@widgets.example", "phone": None}
    assert sent["tutor"] == {"name": "Pat Lee", "email": "pat@acme.example", "job_title": "Skills coach"}
    assert sent["event"] is None
    assert sent["changed_fields"] == ["learner.uln"]
    assert json.loads(json.dumps(sent)) == sent  # plain JSON values only


def test_missing_people_and_blank_codes_travel_as_null() -> None:
    sent = snapshot(
        SendState(
            facts(
                external_ref="",
                employer=None,
                manager=None,
                tutor=None,
                learner=LearnerState(
                    uln="", first_name="A", surname="B", date_of_birth=None, sex="", ethnicity=None, email=""
                ),
            ),
            message(),
        )
    )

    assert sent["external_ref"] is None
    assert (sent["employer"], sent["manager"], sent["tutor"]) == (None, None, None)
    assert sent["learner"]["sex"] is None
    assert sent["learner"]["ethnicity"] is None
    assert sent["learner"]["date_of_birth"] is None
    assert sent["learner"]["uln"] is None


def test_a_change_of_circumstance_carries_its_event_and_sets_the_platform_status_it_stands_for() -> None:
    """R-EPA-7: a break in learning is CompStatus 6, Suspended on the platform, with its details."""
    sent = snapshot(
        SendState(
            facts(),
            message(event_type="registration.break_in_learning", event={"effective_date": "2027-01-10"}),
        )
    )

    assert sent["event"] == {"effective_date": "2027-01-10"}
    assert sent["programme"]["comp_status"] == {"code": 6, "label": "Break in learning"}
    assert sent["programme"]["status"]["platform_target"] == "Suspended"


@pytest.mark.parametrize(
    ("event_type", "programme_status", "event", "expected"),
    [
        ("registration.updated", "active", {}, PlatformStatus(1, "On-programme")),
        ("registration.updated", "break_in_learning", {}, PlatformStatus(6, "Suspended")),
        ("registration.updated", "completed", {}, PlatformStatus(2, "Completed")),
        ("registration.updated", "withdrawn", {}, PlatformStatus(3, "Cancelled")),
        ("registration.updated", "pending_change", {}, PlatformStatus(1, "On-programme")),
        ("registration.created", "active", {}, PlatformStatus(1, "On-programme")),
        ("registration.break_in_learning", "active", {}, PlatformStatus(6, "Suspended")),
        ("registration.returned_to_learning", "break_in_learning", {}, PlatformStatus(1, "On-programme")),
        ("registration.withdrawn", "active", {"withdraw_reason": 3}, PlatformStatus(3, "Cancelled")),
        ("registration.withdrawn", "active", {"withdraw_reason": 40}, PlatformStatus(3, "Withdrawn")),
    ],
)
def test_platform_status_follows_the_change_of_circumstance_then_the_programme_status(
    event_type: str, programme_status: str, event: dict[str, object], expected: PlatformStatus
) -> None:
    """A withdrawal for a change of programme (WithdrawReason 40) is "Withdrawn" on the old registration; any other
    withdrawal is "Cancelled"."""
    assert platform_status(event_type, programme_status, event) == expected


def test_changed_fields_of_messages_sent_together_are_merged_in_order_each_once() -> None:
    assert merged_fields(["learner.uln"], ["tutor.email", "learner.uln"], ["employer.name"]) == (
        "learner.uln",
        "tutor.email",
        "employer.name",
    )


@pytest.mark.django_db
def test_gathering_reads_every_registration_of_a_batch_with_its_people_in_one_query(
    django_assert_num_queries: object,
) -> None:
    """R-EPA-12: the state of a batch is read set-based, whatever its size."""
    from waypoint.epa.models import EpaConnection, EpaRegistration

    platform = EpaConnection.objects.create(name="P", epao_id="EPA0001", base_url="http://platform.invalid")
    tutor = factories.staff()
    tutor.email = "pat@acme.example"
    tutor.save()
    StaffProfile.objects.filter(user_id=tutor.pk).update(job_title="Skills coach")
    employer = Employer.objects.create(name="Widgets plc", address_line_1="1 High St", town="Leeds")
    manager = Manager.objects.create(employer=employer, first_name="Sam", surname="Jones", email="s@w.example")
    registrations = []
    for _ in range(3):
        learner = factories.learner(tutor=tutor, employer=employer, manager=manager)
        enrolment = factories.enrolment(learner, factories.programme(templates=1))
        registrations.append(
            EpaRegistration.objects.create(
                learner=learner, enrolment=enrolment, connection=platform, epao_id="EPA0001", state="registered"
            )
        )

    with django_assert_num_queries(1):  # type: ignore[operator]
        gathered = delivery_gather(r.pk for r in registrations)

    first = gathered[registrations[0].pk]
    assert first.connection is not None
    assert first.connection.base_url == "http://platform.invalid"
    assert first.facts.tutor == TutorState(
        name=tutor.get_full_name(), email="pat@acme.example", job_title="Skills coach"
    )
    assert first.facts.manager == ManagerState(name="Sam Jones", email="s@w.example", phone="")
    assert first.facts.employer is not None
    assert first.facts.employer.town == "Leeds"
    assert first.facts.programme.standard_code == "ST0116"
    assert first.facts.learner.uln == registrations[0].learner.uln
