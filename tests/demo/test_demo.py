"""The demo provider: complete, valid, covering the permission matrix, and built set-based."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from waypoint.core.ilr import uln_is_valid
from waypoint.demo.builder import BuildReport, demo_build
from waypoint.demo.catalogue import PROGRAMMES
from waypoint.demo.staff import DEMO_PASSWORD, DEMO_STAFF, logins_table
from waypoint.people.access import staff_perms
from waypoint.people.models import Learner, Perm, StaffProfile
from waypoint.plans.models import CalendarTask, Component, ComponentChange, ComponentStatus, Review, ReviewStatus
from waypoint.plans.permissions import PlanAction, plan_change_refusal
from waypoint.programmes.models import ComponentTemplate, ComponentType, Enrolment, Programme, ProgrammeStatus

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def built() -> BuildReport:
    return demo_build(learners=40, seed=7, today=TODAY)


def test_every_programme_status_is_present(built: BuildReport) -> None:
    present = set(Enrolment.objects.values_list("status", flat=True))
    assert present == set(ProgrammeStatus.values)


def test_every_component_type_is_in_every_top_level_template(built: BuildReport) -> None:
    for programme in Programme.objects.filter(parent__isnull=True):
        types = set(ComponentTemplate.objects.filter(programme=programme).values_list("type", flat=True))
        assert types == set(ComponentType.values), programme
        assert 40 <= ComponentTemplate.objects.filter(programme=programme).count() <= 100


def test_every_component_type_and_status_is_on_some_plan(built: BuildReport) -> None:
    assert set(Component.objects.values_list("type", flat=True)) == set(ComponentType.values)
    assert set(Component.objects.values_list("status", flat=True)) == set(ComponentStatus.values)


def test_templates_are_valid_components(built: BuildReport) -> None:
    for template in ComponentTemplate.objects.select_related("programme"):
        template.clean()
        assert set(template.criteria_mappings) <= set(template.programme.criteria)


def test_one_programme_has_two_sub_programmes_with_their_own_templates(built: BuildReport) -> None:
    parents = [p for p in Programme.objects.filter(parent__isnull=True) if p.sub_programmes.count()]
    assert len(parents) == 1
    subs = list(parents[0].sub_programmes.all())
    assert len(subs) == 2
    assert all(ComponentTemplate.objects.filter(programme=sub).exists() for sub in subs)
    assert len(PROGRAMMES) == 3


def test_sub_programme_enrolments_have_plans(built: BuildReport) -> None:
    enrolments = Enrolment.objects.filter(programme__parent__isnull=False)
    assert enrolments.exists()
    for enrolment in enrolments:
        assert Component.objects.filter(enrolment=enrolment).exists()


def test_every_enrolment_has_a_plan_from_its_template(built: BuildReport) -> None:
    for enrolment in Enrolment.objects.all():
        templated = Component.objects.filter(enrolment=enrolment, template__isnull=False).count()
        templates = ComponentTemplate.objects.filter(programme_id=enrolment.programme_id).count()
        assert 0 < templated <= templates


def test_ulns_are_valid_and_unique(built: BuildReport) -> None:
    ulns = list(Learner.objects.values_list("uln", flat=True))
    assert len(ulns) == 40
    assert len(set(ulns)) == 40
    assert all(uln_is_valid(u) for u in ulns)


def test_learners_are_complete_and_consistent(built: BuildReport) -> None:
    tutors = set(StaffProfile.objects.filter(is_tutor=True).values_list("user_id", flat=True))
    for learner in Learner.objects.select_related("manager").prefetch_related("groups"):
        learner.full_clean()
        assert learner.manager is not None
        assert learner.manager.employer_id == learner.employer_id
        assert learner.tutor_id in tutors
        assert 1 <= learner.groups.count() <= 2
        assert learner.sex in {"F", "M"}


def test_earlier_components_are_more_often_completed(built: BuildReport) -> None:
    active = Component.objects.filter(enrolment__status=ProgrammeStatus.ACTIVE)
    past = active.filter(due_date__lt=TODAY - dt.timedelta(days=60))
    future = active.filter(due_date__gt=TODAY + dt.timedelta(days=60))
    assert past.filter(status=ComponentStatus.COMPLETED).count() > 0.6 * past.count()
    assert not future.filter(status=ComponentStatus.COMPLETED).exists()


def test_scheduled_reviews_have_calendar_tasks_for_learner_and_admin(built: BuildReport) -> None:
    scheduled = Review.objects.filter(status=ReviewStatus.SCHEDULED)
    assert scheduled.exists()
    for review in scheduled:
        assert review.scheduled_at is not None
        assert review.scheduled_at.date() > TODAY
        tasks = CalendarTask.objects.filter(review=review)
        assert tasks.filter(learner__isnull=False).count() == 1
        assert tasks.filter(admin__isnull=False).count() == 1
    assert Review.objects.filter(status=ReviewStatus.COMPLETED).exists()
    review_components = Component.objects.filter(type__in=ComponentType.with_review())
    assert Review.objects.count() == review_components.count()


def test_marking_aid_evidence_and_journal_entries_exist(built: BuildReport) -> None:
    assert Component.objects.filter(marking_aid_submitted=True).exclude(marking_aid_exercise="").exists()
    assert not Component.objects.filter(marking_aid_submitted=True, marking_aid_exercise="").exists()
    assert ComponentChange.objects.filter(field="status").exists()
    assert ComponentChange.objects.filter(field="planned_for_qa").exists()


def test_staff_have_one_shared_password_and_readable_usernames(built: BuildReport) -> None:
    users = get_user_model().objects.filter(username__in=[s.username for s in DEMO_STAFF])
    assert users.count() == 13
    assert all(u.check_password(DEMO_PASSWORD) for u in users)
    assert StaffProfile.objects.filter(is_tutor=True).count() >= 3
    assert StaffProfile.objects.filter(all_groups=False, groups__isnull=False).exists()


def test_every_permission_is_held_by_some_demo_login(built: BuildReport) -> None:
    held = set().union(*(staff_perms(u) for u in get_user_model().objects.filter(staff__isnull=False)))
    assert held == set(Perm)


@pytest.mark.parametrize(
    ("action", "fields", "finished"),
    [
        (PlanAction.ADD, (), False),  # R-SYNC-22
        (PlanAction.EDIT, ("due_date",), False),  # R-SYNC-23
        (PlanAction.EDIT, ("due_date",), True),
        (PlanAction.EDIT, ("planned_for_qa",), False),  # R-SYNC-21
        (PlanAction.EDIT, ("planned_for_qa",), True),
        (PlanAction.DELETE, (), False),  # R-SYNC-24
        (PlanAction.DELETE, (), True),
    ],
)
def test_staff_matrix_has_a_login_allowed_and_one_refused_in_every_case(
    built: BuildReport, action: PlanAction, fields: tuple[str, ...], finished: bool
) -> None:  # R-SYNC-20…24
    outcomes = {
        u.username: plan_change_refusal(staff_perms(u), action, finished=finished, fields=fields) is None
        for u in get_user_model().objects.filter(staff__isnull=False).select_related("staff")
    }
    assert any(outcomes.values()), "nobody may"
    assert not all(outcomes.values()), "everybody may"


def test_adm_logins_show_the_finished_distinction(built: BuildReport) -> None:  # R-SYNC-23, R-SYNC-24
    def may(username: str, action: PlanAction, finished: bool) -> bool:
        user = get_user_model().objects.get(username=username)
        return plan_change_refusal(staff_perms(user), action, finished=finished, fields=("name",)) is None

    assert may("adm.edit", PlanAction.EDIT, False)
    assert not may("adm.edit", PlanAction.EDIT, True)
    assert may("adm.edit.finished", PlanAction.EDIT, True)
    assert may("adm.delete", PlanAction.DELETE, False)
    assert not may("adm.delete", PlanAction.DELETE, True)
    assert may("adm.delete.finished", PlanAction.DELETE, True)
    assert may("iv", PlanAction.EDIT, True) is False
    assert may("supervisor", PlanAction.DELETE, True)
    assert may("cqa", PlanAction.EDIT, True)


def test_the_same_seed_builds_the_same_learners() -> None:
    demo_build(learners=25, seed=3, today=TODAY)
    first = list(Learner.objects.order_by("uln").values_list("uln", "first_name", "surname", "date_of_birth"))
    statuses = sorted(Component.objects.values_list("learner__uln", "position", "status"))
    demo_build(learners=25, seed=3, today=TODAY, reset=True)
    assert list(Learner.objects.order_by("uln").values_list("uln", "first_name", "surname", "date_of_birth")) == first
    assert sorted(Component.objects.values_list("learner__uln", "position", "status")) == statuses


def test_rerunning_without_reset_refuses_and_changes_nothing(built: BuildReport) -> None:
    with pytest.raises(CommandError, match="already has 40 learners"):
        call_command("demo", learners=10, verbosity=0)
    assert Learner.objects.count() == 40


def test_if_empty_loads_nothing_into_a_database_that_has_learners(built: BuildReport) -> None:
    call_command("demo", learners=10, if_empty=True, verbosity=0)
    assert Learner.objects.count() == 40


def test_if_empty_builds_into_an_empty_database() -> None:
    call_command("demo", learners=5, if_empty=True, verbosity=0)
    assert Learner.objects.count() == 5


def test_reset_replaces_the_demo_data(built: BuildReport) -> None:
    call_command("demo", learners=15, reset=True, seed=2, verbosity=0)
    assert Learner.objects.count() == 15
    assert Programme.objects.count() == 5
    assert get_user_model().objects.filter(username="supervisor").count() == 1
    assert not Component.objects.exclude(learner__in=Learner.objects.all()).exists()


def test_demo_logins_command_prints_every_login(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_logins")
    out = capsys.readouterr().out
    assert all(s.username in out for s in DEMO_STAFF)
    assert DEMO_PASSWORD in out
    assert logins_table() in out


def _queries_to_build(n: int, reset: Callable[[], None]) -> int:
    reset()
    with CaptureQueriesContext(connection) as queries:
        demo_build(learners=n, seed=5, today=TODAY)
    return len(queries.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_learners() -> None:
    from waypoint.demo.builder import demo_delete

    small = _queries_to_build(20, demo_delete)
    large = _queries_to_build(60, demo_delete)
    assert small == large
    assert small < 80


def test_every_demo_episode_has_an_epa_registration_on_its_connection_or_manual(built: BuildReport) -> None:
    """R-EPA-1: episodes of connected programmes are registered there, the others manually; nothing is queued."""
    from waypoint.core.models import OutboxMessage
    from waypoint.epa.models import EpaRegistration

    episodes = Enrolment.objects.filter(programme__parent__isnull=True)
    registrations = EpaRegistration.objects.select_related("enrolment__programme", "connection")
    assert registrations.count() == episodes.count()
    states = set()
    for registration in registrations:
        connected = registration.connection is not None
        assert connected == (registration.enrolment.programme.epao_id in ("EPA0001", "EPA0015"))
        states.add(registration.state)
    assert {"registered", "manual"} <= states
    assert not OutboxMessage.objects.exists()


def test_the_demo_has_learning_plans_assigned_to_a_group_of_professionals(built: BuildReport) -> None:
    """R-CUR-1…8: plans of every registration type with milestones, a group assignment per member, and
    professional logins without a staff profile, one of them registered and enrolled."""
    from waypoint.curriculum.models import (
        Assignment,
        Curriculum,
        Milestone,
        ProfessionalGroup,
        ProgramEnrolment,
        Registration,
        RegistrationStatus,
        RegistrationType,
    )
    from waypoint.curriculum.reports import ReportFilter, status_highlights_page
    from waypoint.curriculum.rules import auto_registers
    from waypoint.demo.staff import DEMO_PROFESSIONALS, DEMO_TEAM

    plans = Curriculum.objects.all()
    assert set(plans.values_list("registration_type", flat=True)) == set(RegistrationType.values)
    assert set(Milestone.objects.values_list("metric", flat=True)) == {"sessions", "credits", "none"}
    for plan in plans:
        assert 2 <= plan.milestones.count() <= 3
        assert all(m.links.exists() for m in plan.milestones.all())
    enforced = plans.get(registration_type=RegistrationType.ENFORCED)
    assert enforced.auto_register
    assert all(auto_registers(m.metric, m.units, m.links.count()) for m in enforced.milestones.all())

    professionals = get_user_model().objects.filter(username__in=[p.username for p in DEMO_PROFESSIONALS])
    assert professionals.count() == len(DEMO_PROFESSIONALS) >= 2
    assert not professionals.filter(staff__isnull=False).exists()
    assert all(p.check_password(DEMO_PASSWORD) for p in professionals)
    assert all(p.username in logins_table() for p in DEMO_PROFESSIONALS)

    group = ProfessionalGroup.objects.get()
    team = get_user_model().objects.filter(username__in=[p.username for p in DEMO_TEAM])
    assert set(group.members.all()) == set(professionals) | set(team)
    assert not any(p.has_usable_password() for p in team)
    for member in group.members.all():
        assignment = Assignment.objects.get(person=member, curriculum=enforced, group=group)
        assert assignment.due_date == enforced.due_date
        expected = {str(m.pk): str(m.units) for m in enforced.milestones.all()}
        assert assignment.requirements == expected

    registration = Registration.objects.get(status=RegistrationStatus.REGISTERED)
    assert registration.curriculum == enforced
    assert registration.person in professionals
    enrolled = ProgramEnrolment.objects.filter(registration=registration)
    linked = {link.program_id for m in enforced.milestones.all() for link in m.links.all()}
    assert set(enrolled.values_list("program_id", flat=True)) == linked
    assert all(e.session is None or e.session.starts_at.date() > TODAY for e in enrolled)

    # The rest of the group completed programs in sessions already held: the reports show a spread of progress.
    rows = status_highlights_page(ReportFilter(plan=enforced.pk, today=TODAY), chart=True)
    assert rows.count == len(DEMO_PROFESSIONALS) + len(DEMO_TEAM)
    assert rows.status_counts is not None
    assert sum(1 for n in rows.status_counts.values() if n) >= 3
    done = ProgramEnrolment.objects.filter(status="completed")
    assert done.exists()
    assert all(e.session is None or e.session.ends_at.date() < TODAY for e in done)
