"""/programs, /sessions, /catalogs, /learning-plans, /milestones: building learning plans for professionals, and
recording who completed the programs they were enrolled in (what their progress counts, R-CUR-2, R-CUR-11)."""

from typing import Any, TypeVar

from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate, plain
from waypoint.core.errors import NotFound, ValidationFailed
from waypoint.curriculum import services
from waypoint.curriculum.models import (
    Catalog,
    Curriculum,
    Milestone,
    MilestoneProgram,
    Program,
    ProgramEnrolment,
    Session,
)
from waypoint.curriculum.schemas_plans import (
    CatalogFilter,
    CatalogIn,
    CatalogOut,
    CatalogPage,
    CatalogPatch,
    CatalogPlacementIn,
    CatalogPlacementOut,
    CompletionsIn,
    CompletionsOut,
    CurriculumDetail,
    CurriculumFilter,
    CurriculumIn,
    CurriculumPage,
    CurriculumPatch,
    DuplicateIn,
    EnrolmentFilter,
    EnrolmentPage,
    MilestoneIn,
    MilestoneOrderIn,
    MilestoneOut,
    MilestonePatch,
    ProgramFilter,
    ProgramIn,
    ProgramLinksIn,
    ProgramOrderIn,
    ProgramOut,
    ProgramPage,
    ProgramPatch,
    SessionIn,
    SessionOut,
    SessionPatch,
)
from waypoint.curriculum.selectors import matching_words, roster
from waypoint.curriculum.services.enrolments import enrolments_set_completed

router = Router(tags=["learning plans"])

M = TypeVar("M", bound=Model)

_LINKS = Prefetch(
    "links",
    queryset=MilestoneProgram.objects.select_related("program")
    .prefetch_related("program__sessions")
    .order_by("position"),
)


def _programs() -> QuerySet[Program]:
    return Program.objects.prefetch_related("sessions")


def _milestones() -> QuerySet[Milestone]:
    return Milestone.objects.prefetch_related(_LINKS)


def _curricula_detail() -> QuerySet[Curriculum]:
    return Curriculum.objects.prefetch_related(
        "catalogs", Prefetch("milestones", queryset=_milestones().order_by("position"))
    )


def _values(payload: Schema, *, partial: bool) -> Any:
    """The payload as a service's values (a TypedDict); `partial` keeps only the fields sent."""
    return plain(payload.model_dump(exclude_unset=partial))


def _get(queryset: QuerySet[M], pk: int, noun: str) -> M:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No such {noun}.")
    return found


def _program(program_id: int) -> Program:
    return _get(_programs(), program_id, "program")


def _session(session_id: int) -> Session:
    return _get(Session.objects.select_related("program"), session_id, "session")


def _catalog(catalog_id: int) -> Catalog:
    return _get(Catalog.objects.all(), catalog_id, "catalog")


def _curriculum(curriculum_id: int) -> Curriculum:
    return _get(_curricula_detail(), curriculum_id, "learning plan")


def _milestone(milestone_id: int) -> Milestone:
    return _get(_milestones(), milestone_id, "milestone")


def _existing(model: type[M], ids: list[int], field: str) -> QuerySet[M]:
    """The rows with these ids; any id that matches nothing is refused by name."""
    rows = model._default_manager.filter(pk__in=ids)
    unknown = sorted(set(ids) - set(rows.values_list("pk", flat=True)))
    if unknown:
        noun = model._meta.verbose_name
        message = f"No {noun} has id {', '.join(map(str, unknown))}."
        raise ValidationFailed(message, fields={field: [message]})
    return rows


# Programs and sessions


@router.get("/programs", response={200: ProgramPage, **ERRORS})
def programs_list(request: HttpRequest, filters: Query[ProgramFilter]) -> dict[str, object]:
    programs = matching_words(_programs(), filters.search, "name", "code")
    if filters.kind:
        programs = programs.filter(kind=filters.kind)
    return paginate(programs, filters)


@router.post("/programs", response={201: ProgramOut, **ERRORS})
def programs_create(request: HttpRequest, payload: ProgramIn) -> tuple[int, Program]:
    program = services.program_create(by=acting_user(request), values=_values(payload, partial=False))
    return 201, _program(program.pk)


