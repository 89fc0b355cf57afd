"""Learning plans and people over the API (R-CUR-5…8).

- Manage Users (Supervisor): assign people or a group, with the names of those already assigned in the answer;
  list assigned and registered users; delete an assignment or a registration; set a person's milestone status.
- A professional's own registration: start and take the next step, choose in a milestone, Complete; add to or
  remove from My Learning.
- A professional's own enrolments: enrol in a session or an activity without a registration (where a plan's
  registration is Disabled), cancel such an enrolment, list their enrolments.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from waypoint.api.auth import acting_user
from waypoint.api.schemas import ERRORS, PathId, paginate
from waypoint.core.errors import NotFound, ValidationFailed
from waypoint.curriculum.models import (
    Assignment,
    Milestone,
    ProfessionalGroup,
    Program,
    ProgramEnrolment,
    Registration,
    RegistrationStatus,
    Session,
)
from waypoint.curriculum.schemas_people import (
    AssignIn,
    AssignmentPage,
    AssignmentProgressOut,
    AssignOut,
    ChooseIn,
    MilestoneStatusIn,
    MilestoneStatusOut,
    MyEnrolmentIn,
    MyEnrolmentOut,
    MyEnrolmentPage,
    MyEnrolmentsFilter,
    RegistrationOut,
    RegistrationPage,
    StepOut,
    UsersFilter,
)
from waypoint.curriculum.selectors import (
    assigned_users_list,
    assignments_with_progress,
    curriculum_get,
    registered_users_list,
)
from waypoint.curriculum.services import assignments as assigning
from waypoint.curriculum.services import enrolments as enrolling
from waypoint.curriculum.services import registrations as registering
from waypoint.curriculum.services.registrations import Step

router = Router(tags=["learning plans"])

OPEN = (RegistrationStatus.STARTED, RegistrationStatus.REGISTERED)


def _step_out(step: Step) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "registration_id": step.registration.pk,
        "registration_status": step.registration.status,
        "milestone_id": step.milestone.pk if step.milestone else None,
        "milestones": [
            {
                "milestone_id": m.milestone_id,
                "name": m.name,
                "metric": m.metric,
                "required": m.required,
                "enrolled": m.enrolled,
                "program_ids": list(m.program_ids),
            }
            for m in step.milestones
        ],
    }


def _assignment_of(curriculum_id: int, assignment_id: int) -> Assignment:
    found = Assignment.objects.filter(curriculum_id=curriculum_id, pk=assignment_id).first()
    if found is None:
        raise NotFound("No such assignment in this learning plan.")
    return found


def _own_registration(request: HttpRequest, curriculum_id: int) -> Registration:
    found = (
        Registration.objects.select_related("person")
        .filter(curriculum_id=curriculum_id, person_id=acting_user(request).pk, status__in=OPEN)
        .first()
    )
    if found is None:
        raise NotFound("You have no registration in this learning plan; start one first.")
    return found


# Manage Users


@router.post("/curricula/{curriculum_id}/assignments", response={200: AssignOut, **ERRORS})
def assignments_create(request: HttpRequest, curriculum_id: PathId, payload: AssignIn) -> dict[str, Any]:
    """Assign the plan to professionals or to a group's members (R-CUR-5). People already assigned keep their due
    date and requirements and are not reassigned: their names come back in `conflicts`."""
    curriculum = curriculum_get(curriculum_id)
    group = None
    people = None
    if payload.group_id is not None:
        group = ProfessionalGroup.objects.filter(pk=payload.group_id).first()
        if group is None:
            raise NotFound("No such professional group.")
    if payload.person_ids is not None:
        people = get_user_model().objects.filter(pk__in=payload.person_ids)
        unknown = set(payload.person_ids) - set(people.values_list("pk", flat=True))
        if unknown:
            raise ValidationFailed(
                "Some people do not exist.", fields={"person_ids": [", ".join(map(str, sorted(unknown)))]}
            )
    result = assigning.curriculum_assign(curriculum=curriculum, people=people, group=group, by=acting_user(request))
    return {"assigned": result.assigned, "conflicts": result.conflicts}


@router.get("/curricula/{curriculum_id}/assignments", response={200: AssignmentPage, **ERRORS})
def assignments_list(request: HttpRequest, curriculum_id: PathId, filters: Query[UsersFilter]) -> dict[str, Any]:
    """Manage Users, Assigned users (R-CUR-8); search by name, username or email."""
    return paginate(assigned_users_list(curriculum_get(curriculum_id), search=filters.search), filters)


@router.delete("/curricula/{curriculum_id}/assignments/{assignment_id}", response={204: None, **ERRORS})
def assignments_delete(request: HttpRequest, curriculum_id: PathId, assignment_id: PathId) -> tuple[int, None]:
    assigning.assignment_delete(assignment=_assignment_of(curriculum_id, assignment_id), by=acting_user(request))
    return 204, None


@router.put(
    "/curricula/{curriculum_id}/assignments/{assignment_id}/milestones/{milestone_id}",
    response={200: MilestoneStatusOut, **ERRORS},
)
def assignment_milestone_set(
    request: HttpRequest, curriculum_id: PathId, assignment_id: PathId, milestone_id: PathId, payload: MilestoneStatusIn
) -> dict[str, Any]:
    """A person's status on one milestone (R-CUR-7). On an assignment through a group this is refused (409) unless
    `confirm_detach`: the change removes the group link (R-CUR-6)."""
    assignment = _assignment_of(curriculum_id, assignment_id)
    milestone = Milestone.objects.filter(curriculum_id=curriculum_id, pk=milestone_id).first()
    if milestone is None:
        raise NotFound("No such milestone in this learning plan.")
    status = assigning.assignment_override_milestone(
        assignment=assignment,
        milestone=milestone,
        action=payload.action.value,
        units=payload.units,
        due_date=payload.due_date,
        notes=payload.notes,
        by=acting_user(request),
        confirm_detach=payload.confirm_detach,
    )
    out: dict[str, Any] = {"milestone_id": milestone.pk, "group_id": assignment.group_id, "action": "no_action"}
    if status is not None:
        out.update(action=status.action, units=status.units, due_date=status.due_date, notes=status.notes)
    return out


@router.get("/curricula/{curriculum_id}/registrations", response={200: RegistrationPage, **ERRORS})
def registrations_list(request: HttpRequest, curriculum_id: PathId, filters: Query[UsersFilter]) -> dict[str, Any]:
    """Manage Users, Registered users (R-CUR-8): started and registered; search by name, username or email."""
    return paginate(registered_users_list(curriculum_get(curriculum_id), search=filters.search), filters)


@router.delete("/curricula/{curriculum_id}/registrations/{registration_id}", response={204: None, **ERRORS})
def registrations_delete(request: HttpRequest, curriculum_id: PathId, registration_id: PathId) -> tuple[int, None]:
    """Delete a registration: un-enrols the person from every enrolment made through the workflow (R-CUR-8)."""
    registration = Registration.objects.filter(curriculum_id=curriculum_id, pk=registration_id, status__in=OPEN).first()
    if registration is None:
        raise NotFound("No such registration in this learning plan.")
    registering.registration_delete(registration=registration, by=acting_user(request))
    return 204, None


@router.get("/professionals/{person_id}/curriculum-assignments", response={200: list[AssignmentProgressOut], **ERRORS})
def person_assignments(request: HttpRequest, person_id: PathId) -> list[dict[str, Any]]:
    """A professional's assigned learning plans with their progress in each milestone (R-CUR-7)."""
    if not get_user_model().objects.filter(pk=person_id).exists():
        raise NotFound("No such person.")
    rows = []
    for row in assignments_with_progress(person_id):
        names = {m.pk: m.name for m in row.milestones}
        rows.append(
            {
                "assignment_id": row.assignment.pk,
                "curriculum_id": row.assignment.curriculum_id,
                "curriculum_name": row.assignment.curriculum.name,
                "group_id": row.assignment.group_id,
                "due_date": row.progress.due_date,
                "state": row.progress.state.value,
                "milestones": [
                    {
                        "milestone_id": m.milestone_id,
                        "name": names[m.milestone_id],
                        "state": m.state.value,
                        "required": m.required,
                        "done": m.done,
                        "due_date": m.due_date,
                        "overdue": m.overdue,
                    }
                    for m in row.progress.milestones
                ],
            }
        )
    return rows


