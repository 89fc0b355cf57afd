"""The Learner Manager's condition builder (R-PLR-2)."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from waypoint.attainments.conditions import (
    Condition,
    Field,
    Group,
    Logic,
    Op,
    condition_parse,
    condition_q,
    learner_manager_list,
)
from waypoint.core.errors import ValidationFailed
from waypoint.people.models import Group as LearnerGroup
from waypoint.people.models import Learner, Perm
from waypoint.programmes.models import Enrolment, ProgrammeStatus

pytestmark = pytest.mark.django_db


def _ids(condition: dict[str, Any]) -> set[int]:
    return set(Learner.objects.filter(condition_q(condition_parse(condition))).values_list("pk", flat=True))


def test_a_condition_is_parsed_into_a_typed_tree() -> None:
    tree = condition_parse(
        {
            "logic": "or",
            "conditions": [
                {"field": "surname", "operator": "starts_with", "value": "Sm"},
                {"logic": "and", "conditions": [{"field": "uln", "operator": "is_empty"}]},
                {"field": "group", "operator": "in", "value": [1, 2]},
            ],
        }
    )
    assert tree == Group(
        Logic.OR,
        (
            Condition(Field.SURNAME, Op.STARTS_WITH, "Sm"),
            Group(Logic.AND, (Condition(Field.ULN, Op.IS_EMPTY),)),
            Condition(Field.GROUP, Op.IN, (1, 2)),
        ),
    )
    assert condition_parse(None) == Group()


def test_each_bad_part_of_a_condition_is_named_with_its_path() -> None:
    with pytest.raises(ValidationFailed) as failed:
        condition_parse(
            {
                "logic": "xor",
                "conditions": [
                    {"field": "shoe_size", "operator": "equals", "value": 9},
                    {"field": "programme_status", "operator": "contains", "value": "act"},
                    {"field": "programme_status", "operator": "equals", "value": "dormant"},
                    {"field": "uln", "operator": "is_empty", "value": "x"},
                    {"logic": "and", "conditions": [{"field": "tutor", "operator": "equals", "value": "Sam"}]},
                    {"field": "group", "operator": "in", "value": []},
                ],
            }
        )
    assert set(failed.value.fields) == {
        "logic",
        "conditions.0.field",
        "conditions.1.operator",
        "conditions.2.value",
        "conditions.3.value",
        "conditions.4.conditions.0.value",
        "conditions.5.value",
    }
    assert "programme_status takes one of: equals, not_equals, in" in failed.value.fields["conditions.1.operator"][0]


def test_groups_nest_only_so_deep() -> None:
    tree: dict[str, Any] = {"field": "surname", "operator": "is_empty"}
    for _ in range(7):
        tree = {"logic": "and", "conditions": [tree]}
    with pytest.raises(ValidationFailed, match="nest at most"):
        condition_parse(tree)


def test_conditions_on_names_uln_tutor_and_employer() -> None:
    tutor = factories.staff(username="tutor-sam")
    employer = factories.employer(name="Acme Widgets")
    smith = factories.learner(surname="Smith", tutor=tutor, employer=employer)
    smythe = factories.learner(surname="Smythe", first_name="Jo")
    no_uln = factories.learner(surname="Jones", uln="")

    assert _ids({"conditions": [{"field": "surname", "operator": "starts_with", "value": "sm"}]}) == {
        smith.pk,
        smythe.pk,
    }
    assert _ids({"conditions": [{"field": "uln", "operator": "is_empty"}]}) == {no_uln.pk}
    assert _ids({"conditions": [{"field": "uln", "operator": "equals", "value": smith.uln}]}) == {smith.pk}
    assert _ids({"conditions": [{"field": "tutor", "operator": "equals", "value": tutor.pk}]}) == {smith.pk}
    # not equals keeps learners with no tutor at all
    assert _ids({"conditions": [{"field": "tutor", "operator": "not_equals", "value": tutor.pk}]}) == {
        smythe.pk,
        no_uln.pk,
    }
    assert _ids({"conditions": [{"field": "employer", "operator": "contains", "value": "widg"}]}) == {smith.pk}
    assert _ids({"conditions": [{"field": "employer", "operator": "is_empty"}]}) == {smythe.pk, no_uln.pk}
    assert _ids(
        {
            "logic": "or",
            "conditions": [
                {"field": "first_name", "operator": "equals", "value": "JO"},
                {"logic": "and", "conditions": [{"field": "uln", "operator": "is_empty"}]},
            ],
        }
    ) == {smythe.pk, no_uln.pk}


def test_conditions_on_programmes_statuses_and_groups_mean_has_any() -> None:
    programme = factories.programme(templates=1, review=False)
    other = factories.programme(templates=1, review=False)
    team = LearnerGroup.objects.create(name="Team A")
    on_both = factories.learner(groups=[team])
    on_other = factories.learner()
    on_none = factories.learner()
    start = dt.date(2024, 9, 1)
    for learner, prog, status in (
        (on_both, programme, ProgrammeStatus.ACTIVE),
        (on_both, other, ProgrammeStatus.COMPLETED),
        (on_other, other, ProgrammeStatus.WITHDRAWN),
    ):
        Enrolment.objects.create(
            learner=learner, programme=prog, status=status, start_date=start, planned_end_date=start
        )

    assert _ids({"conditions": [{"field": "programme", "operator": "equals", "value": programme.pk}]}) == {on_both.pk}
    assert _ids({"conditions": [{"field": "programme", "operator": "not_equals", "value": programme.pk}]}) == {
        on_other.pk,
        on_none.pk,
    }
    assert _ids({"conditions": [{"field": "programme", "operator": "is_empty"}]}) == {on_none.pk}
    assert _ids({"conditions": [{"field": "programme", "operator": "contains", "value": other.name}]}) == {
        on_both.pk,
        on_other.pk,
    }
    assert _ids(
        {"conditions": [{"field": "programme_status", "operator": "in", "value": ["withdrawn", "active"]}]}
    ) == {
        on_both.pk,
        on_other.pk,
    }
    assert _ids({"conditions": [{"field": "group", "operator": "equals", "value": team.pk}]}) == {on_both.pk}
    assert _ids({"conditions": [{"field": "group", "operator": "is_empty"}]}) == {on_other.pk, on_none.pk}


def test_the_learner_manager_lists_only_learners_the_admin_may_see() -> None:
    mine = LearnerGroup.objects.create(name="Mine")
    admin = factories.staff([Perm.PLR_VIEW], all_groups=False, groups=[mine])
    visible = factories.learner(groups=[mine], surname="Able")
    factories.learner(surname="Able")
    assert list(learner_manager_list(admin, condition_parse({}))) == [visible]


# Property: the filter the database runs means what the tree says, evaluated in Python on the same learners.

NAMES = ["Ann", "ann", "Bob", "Anna", "Bobby", "Cy"]


def _evaluate(node: Group | Condition, learner: Learner, groups: dict[int, set[int]]) -> bool:
    if isinstance(node, Group):
        results = [_evaluate(i, learner, groups) for i in node.items]
        if not results:
            return True
        return all(results) if node.logic is Logic.AND else any(results)
    if node.field is Field.GROUP:
        mine = groups.get(learner.pk, set())
        return {
            Op.EQUALS: lambda: node.value in mine,
            Op.NOT_EQUALS: lambda: node.value not in mine,
            Op.IN: lambda: bool(mine & set(node.value)),  # type: ignore[arg-type]
            Op.IS_EMPTY: lambda: not mine,
            Op.IS_NOT_EMPTY: lambda: bool(mine),
        }[node.op]()
    if node.field is Field.TUTOR:
        tutor = learner.tutor_id
        return {
            Op.EQUALS: lambda: tutor == node.value,
            Op.NOT_EQUALS: lambda: tutor != node.value,
            Op.IN: lambda: tutor in node.value,  # type: ignore[operator]
            Op.IS_EMPTY: lambda: tutor is None,
            Op.IS_NOT_EMPTY: lambda: tutor is not None,
        }[node.op]()
    text: str = getattr(learner, node.field.value)
    exact = node.field is Field.ULN

    def same(a: str, b: str) -> bool:
        return a == b if exact else a.lower() == b.lower()

    value = node.value
    return {
        Op.EQUALS: lambda: same(text, value),  # type: ignore[arg-type]
        Op.NOT_EQUALS: lambda: not same(text, value),  # type: ignore[arg-type]
        Op.CONTAINS: lambda: str(value).lower() in text.lower(),
        Op.STARTS_WITH: lambda: text.lower().startswith(str(value).lower()),
        Op.IS_EMPTY: lambda: text == "",
        Op.IS_NOT_EMPTY: lambda: text != "",
        Op.IN: lambda: any(same(text, v) for v in value),  # type: ignore[union-attr, arg-type]
    }[node.op]()


def test_the_filter_matches_the_python_meaning_of_any_condition() -> None:
    teams = [LearnerGroup.objects.create(name=f"Team {n}") for n in range(3)]
    tutors = [factories.staff(), factories.staff()]
    learners = []
    for n in range(12):
        learners.append(
            factories.learner(
                first_name=NAMES[n % len(NAMES)],
                surname=NAMES[(n * 5) % len(NAMES)] + "son",
                uln="" if n % 4 == 0 else factories.valid_uln(9_000 + n),
                tutor=tutors[n % 3] if n % 3 < 2 else None,
                groups=teams[: n % 4],
            )
        )
    groups = {x.pk: set(x.groups.values_list("pk", flat=True)) for x in learners}
    group_ids = [t.pk for t in teams]
    tutor_ids = [t.pk for t in tutors]
    ulns = [x.uln for x in learners if x.uln]
    text = st.sampled_from(["a", "An", "ann", "bo", "son", "y", "", "Cyson"])
    text_value = {
        Op.EQUALS: text,
        Op.NOT_EQUALS: text,
        Op.CONTAINS: text.filter(bool),
        Op.STARTS_WITH: text.filter(bool),
    }

    def conditions_of(field: Field, values: st.SearchStrategy[Any], ops: list[Op]) -> st.SearchStrategy[Condition]:
        return st.sampled_from(ops).flatmap(
            lambda op: (
                st.just(Condition(field, op))
                if op in (Op.IS_EMPTY, Op.IS_NOT_EMPTY)
                else st.lists(values, min_size=1, max_size=3).map(lambda vs: Condition(field, op, tuple(vs)))
                if op is Op.IN
                else (text_value.get(op, values) if field in (Field.FIRST_NAME, Field.SURNAME) else values).map(
                    lambda v: Condition(field, op, v)
                )
            )
        )

    all_text_ops = list(Op)
    id_ops = [Op.EQUALS, Op.NOT_EQUALS, Op.IN, Op.IS_EMPTY, Op.IS_NOT_EMPTY]
    leaves = st.one_of(
        conditions_of(Field.FIRST_NAME, text, all_text_ops),
        conditions_of(Field.SURNAME, text, all_text_ops),
        conditions_of(Field.ULN, st.sampled_from([*ulns[:3], "1"]), [o for o in all_text_ops if o is not Op.CONTAINS]),
        conditions_of(Field.GROUP, st.sampled_from(group_ids), id_ops),
        conditions_of(Field.TUTOR, st.sampled_from(tutor_ids), id_ops),
    )
    trees = st.recursive(
        leaves,
        lambda children: st.builds(Group, st.sampled_from(list(Logic)), st.lists(children, max_size=3).map(tuple)),
        max_leaves=6,
    ).map(lambda t: t if isinstance(t, Group) else Group(Logic.AND, (t,)))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(trees)
    def check(tree: Group) -> None:
        expected = {x.pk for x in learners if _evaluate(tree, x, groups)}
        assert set(Learner.objects.filter(condition_q(tree)).values_list("pk", flat=True)) == expected

    check()