@router.get("/programs/{program_id}", response={200: ProgramOut, **ERRORS})
def programs_read(request: HttpRequest, program_id: PathId) -> Program:
    return _program(program_id)


@router.patch("/programs/{program_id}", response={200: ProgramOut, **ERRORS})
def programs_update(request: HttpRequest, program_id: PathId, payload: ProgramPatch) -> Program:
    changes = _values(payload, partial=True)
    services.program_update(program=_program(program_id), by=acting_user(request), changes=changes)
    return _program(program_id)


@router.post("/programs/{program_id}/sessions", response={201: SessionOut, **ERRORS})
def sessions_create(request: HttpRequest, program_id: PathId, payload: SessionIn) -> tuple[int, Session]:
    values = _values(payload, partial=False)
    return 201, services.session_create(program=_program(program_id), by=acting_user(request), values=values)


@router.patch("/sessions/{session_id}", response={200: SessionOut, **ERRORS})
def sessions_update(request: HttpRequest, session_id: PathId, payload: SessionPatch) -> Session:
    changes = _values(payload, partial=True)
    return services.session_update(session=_session(session_id), by=acting_user(request), changes=changes)


@router.delete("/sessions/{session_id}", response={204: None, **ERRORS})
def sessions_delete(request: HttpRequest, session_id: PathId) -> tuple[int, None]:
    """Refused (409) while anyone is enrolled in the session."""
    services.session_delete(session=_session(session_id), by=acting_user(request))
    return 204, None


# Enrolments and completions (R-CUR-2: a milestone's progress counts the programs completed; R-CUR-11: the reports
# follow at once)


def _enrolments(enrolments: QuerySet[ProgramEnrolment], filters: EnrolmentFilter) -> dict[str, object]:
    return paginate(roster(enrolments, search=filters.search, status=filters.status or ""), filters)


@router.get("/sessions/{session_id}/enrolments", response={200: EnrolmentPage, **ERRORS})
def sessions_enrolments(request: HttpRequest, session_id: PathId, filters: Query[EnrolmentFilter]) -> dict[str, object]:
    """The session's roster, by person's name: enrolled, completed and cancelled enrolments."""
    return _enrolments(ProgramEnrolment.objects.filter(session=_session(session_id)), filters)


@router.get("/programs/{program_id}/enrolments", response={200: EnrolmentPage, **ERRORS})
def programs_enrolments(request: HttpRequest, program_id: PathId, filters: Query[EnrolmentFilter]) -> dict[str, object]:
    """Every enrolment of the program, in any of its sessions or in none (an activity's), by person's name;
    `session_id` says which session."""
    program = _get(Program.objects.all(), program_id, "program")
    return _enrolments(ProgramEnrolment.objects.filter(program=program), filters)


@router.post("/programs/{program_id}/completions", response={200: CompletionsOut, **ERRORS})
def programs_completions(request: HttpRequest, program_id: PathId, payload: CompletionsIn) -> dict[str, int]:
    """Mark enrolments of this program completed (or, with `completed: false`, back to enrolled), all in one change.
    Refused, changing nothing, when an id is not an enrolment of this program (422) or an enrolment was cancelled
    (422); needs Supervisor."""
    program = _get(Program.objects.all(), program_id, "program")
    wanted = set(payload.enrolment_ids)
    chosen = ProgramEnrolment.objects.filter(program=program, pk__in=wanted)
    strangers = sorted(wanted - set(chosen.values_list("pk", flat=True)))
    if strangers:
        message = (
            f"No enrolment of {program.name} has id {', '.join(map(str, strangers))}; nothing was changed. "
            "Send the enrolments of one program at a time."
        )
        raise ValidationFailed(message, fields={"enrolment_ids": [message]})
    changed = enrolments_set_completed(enrolments=chosen, completed=payload.completed, by=acting_user(request))
    return {"changed": changed}


# Catalogs (R-CUR-9)


@router.get("/catalogs", response={200: CatalogPage, **ERRORS})
def catalogs_list(request: HttpRequest, filters: Query[CatalogFilter]) -> dict[str, object]:
    return paginate(matching_words(Catalog.objects.all(), filters.search, "name"), filters)


