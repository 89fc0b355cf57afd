"""/programmes and their templates (ordered component templates)."""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate
from waypoint.core.errors import NotFound
from waypoint.programmes import services
from waypoint.programmes.models import ComponentTemplate, Programme
from waypoint.programmes.schemas import (
    ProgrammeFilter,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePage,
    ProgrammePatch,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
    programme_values,
    template_values,
)
from waypoint.programmes.selectors import programme_get, programme_list, template_list

router = Router(tags=["programmes"])


def _with_plans(programmes: QuerySet[Programme]) -> QuerySet[Programme]:
    """Sub-programmes and templates in a fixed number of queries, however many programmes."""
    templates = ComponentTemplate.objects.order_by("position")
    return programmes.prefetch_related(
        Prefetch("templates", queryset=templates),
        Prefetch("sub_programmes", queryset=Programme.objects.prefetch_related(Prefetch("templates", templates))),
    )


def _programme_out(programme_id: int) -> Programme:
    programme = _with_plans(programme_list()).filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("No such programme.")
    return programme


def _template(programme_id: int, template_id: int) -> ComponentTemplate:
    template = template_list(programme_id).filter(pk=template_id).first()
    if template is None:
        raise NotFound("No such component in this programme's template.")
    return template


@router.get("/programmes", response={200: ProgrammePage, **ERRORS})
def programmes_list(request: HttpRequest, filters: Query[ProgrammeFilter]) -> dict[str, object]:
    """Programmes with their sub-programmes and ordered templates."""
    programmes = programme_list(search=filters.search, top_level_only=filters.top_level_only)
    return paginate(_with_plans(programmes), filters)


@router.post("/programmes", response={201: ProgrammeOut, **ERRORS})
def programmes_create(request: HttpRequest, payload: ProgrammeIn) -> tuple[int, Programme]:
    """Needs Supervisor."""
    programme = services.programme_create(by=acting_user(request), values=programme_values(payload, partial=False))
    return 201, _programme_out(programme.pk)


@router.get("/programmes/{programme_id}", response={200: ProgrammeOut, **ERRORS})
def programmes_read(request: HttpRequest, programme_id: PathId) -> Programme:
    return _programme_out(programme_id)


@router.patch("/programmes/{programme_id}", response={200: ProgrammeOut, **ERRORS})
def programmes_update(request: HttpRequest, programme_id: PathId, payload: ProgrammePatch) -> Programme:
    """Needs Supervisor."""
    services.programme_update(
        programme=programme_get(programme_id),
        by=acting_user(request),
        changes=programme_values(payload, partial=True),
    )
    return _programme_out(programme_id)


@router.delete("/programmes/{programme_id}", response={204: None, **ERRORS})
def programmes_delete(request: HttpRequest, programme_id: PathId) -> tuple[int, None]:
    """Needs Supervisor; refused (409) while learners are enrolled on it."""
    services.programme_delete(programme=programme_get(programme_id), by=acting_user(request))
    return 204, None


@router.get("/programmes/{programme_id}/templates", response={200: list[TemplateOut], **ERRORS})
def templates_list(request: HttpRequest, programme_id: PathId) -> list[ComponentTemplate]:
    """The programme template: its component templates in order."""
    programme_get(programme_id)
    return list(template_list(programme_id).order_by("position"))


@router.post("/programmes/{programme_id}/templates", response={201: TemplateOut, **ERRORS})
def templates_create(request: HttpRequest, programme_id: PathId, payload: TemplateIn) -> tuple[int, ComponentTemplate]:
    """Needs Supervisor. Learners already enrolled get it through synchronisation, not at once."""
    values = template_values(payload, partial=False)
    return 201, services.template_create(programme=programme_get(programme_id), by=acting_user(request), values=values)


@router.get("/programmes/{programme_id}/templates/{template_id}", response={200: TemplateOut, **ERRORS})
def templates_read(request: HttpRequest, programme_id: PathId, template_id: PathId) -> ComponentTemplate:
    return _template(programme_id, template_id)


@router.patch("/programmes/{programme_id}/templates/{template_id}", response={200: TemplateOut, **ERRORS})
def templates_update(
    request: HttpRequest, programme_id: PathId, template_id: PathId, payload: TemplatePatch
) -> ComponentTemplate:
    """Needs Supervisor. Learners' plans change only through synchronisation."""
    return services.template_update(
        template=_template(programme_id, template_id),
        by=acting_user(request),
        changes=template_values(payload, partial=True),
    )


@router.delete("/programmes/{programme_id}/templates/{template_id}", response={204: None, **ERRORS})
def templates_delete(request: HttpRequest, programme_id: PathId, template_id: PathId) -> tuple[int, None]:
    """Needs Supervisor. Learners' components made from it stay, as components without a template."""
    services.template_delete(template=_template(programme_id, template_id), by=acting_user(request))
    return 204, None
