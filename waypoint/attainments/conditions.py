"""The Learner Manager's condition builder (R-PLR-2): a tree of AND/OR groups of (field, operator, value)
conditions, validated from JSON and turned into one filter over learners.

Relations a learner has many of (programmes, programme statuses, groups) read as "has any": `programme equals 7`
is a learner with an enrolment on programme 7, `not_equals` its negation (no enrolment on it), `is_empty` a
learner with none at all. An empty group imposes nothing, whatever its logic.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from waypoint.core.errors import ValidationFailed
from waypoint.people.access import learner_visibility
from waypoint.people.models import Learner
from waypoint.programmes.models import Enrolment, ProgrammeStatus

MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_IN_VALUES = 500
MAX_TEXT = 200


class Logic(StrEnum):
    AND = "and"
    OR = "or"


class Field(StrEnum):
    PROGRAMME = "programme"
    PROGRAMME_STATUS = "programme_status"
    GROUP = "group"
    TUTOR = "tutor"
    EMPLOYER = "employer"
    ULN = "uln"
    FIRST_NAME = "first_name"
    SURNAME = "surname"


class Op(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    IN = "in"


TEXT_FIELDS = frozenset({Field.ULN, Field.FIRST_NAME, Field.SURNAME})
REFERENCE_FIELDS = frozenset({Field.PROGRAMME, Field.GROUP, Field.TUTOR, Field.EMPLOYER})
NO_VALUE = frozenset({Op.IS_EMPTY, Op.IS_NOT_EMPTY})

# Which operators each field takes. On a reference field, equals/not_equals/in take ids, contains/starts_with
# match its name; "ULN present/absent" is `uln is_not_empty` / `uln is_empty`.
OPERATORS: dict[Field, frozenset[Op]] = {
    **{f: frozenset(Op) for f in TEXT_FIELDS},
    **{f: frozenset(Op) for f in REFERENCE_FIELDS},
    Field.PROGRAMME_STATUS: frozenset({Op.EQUALS, Op.NOT_EQUALS, Op.IN}),
}


@dataclass(frozen=True)
class Condition:
    field: Field
    op: Op
    value: str | int | tuple[str | int, ...] | None = None


@dataclass(frozen=True)
class Group:
    logic: Logic = Logic.AND
    items: tuple[Union["Group", Condition], ...] = ()


MATCH_ALL = Group()


def condition_parse(data: Any) -> Group:
    """The tree from its JSON form, or `ValidationFailed` with one message per bad part (keyed by its path, e.g.
    `conditions.1.conditions.0.value`). A group is `{"logic": "and"|"or", "conditions": [...]}`, a condition
    `{"field": …, "operator": …, "value": …}`."""
    errors: dict[str, list[str]] = {}
    count = [0]
    group = _group(data, "", 1, errors, count)
    if count[0] > MAX_CONDITIONS:
        errors.setdefault("conditions", []).append(f"At most {MAX_CONDITIONS} conditions.")
    if errors:
        summary = "; ".join(f"{path or 'condition'}: {' '.join(msgs)}" for path, msgs in errors.items())
        raise ValidationFailed(f"The condition is not valid. {summary}", fields=errors)
    return group


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _group(data: Any, path: str, depth: int, errors: dict[str, list[str]], count: list[int]) -> Group:
    if data is None:
        return MATCH_ALL
    if not isinstance(data, Mapping):
        errors.setdefault(path or "condition", []).append("Expected a group: {logic, conditions}.")
        return MATCH_ALL
    if unknown := sorted(set(data) - {"logic", "conditions"}):
        errors.setdefault(path or "condition", []).append(f"Unknown keys: {', '.join(map(str, unknown))}.")
    logic_value = data.get("logic", Logic.AND.value)
    if logic_value not in {v.value for v in Logic}:
        errors.setdefault(_at(path, "logic"), []).append("Choose one of: and, or.")
        logic = Logic.AND
    else:
        logic = Logic(logic_value)
    raw = data.get("conditions", [])
    if not isinstance(raw, list):
        errors.setdefault(_at(path, "conditions"), []).append("Expected a list.")
        return Group(logic)
    items: list[Group | Condition] = []
    for index, item in enumerate(raw):
        item_path = _at(path, f"conditions.{index}")
        if isinstance(item, Mapping) and "conditions" in item:
            if depth >= MAX_DEPTH:
                errors.setdefault(item_path, []).append(f"Groups nest at most {MAX_DEPTH} deep.")
                continue
            items.append(_group(item, item_path, depth + 1, errors, count))
        else:
            count[0] += 1
            parsed = _condition(item, item_path, errors)
            if parsed is not None:
                items.append(parsed)
    return Group(logic, tuple(items))


def _condition(data: Any, path: str, errors: dict[str, list[str]]) -> Condition | None:
    if not isinstance(data, Mapping):
        errors.setdefault(path, []).append("Expected a condition: {field, operator, value} or a group.")
        return None
    if unknown := sorted(set(data) - {"field", "operator", "value"}):
        errors.setdefault(path, []).append(f"Unknown keys: {', '.join(map(str, unknown))}.")
    field_value, op_value = data.get("field"), data.get("operator")
    if field_value not in {f.value for f in Field}:
        errors.setdefault(_at(path, "field"), []).append(f"Choose one of: {', '.join(f.value for f in Field)}.")
        return None
    field = Field(field_value)
    allowed = OPERATORS[field]
    if op_value not in {o.value for o in allowed}:
        names = ", ".join(o.value for o in Op if o in allowed)
        errors.setdefault(_at(path, "operator"), []).append(f"{field.value} takes one of: {names}.")
        return None
    op = Op(op_value)
    value = data.get("value")
    value_path = _at(path, "value")
    if op in NO_VALUE:
        if value not in (None, "", []):
            errors.setdefault(value_path, []).append(f"{op.value} takes no value.")
            return None
        return Condition(field, op)
    if op is Op.IN:
        if not isinstance(value, list) or not value or len(value) > MAX_IN_VALUES:
            errors.setdefault(value_path, []).append(f"Expected a list of 1 to {MAX_IN_VALUES} values.")
            return None
        checked = [_scalar(field, op, v, value_path, errors) for v in value]
        if any(v is None for v in checked):
            return None
        return Condition(field, op, tuple(v for v in checked if v is not None))
    scalar = _scalar(field, op, value, value_path, errors)
    return None if scalar is None else Condition(field, op, scalar)


def _scalar(field: Field, op: Op, value: Any, path: str, errors: dict[str, list[str]]) -> str | int | None:
    by_name = op in (Op.CONTAINS, Op.STARTS_WITH)
    if field in REFERENCE_FIELDS and not by_name:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**63 - 1:
            errors.setdefault(path, []).append(f"Expected the id of a {field.value.replace('_', ' ')}.")
            return None
        return value
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_TEXT:
        errors.setdefault(path, []).append(f"Expected text of at most {MAX_TEXT} characters.")
        return None
    if field is Field.PROGRAMME_STATUS and value not in ProgrammeStatus.values:
        errors.setdefault(path, []).append(f"Choose one of: {', '.join(ProgrammeStatus.values)}.")
        return None
    if by_name and not value.strip():
        errors.setdefault(path, []).append("Enter some text to match.")
        return None
    return value


def condition_q(group: Group) -> Q:
    """The filter over `Learner` that the tree means."""
    q = _group_q(group)
    return Q() if q is None else q


def _group_q(group: Group) -> Q | None:
    """None for a group that imposes nothing (Django drops an empty Q from an OR, so it cannot stand for it)."""
    parts = [_group_q(i) if isinstance(i, Group) else _condition_q(i) for i in group.items]
    if group.logic is Logic.OR and any(p is None for p in parts):
        return None
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    combined = kept[0]
    for part in kept[1:]:
        combined = combined & part if group.logic is Logic.AND else combined | part
    return combined


def _text_q(column: str, op: Op, value: Any, *, exact: bool) -> Q:
    equals = "exact" if exact else "iexact"
    if op is Op.EQUALS:
        return Q(**{f"{column}__{equals}": value})
    if op is Op.NOT_EQUALS:
        return ~Q(**{f"{column}__{equals}": value})
    if op is Op.CONTAINS:
        return Q(**{f"{column}__icontains": value})
    if op is Op.STARTS_WITH:
        return Q(**{f"{column}__istartswith": value})
    if op is Op.IS_EMPTY:
        return Q(**{column: ""})
    if op is Op.IS_NOT_EMPTY:
        return ~Q(**{column: ""})
    if exact:
        return Q(**{f"{column}__in": list(value)})
    combined = Q(pk__in=[])
    for v in value:
        combined |= Q(**{f"{column}__iexact": v})
    return combined


def _name_q(columns: Sequence[str], op: Op, value: str) -> Q:
    lookup = "icontains" if op is Op.CONTAINS else "istartswith"
    combined = Q(pk__in=[])
    for column in columns:
        combined |= Q(**{f"{column}__{lookup}": value})
    return combined


def _has(rows: QuerySet[Any]) -> Q:
    return Q(pk__in=rows.values("learner_id"))


def _condition_q(c: Condition) -> Q:
    field, op, value = c.field, c.op, c.value
    if field in TEXT_FIELDS:
        return _text_q(field.value, op, value, exact=field is Field.ULN)
    if field in (Field.TUTOR, Field.EMPLOYER):
        column = field.value
        names = ("tutor__first_name", "tutor__last_name") if field is Field.TUTOR else ("employer__name",)
        if op is Op.EQUALS:
            return Q(**{f"{column}_id": value})
        if op is Op.NOT_EQUALS:
            return ~Q(**{f"{column}_id": value})
        if op is Op.IN:
            return Q(**{f"{column}_id__in": list(value)})  # type: ignore[arg-type]
        if op is Op.IS_EMPTY:
            return Q(**{f"{column}__isnull": True})
        if op is Op.IS_NOT_EMPTY:
            return Q(**{f"{column}__isnull": False})
        return _name_q(names, op, str(value))
    # Relations a learner has many of: a sub-select of the learners that have a matching one.
    rows: QuerySet[Any]
    if field is Field.GROUP:
        rows = Learner.groups.through.objects.all()
        column, names = "group_id", ("group__name",)
    else:
        rows = Enrolment.objects.all()
        column = "status" if field is Field.PROGRAMME_STATUS else "programme_id"
        names = ("programme__name", "programme__code")
    if op is Op.EQUALS:
        return _has(rows.filter(**{column: value}))
    if op is Op.NOT_EQUALS:
        return ~_has(rows.filter(**{column: value}))
    if op is Op.IN:
        return _has(rows.filter(**{f"{column}__in": list(value)}))  # type: ignore[arg-type]
    if op is Op.IS_EMPTY:
        return ~_has(rows)
    if op is Op.IS_NOT_EMPTY:
        return _has(rows)
    return _has(rows.filter(_name_q(names, op, str(value))))


def learner_manager_list(user: AbstractBaseUser | AnonymousUser, condition: Group) -> QuerySet[Learner]:
    """The learners the user may see that match the condition, by surname (R-PLR-2)."""
    return (
        Learner.objects.filter(learner_visibility(user))
        .filter(condition_q(condition))
        .select_related("tutor", "employer")
        .order_by("surname", "first_name", "id")
    )
