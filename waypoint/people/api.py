"""/learners, /employers, /managers, /groups."""

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate
from waypoint.core.errors import NotFound
from waypoint.core.outbox import Source
from waypoint.people import services
from waypoint.people.models import Employer, Group, Learner, Manager
from waypoint.people.schemas import (
    EmployerFilter,
    EmployerIn,
    EmployerOut,
    EmployerPage,
    EmployerPatch,
    GroupFilter,
    GroupIn,
    GroupOut,
    GroupPage,
    LearnerFilter,
    LearnerIn,
    LearnerOut,
    LearnerPage,
    LearnerPatch,
    ManagerFilter,
    ManagerIn,
    ManagerOut,
    ManagerPage,
    ManagerPatch,
    StaffFilter,
    StaffOut,
    StaffPage,
    StaffPatch,
    learner_values,
    renamed,
)
from waypoint.people.selectors import (
    employer_list,
    group_list,
    learner_get_for,
    learner_list_for,
    manager_list,
    staff_list,
)

router = Router()

_GROUP_IDS = Prefetch("groups", queryset=Group.objects.only("pk"))


def _learner(request: HttpRequest, learner_id: int) -> Learner:
    """A learner the caller may see (R-CORE-8), or 404."""
    return learner_get_for(acting_user(request), learner_id)


def _learner_out(request: HttpRequest, learner_id: int) -> Learner:
    learner = learner_list_for(acting_user(request)).prefetch_related(_GROUP_IDS).filter(pk=learner_id).first()
    if learner is None:
        raise NotFound("No such learner, or you may not see them.")
    return learner


def _employer(employer_id: int) -> Employer:
    employer = employer_list().filter(pk=employer_id).first()
    if employer is None:
        raise NotFound("No such employer.")
    return employer


def _manager(manager_id: int) -> Manager:
    manager = manager_list().filter(pk=manager_id).first()
    if manager is None:
        raise NotFound("No such manager.")
    return manager


def _group(group_id: int) -> Group:
    group = group_list().filter(pk=group_id).first()
    if group is None:
        raise NotFound("No such group.")
    return group


# Learners


@router.get("/learners", response={200: LearnerPage, **ERRORS}, tags=["learners"])
def learners_list(request: HttpRequest, filters: Query[LearnerFilter]) -> dict[str, object]:
    """Learners you may see; `search` matches every word against names, ULN and email."""
    learners = learner_list_for(
        acting_user(request),
        search=filters.search,
        programme_id=filters.programme_id,
        status=filters.status,
        group_id=filters.group_id,
        tutor_id=filters.tutor_id,
    ).prefetch_related(_GROUP_IDS)
    return paginate(learners, filters)


@router.post("/learners", response={201: LearnerOut, **ERRORS}, tags=["learners"])
def learners_create(request: HttpRequest, payload: LearnerIn) -> tuple[int, Learner]:
    learner = services.learner_create(by=acting_user(request), values=learner_values(payload, partial=False))
    return 201, _learner_out(request, learner.pk)


@router.get("/learners/{learner_id}", response={200: LearnerOut, **ERRORS}, tags=["learners"])
def learners_read(request: HttpRequest, learner_id: PathId) -> Learner:
    return _learner_out(request, learner_id)


@router.patch("/learners/{learner_id}", response={200: LearnerOut, **ERRORS}, tags=["learners"])
def learners_update(request: HttpRequest, learner_id: PathId, payload: LearnerPatch) -> Learner:
    learner = _learner(request, learner_id)
    changes = learner_values(payload, partial=True)
    services.learner_update(learner=learner, by=acting_user(request), changes=changes, source=Source.API)
    return _learner_out(request, learner_id)


@router.delete("/learners/{learner_id}", response={204: None, **ERRORS}, tags=["learners"])
def learners_delete(request: HttpRequest, learner_id: PathId) -> tuple[int, None]:
    """Needs Supervisor; removes the learner's enrolments and plans too."""
    services.learner_delete(learner=_learner(request, learner_id), by=acting_user(request))
    return 204, None


# Employers


@router.get("/employers", response={200: EmployerPage, **ERRORS}, tags=["employers"])
def employers_list(request: HttpRequest, filters: Query[EmployerFilter]) -> dict[str, object]:
    return paginate(employer_list(search=filters.search), filters)


@router.post("/employers", response={201: EmployerOut, **ERRORS}, tags=["employers"])
def employers_create(request: HttpRequest, payload: EmployerIn) -> tuple[int, Employer]:
    return 201, services.employer_create(by=acting_user(request), values=renamed(payload, partial=False))


@router.get("/employers/{employer_id}", response={200: EmployerOut, **ERRORS}, tags=["employers"])
def employers_read(request: HttpRequest, employer_id: PathId) -> Employer:
    return _employer(employer_id)