# The caller's own registration


@router.post("/curricula/{curriculum_id}/registration", response={200: StepOut, **ERRORS})
def registration_start(request: HttpRequest, curriculum_id: PathId) -> dict[str, Any]:
    """Start (or resume) your registration; answers the next step: a milestone to choose in, or the summary
    (R-CUR-3: with auto-register, qualifying milestones are enrolled in on the way)."""
    registration = registering.registration_start(curriculum=curriculum_get(curriculum_id), person=acting_user(request))
    return _step_out(registering.registration_next_step(registration))


@router.get("/curricula/{curriculum_id}/registration", response={200: StepOut, **ERRORS})
def registration_step(request: HttpRequest, curriculum_id: PathId) -> dict[str, Any]:
    return _step_out(registering.registration_next_step(_own_registration(request, curriculum_id)))


@router.post("/curricula/{curriculum_id}/registration/milestones/{milestone_id}", response={200: StepOut, **ERRORS})
def registration_choose(
    request: HttpRequest, curriculum_id: PathId, milestone_id: PathId, payload: ChooseIn
) -> dict[str, Any]:
    """Enrol in sessions and activities of one milestone; answers the next step."""
    registration = _own_registration(request, curriculum_id)
    milestone = Milestone.objects.filter(curriculum_id=curriculum_id, pk=milestone_id).first()
    if milestone is None:
        raise NotFound("No such milestone in this learning plan.")
    sessions = list(Session.objects.select_related("program").filter(pk__in=payload.session_ids))
    activities = list(Program.objects.filter(pk__in=payload.activity_ids))
    if len(sessions) != len(set(payload.session_ids)) or len(activities) != len(set(payload.activity_ids)):
        raise ValidationFailed("Some of the chosen sessions or activities do not exist.")
    registering.registration_choose(
        registration=registration, milestone=milestone, sessions=sessions, activities=activities
    )
    return _step_out(registering.registration_next_step(registration))


