"""Assigning learning plans to professionals and groups, and per-person milestone statuses (R-CUR-5, 6, 7)."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.curriculum import factories as f
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.curriculum.models import Assignment, Metric, MilestoneAction, MilestoneStatus, ReportRow
from waypoint.curriculum.selectors import assigned_users_list, assignments_with_progress
from waypoint.curriculum.services.assignments import (
    assignment_delete,
    assignment_override_milestone,
    curriculum_assign,
)

pytestmark = pytest.mark.django_db


def people(*users: Any) -> Any:
    return get_user_model().objects.filter(pk__in=[u.pk for u in users])


def test_assigning_people_fixes_the_plans_due_date_and_each_milestones_units() -> None:
    """R-CUR-5: the due date and the requirements are fixed at the first assignment."""
    boss = f.supervisor()
    plan, (first, second) = f.curriculum_with_milestones(due_date=dt.date(2027, 9, 30))
    ann, bob = f.professional(), f.professional()

    result = curriculum_assign(curriculum=plan, people=people(ann, bob), by=boss)

    assert (result.assigned, result.conflicts) == (2, [])
    row = Assignment.objects.get(curriculum=plan, person=ann)
    assert row.due_date == dt.date(2027, 9, 30)
    assert row.requirements == {str(first.pk): "2.00", str(second.pk): "2.00"}
    assert row.group_id is None
    assert row.assigned_by_id == boss.pk


def test_assigning_a_group_with_already_assigned_members_warns_and_does_not_reassign_them() -> None:
    """R-CUR-5: assigning a group that contains already-assigned people warns and does not reassign them; their due
    date and requirements stay those of the first assignment."""
    boss = f.supervisor()
    plan, (milestone, _) = f.curriculum_with_milestones(due_date=dt.date(2027, 9, 30))
    ann = f.professional(first_name="Ann", last_name="Archer")
    bob, cat = f.professional(), f.professional()
    first_group = f.professional_group([ann])
    second_group = f.professional_group([ann, bob, cat])
    curriculum_assign(curriculum=plan, group=first_group, by=boss)
    before = Assignment.objects.get(person=ann)
    plan.due_date = dt.date(2028, 1, 31)
    plan.save()
    milestone.units = Decimal(1)
    milestone.save()

    result = curriculum_assign(curriculum=plan, group=second_group, by=boss)

    assert result.assigned == 2
    assert result.conflicts == ["Ann Archer"]
    after = Assignment.objects.get(person=ann)
    assert (after.pk, after.group_id, after.due_date, after.requirements) == (
        before.pk,
        first_group.pk,
        dt.date(2027, 9, 30),
        before.requirements,
    )
    assert Assignment.objects.get(person=bob).due_date == dt.date(2028, 1, 31)
    assert Assignment.objects.get(person=bob).requirements[str(milestone.pk)] == "1.00"


def test_assigning_a_group_is_one_insert_whatever_its_size(django_assert_max_num_queries: Any) -> None:
    """R-CUR-5, DESIGN example 3: set-based writes; the statements do not grow with the group."""
    boss = f.supervisor()
    plan, _ = f.curriculum_with_milestones()
    group = f.professional_group([f.professional() for _ in range(25)])

    with django_assert_max_num_queries(12):  # with the four statements rewriting the 25 report rows (R-CUR-11)
        result = curriculum_assign(curriculum=plan, group=group, by=boss)

    assert result.assigned == 25
    assert Assignment.objects.filter(curriculum=plan, group=group).count() == 25
    assert ReportRow.objects.filter(curriculum=plan).count() == 25


def test_assigning_needs_a_supervisor_and_either_people_or_a_group() -> None:
    """R-CUR-5: refusals change nothing."""
    plan, _ = f.curriculum_with_milestones()
    ann = f.professional()
    with pytest.raises(PermissionRefused):
        curriculum_assign(curriculum=plan, people=people(ann), by=f.staff_without_supervisor())
    with pytest.raises(ValidationFailed):
        curriculum_assign(curriculum=plan, by=f.supervisor())
    assert not Assignment.objects.exists()


def _group_assignment() -> tuple[Any, Assignment, Any]:
    boss = f.supervisor()
    plan, (milestone, _) = f.curriculum_with_milestones()
    ann = f.professional()
    curriculum_assign(curriculum=plan, group=f.professional_group([ann]), by=boss)
    return boss, Assignment.objects.get(person=ann), milestone


def test_overriding_a_group_assignment_is_refused_without_confirming_the_detach() -> None:
    """R-CUR-6: editing a milestone for a person assigned through a group warns that the change removes the group
    link; without confirmation nothing changes."""
    boss, assignment, milestone = _group_assignment()

    with pytest.raises(Conflict, match="removes the group link"):
        assignment_override_milestone(
            assignment=assignment, milestone=milestone, action="waived", by=boss, confirm_detach=False
        )

    assignment.refresh_from_db()
    assert assignment.group_id is not None
    assert not MilestoneStatus.objects.exists()


def test_a_confirmed_override_detaches_the_assignment_from_its_group() -> None:
    """R-CUR-6: the person's assignment is maintained individually from then on."""
    boss, assignment, milestone = _group_assignment()

    assignment_override_milestone(
        assignment=assignment,
        milestone=milestone,
        action="waived",
        notes="Done elsewhere",
        by=boss,
        confirm_detach=True,
    )

    assignment.refresh_from_db()
    assert assignment.group_id is None
    status = MilestoneStatus.objects.get(assignment=assignment, milestone=milestone)
    assert (status.action, status.notes, status.set_by_id) == (MilestoneAction.WAIVED, "Done elsewhere", boss.pk)


