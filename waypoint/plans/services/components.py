"""Editing one learner's plan: update, add by hand, re-add from the template, delete.

Each write is permission-checked with the matrix of R-SYNC-20…24 and journalled (R-CORE-9)
with the acting admin and the record visit it was made in (R-SYNC-12).
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from waypoint.core.errors import Conflict, NotFound, PermissionRefused
from waypoint.core.validation import refuse, refuse_unknown
from waypoint.people.access import staff_perms
from waypoint.plans.journal import EDITABLE_FIELDS, field_value, json_value, snapshot
from waypoint.plans.models import ChangeAction, Component, ComponentChange, Review, ReviewStatus
from waypoint.plans.permissions import PlanAction, plan_change_refusal
from waypoint.programmes.models import ComponentAttributes, ComponentTemplate, ComponentType, Enrolment
from waypoint.programmes.services import AttributeValues

# The attributes a component takes from its template: the fields the two models share (R-CORE-4).
TEMPLATE_FIELDS: tuple[str, ...] = tuple(f.name for f in ComponentAttributes._meta.fields)


class ComponentValues(AttributeValues, total=False):
    status: str
    due_date: dt.date | None
    owner: int | None  # the owner's user id


def component_update(
    *,
    component: Component,
    by: AbstractBaseUser,
    changes: ComponentValues,
    visit_id: int | None,
    expected_revision: int | None = None,
) -> Component:
    """Change attributes of one component; a no-op when nothing differs."""
    refuse_unknown(changes, EDITABLE_FIELDS, "component")
    with transaction.atomic():
        current = _locked(component.pk)
        if expected_revision is not None and current.revision != expected_revision:
            raise Conflict(
                f"“{current.name}” was changed by someone else since you opened it. "
                "Reload it and make your change again."
            )
        before = snapshot(current)
        changed = [f for f in EDITABLE_FIELDS if f in changes and json_value(changes[f]) != before[f]]  # type: ignore[literal-required]
        if not changed:
            return current
        _check(by, PlanAction.EDIT, finished=current.is_finished, fields=changed)
        for field in changed:
            _assign(current, field, changes[field])  # type: ignore[literal-required]
        _validate(current, checked=changed)
        current.revision += 1
        current.updated_at = timezone.now()
        current.save()
        _keep_review_in_step(current)
        ComponentChange.objects.bulk_create(
            _change(current, by, visit_id, ChangeAction.UPDATED, field=f, old=before[f], new=field_value(current, f))
            for f in changed
        )
    return current


def component_add(
    *, enrolment: Enrolment, by: AbstractBaseUser, values: ComponentValues, visit_id: int | None
) -> Component:
    """Add a component to one learner's plan by hand (it has no template)."""
    refuse_unknown(values, EDITABLE_FIELDS, "component")
    _check(by, PlanAction.ADD, finished=False)
    with transaction.atomic():
        position = (Component.objects.filter(enrolment=enrolment).aggregate(p=Max("position"))["p"] or 0) + 1
        component = Component(
            learner_id=enrolment.learner_id, enrolment=enrolment, position=position, owner_id=enrolment.learner.tutor_id
        )
        for field, value in values.items():
            _assign(component, field, value)
        _validate(component, checked=EDITABLE_FIELDS)
        component.save()
        _keep_review_in_step(component)
        ComponentChange.objects.create(
            **_change_fields(component, by, visit_id, ChangeAction.CREATED, new=snapshot(component))
        )
    return component


