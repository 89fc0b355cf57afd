"""Writes to programmes and their templates (R-CORE-2).

Programmes and programme templates are reference data every learner's plan is built from,
so every write here needs Supervisor (a Django superuser holds every permission).
Enrolments are written by `waypoint.plans.services`, which builds the plan at the same time.
"""

from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.db.models.deletion import ProtectedError

from waypoint.core.errors import Conflict
from waypoint.core.validation import refuse, refuse_unknown
from waypoint.people.services import require_supervisor
from waypoint.programmes.models import ComponentTemplate, Programme


class ProgrammeValues(TypedDict, total=False):
    name: str
    code: str
    parent: int | None  # the parent programme's id, for a sub-programme
    standard_code: str
    epao_id: str
    criteria: list[str]


class AttributeValues(TypedDict, total=False):
    """The attributes a template component and a learner's component share (R-CORE-4)."""

    name: str
    type: str
    completion_mode: str
    criteria_mappings: list[str]
    instructions: str
    evidence_required: bool
    min_evidence: int
    documents: list[str]
    delivery_via_organisation: bool
    delivery_via_employer: bool
    planned_for_qa: bool
    marking_aid_exercise: str
    review_type: str


class TemplateValues(AttributeValues, total=False):
    position: int
    due_offset_days: int


def programme_create(*, by: AbstractBaseUser, values: ProgrammeValues) -> Programme:
    require_supervisor(by, "Creating a programme")
    refuse_unknown(values, ProgrammeValues.__annotations__, "programme")
    with transaction.atomic():
        programme = Programme()
        _assign_programme(programme, values)
        _validate_programme(programme)
        programme.save()
    return programme


def programme_update(*, programme: Programme, by: AbstractBaseUser, changes: ProgrammeValues) -> Programme:
    require_supervisor(by, "Changing a programme")
    refuse_unknown(changes, ProgrammeValues.__annotations__, "programme")
    with transaction.atomic():
        current = Programme.objects.select_for_update().get(pk=programme.pk)
        _assign_programme(current, changes)
        _validate_programme(current)
        current.save()
    return current


def programme_delete(*, programme: Programme, by: AbstractBaseUser) -> None:
    require_supervisor(by, "Deleting a programme")
    try:
        with transaction.atomic():
            Programme.objects.filter(pk=programme.pk).delete()
    except ProtectedError:
        raise Conflict(f"Learners are enrolled on {programme} or its sub-programmes; it cannot be deleted.") from None


def _assign_programme(programme: Programme, values: ProgrammeValues) -> None:
    for field, value in values.items():
        setattr(programme, "parent_id" if field == "parent" else field, value)


def _validate_programme(programme: Programme) -> None:
    errors: dict[str, list[str]] = {}
    try:
        programme.clean_fields(exclude=["parent"])
        programme.validate_unique()
    except ValidationError as e:
        errors.update(e.message_dict)
    if programme.parent_id is not None:
        parent = Programme.objects.filter(pk=programme.parent_id).first()
        if parent is None:
            errors["parent"] = ["No such programme."]
        elif parent.parent_id is not None:
            errors["parent"] = ["A sub-programme cannot have sub-programmes of its own."]
        elif programme.pk is not None and (
            parent.pk == programme.pk or Programme.objects.filter(parent_id=programme.pk).exists()
        ):
            errors["parent"] = ["A programme with sub-programmes cannot become a sub-programme."]
    if not isinstance(programme.criteria, list) or not all(isinstance(c, str) for c in programme.criteria):
        errors["criteria"] = ["Criteria are a list of criterion codes."]
    if errors:
        refuse("programme", errors)


def template_create(*, programme: Programme, by: AbstractBaseUser, values: TemplateValues) -> ComponentTemplate:
    """Add a component to a programme template; without a position it goes last.

    Learners already enrolled do not get it automatically: synchronisation (or re-adding) does that.
    """
    require_supervisor(by, "Changing a programme template")
    refuse_unknown(values, TemplateValues.__annotations__, "template component")
    with transaction.atomic():
        Programme.objects.select_for_update().filter(pk=programme.pk).first()  # serialises position choices
        template = ComponentTemplate(programme=programme)
        for field, value in values.items():
            setattr(template, field, value)
        if "position" not in values:
            last = ComponentTemplate.objects.filter(programme=programme).aggregate(p=Max("position"))["p"]
            template.position = (last or 0) + 1
        _validate_template(template)
        template.save()
    return template


def template_update(*, template: ComponentTemplate, by: AbstractBaseUser, changes: TemplateValues) -> ComponentTemplate:
    require_supervisor(by, "Changing a programme template")
    refuse_unknown(changes, TemplateValues.__annotations__, "template component")
    with transaction.atomic():
        current = ComponentTemplate.objects.select_for_update().get(pk=template.pk)
        for field, value in changes.items():
            setattr(current, field, value)
        _validate_template(current)
        current.save()
    return current


def template_delete(*, template: ComponentTemplate, by: AbstractBaseUser) -> None:
    """Learners' components made from it stay on their plans, as components without a template."""
    require_supervisor(by, "Changing a programme template")
    with transaction.atomic():
        ComponentTemplate.objects.filter(pk=template.pk).delete()


def _validate_template(template: ComponentTemplate) -> None:
    errors: dict[str, Any] = {}
    try:
        template.full_clean(exclude=["programme"], validate_unique=False, validate_constraints=False)
    except ValidationError as e:
        errors.update(e.message_dict)
    taken = ComponentTemplate.objects.filter(programme_id=template.programme_id, position=template.position)
    if template.position is not None and taken.exclude(pk=template.pk).exists():
        errors["position"] = [f"Position {template.position} is already taken in this template."]
    if errors:
        refuse("template component", errors)
