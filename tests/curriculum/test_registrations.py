"""A professional's registration workflow, auto-registration, deleting a registration, My Learning (R-CUR-3, 8)."""

from typing import Any

import pytest

from tests.curriculum import factories as f
from waypoint.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from waypoint.curriculum.models import (
    Curriculum,
    EnrolmentStatus,
    Metric,
    Milestone,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
    RegistrationType,
)
from waypoint.curriculum.selectors import registered_users_list
from waypoint.curriculum.services.registrations import (
    my_learning_add,
    my_learning_remove,
    registration_choose,
    registration_complete,
    registration_delete,
    registration_next_step,
    registration_start,
)

pytestmark = pytest.mark.django_db


def enforced(**values: Any) -> Curriculum:
    return f.curriculum(registration_type=RegistrationType.ENFORCED, **values)


def five_linked(plan: Curriculum, *, linked: int = 5, required: int = 5) -> Milestone:
    """A Sessions milestone requiring `required`, linking one activity and `linked - 1` one-session programs."""
    return f.milestone(plan, programs=[f.activity()] + [f.program() for _ in range(linked - 1)], units=required)


def test_auto_registration_goes_straight_to_the_summary_when_every_milestone_qualifies() -> None:
    """R-CUR-3: with 5 sessions required and 5 linked (an activity counting as one), the professional is enrolled
    automatically and taken straight to the review summary."""
    plan = enforced(auto_register=True)
    first, second = five_linked(plan), five_linked(plan)
    pat = f.professional()

    step = registration_next_step(registration_start(curriculum=plan, person=pat))

    assert (step.kind, step.milestone) == ("summary", None)
    made = ProgramEnrolment.objects.filter(person=pat)
    assert made.count() == 10
    assert set(made.values_list("milestone_id", flat=True)) == {first.pk, second.pk}
    assert set(made.values_list("registration_id", flat=True)) == {step.registration.pk}
    assert made.filter(session__isnull=True).count() == 2  # the activities
    assert all(s.satisfied for s in step.milestones)
    assert Registration.objects.get().status == RegistrationStatus.STARTED  # Complete is still the person's


def test_auto_registration_stops_at_the_next_milestone_needing_manual_enrolment() -> None:
    """R-CUR-3: 5 required with 6 linked does not auto-register; the professional is taken to that milestone after
    the qualifying milestones before it are enrolled in."""
    plan = enforced(auto_register=True)
    qualifying = five_linked(plan)
    manual = five_linked(plan, linked=6)
    five_linked(plan)
    pat = f.professional()

    step = registration_next_step(registration_start(curriculum=plan, person=pat))

    assert (step.kind, step.milestone) == ("milestone", manual)
    assert set(ProgramEnrolment.objects.filter(person=pat).values_list("milestone_id", flat=True)) == {qualifying.pk}


def test_without_auto_register_every_requirement_is_a_manual_step() -> None:
    """R-CUR-3: auto-registration needs the setting on."""
    plan = enforced()
    first = five_linked(plan)
    pat = f.professional()

    step = registration_next_step(registration_start(curriculum=plan, person=pat))

    assert (step.kind, step.milestone) == ("milestone", first)
    assert not ProgramEnrolment.objects.exists()


def test_enforced_registration_completes_only_when_every_requirement_is_enrolled_for() -> None:
    """R-CUR-1: Enforced means enrolling in all the requirements to be registered; the refusal changes nothing."""
    plan = enforced()
    milestone = f.milestone(plan, programs=[f.program(), f.activity()], units=2)
    program, activity = (link.program for link in milestone.links.select_related("program"))
    pat = f.professional()
    registration = registration_start(curriculum=plan, person=pat)
    registration_choose(registration=registration, milestone=milestone, sessions=[program.sessions.get()])

    with pytest.raises(ValidationFailed, match=milestone.name):
        registration_complete(registration=registration)
    assert Registration.objects.get().status == RegistrationStatus.STARTED

    registration_choose(registration=registration, milestone=milestone, activities=[activity])
    assert registration_next_step(registration).kind == "summary"
    done = registration_complete(registration=registration)
    assert done.status == RegistrationStatus.REGISTERED
    assert Registration.objects.get().completed_at is not None


def test_a_plan_with_registration_disabled_cannot_be_registered_in() -> None:
    """R-CUR-1: Disabled registration means no registration workflow."""
    plan = f.curriculum(registration_type=RegistrationType.DISABLED)
    with pytest.raises(ValidationFailed, match="no registration"):
        registration_start(curriculum=plan, person=f.professional())
    assert not Registration.objects.exists()


def test_non_enforced_registration_is_registered_at_its_first_enrolment() -> None:
    """R-CUR-1: Non-enforced means enrolling as you go."""
    plan, (milestone, _) = f.curriculum_with_milestones()
    program = milestone.links.first().program  # type: ignore[union-attr]
    registration = registration_start(curriculum=plan, person=f.professional())

    registration_choose(registration=registration, milestone=milestone, sessions=[program.sessions.get()])

    assert Registration.objects.get().status == RegistrationStatus.REGISTERED


