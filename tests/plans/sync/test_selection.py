"""The selection steps of the sync wizard as selectors: permission (R-SYNC-1), programme (R-SYNC-2),
components (R-SYNC-3, R-SYNC-4) and learners (R-SYNC-5)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.utils import timezone

from tests import factories as make
from waypoint.core.errors import NotFound, PermissionRefused, ValidationFailed
from waypoint.people.models import PLAN_PERMISSIONS, Group, Learner, Perm
from waypoint.plans.models import Component, RecordVisit
from waypoint.plans.services import component_add, component_delete, component_update
from waypoint.plans.sync.schemas import LearnerFilterIn
from waypoint.plans.sync.selection import (
    SYNC_EXCLUDED_STATUSES,
    decode_key,
    encode_key,
    learners_matching,
    require_sync_permission,
    sync_components_list,
    sync_enrolment_for,
    sync_filter_groups,
    sync_filter_tutors,
    sync_learners_list,
)
from waypoint.plans.sync.types import hand_made_key, template_key
from waypoint.programmes.models import ComponentType, Enrolment, ProgrammeStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> AbstractUser:
    return make.staff([Perm.SUPERVISOR])


@pytest.fixture
def source() -> Enrolment:
    """A learner on a programme of four template components (the last a Review)."""
    return make.enrolment(make.learner(), make.programme(templates=4))


def _plan(enrolment: Enrolment) -> list[Component]:
    return list(Component.objects.filter(enrolment=enrolment).order_by("position", "id"))


def _ids(learners: Any) -> list[int]:
    return [learner.pk for learner in learners]


# R-SYNC-1


@pytest.mark.parametrize("perm", sorted(PLAN_PERMISSIONS, key=str))
def test_each_sync_permission_but_edit_delete_finished_allows_the_sync_action(perm: Perm) -> None:  # R-SYNC-1
    user = make.staff([perm])
    if perm is Perm.EDIT_DELETE_FINISHED:
        with pytest.raises(PermissionRefused):
            require_sync_permission(user)
    else:
        require_sync_permission(user)


def test_an_admin_without_sync_permissions_is_refused_with_the_permissions_needed() -> None:  # R-SYNC-1
    with pytest.raises(PermissionRefused) as refused:
        require_sync_permission(make.staff())
    assert "Internal Verifier" in refused.value.message
    assert "Supervisor" in refused.value.message


# R-SYNC-2


def test_the_only_programme_is_chosen_when_none_is_given(source: Enrolment) -> None:  # R-SYNC-2
    assert sync_enrolment_for(source.learner, None).pk == source.pk


def test_a_learner_on_sub_programmes_must_choose_one(admin: AbstractUser) -> None:  # R-SYNC-2
    parent = make.programme(templates=1)
    sub = make.programme(templates=2, parent=parent)
    enrolment = make.enrolment(make.learner(), parent)

    with pytest.raises(ValidationFailed) as no_choice:
        sync_enrolment_for(enrolment.learner, None)
    assert parent.name in no_choice.value.message
    assert sub.name in no_choice.value.message
    assert sync_enrolment_for(enrolment.learner, sub.pk).programme_id == sub.pk
    assert sync_enrolment_for(enrolment.learner, parent.pk).programme_id == parent.pk


def test_a_programme_the_learner_is_not_on_is_not_found(source: Enrolment) -> None:  # R-SYNC-2
    other = make.programme()
    with pytest.raises(NotFound, match="not enrolled on programme"):
        sync_enrolment_for(source.learner, other.pk)
    with pytest.raises(NotFound):
        sync_enrolment_for(source.learner, 987_654)


# R-SYNC-3


def test_every_component_of_the_plan_is_listed_in_plan_order(source: Enrolment, admin: AbstractUser) -> None:
    plan = _plan(source)
    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=None)  # R-SYNC-3
    assert [c.component_id for c in choices] == [c.pk for c in plan]
    assert [c.key for c in choices] == [template_key(c.template_id) for c in plan]  # type: ignore[arg-type]
    assert all(c.updated_at is not None and c.recent is None and not c.preselected for c in choices)


def test_components_are_filtered_by_type(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-3
    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=None, type=ComponentType.REVIEW)
    assert [c.type for c in choices] == [ComponentType.REVIEW]


def test_components_are_searched_by_name_ignoring_case(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-3
    second = _plan(source)[1]
    component_update(component=second, by=admin, changes={"name": "Safeguarding Workbook"}, visit_id=None)
    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=None, search="workbook SAFE")
    assert [c.component_id for c in choices] == [second.pk]
    assert sync_components_list(enrolment=source, by_id=admin.pk, visit_id=None, search="nothing like it") == []


def test_a_component_deleted_in_the_visit_is_still_listed(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-3
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    gone = _plan(source)[0]
    component_delete(component=gone, by=admin, visit_id=visit.pk)

    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=visit.pk)

    deleted = [c for c in choices if c.component_id is None]
    assert [(c.key, c.name, c.type, c.updated_at) for c in deleted] == [
        (template_key(gone.template_id), gone.name, gone.type, None)  # type: ignore[arg-type]
    ]
    assert len(choices) == 4


def test_a_component_deleted_and_re_added_in_the_visit_is_listed_once(source: Enrolment, admin: AbstractUser) -> None:
    from waypoint.plans.services import component_readd

    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    gone = _plan(source)[0]
    component_delete(component=gone, by=admin, visit_id=visit.pk)
    back = component_readd(enrolment=source, template_id=gone.template_id, by=admin, visit_id=visit.pk)  # type: ignore[arg-type]

    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=visit.pk)  # R-SYNC-3, R-CORE-7

    again = [c for c in choices if c.key == template_key(gone.template_id)]  # type: ignore[arg-type]
    assert [(c.component_id, c.recent) for c in again] == [(back.pk, "created")]


def test_component_keys_survive_a_round_trip_as_text() -> None:
    assert encode_key(template_key(12)) == "t12"
    assert encode_key(hand_made_key(345)) == "c345"
    assert decode_key("t12") == template_key(12)
    assert decode_key("c345") == hand_made_key(345)
    for bad in ("", "x1", "t", "t0", "t-1", "c12a", "t" + "9" * 30):
        with pytest.raises(ValidationFailed):
            decode_key(bad)


# R-SYNC-4


def test_recently_created_updated_and_deleted_components_are_preselected(
    source: Enrolment, admin: AbstractUser
) -> None:  # R-SYNC-4
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    first, second, third, _fourth = _plan(source)
    component_update(component=first, by=admin, changes={"due_date": dt.date(2027, 5, 1)}, visit_id=visit.pk)
    component_delete(component=second, by=admin, visit_id=visit.pk)
    added = component_add(enrolment=source, by=admin, values={"name": "Extra", "type": "exam"}, visit_id=visit.pk)

    choices = {c.key: c for c in sync_components_list(enrolment=source, by_id=admin.pk, visit_id=visit.pk)}

    recent = {k: c.recent for k, c in choices.items() if c.preselected}
    assert recent == {
        template_key(first.template_id): "updated",  # type: ignore[arg-type]
        template_key(second.template_id): "deleted",  # type: ignore[arg-type]
        hand_made_key(added.pk): "created",
    }
    assert not choices[template_key(third.template_id)].preselected  # type: ignore[arg-type]


def test_changes_of_an_earlier_ended_visit_are_not_preselected(source: Enrolment, admin: AbstractUser) -> None:
    earlier = RecordVisit.objects.create(admin=admin, learner=source.learner)
    component_update(component=_plan(source)[0], by=admin, changes={"instructions": "Then"}, visit_id=earlier.pk)
    component_delete(component=_plan(source)[1], by=admin, visit_id=earlier.pk)
    RecordVisit.objects.filter(pk=earlier.pk).update(ended_at=timezone.now())
    now = RecordVisit.objects.create(admin=admin, learner=source.learner)

    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=now.pk)  # R-SYNC-4, R-SYNC-12

    assert not any(c.preselected for c in choices)
    assert all(c.component_id is not None for c in choices)


def test_a_colleagues_changes_in_the_same_visit_are_not_preselected(source: Enrolment, admin: AbstractUser) -> None:
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    colleague = make.staff([Perm.SUPERVISOR])
    component_update(component=_plan(source)[0], by=colleague, changes={"name": "Theirs"}, visit_id=visit.pk)
    choices = sync_components_list(enrolment=source, by_id=admin.pk, visit_id=visit.pk)  # R-SYNC-4, R-SYNC-12
    assert not any(c.preselected for c in choices)


# R-SYNC-5


def _peer(source: Enrolment, **values: Any) -> Learner:
    status = values.pop("status", ProgrammeStatus.ACTIVE)
    made = make.learner(**values)
    make.enrolment(made, source.programme, status=status)
    return made


def test_learners_on_the_same_programme_are_listed_without_the_source(source: Enrolment, admin: AbstractUser) -> None:
    peers = [_peer(source) for _ in range(3)]
    make.enrolment(make.learner(), make.programme())  # another programme

    learners = sync_learners_list(user=admin, enrolment=source)  # R-SYNC-5

    assert set(_ids(learners)) == {p.pk for p in peers}
    assert source.learner_id not in _ids(learners)


@pytest.mark.parametrize("status", sorted(SYNC_EXCLUDED_STATUSES))
def test_learners_in_an_excluded_status_are_not_listed(source: Enrolment, admin: AbstractUser, status: str) -> None:
    active = _peer(source)
    _peer(source, status=status)
    assert _ids(sync_learners_list(user=admin, enrolment=source)) == [active.pk]  # R-SYNC-5


def test_learners_in_other_statuses_are_listed_with_their_programme_status(
    source: Enrolment, admin: AbstractUser
) -> None:  # R-SYNC-5
    for status in (ProgrammeStatus.BREAK_IN_LEARNING, ProgrammeStatus.COMPLETED, ProgrammeStatus.WITHDRAWN):
        _peer(source, status=status)
    statuses = {learner.programme_status for learner in sync_learners_list(user=admin, enrolment=source)}
    assert statuses == {"break_in_learning", "completed", "withdrawn"}


def test_learners_outside_a_group_limited_admins_groups_are_not_listed(source: Enrolment) -> None:  # R-SYNC-5
    mine, theirs = Group.objects.create(name="Mine"), Group.objects.create(name="Theirs")
    visible = _peer(source, groups=[mine])
    _peer(source, groups=[theirs])
    _peer(source)
    limited = make.staff([Perm.ADM_EDIT], all_groups=False, groups=[mine])

    assert _ids(sync_learners_list(user=limited, enrolment=source)) == [visible.pk]
    assert [g.name for g in sync_filter_groups(user=limited, enrolment=source)] == ["Mine"]


def test_learners_are_filtered_by_programme_status(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-5
    _peer(source)
    on_break = _peer(source, status=ProgrammeStatus.BREAK_IN_LEARNING)
    found = sync_learners_list(user=admin, enrolment=source, statuses=[ProgrammeStatus.BREAK_IN_LEARNING])
    assert _ids(found) == [on_break.pk]
    # An excluded status never brings its learners back.
    _peer(source, status=ProgrammeStatus.ARCHIVED)
    assert not sync_learners_list(user=admin, enrolment=source, statuses=[ProgrammeStatus.ARCHIVED]).exists()


def test_learners_are_filtered_by_groups(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-5
    a, b, c = (Group.objects.create(name=n) for n in ("A", "B", "C"))
    in_a, in_b = _peer(source, groups=[a]), _peer(source, groups=[b, c])
    _peer(source, groups=[c])
    found = sync_learners_list(user=admin, enrolment=source, group_ids=[a.pk, b.pk])
    assert set(_ids(found)) == {in_a.pk, in_b.pk}


def test_learners_are_filtered_by_tutors(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-5
    kim, lee = make.staff(), make.staff()
    with_kim = _peer(source, tutor=kim)
    _peer(source, tutor=lee)
    _peer(source)
    assert _ids(sync_learners_list(user=admin, enrolment=source, tutor_ids=[kim.pk])) == [with_kim.pk]


def test_learners_are_searched_by_name_and_uln(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-5
    ada = _peer(source, first_name="Ada", surname="Lovelace")
    other = _peer(source, first_name="Grace", surname="Hopper")
    assert _ids(sync_learners_list(user=admin, enrolment=source, search="ada LOVE")) == [ada.pk]
    assert _ids(sync_learners_list(user=admin, enrolment=source, search=other.uln[:8])) == [other.pk]


def test_learners_are_ordered_by_surname_then_first_name(source: Enrolment, admin: AbstractUser) -> None:
    b = _peer(source, first_name="Zoe", surname="Brown")
    a2 = _peer(source, first_name="Bea", surname="Adams")
    a1 = _peer(source, first_name="Al", surname="Adams")
    assert _ids(sync_learners_list(user=admin, enrolment=source)) == [a1.pk, a2.pk, b.pk]  # R-SYNC-5


def test_learners_matching_filters_counts_every_match(source: Enrolment, admin: AbstractUser) -> None:  # R-SYNC-5
    group = Group.objects.create(name="Cohort")
    for _ in range(7):
        _peer(source, groups=[group])
    _peer(source)
    filters = LearnerFilterIn(group=[group.pk])
    assert learners_matching(admin, source, filters).count() == 7


def test_the_group_and_tutor_filters_offer_what_occurs_among_eligible_learners(
    source: Enrolment, admin: AbstractUser
) -> None:  # R-SYNC-5
    cohort, evening, archived_only = (Group.objects.create(name=n) for n in ("Cohort 1", "Evening", "Old"))
    kim, lee, gone = make.staff(), make.staff(), make.staff()
    _peer(source, groups=[cohort], tutor=kim)
    _peer(source, groups=[evening], tutor=lee)
    _peer(source, groups=[archived_only], tutor=gone, status=ProgrammeStatus.ARCHIVED)
    make.learner(groups=[Group.objects.create(name="Elsewhere")], tutor=make.staff())
    unused = Group.objects.create(name="Cohort unused")

    groups = sync_filter_groups(user=admin, enrolment=source)
    assert [g.name for g in groups] == ["Cohort 1", "Evening"]
    assert unused not in groups
    assert [g.name for g in sync_filter_groups(user=admin, enrolment=source, search="coh")] == ["Cohort 1"]
    assert set(sync_filter_tutors(user=admin, enrolment=source)) == {kim, lee}
    assert list(sync_filter_tutors(user=admin, enrolment=source, search=kim.last_name)) == [kim]


def test_listing_learners_costs_the_same_for_3_and_30_learners(
    source: Enrolment, admin: AbstractUser, django_assert_num_queries: Any
) -> None:  # R-SYNC-5, R-SYNC-26
    group, tutor = Group.objects.create(name="Cohort"), make.staff()

    def listing() -> int:
        learners = sync_learners_list(user=admin, enrolment=source)
        rows = [(x.programme_status, x.tutor and x.tutor.pk, [g.pk for g in x.groups.all()]) for x in learners]
        return len(rows)

    for _ in range(3):
        _peer(source, groups=[group], tutor=tutor)
    with django_assert_num_queries(2):  # learners with their tutor, then their groups
        assert listing() == 3
    for _ in range(27):
        _peer(source, groups=[group], tutor=tutor)
    with django_assert_num_queries(2):
        assert listing() == 30
