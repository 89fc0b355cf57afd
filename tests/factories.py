"""Builders for test objects: each test makes exactly what it needs."""

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from waypoint.core.ilr import uln_check_digit
from waypoint.people.models import Employer, Group, Learner, Manager, Perm, StaffProfile
from waypoint.plans.models import Component
from waypoint.plans.services import enrolment_create
from waypoint.programmes.models import ComponentTemplate, ComponentType, Enrolment, Programme, ReviewType

_seq = itertools.count(1)
PASSWORD = "waypoint-test-pw"


def valid_uln(n: int) -> str:
    """The n-th valid ULN of a deterministic sequence."""
    for base in itertools.count(100_000_000 + n * 11):
        digit = uln_check_digit(str(base))
        if digit is not None:
            return f"{base}{digit}"
    raise AssertionError("unreachable")


def staff(
    perms: Iterable[Perm] = (), *, username: str | None = None, all_groups: bool = True, groups: Iterable[Group] = ()
) -> AbstractUser:
    n = next(_seq)
    user = get_user_model().objects.create_user(
        username=username or f"staff{n}", password=PASSWORD, first_name="Staff", last_name=f"Member {n}"
    )
    profile = StaffProfile.objects.create(user=user, permissions=[p.value for p in perms], all_groups=all_groups)
    profile.groups.set(groups)
    return user  # type: ignore[return-value]


def employer(**values: Any) -> Employer:
    n = next(_seq)
    return Employer.objects.create(name=values.pop("name", f"Employer {n}"), postcode="LS1 4AP", **values)


def manager(employer_: Employer | None = None) -> Manager:
    n = next(_seq)
    return Manager.objects.create(employer=employer_ or employer(), first_name="Morgan", surname=f"Manager{n}")


def learner(**values: Any) -> Learner:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "first_name": "Alex",
        "surname": f"Learner{n}",
        "date_of_birth": dt.date(2004, 5, 17),
        "uln": valid_uln(n),
        "sex": "F",
        "ethnicity": 31,
    }
    defaults.update(values)
    groups = defaults.pop("groups", ())
    made = Learner.objects.create(**defaults)
    made.groups.set(groups)
    return made


def programme(templates: int = 3, *, parent: Programme | None = None, review: bool = True) -> Programme:
    n = next(_seq)
    made = Programme.objects.create(
        name=f"Programme {n}",
        code=f"P{n}",
        parent=parent,
        standard_code="ST0116",
        epao_id="EPA0001",
        criteria=["K1", "K2", "S1", "B1"],
    )
    for position in range(1, templates + 1):
        is_review = review and position == templates
        ComponentTemplate.objects.create(
            programme=made,
            position=position,
            name=f"Component {position} of {made.code}",
            type=ComponentType.REVIEW if is_review else ComponentType.LEARNING_ACTIVITY,
            review_type=ReviewType.PROGRESS if is_review else "",
            criteria_mappings=["K1"],
            due_offset_days=30 * position,
        )
    return made


def enrolment(learner_: Learner | None = None, programme_: Programme | None = None, **values: Any) -> Enrolment:
    return enrolment_create(
        learner=learner_ or learner(),
        programme=programme_ or programme(),
        start_date=values.pop("start_date", dt.date(2026, 9, 1)),
        planned_end_date=values.pop("planned_end_date", dt.date(2028, 3, 1)),
        by=None,
        **values,
    )


def component(status: str = "not_started", **values: Any) -> Component:
    """A learning-activity component on a fresh enrolment, in the given status."""
    made = Component.objects.filter(enrolment=enrolment(), type=ComponentType.LEARNING_ACTIVITY).first()
    assert made is not None
    Component.objects.filter(pk=made.pk).update(status=status, **values)
    made.refresh_from_db()
    return made


def api_token(user: AbstractUser, *, name: str = "test client") -> str:
    """The clear key of a new API token for `user`."""
    from waypoint.api.services import api_token_create

    return api_token_create(user=user, name=name)[1]