def test_a_full_session_is_refused_and_nothing_is_enrolled() -> None:
    """A session's capacity is respected."""
    plan = f.curriculum()
    program = f.program(sessions=0)
    session = f.session(program, capacity=1)
    milestone = f.milestone(plan, programs=[program, f.activity()], units=2)
    other = f.professional()
    ProgramEnrolment.objects.create(person=other, program=program, session=session)
    registration = registration_start(curriculum=plan, person=f.professional())

    with pytest.raises(Conflict, match="full"):
        registration_choose(registration=registration, milestone=milestone, sessions=[session])

    assert ProgramEnrolment.objects.count() == 1
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.STARTED


def test_program_order_enforced_refuses_a_later_program_before_an_earlier_one() -> None:
    """R-CUR-2: program order enforced."""
    plan = f.curriculum()
    first, second = f.program(), f.program()
    milestone = f.milestone(plan, programs=[first, second], program_order_enforced=True)
    registration = registration_start(curriculum=plan, person=f.professional())

    with pytest.raises(ValidationFailed, match=first.name):
        registration_choose(registration=registration, milestone=milestone, sessions=[second.sessions.get()])
    assert not ProgramEnrolment.objects.exists()

    registration_choose(
        registration=registration, milestone=milestone, sessions=[first.sessions.get(), second.sessions.get()]
    )
    assert ProgramEnrolment.objects.count() == 2


def test_milestone_order_enforced_refuses_a_later_milestone_before_an_earlier_ones_requirement() -> None:
    """R-CUR-1: milestone order enforced."""
    plan, (first, second) = f.curriculum_with_milestones(milestone_order_enforced=True, programs_each=1)
    registration = registration_start(curriculum=plan, person=f.professional())
    later = second.links.get().program.sessions.get()

    with pytest.raises(ValidationFailed, match=first.name):
        registration_choose(registration=registration, milestone=second, sessions=[later])
    assert not ProgramEnrolment.objects.exists()


def test_a_session_of_a_program_not_linked_to_the_milestone_is_refused() -> None:
    plan, (milestone, _) = f.curriculum_with_milestones()
    registration = registration_start(curriculum=plan, person=f.professional())
    with pytest.raises(ValidationFailed, match="not of a program linked"):
        registration_choose(registration=registration, milestone=milestone, sessions=[f.session()])
    assert not ProgramEnrolment.objects.exists()


def test_deleting_a_registration_unenrols_exactly_the_enrolments_made_through_its_workflow() -> None:
    """R-CUR-8: deleting a registration un-enrols the person from every enrolment made through the plan's
    registration workflow; an enrolment made outside the workflow stays, as do completed ones."""
    plan = enforced(auto_register=True)
    milestone = five_linked(plan, linked=3, required=3)
    pat = f.professional()
    registration = registration_start(curriculum=plan, person=pat)
    registration_next_step(registration)
    finished = ProgramEnrolment.objects.filter(registration=registration).first()
    assert finished is not None
    ProgramEnrolment.objects.filter(pk=finished.pk).update(status=EnrolmentStatus.COMPLETED)
    elsewhere = ProgramEnrolment.objects.create(person=pat, program=f.program(), milestone=milestone)
    someone_else = ProgramEnrolment.objects.create(person=f.professional(), program=f.activity())

    unenrolled = registration_delete(registration=registration, by=f.supervisor())

    assert unenrolled == 2
    statuses = dict(ProgramEnrolment.objects.values_list("pk", "status"))
    through = ProgramEnrolment.objects.filter(registration=registration).exclude(pk=finished.pk)
    assert {statuses[e.pk] for e in through} == {EnrolmentStatus.CANCELLED}
    assert statuses[finished.pk] == EnrolmentStatus.COMPLETED
    assert statuses[elsewhere.pk] == statuses[someone_else.pk] == EnrolmentStatus.ENROLLED
    assert Registration.objects.get().status == RegistrationStatus.CANCELLED


def test_deleting_a_registration_needs_a_supervisor_and_changes_nothing_otherwise() -> None:
    """R-CUR-8: Manage Users is a supervisor's."""
    plan = enforced(auto_register=True)
    five_linked(plan, linked=2, required=2)
    registration = registration_start(curriculum=plan, person=f.professional())
    registration_next_step(registration)

    with pytest.raises(PermissionRefused):
        registration_delete(registration=registration, by=f.staff_without_supervisor())

    assert set(ProgramEnrolment.objects.values_list("status", flat=True)) == {EnrolmentStatus.ENROLLED}
    assert Registration.objects.get().status == RegistrationStatus.STARTED


