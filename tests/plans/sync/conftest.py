"""A programme, a source learner with an admin in a record visit, and target learners on the same programme."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractUser

from tests import factories as make
from waypoint.people.models import Learner, Perm
from waypoint.plans.models import Component, RecordVisit
from waypoint.programmes.models import Enrolment, Programme


@dataclass
class Setting:
    programme: Programme
    source: Enrolment
    targets: list[Enrolment]
    admin: AbstractUser
    visit: RecordVisit
    tutor: AbstractUser

    def components(self, enrolment: Enrolment) -> list[Component]:
        return list(Component.objects.filter(enrolment=enrolment).order_by("position", "id"))

    def target_learners(self) -> "list[Learner]":
        return [t.learner for t in self.targets]


@pytest.fixture
def sync_setting(db: None) -> Setting:
    programme = make.programme(templates=3)
    tutor = make.staff()
    source = make.enrolment(make.learner(tutor=tutor), programme)
    targets = [make.enrolment(make.learner(tutor=make.staff()), programme) for _ in range(3)]
    admin = make.staff({Perm.SUPERVISOR})
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    return Setting(programme, source, targets, admin, visit, tutor)


ALL_STATUSES = ["not_started", "in_progress", "awaiting_marking", "referred", "completed"]


def many_targets(programme: Programme, n: int) -> None:
    """n more learners on the programme with full plans, set-based (for tests of cost at scale)."""
    import datetime as dt

    from waypoint.plans.services.enrolments import plans_create_for

    first = Learner.objects.count()
    learners = Learner.objects.bulk_create(
        Learner(first_name="Bulk", surname=f"Learner{first + i:05d}", date_of_birth=dt.date(2004, 1, 1))
        for i in range(n)
    )
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(
            learner=learner,
            programme=programme,
            start_date=dt.date(2026, 9, 1),
            planned_end_date=dt.date(2028, 3, 1),
        )
        for learner in learners
    )
    plans_create_for(Enrolment.objects.filter(pk__in=[e.pk for e in enrolments]))
