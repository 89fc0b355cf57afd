"""Learning Plan notifications by email (R-CUR-10), in the admin term whatever professionals see (R-CUR-12)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.core import mail
from django.core.management import call_command

from tests import factories
from tests.curriculum import factories as cf
from waypoint.core.errors import PermissionRefused, ValidationFailed
from waypoint.curriculum.models import (
    Assignment,
    Curriculum,
    NotificationKind,
    NotificationSent,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
)
from waypoint.curriculum.notifications import (
    assignment_notifications_send,
    deadline_notifications_send,
    notification_template_get,
    notification_template_update,
    registration_notification_send,
)
from waypoint.curriculum.tasks import deadline_notifications_task
from waypoint.curriculum.terms import term_update

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 3, 1)


def assign(plan: Curriculum, person: AbstractUser, due: dt.date | None = None) -> Assignment:
    return Assignment.objects.create(curriculum=plan, person=person, due_date=due)


def sent_to(email: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [email]]


def test_a_deadline_reminder_goes_days_before_and_only_once_however_often_the_task_runs_r_cur_10() -> None:
    plan, _ = cf.curriculum_with_milestones(name="Team Leader")
    soon, later, past = cf.professional(), cf.professional(), cf.professional()
    assign(plan, soon, due=TODAY + dt.timedelta(days=7))
    assign(plan, later, due=TODAY + dt.timedelta(days=8))
    assign(plan, past, due=TODAY - dt.timedelta(days=1))

    assert deadline_notifications_send(TODAY) == 1
    assert deadline_notifications_send(TODAY) == 0
    call_command("curriculum_deadlines", "--date", TODAY.isoformat(), stdout=None)
    assert deadline_notifications_task.call(TODAY.isoformat()) == 0

    [message] = mail.outbox
    assert message.to == [soon.email]
    assert message.subject == "Learning Plan deadline: Team Leader is due on 8 March 2027"
    sent = NotificationSent.objects.get()
    assert (sent.kind, sent.person_id, sent.about) == ("deadline", soon.pk, "2027-03-08")


def test_a_missed_day_is_caught_up_and_a_new_due_date_earns_a_new_reminder_r_cur_10() -> None:
    plan, _ = cf.curriculum_with_milestones()
    person = cf.professional()
    assignment = assign(plan, person, due=TODAY + dt.timedelta(days=7))

    assert deadline_notifications_send(TODAY + dt.timedelta(days=2)) == 1
    assert deadline_notifications_send(TODAY + dt.timedelta(days=3)) == 0
    Assignment.objects.filter(pk=assignment.pk).update(due_date=TODAY + dt.timedelta(days=10))
    assert deadline_notifications_send(TODAY + dt.timedelta(days=3)) == 1
    assert sorted(NotificationSent.objects.values_list("about", flat=True)) == ["2027-03-08", "2027-03-11"]


def test_a_deadline_reminder_goes_only_for_the_selected_plans_when_not_all_r_cur_10() -> None:
    chosen, _ = cf.curriculum_with_milestones()
    other, _ = cf.curriculum_with_milestones()
    person = cf.professional()
    assign(chosen, person, due=TODAY + dt.timedelta(days=3))
    assign(other, person, due=TODAY + dt.timedelta(days=3))
    notification_template_update(
        kind=NotificationKind.DEADLINE, by=cf.supervisor(), all_curricula=False, curricula=[chosen.pk]
    )

    assert deadline_notifications_send(TODAY) == 1
    assert chosen.name in mail.outbox[0].subject
    assert not NotificationSent.objects.filter(curriculum=other).exists()


def test_a_disabled_notification_is_not_sent_r_cur_10() -> None:
    plan, _ = cf.curriculum_with_milestones()
    assign(plan, cf.professional(), due=TODAY)
    notification_template_update(kind=NotificationKind.DEADLINE, by=cf.supervisor(), enabled=False)

    assert deadline_notifications_send(TODAY) == 0
    assert mail.outbox == []


def test_the_deadline_run_costs_the_same_queries_for_more_people_r_cur_10(django_assert_max_num_queries: Any) -> None:
    plan, _ = cf.curriculum_with_milestones()
    for _ in range(15):
        assign(plan, cf.professional(), due=TODAY + dt.timedelta(days=1))
    notification_template_get(NotificationKind.DEADLINE)

    with django_assert_max_num_queries(10):
        assert deadline_notifications_send(TODAY) == 15


def test_the_registration_notice_summarises_what_was_enrolled_per_milestone_r_cur_10() -> None:
    plan, (first, second) = cf.curriculum_with_milestones(name="Team Leader")
    person = cf.professional(first_name="Ada")
    registration = Registration.objects.create(curriculum=plan, person=person, status=RegistrationStatus.REGISTERED)
    program = first.programs.order_by("links__position").first()
    assert program is not None
    ProgramEnrolment.objects.create(
        person=person, program=program, session=program.sessions.get(), registration=registration, milestone=first
    )

    assert registration_notification_send(registration) is True

    [message] = mail.outbox
    assert message.subject == "Learning Plan registration: Team Leader"
    assert f"{first.name}\n  - {program.name}, 1 March 2027 09:00\n" in message.body
    assert f"{second.name}\n  - nothing yet\n" in message.body
    assert NotificationSent.objects.filter(kind="registration", person=person).count() == 1


def test_the_registration_notice_goes_only_for_the_selected_plans_when_not_all_r_cur_10() -> None:
    chosen, _ = cf.curriculum_with_milestones()
    other, _ = cf.curriculum_with_milestones()
    person = cf.professional()
    notification_template_update(
        kind=NotificationKind.REGISTRATION, by=cf.supervisor(), all_curricula=False, curricula=[chosen.pk]
    )

    assert registration_notification_send(Registration.objects.create(curriculum=other, person=person)) is False
    assert registration_notification_send(Registration.objects.create(curriculum=chosen, person=person)) is True
    assert [m.to for m in mail.outbox] == [[person.email]]


def test_the_assignment_notice_goes_automatically_and_summarises_the_plan_r_cur_10() -> None:
    plan, (first, _) = cf.curriculum_with_milestones(name="Team Leader", description="Lead well.")
    ada, bo = cf.professional(), cf.professional(email="")
    assignments = [assign(plan, ada, due=dt.date(2027, 9, 1)), assign(plan, bo)]

    assert assignment_notifications_send(assignments) == 1

    [message] = mail.outbox
    assert message.to == [ada.email]
    assert message.subject == "Learning Plan assigned: Team Leader"
    assert 'You have been assigned the Learning Plan "Team Leader", due on 1 September 2027.' in message.body
    assert f"- {first.name}: 2.00 sessions" in message.body
    assert NotificationSent.objects.get().about == "automatic"


def test_the_automatic_assignment_notice_can_be_switched_off_but_an_admin_may_still_send_it_r_cur_10() -> None:
    plan, _ = cf.curriculum_with_milestones()
    person = cf.professional()
    assignment = assign(plan, person)
    admin = cf.supervisor(username="sam")
    notification_template_update(kind=NotificationKind.ASSIGNMENT, by=admin, enabled=False)

    assert assignment_notifications_send([assignment]) == 0
    assert assignment_notifications_send(Assignment.objects.filter(pk=assignment.pk), by=admin) == 1
    assert NotificationSent.objects.get().about == "sent by sam"


def test_only_an_admin_may_send_the_assignment_notice_by_hand_r_cur_10() -> None:
    plan, _ = cf.curriculum_with_milestones()
    assignment = assign(plan, cf.professional())

    with pytest.raises(PermissionRefused):
        assignment_notifications_send([assignment], by=cf.professional())


def test_notifications_say_learning_plan_even_when_professionals_see_another_term_r_cur_12() -> None:
    plan, _ = cf.curriculum_with_milestones(name="Team Leader")
    person = cf.professional()
    term_update(value="Pathway", by=cf.supervisor())
    notification_template_update(
        kind=NotificationKind.ASSIGNMENT, by=cf.supervisor(), body="Your {{ term }}: {{ plan.name }}"
    )

    assignment_notifications_send([assign(plan, person, due=TODAY + dt.timedelta(days=2))])
    deadline_notifications_send(TODAY)

    assert len(mail.outbox) == 2
    assert mail.outbox[0].body == "Your Learning Plan: Team Leader"
    for message in mail.outbox:
        assert "Learning Plan" in message.subject
        assert "Pathway" not in message.subject + message.body


def test_a_template_that_cannot_be_read_is_refused_with_the_reason_r_cur_10() -> None:
    with pytest.raises(ValidationFailed) as caught:
        notification_template_update(kind=NotificationKind.DEADLINE, by=cf.supervisor(), body="{% for %}")

    assert "body" in caught.value.fields
    assert notification_template_get(NotificationKind.DEADLINE).body != "{% for %}"


def test_only_a_supervisor_may_change_a_notification_r_cur_10() -> None:
    with pytest.raises(PermissionRefused):
        notification_template_update(kind=NotificationKind.DEADLINE, by=factories.staff(), days_before=3)


def test_admins_list_and_change_notifications_and_send_the_assignment_notice_over_the_api_r_cur_10() -> None:
    from tests.api.conftest import token_client

    plan, _ = cf.curriculum_with_milestones()
    ada, bo = cf.professional(), cf.professional()
    assign(plan, ada)
    assign(plan, bo)
    api = token_client(cf.supervisor())

    kinds = [t["kind"] for t in api.get("/learning-plan-notifications").json()]
    assert kinds == ["assignment", "deadline", "registration"]
    changed = api.patch(
        "/learning-plan-notifications/deadline",
        {"days_before": 3, "all_curricula": False, "curricula": [plan.pk]},
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["days_before"], changed.json()["curricula"]) == (3, [plan.pk])
    assert api.patch("/learning-plan-notifications/deadline", {"body": "{% if %}"}).status_code == 422

    one = api.post(f"/learning-plans/{plan.pk}/assignment-notifications", {"people": [bo.pk]})
    assert one.json() == {"sent": 1}
    assert mail.outbox[0].to == [bo.email]
    assert api.post(f"/learning-plans/{plan.pk}/assignment-notifications", {}).json() == {"sent": 2}
    stranger = cf.professional()
    refused = api.post(f"/learning-plans/{plan.pk}/assignment-notifications", {"people": [stranger.pk]})
    assert refused.status_code == 422
    assert (
        token_client(factories.staff()).patch("/learning-plan-notifications/deadline", {"days_before": 1}).status_code
        == 403
    )