@router.post("/catalogs", response={201: CatalogOut, **ERRORS})
def catalogs_create(request: HttpRequest, payload: CatalogIn) -> tuple[int, Catalog]:
    return 201, services.catalog_create(by=acting_user(request), values=_values(payload, partial=False))


@router.get("/catalogs/{catalog_id}", response={200: CatalogOut, **ERRORS})
def catalogs_read(request: HttpRequest, catalog_id: PathId) -> Catalog:
    return _catalog(catalog_id)


@router.patch("/catalogs/{catalog_id}", response={200: CatalogOut, **ERRORS})
def catalogs_update(request: HttpRequest, catalog_id: PathId, payload: CatalogPatch) -> Catalog:
    """Rename the catalog or change its description; the learning plans it lists stay."""
    changes = _values(payload, partial=True)
    return services.catalog_update(catalog=_catalog(catalog_id), by=acting_user(request), changes=changes)


@router.delete("/catalogs/{catalog_id}", response={204: None, **ERRORS})
def catalogs_delete(request: HttpRequest, catalog_id: PathId) -> tuple[int, None]:
    """Refused (409) while the catalog lists learning plans: take them out of it first."""
    services.catalog_delete(catalog=_catalog(catalog_id), by=acting_user(request))
    return 204, None


@router.post("/learning-plans/catalogs/add", response={200: CatalogPlacementOut, **ERRORS})
def learning_plans_catalogs_add(request: HttpRequest, payload: CatalogPlacementIn) -> dict[str, int]:
    """Put every chosen learning plan in every chosen catalog."""
    changed = services.catalogs_add(
        curricula=_existing(Curriculum, payload.curriculum_ids, "curriculum_ids"),
        catalogs=_existing(Catalog, payload.catalog_ids, "catalog_ids"),
        by=acting_user(request),
    )
    return {"changed": changed}


@router.post("/learning-plans/catalogs/remove", response={200: CatalogPlacementOut, **ERRORS})
def learning_plans_catalogs_remove(request: HttpRequest, payload: CatalogPlacementIn) -> dict[str, int]:
    """Take every chosen learning plan out of every chosen catalog."""
    changed = services.catalogs_remove(
        curricula=_existing(Curriculum, payload.curriculum_ids, "curriculum_ids"),
        catalogs=_existing(Catalog, payload.catalog_ids, "catalog_ids"),
        by=acting_user(request),
    )
    return {"changed": changed}


# Learning plans (curricula)


@router.get("/learning-plans", response={200: CurriculumPage, **ERRORS})
def learning_plans_list(request: HttpRequest, filters: Query[CurriculumFilter]) -> dict[str, object]:
    curricula = matching_words(Curriculum.objects.prefetch_related("catalogs"), filters.search, "name", "description")
    if filters.catalog_id is not None:
        curricula = curricula.filter(catalogs=filters.catalog_id)
    if filters.registration_type:
        curricula = curricula.filter(registration_type=filters.registration_type)
    return paginate(curricula, filters)


@router.post("/learning-plans", response={201: CurriculumDetail, **ERRORS})
def learning_plans_create(request: HttpRequest, payload: CurriculumIn) -> tuple[int, Curriculum]:
    curriculum = services.curriculum_create(by=acting_user(request), values=_values(payload, partial=False))
    return 201, _curriculum(curriculum.pk)


@router.get("/learning-plans/{curriculum_id}", response={200: CurriculumDetail, **ERRORS})
def learning_plans_read(request: HttpRequest, curriculum_id: PathId) -> Curriculum:
    """The plan with its milestones and their linked programs, in order."""
    return _curriculum(curriculum_id)


@router.patch("/learning-plans/{curriculum_id}", response={200: CurriculumDetail, **ERRORS})
def learning_plans_update(request: HttpRequest, curriculum_id: PathId, payload: CurriculumPatch) -> Curriculum:
    """`catalog_ids`, when sent, replaces the catalogs the plan appears in."""
    changes = _values(payload, partial=True)
    services.curriculum_update(curriculum=_curriculum(curriculum_id), by=acting_user(request), changes=changes)
    return _curriculum(curriculum_id)