@router.patch("/employers/{employer_id}", response={200: EmployerOut, **ERRORS}, tags=["employers"])
def employers_update(request: HttpRequest, employer_id: PathId, payload: EmployerPatch) -> Employer:
    return services.employer_update(
        employer=_employer(employer_id),
        by=acting_user(request),
        changes=renamed(payload, partial=True),
        source=Source.API,
    )


@router.delete("/employers/{employer_id}", response={204: None, **ERRORS}, tags=["employers"])
def employers_delete(request: HttpRequest, employer_id: PathId) -> tuple[int, None]:
    """Needs Supervisor; refused (409) while the employer has learners."""
    services.employer_delete(employer=_employer(employer_id), by=acting_user(request))
    return 204, None


# Managers (employer contacts)

_MANAGER_RENAMES = {"employer_id": "employer"}


@router.get("/managers", response={200: ManagerPage, **ERRORS}, tags=["managers"])
def managers_list(request: HttpRequest, filters: Query[ManagerFilter]) -> dict[str, object]:
    return paginate(manager_list(employer_id=filters.employer_id, search=filters.search), filters)


@router.post("/managers", response={201: ManagerOut, **ERRORS}, tags=["managers"])
def managers_create(request: HttpRequest, payload: ManagerIn) -> tuple[int, Manager]:
    values = renamed(payload, partial=False, renames=_MANAGER_RENAMES)
    return 201, services.manager_create(by=acting_user(request), values=values)


@router.get("/managers/{manager_id}", response={200: ManagerOut, **ERRORS}, tags=["managers"])
def managers_read(request: HttpRequest, manager_id: PathId) -> Manager:
    return _manager(manager_id)


@router.patch("/managers/{manager_id}", response={200: ManagerOut, **ERRORS}, tags=["managers"])
def managers_update(request: HttpRequest, manager_id: PathId, payload: ManagerPatch) -> Manager:
    changes = renamed(payload, partial=True, renames=_MANAGER_RENAMES)
    return services.manager_update(
        manager=_manager(manager_id), by=acting_user(request), changes=changes, source=Source.API
    )


@router.delete("/managers/{manager_id}", response={204: None, **ERRORS}, tags=["managers"])
def managers_delete(request: HttpRequest, manager_id: PathId) -> tuple[int, None]:
    """Needs Supervisor; the manager's learners are left without a manager."""
    services.manager_delete(manager=_manager(manager_id), by=acting_user(request))
    return 204, None


# Staff (case owners are staff members)


def _staff(staff_id: int) -> Any:
    user = staff_list().filter(pk=staff_id).first()
    if user is None:
        raise NotFound("No such staff member.")
    return user


@router.get("/staff", response={200: StaffPage, **ERRORS}, tags=["staff"])
def staff_index(request: HttpRequest, filters: Query[StaffFilter]) -> dict[str, object]:
    """Staff members; `search` matches names, username and email."""
    return paginate(staff_list(search=filters.search), filters)


@router.get("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, tags=["staff"])
def staff_read(request: HttpRequest, staff_id: PathId) -> Any:
    return _staff(staff_id)


@router.patch("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, tags=["staff"])
def staff_patch(request: HttpRequest, staff_id: PathId, payload: StaffPatch) -> Any:
    """Your own details, or anyone's with Supervisor. A case owner's change is sent to the EPA platform for every
    learner they are case owner of (R-EPA-3)."""
    changes: services.StaffValues = payload.model_dump(exclude_unset=True)  # type: ignore[assignment]
    services.staff_update(user=_staff(staff_id), by=acting_user(request), changes=changes, source=Source.API)
    return _staff(staff_id)


# Groups


@router.get("/groups", response={200: GroupPage, **ERRORS}, tags=["groups"])
def groups_list(request: HttpRequest, filters: Query[GroupFilter]) -> dict[str, object]:
    return paginate(group_list(search=filters.search), filters)


@router.post("/groups", response={201: GroupOut, **ERRORS}, tags=["groups"])
def groups_create(request: HttpRequest, payload: GroupIn) -> tuple[int, Group]:
    """Needs Supervisor."""
    return 201, services.group_create(by=acting_user(request), values=renamed(payload, partial=False))


@router.get("/groups/{group_id}", response={200: GroupOut, **ERRORS}, tags=["groups"])
def groups_read(request: HttpRequest, group_id: PathId) -> Group:
    return _group(group_id)


@router.patch("/groups/{group_id}", response={200: GroupOut, **ERRORS}, tags=["groups"])
def groups_update(request: HttpRequest, group_id: PathId, payload: GroupIn) -> Group:
    """Needs Supervisor."""
    return services.group_update(
        group=_group(group_id),
        by=acting_user(request),
        changes=renamed(payload, partial=True),
    )


@router.delete("/groups/{group_id}", response={204: None, **ERRORS}, tags=["groups"])
def groups_delete(request: HttpRequest, group_id: PathId) -> tuple[int, None]:
    """Needs Supervisor; learners and staff lose their membership of the group."""
    services.group_delete(group=_group(group_id), by=acting_user(request))
    return 204, None