def test_waived_adjusted_and_no_action_set_and_clear_a_persons_milestone_status() -> None:
    """R-CUR-7: Waived withdraws the requirement, Adjust changes units, due date and notes, No Action clears."""
    boss = f.supervisor()
    plan, (milestone, _) = f.curriculum_with_milestones()
    ann = f.professional()
    curriculum_assign(curriculum=plan, people=people(ann), by=boss)
    assignment = Assignment.objects.get(person=ann)

    def override(action: Any, **values: Any) -> MilestoneStatus | None:
        return assignment_override_milestone(
            assignment=assignment, milestone=milestone, action=action, by=boss, confirm_detach=False, **values
        )

    override("waived")
    assert MilestoneStatus.objects.get().action == MilestoneAction.WAIVED
    adjusted = override("adjusted", units=Decimal(1), due_date=dt.date(2027, 12, 1), notes="Part-time")
    assert adjusted is not None
    assert MilestoneStatus.objects.count() == 1
    assert (adjusted.units, adjusted.due_date, adjusted.notes) == (Decimal(1), dt.date(2027, 12, 1), "Part-time")
    assert override("no_action") is None
    assert not MilestoneStatus.objects.exists()


def test_adjusting_refuses_units_an_elective_has_not_and_milestones_of_other_plans() -> None:
    """R-CUR-7: units are adjusted only where the milestone has them; refusals change nothing."""
    boss = f.supervisor()
    plan = f.curriculum()
    elective = f.milestone(plan, metric=Metric.NONE)
    ann = f.professional()
    curriculum_assign(curriculum=plan, people=people(ann), by=boss)
    assignment = Assignment.objects.get(person=ann)

    with pytest.raises(ValidationFailed, match="elective"):
        assignment_override_milestone(
            assignment=assignment,
            milestone=elective,
            action="adjusted",
            units=Decimal(1),
            by=boss,
            confirm_detach=False,
        )
    with pytest.raises(ValidationFailed, match="another learning plan"):
        assignment_override_milestone(
            assignment=assignment, milestone=f.milestone(), action="waived", by=boss, confirm_detach=False
        )
    assert not MilestoneStatus.objects.exists()


def test_deleting_an_assignment_removes_it_and_its_statuses() -> None:
    boss, assignment, milestone = _group_assignment()
    assignment_override_milestone(
        assignment=assignment, milestone=milestone, action="waived", by=boss, confirm_detach=True
    )

    assignment_delete(assignment=assignment, by=boss)

    assert not Assignment.objects.exists()
    assert not MilestoneStatus.objects.exists()


def test_the_assigned_users_list_is_searchable_and_its_queries_do_not_grow(
    django_assert_max_num_queries: Any,
) -> None:
    """R-CUR-8: Manage Users lists assigned users, searchable, in a fixed number of queries."""
    boss = f.supervisor()
    plan, _ = f.curriculum_with_milestones()
    group = f.professional_group([f.professional() for _ in range(12)])
    dora = f.professional(first_name="Dora", last_name="Quill")
    curriculum_assign(curriculum=plan, group=group, by=boss)
    curriculum_assign(curriculum=plan, people=people(dora), by=boss)

    with django_assert_max_num_queries(1):
        rows = [(a.person.get_full_name(), a.group.name if a.group else None) for a in assigned_users_list(plan)]
    assert len(rows) == 13
    assert [a.person_id for a in assigned_users_list(plan, search="quill")] == [dora.pk]


def test_a_persons_assignments_with_progress_take_the_same_queries_for_one_plan_or_many(
    django_assert_num_queries: Any,
) -> None:
    """R-CUR-7: a person's learning plans with their progress per milestone; the query count does not grow."""
    boss = f.supervisor()
    ann = f.professional()
    for _ in range(4):
        plan, _ = f.curriculum_with_milestones(milestones=3)
        curriculum_assign(curriculum=plan, people=people(ann), by=boss)

    with django_assert_num_queries(5):
        rows = assignments_with_progress(ann.pk)

    assert len(rows) == 4
    assert all(len(r.progress.milestones) == 3 for r in rows)
    assert {r.progress.state.value for r in rows} == {"not_started"}


def test_the_assignment_notice_goes_once_committed_to_the_people_newly_assigned_only(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    """R-CUR-10: the assignment notification is sent automatically on assignment; R-CUR-5: people already assigned
    are not reassigned, so they are not told again."""
    boss = f.supervisor()
    plan, _ = f.curriculum_with_milestones()
    ann, bob = f.professional(), f.professional()
    with django_capture_on_commit_callbacks(execute=True):
        curriculum_assign(curriculum=plan, people=people(ann), by=boss)
    with django_capture_on_commit_callbacks(execute=True):
        curriculum_assign(curriculum=plan, group=f.professional_group([ann, bob]), by=boss)

    assert [m.to for m in mailoutbox] == [[ann.email], [bob.email]]