@router.delete("/learning-plans/{curriculum_id}", response={204: None, **ERRORS})
def learning_plans_delete(request: HttpRequest, curriculum_id: PathId) -> tuple[int, None]:
    """Refused (409) while anyone is assigned to or registered in the plan."""
    services.curriculum_delete(curriculum=_curriculum(curriculum_id), by=acting_user(request))
    return 204, None


@router.post("/learning-plans/{curriculum_id}/duplicate", response={201: CurriculumDetail, **ERRORS})
def learning_plans_duplicate(
    request: HttpRequest, curriculum_id: PathId, payload: DuplicateIn
) -> tuple[int, Curriculum]:
    """A copy named "Copy of …" (R-CUR-4), in no catalog."""
    copy = services.curriculum_duplicate(
        curriculum=_curriculum(curriculum_id), mode=payload.mode, by=acting_user(request)
    )
    return 201, _curriculum(copy.pk)


@router.post("/learning-plans/{curriculum_id}/milestones", response={201: MilestoneOut, **ERRORS})
def milestones_create(request: HttpRequest, curriculum_id: PathId, payload: MilestoneIn) -> tuple[int, Milestone]:
    """Appended after the plan's last milestone."""
    milestone = services.milestone_create(
        curriculum=_curriculum(curriculum_id),
        by=acting_user(request),
        values=_values(payload, partial=False),
    )
    return 201, _milestone(milestone.pk)


@router.put("/learning-plans/{curriculum_id}/milestones/order", response={200: CurriculumDetail, **ERRORS})
def milestones_reorder(request: HttpRequest, curriculum_id: PathId, payload: MilestoneOrderIn) -> Curriculum:
    services.milestones_reorder(
        curriculum=_curriculum(curriculum_id), milestone_ids=payload.milestone_ids, by=acting_user(request)
    )
    return _curriculum(curriculum_id)


# Milestones and their linked programs (R-CUR-2)


@router.patch("/milestones/{milestone_id}", response={200: MilestoneOut, **ERRORS})
def milestones_update(request: HttpRequest, milestone_id: PathId, payload: MilestonePatch) -> Milestone:
    changes = _values(payload, partial=True)
    services.milestone_update(milestone=_milestone(milestone_id), by=acting_user(request), changes=changes)
    return _milestone(milestone_id)


@router.delete("/milestones/{milestone_id}", response={204: None, **ERRORS})
def milestones_delete(request: HttpRequest, milestone_id: PathId) -> tuple[int, None]:
    """The milestones after it move up one place."""
    services.milestone_delete(milestone=_milestone(milestone_id), by=acting_user(request))
    return 204, None


@router.post("/milestones/{milestone_id}/programs", response={200: MilestoneOut, **ERRORS})
def milestones_link_programs(request: HttpRequest, milestone_id: PathId, payload: ProgramLinksIn) -> Milestone:
    """Activities only on Sessions or elective milestones; programs already linked keep their place."""
    found = _existing(Program, payload.program_ids, "program_ids").in_bulk()
    programs = [found[pk] for pk in payload.program_ids]
    services.milestone_link_programs(milestone=_milestone(milestone_id), programs=programs, by=acting_user(request))
    return _milestone(milestone_id)


# Declared before the unlink route, whose path would otherwise take "order" for a program id.
@router.put("/milestones/{milestone_id}/programs/order", response={200: MilestoneOut, **ERRORS})
def milestones_reorder_programs(request: HttpRequest, milestone_id: PathId, payload: ProgramOrderIn) -> Milestone:
    """Only where program order is enforced; list every linked program once."""
    services.milestone_reorder_programs(
        milestone=_milestone(milestone_id), program_ids=payload.program_ids, by=acting_user(request)
    )
    return _milestone(milestone_id)


@router.delete("/milestones/{milestone_id}/programs/{program_id}", response={204: None, **ERRORS})
def milestones_unlink_program(request: HttpRequest, milestone_id: PathId, program_id: PathId) -> tuple[int, None]:
    services.milestone_unlink_program(
        milestone=_milestone(milestone_id), program=_program(program_id), by=acting_user(request)
    )
    return 204, None
