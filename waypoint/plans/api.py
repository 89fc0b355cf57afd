"""A learner's enrolments, learning-plan components and journal: /learners/{learner_id}/…

Component edits obey the same permission matrix as the web UI (R-SYNC-20…24): the services
refuse with a PermissionRefused, answered 403 with the refusal message.
"""

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user, uses_session
from waypoint.api.schemas import ERRORS, PageQuery, PathId, paginate, plain
from waypoint.core.errors import NotFound
from waypoint.core.outbox import Source
from waypoint.people.models import Learner
from waypoint.people.selectors import learner_get_for
from waypoint.plans import services
from waypoint.plans.models import Component, Review
from waypoint.plans.schemas import (
    ChangePage,
    ComponentFilter,
    ComponentIn,
    ComponentOut,
    ComponentPage,
    ComponentPatch,
    EnrolmentIn,
    EnrolmentOut,
    EnrolmentPatch,
    ReaddIn,
    ReviewOut,
    ReviewScheduleIn,
    TemplateRef,
    component_values,
)
from waypoint.plans.selectors import journal_for, learner_components, removed_templates
from waypoint.plans.visits import current_record_visit_id
from waypoint.programmes.models import ComponentTemplate, Enrolment
from waypoint.programmes.selectors import enrolments_of, programme_get

router = Router()


def _learner(request: HttpRequest, learner_id: int) -> Learner:
    """A learner the caller may see (R-CORE-8); any other is answered 404."""
    return learner_get_for(acting_user(request), learner_id)


def _enrolment(request: HttpRequest, learner_id: int, enrolment_id: int) -> Enrolment:
    learner = _learner(request, learner_id)
    enrolment = enrolments_of(learner.pk).filter(pk=enrolment_id).first()
    if enrolment is None:
        raise NotFound("No such enrolment for this learner.")
    enrolment.learner = learner
    return enrolment


def _component(request: HttpRequest, learner_id: int, component_id: int) -> Component:
    component = learner_components(_learner(request, learner_id).pk).filter(pk=component_id).first()
    if component is None:
        raise NotFound("No such component on this learner's plan.")
    return component


def _component_out(component_id: int) -> Component:
    return Component.objects.select_related("owner", "review").get(pk=component_id)


def _visit_id(request: HttpRequest, learner_id: int) -> int | None:
    """The record visit the change belongs to (R-SYNC-12); a token has no visit."""
    return current_record_visit_id(request, learner_id) if uses_session(request) else None


# Enrolments


@router.get("/learners/{learner_id}/enrolments", response={200: list[EnrolmentOut], **ERRORS}, tags=["enrolments"])
def enrolments_list(request: HttpRequest, learner_id: PathId) -> list[Enrolment]:
    return list(enrolments_of(_learner(request, learner_id).pk))


@router.post("/learners/{learner_id}/enrolments", response={201: EnrolmentOut, **ERRORS}, tags=["enrolments"])
def enrolments_create(request: HttpRequest, learner_id: PathId, payload: EnrolmentIn) -> tuple[int, Enrolment]:
    """Enrol on a programme (and its sub-programmes) and build the learning plan from the template.

    Needs Advanced Delivery Management (Add), Supervisor or Compliance QA.
    """
    learner = _learner(request, learner_id)
    enrolment = services.enrolment_create(
        learner=learner,
        programme=programme_get(payload.programme_id),
        start_date=payload.start_date,
        planned_end_date=payload.planned_end_date,
        status=payload.status.value,
        by=acting_user(request),
        source=Source.API,
    )
    return 201, enrolments_of(learner.pk).get(programme_id=enrolment.programme_id)


@router.get(
    "/learners/{learner_id}/enrolments/{enrolment_id}", response={200: EnrolmentOut, **ERRORS}, tags=["enrolments"]
)
def enrolments_read(request: HttpRequest, learner_id: PathId, enrolment_id: PathId) -> Enrolment:
    return _enrolment(request, learner_id, enrolment_id)


@router.patch(
    "/learners/{learner_id}/enrolments/{enrolment_id}", response={200: EnrolmentOut, **ERRORS}, tags=["enrolments"]
)
def enrolments_update(
    request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: EnrolmentPatch
) -> Enrolment:
    """Change dates, EPA period or programme status.

    Needs Advanced Delivery Management (Edit), Supervisor or Compliance QA.
    """
    enrolment = _enrolment(request, learner_id, enrolment_id)
    changes = plain(payload.model_dump(exclude_unset=True))
    services.enrolment_update(
        enrolment=enrolment,
        by=acting_user(request),
        changes=changes,  # type: ignore[arg-type]
        source=Source.API,
    )
    return _enrolment(request, learner_id, enrolment_id)


# Components