@router.post("/curricula/{curriculum_id}/registration/complete", response={200: RegistrationOut, **ERRORS})
def registration_complete(request: HttpRequest, curriculum_id: PathId) -> Registration:
    """Complete from the review summary. Enforced: refused (422) until every requirement is enrolled for."""
    return registering.registration_complete(registration=_own_registration(request, curriculum_id))


@router.post("/curricula/{curriculum_id}/my-learning", response={200: RegistrationOut, **ERRORS})
def my_learning_add(request: HttpRequest, curriculum_id: PathId) -> Registration:
    """Add to My Learning: shows as a started registration (R-CUR-8)."""
    registration = registering.my_learning_add(curriculum=curriculum_get(curriculum_id), person=acting_user(request))
    return Registration.objects.select_related("person").get(pk=registration.pk)


@router.delete("/curricula/{curriculum_id}/my-learning", response={200: RegistrationOut, **ERRORS})
def my_learning_remove(request: HttpRequest, curriculum_id: PathId) -> Registration:
    """Remove from My Learning: shows as a cancelled registration (R-CUR-8)."""
    registration = registering.my_learning_remove(curriculum=curriculum_get(curriculum_id), person=acting_user(request))
    return Registration.objects.select_related("person").get(pk=registration.pk)


# The caller's own enrolments, made without a registration


def _my_enrolments(request: HttpRequest) -> QuerySet[ProgramEnrolment]:
    return ProgramEnrolment.objects.filter(person_id=acting_user(request).pk).select_related("program", "session")


@router.post("/programs/{program_id}/my-enrolments", response={201: MyEnrolmentOut, **ERRORS})
def my_enrolments_create(request: HttpRequest, program_id: PathId, payload: MyEnrolmentIn) -> tuple[int, Any]:
    """Enrol in a session of the program (`session_id`), or in an activity (`session_id` null), without a
    registration: open where the program is linked to a plan whose registration is Disabled. Refused, changing
    nothing: the session has started or is full, or you are already enrolled in the program (409); a session for an
    activity, none for a program, another program's session, or a program open only through registration (422)."""
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise NotFound("No such program.")
    session = None
    if payload.session_id is not None:
        session = Session.objects.filter(pk=payload.session_id).first()
        if session is None:
            raise NotFound("No such session.")
    made = enrolling.program_enrol(person=acting_user(request), program=program, session=session)
    return 201, _my_enrolments(request).get(pk=made.pk)


@router.get("/my-enrolments", response={200: MyEnrolmentPage, **ERRORS})
def my_enrolments_list(request: HttpRequest, filters: Query[MyEnrolmentsFilter]) -> dict[str, Any]:
    """Your enrolments in programs and activities, however made, newest first; filter by `status`."""
    rows = _my_enrolments(request)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return paginate(rows.order_by("-created_at", "-pk"), filters)


@router.delete("/my-enrolments/{enrolment_id}", response={204: None, **ERRORS})
def my_enrolments_cancel(request: HttpRequest, enrolment_id: PathId) -> tuple[int, None]:
    """Cancel an enrolment you made directly whose session has not started. Refused (409) for a completed or
    cancelled enrolment, one made through a registration (deleting the registration ends those, R-CUR-8), or a
    started session; someone else's is not found (404)."""
    enrolment = _my_enrolments(request).filter(pk=enrolment_id).first()
    if enrolment is None:
        raise NotFound("You have no such enrolment.")
    enrolling.enrolment_cancel(person=acting_user(request), enrolment=enrolment)
    return 204, None
