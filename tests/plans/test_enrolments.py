"""R-CORE-3, R-CORE-4: enrolling a learner creates their plan from the programme template."""

import datetime as dt

import pytest

from tests import factories as make
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.people.models import Perm
from waypoint.plans.models import Component, Review
from waypoint.plans.services import enrolment_create, enrolment_update
from waypoint.programmes.models import ComponentTemplate, Enrolment

pytestmark = pytest.mark.django_db


def test_enrolment_creates_one_component_per_template_component_with_its_attributes() -> None:
    programme = make.programme(templates=4)
    tutor = make.staff()
    learner = make.learner(tutor=tutor)
    enrolment = make.enrolment(learner, programme, start_date=dt.date(2026, 9, 1))

    components = list(Component.objects.filter(enrolment=enrolment).order_by("position"))
    templates = list(ComponentTemplate.objects.filter(programme=programme).order_by("position"))
    assert [c.template_id for c in components] == [t.pk for t in templates]
    for component, template in zip(components, templates, strict=True):
        assert (component.name, component.type, component.criteria_mappings) == (
            template.name,
            template.type,
            template.criteria_mappings,
        )
        assert component.due_date == dt.date(2026, 9, 1) + dt.timedelta(days=template.due_offset_days)
        assert component.status == "not_started"
        assert component.owner == tutor  # the case owner owns the new plan
        assert component.learner_id == learner.pk


def test_review_components_get_a_not_scheduled_review() -> None:  # R-CORE-6
    enrolment = make.enrolment(programme_=make.programme(templates=3, review=True))
    review = Review.objects.get(component__enrolment=enrolment)
    assert review.status == "not_scheduled"
    assert review.review_type == "progress"


def test_enrolment_on_a_programme_enrols_on_its_sub_programmes_with_their_plans() -> None:  # R-CORE-2
    main = make.programme(templates=2)
    maths = make.programme(templates=3, parent=main)
    learner = make.learner()
    make.enrolment(learner, main)
    assert set(Enrolment.objects.filter(learner=learner).values_list("programme_id", flat=True)) == {main.pk, maths.pk}
    assert Component.objects.filter(enrolment__programme=maths, learner=learner).count() == 3


def test_enrolling_twice_on_the_same_programme_is_refused() -> None:
    learner, programme = make.learner(), make.programme()
    make.enrolment(learner, programme)
    with pytest.raises(Conflict, match="already enrolled"):
        make.enrolment(learner, programme)


def test_an_end_date_before_the_start_is_refused_and_nothing_is_created() -> None:
    learner = make.learner()
    with pytest.raises(ValidationFailed, match="planned end date"):
        enrolment_create(
            learner=learner,
            programme=make.programme(),
            start_date=dt.date(2027, 1, 1),
            planned_end_date=dt.date(2026, 1, 1),
            by=None,
        )
    assert not Enrolment.objects.filter(learner=learner).exists()
    assert not Component.objects.filter(learner=learner).exists()


def test_enrolment_status_can_be_any_of_the_eight_programme_statuses() -> None:  # R-CORE-3
    enrolment = make.enrolment()
    admin = make.staff({Perm.ADM_EDIT})
    for status in ["break_in_learning", "completed", "withdrawn", "pending_change", "expired", "cancelled", "archived"]:
        assert enrolment_update(enrolment=enrolment, by=admin, changes={"status": status}).status == status
    with pytest.raises(ValidationFailed):
        enrolment_update(enrolment=enrolment, by=admin, changes={"status": "paused"})


def test_enrolling_needs_adm_add_supervisor_or_compliance_qa() -> None:
    learner, programme = make.learner(), make.programme()
    dates = {"start_date": dt.date(2026, 9, 1), "planned_end_date": dt.date(2028, 3, 1)}
    with pytest.raises(PermissionRefused, match="Enrolling a learner needs"):
        enrolment_create(learner=learner, programme=programme, by=make.staff({Perm.ADM_EDIT}), **dates)
    assert not Enrolment.objects.filter(learner=learner).exists()
    assert enrolment_create(learner=learner, programme=programme, by=make.staff({Perm.ADM_ADD}), **dates)


def test_changing_an_enrolment_needs_adm_edit_supervisor_or_compliance_qa() -> None:
    enrolment = make.enrolment()
    with pytest.raises(PermissionRefused, match="Changing an enrolment needs"):
        enrolment_update(enrolment=enrolment, by=make.staff({Perm.ADM_ADD}), changes={"status": "withdrawn"})
    enrolment.refresh_from_db()
    assert enrolment.status == "active"