@router.get("/learners/{learner_id}/components", response={200: ComponentPage, **ERRORS}, tags=["components"])
def components_list(request: HttpRequest, learner_id: PathId, filters: Query[ComponentFilter]) -> dict[str, object]:
    """The learner's plan components, in plan order; filter by enrolment, programme, type or status."""
    components = learner_components(_learner(request, learner_id).pk)
    if filters.enrolment_id is not None:
        components = components.filter(enrolment_id=filters.enrolment_id)
    if filters.programme_id is not None:
        components = components.filter(
            Q(enrolment__programme_id=filters.programme_id) | Q(enrolment__programme__parent_id=filters.programme_id)
        )
    if filters.type is not None:
        components = components.filter(type=filters.type.value)
    if filters.status is not None:
        components = components.filter(status=filters.status.value)
    return paginate(components, filters)


@router.get(
    "/learners/{learner_id}/components/{component_id}", response={200: ComponentOut, **ERRORS}, tags=["components"]
)
def components_read(request: HttpRequest, learner_id: PathId, component_id: PathId) -> Component:
    return _component(request, learner_id, component_id)


@router.patch(
    "/learners/{learner_id}/components/{component_id}", response={200: ComponentOut, **ERRORS}, tags=["components"]
)
def components_update(
    request: HttpRequest, learner_id: PathId, component_id: PathId, payload: ComponentPatch
) -> Component:
    """Change attributes (R-SYNC-23; Internal Verifier: Planned for QA only, R-SYNC-21).

    Send the `revision` you read to be refused (409) if someone changed it meanwhile.
    """
    component = _component(request, learner_id, component_id)
    services.component_update(
        component=component,
        by=acting_user(request),
        changes=component_values(payload),
        visit_id=_visit_id(request, learner_id),
        expected_revision=payload.revision,
    )
    return _component_out(component.pk)


@router.delete("/learners/{learner_id}/components/{component_id}", response={204: None, **ERRORS}, tags=["components"])
def components_delete(request: HttpRequest, learner_id: PathId, component_id: PathId) -> tuple[int, None]:
    """Remove a component from this learner's plan (R-SYNC-24); a template component can be re-added later."""
    component = _component(request, learner_id, component_id)
    services.component_delete(component=component, by=acting_user(request), visit_id=_visit_id(request, learner_id))
    return 204, None


@router.post(
    "/learners/{learner_id}/enrolments/{enrolment_id}/components",
    response={201: ComponentOut, **ERRORS},
    tags=["components"],
)
def components_add(
    request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: ComponentIn
) -> tuple[int, Component]:
    """Add a component to this learner's plan by hand (it has no template; R-SYNC-22 permissions)."""
    enrolment = _enrolment(request, learner_id, enrolment_id)
    component = services.component_add(
        enrolment=enrolment,
        by=acting_user(request),
        values=component_values(payload),
        visit_id=_visit_id(request, learner_id),
    )
    return 201, _component_out(component.pk)


@router.get(
    "/learners/{learner_id}/enrolments/{enrolment_id}/removed-templates",
    response={200: list[TemplateRef], **ERRORS},
    tags=["components"],
)
def components_removed(request: HttpRequest, learner_id: PathId, enrolment_id: PathId) -> list[ComponentTemplate]:
    """Template components not on this plan: the ones that can be re-added (R-CORE-7)."""
    return list(removed_templates(_enrolment(request, learner_id, enrolment_id)).order_by("position"))


@router.post(
    "/learners/{learner_id}/enrolments/{enrolment_id}/components/readd",
    response={201: ComponentOut, **ERRORS},
    tags=["components"],
)
def components_readd(
    request: HttpRequest, learner_id: PathId, enrolment_id: PathId, payload: ReaddIn
) -> tuple[int, Component]:
    """Put a removed template component back on the plan (R-CORE-7, R-SYNC-22)."""
    enrolment = _enrolment(request, learner_id, enrolment_id)
    component = services.component_readd(
        enrolment=enrolment,
        template_id=payload.template_id,
        by=acting_user(request),
        visit_id=_visit_id(request, learner_id),
    )
    return 201, _component_out(component.pk)


@router.post(
    "/learners/{learner_id}/components/{component_id}/review/schedule",
    response={200: ReviewOut, **ERRORS},
    tags=["components"],
)
def components_review_schedule(
    request: HttpRequest, learner_id: PathId, component_id: PathId, payload: ReviewScheduleIn
) -> Review:
    """Schedule (or re-schedule) the review of a Review component; its meeting tasks are re-created (R-CORE-6)."""
    component = _component(request, learner_id, component_id)
    return services.review_schedule(
        component=component,
        by=acting_user(request),
        starts_at=payload.starts_at,
        visit_id=_visit_id(request, learner_id),
    )


# Journal


@router.get("/learners/{learner_id}/journal", response={200: ChangePage, **ERRORS}, tags=["components"])
def journal_list(request: HttpRequest, learner_id: PathId, paging: Query[PageQuery]) -> dict[str, object]:
    """Every change made to the learner's plan, newest first (R-CORE-9)."""
    return paginate(journal_for(_learner(request, learner_id).pk), paging)