def component_readd(*, enrolment: Enrolment, template_id: int, by: AbstractBaseUser, visit_id: int | None) -> Component:
    """Put a template component that was removed from this plan back on it (R-CORE-7, R-SYNC-22)."""
    template = ComponentTemplate.objects.filter(pk=template_id, programme_id=enrolment.programme_id).first()
    if template is None:
        raise NotFound("That component is not part of this programme's template.")
    _check(by, PlanAction.ADD, finished=False)
    with transaction.atomic():
        if Component.objects.filter(enrolment=enrolment, template=template).exists():
            raise Conflict(f"“{template.name}” is already on this learning plan.")
        component = Component(
            learner_id=enrolment.learner_id,
            enrolment=enrolment,
            template=template,
            position=template.position,
            due_date=enrolment.start_date + dt.timedelta(days=template.due_offset_days),
            owner_id=enrolment.learner.tutor_id,
            **{f: getattr(template, f) for f in TEMPLATE_FIELDS},
        )
        component.save()
        _keep_review_in_step(component)
        ComponentChange.objects.create(
            **_change_fields(component, by, visit_id, ChangeAction.CREATED, new=snapshot(component))
        )
    return component


def component_delete(*, component: Component, by: AbstractBaseUser, visit_id: int | None) -> None:
    """Remove a component (and its review and tasks) from one learner's plan."""
    with transaction.atomic():
        current = _locked(component.pk)
        _check(by, PlanAction.DELETE, finished=current.is_finished)
        ComponentChange.objects.create(
            **_change_fields(current, by, visit_id, ChangeAction.DELETED, old=snapshot(current))
        )
        current.delete()


def _locked(pk: int) -> Component:
    try:
        return Component.objects.select_for_update().select_related("enrolment").get(pk=pk)
    except Component.DoesNotExist:
        raise NotFound("That component is no longer on the learning plan.") from None


def _check(by: AbstractBaseUser, action: PlanAction, *, finished: bool, fields: Iterable[str] = ()) -> None:
    refusal = plan_change_refusal(staff_perms(by), action, finished=finished, fields=frozenset(fields))
    if refusal is not None:
        raise PermissionRefused(refusal.message)


def _assign(component: Component, field: str, value: Any) -> None:
    setattr(component, "owner_id" if field == "owner" else field, value)


def _validate(component: Component, *, checked: Iterable[str]) -> None:
    errors: dict[str, list[str]] = {}
    model_fields = [f for f in checked if f != "owner"]
    try:
        component.clean_fields(exclude=[f.name for f in Component._meta.fields if f.name not in model_fields])
    except ValidationError as e:
        errors.update(e.message_dict)
    try:
        component.clean()
    except ValidationError as e:
        for field, messages in e.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if "owner" in checked and component.owner_id is not None:
        staff = get_user_model().objects.filter(pk=component.owner_id, staff__isnull=False, is_active=True)
        if not staff.exists():
            errors["owner"] = ["The owner must be an active staff user."]
    if errors:
        refuse("component", errors)


def _keep_review_in_step(component: Component) -> None:
    """A Review component carries a review entity (R-CORE-6) whose type follows the component's."""
    has_review = Review.objects.filter(component=component).first()
    if component.type in ComponentType.with_review():
        if has_review is None:
            Review.objects.create(component=component, review_type=component.review_type)
        elif has_review.review_type != component.review_type and has_review.status != ReviewStatus.COMPLETED:
            has_review.review_type = component.review_type
            has_review.save(update_fields=["review_type"])
    elif has_review is not None:
        has_review.delete()


def _change(
    component: Component, by: AbstractBaseUser, visit_id: int | None, action: ChangeAction, **values: Any
) -> ComponentChange:
    return ComponentChange(**_change_fields(component, by, visit_id, action, **values))


def _change_fields(
    component: Component,
    by: AbstractBaseUser,
    visit_id: int | None,
    action: ChangeAction,
    *,
    field: str = "",
    old: Any = None,
    new: Any = None,
) -> dict[str, Any]:
    return {
        "by_id": by.pk,
        "learner_id": component.learner_id,
        "enrolment_id": component.enrolment_id,
        "component_id": component.pk,
        "template_id": component.template_id,
        "component_name": component.name,
        "action": action,
        "field": field,
        "old_value": old,
        "new_value": new,
        "visit_id": visit_id,
    }
