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