def test_add_to_my_learning_shows_as_started_and_remove_as_cancelled() -> None:
    """R-CUR-8: Add/Remove to My Learning shows as started/cancelled registration in reports."""
    plan = f.curriculum(add_to_my_learning=True)
    pat = f.professional()

    added = my_learning_add(curriculum=plan, person=pat)
    assert (added.status, added.via_my_learning) == (RegistrationStatus.STARTED, True)
    assert my_learning_add(curriculum=plan, person=pat).pk == added.pk

    removed = my_learning_remove(curriculum=plan, person=pat)
    assert Registration.objects.get(pk=removed.pk).status == RegistrationStatus.CANCELLED
    assert my_learning_add(curriculum=plan, person=pat).pk != added.pk  # added again: a new started registration


def test_my_learning_is_refused_on_enforced_plans_and_plans_without_the_button() -> None:
    """R-CUR-1: the Add to My Learning button exists only when registration is not Enforced, and when shown."""
    pat = f.professional()
    with pytest.raises(ValidationFailed, match="every requirement"):
        my_learning_add(curriculum=enforced(), person=pat)
    with pytest.raises(ValidationFailed, match="does not offer"):
        my_learning_add(curriculum=f.curriculum(add_to_my_learning=False), person=pat)
    assert not Registration.objects.exists()


def test_removing_from_my_learning_leaves_a_workflow_registration_alone() -> None:
    """R-CUR-8: a registration made through the workflow is deleted from Manage Users, not removed as a bookmark."""
    plan = f.curriculum(add_to_my_learning=True)
    pat = f.professional()
    registration_start(curriculum=plan, person=pat)

    with pytest.raises(Conflict):
        my_learning_remove(curriculum=plan, person=pat)
    with pytest.raises(NotFound):
        my_learning_remove(curriculum=plan, person=f.professional())
    assert Registration.objects.get().status == RegistrationStatus.STARTED


def test_an_elective_milestone_is_never_a_required_step() -> None:
    """R-CUR-2: an elective (metric None) milestone has no requirement."""
    plan = enforced()
    f.milestone(plan, programs=[f.program()], metric=Metric.NONE)
    registration = registration_start(curriculum=plan, person=f.professional())

    assert registration_next_step(registration).kind == "summary"
    assert registration_complete(registration=registration).status == RegistrationStatus.REGISTERED


def test_the_registered_users_list_excludes_cancelled_and_its_queries_do_not_grow(
    django_assert_max_num_queries: Any,
) -> None:
    """R-CUR-8: registered users are listed apart from assigned users, in a fixed number of queries."""
    plan = f.curriculum(add_to_my_learning=True)
    for _ in range(10):
        my_learning_add(curriculum=plan, person=f.professional())
    gone = f.professional(last_name="Gone")
    my_learning_add(curriculum=plan, person=gone)
    my_learning_remove(curriculum=plan, person=gone)

    with django_assert_max_num_queries(1):
        names = [r.person.get_full_name() for r in registered_users_list(plan)]

    assert len(names) == 10
    assert not registered_users_list(plan, search="gone").exists()


def test_the_registration_notice_goes_once_when_the_person_is_registered(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    """R-CUR-10: a professional is told when they register, with what they enrolled in; not on each later step."""
    plan = enforced(auto_register=True)
    five_linked(plan, linked=2, required=2)
    pat = f.professional()
    registration = registration_start(curriculum=plan, person=pat)
    registration_next_step(registration)

    with django_capture_on_commit_callbacks(execute=True):
        registration_complete(registration=registration)
    with django_capture_on_commit_callbacks(execute=True):
        registration_complete(registration=registration)

    assert [m.to for m in mailoutbox] == [[pat.email]]


def test_a_cancelled_registration_takes_no_more_steps() -> None:
    """R-CUR-8: once deleted, the registration enrols in nothing more; the refusal changes nothing."""
    plan, (milestone, _) = f.curriculum_with_milestones()
    registration = registration_start(curriculum=plan, person=f.professional())
    registration_delete(registration=registration, by=f.supervisor())
    session = milestone.links.select_related("program").first().program.sessions.get()  # type: ignore[union-attr]

    with pytest.raises(Conflict, match="cancelled"):
        registration_choose(registration=registration, milestone=milestone, sessions=[session])
    with pytest.raises(Conflict, match="cancelled"):
        registration_next_step(registration)
    assert not ProgramEnrolment.objects.exists()


def test_starting_again_resumes_a_started_registration_and_refuses_a_registered_one() -> None:
    plan, _ = f.curriculum_with_milestones()
    pat = f.professional()
    started = registration_start(curriculum=plan, person=pat)
    assert registration_start(curriculum=plan, person=pat).pk == started.pk
    registration_complete(registration=started)
    with pytest.raises(Conflict, match="already registered"):
        registration_start(curriculum=plan, person=pat)
    assert Registration.objects.count() == 1
