"""Curriculum, milestone, program and catalog services (R-CUR-1, 2, 4, 9): what they write and what they refuse."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.curriculum import factories as cf
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.curriculum import services
from waypoint.curriculum.models import (
    Assignment,
    Catalog,
    Curriculum,
    Milestone,
    MilestoneProgram,
    Program,
    ProgramEnrolment,
    Session,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


def positions(milestone: Milestone) -> list[int]:
    return list(milestone.links.order_by("position").values_list("program_id", flat=True))


def milestone_order(curriculum: Curriculum) -> list[tuple[int, int]]:
    return list(curriculum.milestones.order_by("position").values_list("pk", "position"))


# R-CUR-1: the plan


def test_a_supervisor_creates_a_plan_with_its_settings_and_catalogs() -> None:
    """R-CUR-1: name, description, dates, order enforced, registration type, auto-register, catalogs."""
    by = cf.supervisor()
    catalogs = [cf.catalog(), cf.catalog()]
    plan = services.curriculum_create(
        by=by,
        values={
            "name": "New team leaders",
            "description": "Six months of leadership.",
            "starts_at": START,
            "ends_at": START + dt.timedelta(days=180),
            "due_date": dt.date(2027, 9, 30),
            "milestone_order_enforced": True,
            "registration_type": "enforced",
            "auto_register": True,
            "catalog_ids": [c.pk for c in catalogs],
        },
    )
    plan.refresh_from_db()
    assert plan.auto_register
    assert plan.milestone_order_enforced
    assert plan.created_by_id == by.pk
    assert set(plan.catalogs.all()) == set(catalogs)


def test_auto_register_on_a_plan_whose_registration_is_not_enforced_is_refused_and_nothing_is_saved() -> None:
    """R-CUR-1: auto-register only when registration is Enforced."""
    with pytest.raises(ValidationFailed) as refused:
        services.curriculum_create(
            by=cf.supervisor(), values={"name": "Onboarding", "registration_type": "disabled", "auto_register": True}
        )
    assert refused.value.fields["auto_register"] == ["Auto-register is only available when registration is Enforced."]
    assert not Curriculum.objects.exists()


def test_switching_a_plan_with_add_to_my_learning_to_enforced_registration_is_refused_and_changes_nothing() -> None:
    """R-CUR-1: the Add to My Learning button only when registration is not Enforced."""
    plan = cf.curriculum(registration_type="non_enforced", add_to_my_learning=True)
    with pytest.raises(ValidationFailed) as refused:
        services.curriculum_update(curriculum=plan, by=cf.supervisor(), changes={"registration_type": "enforced"})
    assert "add_to_my_learning" in refused.value.fields
    plan.refresh_from_db()
    assert plan.registration_type == "non_enforced"


def test_a_plan_ending_before_it_starts_is_refused() -> None:
    """R-CUR-1: the end date-time comes after the start."""
    with pytest.raises(ValidationFailed) as refused:
        services.curriculum_create(
            by=cf.supervisor(), values={"name": "Conference", "starts_at": START, "ends_at": START}
        )
    assert set(refused.value.fields) == {"ends_at"}


def test_an_unknown_catalog_is_refused_and_the_plan_keeps_its_catalogs() -> None:
    """R-CUR-1: the catalogs a plan appears in are existing catalogs."""
    catalog = cf.catalog()
    plan = cf.curriculum(catalogs=[catalog])
    with pytest.raises(ValidationFailed) as refused:
        services.curriculum_update(
            curriculum=plan, by=cf.supervisor(), changes={"name": "Renamed", "catalog_ids": [catalog.pk + 999]}
        )
    assert "catalog_ids" in refused.value.fields
    plan.refresh_from_db()
    assert plan.name != "Renamed"
    assert list(plan.catalogs.all()) == [catalog]


def test_staff_without_supervisor_may_not_create_a_plan() -> None:
    with pytest.raises(PermissionRefused, match="Supervisor"):
        services.curriculum_create(by=cf.staff_without_supervisor(), values={"name": "Onboarding"})
    assert not Curriculum.objects.exists()


def test_a_plan_someone_is_assigned_to_is_not_deleted() -> None:
    plan = cf.curriculum()
    Assignment.objects.create(curriculum=plan, person=cf.professional())
    with pytest.raises(Conflict, match="Manage Users"):
        services.curriculum_delete(curriculum=plan, by=cf.supervisor())
    assert Curriculum.objects.filter(pk=plan.pk).exists()


def test_a_plan_nobody_is_assigned_to_is_deleted_with_its_milestones_and_links() -> None:
    plan, _ = cf.curriculum_with_milestones(2, 2)
    services.curriculum_delete(curriculum=plan, by=cf.supervisor())
    assert not Curriculum.objects.exists()
    assert not MilestoneProgram.objects.exists()
    assert Program.objects.count() == 4


# R-CUR-2: milestones and their linked programs


def test_milestones_are_appended_in_order() -> None:
    """R-CUR-2: milestones keep positions 1, 2, 3…"""
    plan = cf.curriculum()
    by = cf.supervisor()
    first = services.milestone_create(curriculum=plan, by=by, values={"name": "Foundations", "units": Decimal(2)})
    second = services.milestone_create(
        curriculum=plan, by=by, values={"name": "Electives", "metric": "none", "units": None}
    )
    assert milestone_order(plan) == [(first.pk, 1), (second.pk, 2)]


def test_a_sessions_milestone_without_units_is_refused() -> None:
    """R-CUR-2: the units of a Sessions or Credits milestone are required."""
    plan = cf.curriculum()
    with pytest.raises(ValidationFailed) as refused:
        services.milestone_create(curriculum=plan, by=cf.supervisor(), values={"name": "Foundations"})
    assert set(refused.value.fields) == {"units"}
    assert not plan.milestones.exists()


def test_an_elective_milestone_with_units_is_refused() -> None:
    """R-CUR-2: metric None (elective) has no units."""
    with pytest.raises(ValidationFailed) as refused:
        services.milestone_create(
            curriculum=cf.curriculum(),
            by=cf.supervisor(),
            values={"name": "Electives", "metric": "none", "units": Decimal(1)},
        )
    assert set(refused.value.fields) == {"units"}


def test_deleting_a_milestone_closes_the_gap_in_positions() -> None:
    """R-CUR-2: positions stay contiguous."""
    plan, (first, second, third) = cf.curriculum_with_milestones(3, 1)
    services.milestone_delete(milestone=second, by=cf.supervisor())
    assert milestone_order(plan) == [(first.pk, 1), (third.pk, 2)]


def test_milestones_are_reordered_and_a_list_missing_one_is_refused() -> None:
    plan, (first, second, third) = cf.curriculum_with_milestones(3, 1)
    by = cf.supervisor()
    services.milestones_reorder(curriculum=plan, milestone_ids=[third.pk, first.pk, second.pk], by=by)
    assert milestone_order(plan) == [(third.pk, 1), (first.pk, 2), (second.pk, 3)]
    with pytest.raises(ValidationFailed, match="missing"):
        services.milestones_reorder(curriculum=plan, milestone_ids=[first.pk, second.pk], by=by)
    assert milestone_order(plan) == [(third.pk, 1), (first.pk, 2), (second.pk, 3)]


def test_programs_and_activities_are_linked_to_a_sessions_milestone_in_order() -> None:
    """R-CUR-2: linked programs are ordered; activities may be linked to a session-based milestone."""
    milestone = cf.milestone(metric="sessions", units=3)
    program, activity, other = cf.program(), cf.activity(), cf.program()
    by = cf.supervisor()
    services.milestone_link_programs(milestone=milestone, programs=[program, activity], by=by)
    services.milestone_link_programs(milestone=milestone, programs=[other, program], by=by)
    assert positions(milestone) == [program.pk, activity.pk, other.pk]
    assert list(milestone.links.order_by("position").values_list("position", flat=True)) == [1, 2, 3]


def test_an_activity_is_linked_to_an_elective_milestone() -> None:
    """R-CUR-2: activities on elective milestones."""
    milestone = cf.milestone(metric="none")
    activity = cf.activity()
    services.milestone_link_programs(milestone=milestone, programs=[activity], by=cf.supervisor())
    assert positions(milestone) == [activity.pk]


def test_linking_an_activity_to_a_credits_milestone_is_refused_and_links_nothing() -> None:
    """R-CUR-2: activities only on session-based or elective milestones."""
    milestone = cf.milestone(metric="credits", units=3)
    activity = cf.activity(name="Reading list")
    with pytest.raises(ValidationFailed) as refused:
        services.milestone_link_programs(milestone=milestone, programs=[cf.program(), activity], by=cf.supervisor())
    assert "Reading list" in refused.value.fields["programs"][0]
    assert not milestone.links.exists()


def test_a_sessions_milestone_with_activities_cannot_become_credits_based() -> None:
    """R-CUR-2: the metric must still allow the activities already linked."""
    milestone = cf.milestone(programs=[cf.activity()], metric="sessions", units=1)
    with pytest.raises(ValidationFailed) as refused:
        services.milestone_update(milestone=milestone, by=cf.supervisor(), changes={"metric": "credits"})
    assert set(refused.value.fields) == {"programs"}
    milestone.refresh_from_db()
    assert milestone.metric == "sessions"


def test_unlinking_a_program_closes_the_gap() -> None:
    a, b, c = cf.program(), cf.program(), cf.program()
    milestone = cf.milestone(programs=[a, b, c])
    services.milestone_unlink_program(milestone=milestone, program=b, by=cf.supervisor())
    assert positions(milestone) == [a.pk, c.pk]
    assert list(milestone.links.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_linked_programs_are_reordered_when_program_order_is_enforced() -> None:
    """R-CUR-2: drag to reorder when order is enforced."""
    a, b, c = cf.program(), cf.program(), cf.program()
    milestone = cf.milestone(programs=[a, b, c], program_order_enforced=True)
    services.milestone_reorder_programs(milestone=milestone, program_ids=[c.pk, a.pk, b.pk], by=cf.supervisor())
    assert positions(milestone) == [c.pk, a.pk, b.pk]


def test_reordering_programs_of_a_milestone_without_enforced_order_is_refused() -> None:
    """R-CUR-2: linked programs are reordered only when program order is enforced."""
    a, b = cf.program(), cf.program()
    milestone = cf.milestone(programs=[a, b], program_order_enforced=False)
    with pytest.raises(ValidationFailed, match="Program Order Enforced"):
        services.milestone_reorder_programs(milestone=milestone, program_ids=[b.pk, a.pk], by=cf.supervisor())
    assert positions(milestone) == [a.pk, b.pk]


# R-CUR-4: duplicate


def _source() -> Curriculum:
    plan = cf.curriculum(name="Leadership", registration_type="enforced", auto_register=True, catalogs=[cf.catalog()])
    cf.milestone(plan, programs=[cf.program(), cf.program()], name="Foundations", program_order_enforced=True)
    cf.milestone(plan, programs=[cf.activity()], metric="none", name="Electives")
    return plan


def test_duplicating_the_shell_copies_the_plan_without_milestones() -> None:
    """R-CUR-4: Duplicate Learning Plan copies the shell only, named "Copy of …"."""
    source = _source()
    copy = services.curriculum_duplicate(curriculum=source, mode="shell", by=cf.supervisor())
    assert copy.pk != source.pk
    assert copy.name == "Copy of Leadership"
    assert (copy.registration_type, copy.auto_register) == ("enforced", True)
    assert not copy.milestones.exists()
    assert not copy.catalogs.exists()


def test_duplicating_plan_and_milestones_copies_the_milestones_without_programs() -> None:
    """R-CUR-4: Duplicate Learning Plan & Milestones."""
    source = _source()
    copy = services.curriculum_duplicate(curriculum=source, mode="milestones", by=cf.supervisor())
    copied = list(copy.milestones.order_by("position").values_list("name", "position", "metric", "units"))
    original = list(source.milestones.order_by("position").values_list("name", "position", "metric", "units"))
    assert copied == original
    assert not MilestoneProgram.objects.filter(milestone__curriculum=copy).exists()


def test_duplicating_everything_links_the_same_programs_in_the_same_order() -> None:
    """R-CUR-4: Duplicate Learning Plan & Milestones & Copy Programs."""
    source = _source()
    programs_before = Program.objects.count()
    copy = services.curriculum_duplicate(curriculum=source, mode="everything", by=cf.supervisor())
    for original, copied in zip(
        source.milestones.order_by("position"), copy.milestones.order_by("position"), strict=True
    ):
        assert copied.pk != original.pk
        assert positions(copied) == positions(original)
    assert Program.objects.count() == programs_before
    assert source.milestones.count() == 2


def test_an_unknown_duplicate_mode_is_refused_and_copies_nothing() -> None:
    source = _source()
    with pytest.raises(ValidationFailed) as refused:
        services.curriculum_duplicate(curriculum=source, mode="all", by=cf.supervisor())
    assert "mode" in refused.value.fields
    assert Curriculum.objects.count() == 1


# R-CUR-9: catalogs


def test_many_plans_are_added_to_many_catalogs_once_each() -> None:
    """R-CUR-9: add one or many plans to one or many catalogs."""
    already = cf.catalog()
    plans = [cf.curriculum(catalogs=[already]), cf.curriculum(), cf.curriculum()]
    other = cf.catalog()
    cf.curriculum()  # not chosen
    added = services.catalogs_add(
        curricula=Curriculum.objects.filter(pk__in=[p.pk for p in plans]),
        catalogs=Catalog.objects.filter(pk__in=[already.pk, other.pk]),
        by=cf.supervisor(),
    )
    assert added == 5
    for plan in plans:
        assert set(plan.catalogs.all()) == {already, other}
    assert Curriculum.catalogs.through.objects.count() == 6


def test_many_plans_are_removed_from_many_catalogs_leaving_other_catalogs() -> None:
    """R-CUR-9: remove one or many plans from one or many catalogs."""
    a, b, kept = cf.catalog(), cf.catalog(), cf.catalog()
    plans = [cf.curriculum(catalogs=[a, b, kept]), cf.curriculum(catalogs=[a])]
    untouched = cf.curriculum(catalogs=[a, b])
    removed = services.catalogs_remove(
        curricula=Curriculum.objects.filter(pk__in=[p.pk for p in plans]),
        catalogs=Catalog.objects.filter(pk__in=[a.pk, b.pk]),
        by=cf.supervisor(),
    )
    assert removed == 3
    assert list(plans[0].catalogs.all()) == [kept]
    assert not plans[1].catalogs.exists()
    assert set(untouched.catalogs.all()) == {a, b}


def test_adding_to_catalogs_with_nothing_chosen_is_refused() -> None:
    """R-CUR-9: at least one plan and one catalog."""
    with pytest.raises(ValidationFailed) as refused:
        services.catalogs_add(curricula=Curriculum.objects.none(), catalogs=Catalog.objects.all(), by=cf.supervisor())
    assert set(refused.value.fields) == {"curricula", "catalogs"}


def test_catalog_changes_need_supervisor() -> None:
    plan = cf.curriculum()
    with pytest.raises(PermissionRefused):
        services.catalogs_add(
            curricula=Curriculum.objects.filter(pk=plan.pk),
            catalogs=Catalog.objects.filter(pk=cf.catalog().pk),
            by=cf.staff_without_supervisor(),
        )
    assert not plan.catalogs.exists()


# Programs, sessions, catalogs


def test_programs_get_sessions_that_end_after_they_start() -> None:
    by = cf.supervisor()
    program = services.program_create(by=by, values={"name": "Coaching", "code": "COACH1"})
    session = services.session_create(
        program=program, by=by, values={"starts_at": START, "ends_at": START + dt.timedelta(hours=3)}
    )
    with pytest.raises(ValidationFailed) as refused:
        services.session_update(session=session, by=by, changes={"ends_at": START})
    assert set(refused.value.fields) == {"ends_at"}
    session.refresh_from_db()
    assert session.ends_at == START + dt.timedelta(hours=3)


def test_a_duplicate_program_code_is_refused() -> None:
    cf.program(code="COACH1")
    with pytest.raises(ValidationFailed) as refused:
        services.program_create(by=cf.supervisor(), values={"name": "Coaching", "code": "COACH1"})
    assert "code" in refused.value.fields


def test_an_activity_has_no_sessions() -> None:
    """An activity counts as one session (R-CUR-3) because it has none of its own."""
    with pytest.raises(ValidationFailed) as refused:
        services.session_create(
            program=cf.activity(), by=cf.supervisor(), values={"starts_at": START, "ends_at": START}
        )
    assert "program" in refused.value.fields
    with pytest.raises(ValidationFailed):
        services.program_update(program=cf.program(sessions=1), by=cf.supervisor(), changes={"kind": "activity"})


def test_a_session_someone_is_enrolled_in_is_not_deleted() -> None:
    program = cf.program(sessions=1)
    session = program.sessions.get()
    ProgramEnrolment.objects.create(person=cf.professional(), program=program, session=session)
    with pytest.raises(Conflict, match="enrolled"):
        services.session_delete(session=session, by=cf.supervisor())
    assert Session.objects.filter(pk=session.pk).exists()
    services.session_delete(session=cf.session(), by=cf.supervisor())
    assert Session.objects.count() == 1


def test_a_catalog_is_created_and_a_duplicate_name_refused() -> None:
    by = cf.supervisor()
    services.catalog_create(by=by, values={"name": "Leadership"})
    with pytest.raises(ValidationFailed):
        services.catalog_create(by=by, values={"name": "Leadership"})
    assert Catalog.objects.count() == 1


# The admin applies the same rules


def test_the_admin_refuses_auto_register_on_a_plan_whose_registration_is_not_enforced(client: Client) -> None:
    """R-CUR-1: the admin's plan form applies the rule the services apply."""
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
    response = client.post(
        "/admin/curriculum/curriculum/add/",
        {
            "name": "Onboarding",
            "registration_type": "disabled",
            "auto_register": "on",
            "milestones-TOTAL_FORMS": "0",
            "milestones-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Auto-register is only available when registration is Enforced." in response.content.decode()
    assert not Curriculum.objects.exists()
    client.post(
        "/admin/curriculum/curriculum/add/",
        {
            "name": "Onboarding",
            "registration_type": "enforced",
            "auto_register": "on",
            "milestones-TOTAL_FORMS": "0",
            "milestones-INITIAL_FORMS": "0",
        },
    )
    assert Curriculum.objects.get().auto_register
