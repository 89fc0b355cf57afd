"""Enrolling from a plan's details where its registration is Disabled: sessions with places left and Enrol, activities,
Cancel enrolment with a confirmation step, and every refusal told (R-CUR-1, R-CUR-8, R-CUR-12)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.curriculum import factories as cf
from waypoint.curriculum.models import (
    Curriculum,
    EnrolmentStatus,
    Program,
    ProgramEnrolment,
    RegistrationType,
    Session,
    Terminology,
)
from waypoint.curriculum.services.registrations import registration_choose, registration_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def pro(client: Client) -> AbstractUser:
    user = cf.professional()
    client.force_login(user)
    return user


def plan_with(*programs: Program, registration_type: str = RegistrationType.DISABLED) -> Curriculum:
    plan = cf.curriculum(registration_type=registration_type, catalogs=[cf.catalog()])
    cf.milestone(plan, programs=list(programs), metric="none", name="Getting started")
    return plan


def page(client: Client, plan: Curriculum) -> str:
    response = client.get(reverse("learning_plan", args=[plan.pk]))
    assert response.status_code == 200
    return str(response.content.decode())


def enrol(client: Client, plan: Curriculum, program: Program, session: Session | None = None) -> str:
    data: dict[str, Any] = {"program": program.pk}
    if session is not None:
        data["session"] = session.pk
    response = client.post(reverse("learning_plan_enrol", args=[plan.pk]), data, follow=True)
    assert response.status_code == 200
    return str(response.content.decode())


def cancel_url(plan: Curriculum, enrolment: ProgramEnrolment) -> str:
    return reverse("learning_plan_enrolment_cancel", args=[plan.pk, enrolment.pk])


def test_a_plan_without_registration_shows_sessions_to_come_with_places_left_and_enrol(
    client: Client, pro: AbstractUser
) -> None:
    program = cf.program(sessions=0, name="First aid")
    roomy = cf.session(program, capacity=3, location="Room 7", starts_at=cf.FIRST_SESSION)
    online = cf.session(
        program, capacity=None, location="", online_url="https://meet.example.org/x", starts_at=cf.FIRST_SESSION
    )
    full = cf.session(program, capacity=1, starts_at=cf.FIRST_SESSION + dt.timedelta(days=1))
    past = cf.session(program, starts_at=timezone.now() - dt.timedelta(days=1))
    ProgramEnrolment.objects.create(person=cf.professional(), program=program, session=roomy)
    ProgramEnrolment.objects.create(person=cf.professional(), program=program, session=full)
    activity = cf.activity(name="Reading list")
    plan = plan_with(program, activity)

    text = page(client, plan)

    assert "has no registration: enrol in its programs" in text
    assert f'data-testid="enrol-session-{roomy.pk}"' in text
    assert f'data-testid="enrol-session-{online.pk}"' in text
    assert f'data-testid="enrol-session-{full.pk}"' not in text
    assert f'data-testid="session-{past.pk}"' not in text
    assert "Room 7" in text
    assert "Online" in text
    assert "No limit" in text
    assert ">2</td>" in text  # places left in Room 7
    assert "Full" in text
    assert f'data-testid="enrol-{activity.pk}"' in text
    assert ">Register<" not in text


def test_the_page_uses_the_renamed_term(client: Client, pro: AbstractUser) -> None:
    """R-CUR-12: professional-facing pages say the renamed term."""
    Terminology.objects.create(learning_plan="Pathway")
    program = cf.program()
    plan = plan_with(program)
    text = page(client, plan)
    assert "This pathway has no registration" in text
    enrolment = ProgramEnrolment.objects.create(person=pro, program=program, session=program.sessions.get())
    confirm = client.get(cancel_url(plan, enrolment)).content.decode()
    assert "Pathway: " in confirm
    assert "Learning Plan" not in confirm


def test_enrolling_in_a_session_then_cancelling_after_confirming(client: Client, pro: AbstractUser) -> None:
    program = cf.program(sessions=0, name="First aid")
    session = cf.session(program, capacity=1)
    plan = plan_with(program)

    text = enrol(client, plan, program, session)

    enrolment = ProgramEnrolment.objects.get(person=pro)
    assert (enrolment.session_id, enrolment.status, enrolment.registration_id) == (session.pk, "enrolled", None)
    assert "You are enrolled in First aid on" in text
    assert "Enrolled" in text
    assert f'data-testid="cancel-{program.pk}"' in text

    confirm = client.get(cancel_url(plan, enrolment))
    assert confirm.status_code == 200
    assert "Cancel your enrolment in First aid?" in confirm.content.decode()
    assert ProgramEnrolment.objects.get(pk=enrolment.pk).status == EnrolmentStatus.ENROLLED  # asking changes nothing

    unconfirmed = client.post(cancel_url(plan, enrolment))  # a post without the Yes only asks again
    assert unconfirmed.status_code == 200
    assert ProgramEnrolment.objects.get(pk=enrolment.pk).status == EnrolmentStatus.ENROLLED

    done = client.post(cancel_url(plan, enrolment), {"confirm": "yes"}, follow=True).content.decode()
    assert ProgramEnrolment.objects.get(pk=enrolment.pk).status == EnrolmentStatus.CANCELLED
    assert "Your enrolment in First aid is cancelled." in done
    assert f'data-testid="enrol-session-{session.pk}"' in done  # the place is free again


def test_enrolling_in_an_activity(client: Client, pro: AbstractUser) -> None:
    activity = cf.activity(name="Reading list")
    plan = plan_with(activity)

    text = enrol(client, plan, activity)

    assert ProgramEnrolment.objects.get(person=pro).session_id is None
    assert "You are enrolled in Reading list." in text
    assert f'data-testid="cancel-{activity.pk}"' in text


def test_a_full_session_is_refused_with_the_reason(client: Client, pro: AbstractUser) -> None:
    program = cf.program(sessions=0)
    session = cf.session(program, capacity=1)
    ProgramEnrolment.objects.create(person=cf.professional(), program=program, session=session)
    plan = plan_with(program)

    text = enrol(client, plan, program, session)

    assert "is full: choose another session" in text
    assert not ProgramEnrolment.objects.filter(person=pro).exists()


def test_a_session_that_has_started_is_refused_with_the_reason(client: Client, pro: AbstractUser) -> None:
    program = cf.program(sessions=0)
    session = cf.session(program, starts_at=timezone.now() - dt.timedelta(minutes=5))
    plan = plan_with(program)

    text = enrol(client, plan, program, session)

    assert "has started: choose another session" in text
    assert not ProgramEnrolment.objects.filter(person=pro).exists()


def test_enrolling_twice_is_refused_with_the_reason(client: Client, pro: AbstractUser) -> None:
    program = cf.program(sessions=2, name="First aid")
    first, second = program.sessions.order_by("starts_at")
    plan = plan_with(program)
    enrol(client, plan, program, first)

    text = enrol(client, plan, program, second)

    assert "You are already enrolled in First aid." in text
    assert list(ProgramEnrolment.objects.filter(person=pro).values_list("session_id", flat=True)) == [first.pk]


def test_choosing_no_session_of_a_program_is_refused_with_the_reason(client: Client, pro: AbstractUser) -> None:
    program = cf.program()
    plan = plan_with(program)

    text = enrol(client, plan, program)

    assert "is delivered in sessions: choose a session" in text
    assert not ProgramEnrolment.objects.exists()


def test_a_session_that_is_gone_is_told(client: Client, pro: AbstractUser) -> None:
    program = cf.program()
    plan = plan_with(program)
    response = client.post(
        reverse("learning_plan_enrol", args=[plan.pk]), {"program": program.pk, "session": 999999}, follow=True
    )
    assert "That session no longer exists" in response.content.decode()
    assert not ProgramEnrolment.objects.exists()


def test_a_program_of_another_plan_is_not_found(client: Client, pro: AbstractUser) -> None:
    plan = plan_with(cf.program())
    elsewhere = cf.activity()
    plan_with(elsewhere)
    response = client.post(reverse("learning_plan_enrol", args=[plan.pk]), {"program": elsewhere.pk})
    assert response.status_code == 404
    assert not ProgramEnrolment.objects.exists()


def test_a_plan_with_registration_offers_no_direct_enrolment_and_refuses_one(client: Client, pro: AbstractUser) -> None:
    program = cf.program()
    session = program.sessions.get()
    activity = cf.activity()
    plan = plan_with(program, activity, registration_type=RegistrationType.ENFORCED)

    text = page(client, plan)
    assert ">Register<" in text
    assert "enrol-session-" not in text
    assert f'data-testid="enrol-{activity.pk}"' not in text
    assert "has no registration" not in text

    refused = enrol(client, plan, program, session)
    assert "not open for direct enrolment: enrol in it through a registration" in refused
    assert not ProgramEnrolment.objects.exists()


def test_an_enrolment_made_through_a_registration_offers_no_cancel_and_refuses_it(
    client: Client, pro: AbstractUser
) -> None:
    """R-CUR-8: a program shared with a plan whose registration the person went through."""
    program = cf.program(name="First aid")
    session = program.sessions.get()
    registered = cf.curriculum(registration_type=RegistrationType.NON_ENFORCED, catalogs=[cf.catalog()])
    milestone = cf.milestone(registered, programs=[program])
    [made] = registration_choose(
        registration=registration_start(curriculum=registered, person=pro), milestone=milestone, sessions=[session]
    )
    plan = plan_with(program)

    text = page(client, plan)
    assert "Enrolled" in text
    assert f'data-testid="cancel-{program.pk}"' not in text

    refused = client.post(cancel_url(plan, made), {"confirm": "yes"}, follow=True).content.decode()
    assert "an administrator un-enrols you by deleting the registration" in refused
    assert ProgramEnrolment.objects.get(pk=made.pk).status == EnrolmentStatus.ENROLLED


def test_a_started_sessions_enrolment_offers_no_cancel_and_refuses_it(client: Client, pro: AbstractUser) -> None:
    program = cf.program(sessions=0)
    session = cf.session(program, starts_at=timezone.now() - dt.timedelta(hours=1))
    made = ProgramEnrolment.objects.create(person=pro, program=program, session=session)
    plan = plan_with(program)

    assert f'data-testid="cancel-{program.pk}"' not in page(client, plan)
    refused = client.post(cancel_url(plan, made), {"confirm": "yes"}, follow=True).content.decode()
    assert "has started: the enrolment can no longer be cancelled" in refused
    assert ProgramEnrolment.objects.get(pk=made.pk).status == EnrolmentStatus.ENROLLED


def test_a_completed_enrolment_shows_completed_and_is_not_cancelled(client: Client, pro: AbstractUser) -> None:
    activity = cf.activity()
    made = ProgramEnrolment.objects.create(person=pro, program=activity, status=EnrolmentStatus.COMPLETED)
    plan = plan_with(activity)

    text = page(client, plan)
    assert "Completed" in text
    assert f'data-testid="cancel-{activity.pk}"' not in text
    refused = client.post(cancel_url(plan, made), {"confirm": "yes"}, follow=True).content.decode()
    assert "a completed enrolment cannot be cancelled" in refused
    assert ProgramEnrolment.objects.get(pk=made.pk).status == EnrolmentStatus.COMPLETED


def test_someone_elses_enrolment_cannot_be_cancelled_from_the_page(client: Client, pro: AbstractUser) -> None:
    activity = cf.activity()
    theirs = ProgramEnrolment.objects.create(person=cf.professional(), program=activity)
    plan = plan_with(activity)

    assert client.get(cancel_url(plan, theirs)).status_code == 404
    assert client.post(cancel_url(plan, theirs), {"confirm": "yes"}).status_code == 404
    assert ProgramEnrolment.objects.get(pk=theirs.pk).status == EnrolmentStatus.ENROLLED


def test_the_details_query_count_does_not_grow_with_programs_and_sessions(
    client: Client,
    pro: AbstractUser,
    django_assert_max_num_queries: Any,
) -> None:
    plan = cf.curriculum(registration_type=RegistrationType.DISABLED, catalogs=[cf.catalog()])
    cf.milestone(plan, programs=[cf.program(sessions=2), cf.activity()], metric="none")
    with django_assert_max_num_queries(30) as small:
        page(client, plan)
    for _ in range(3):
        programs = [cf.program(sessions=3) for _ in range(4)] + [cf.activity()]
        cf.milestone(plan, programs=programs, metric="none")
        for program in programs[:2]:
            ProgramEnrolment.objects.create(person=pro, program=program, session=program.sessions.first())
    with django_assert_max_num_queries(len(small.captured_queries)):
        page(client, plan)
