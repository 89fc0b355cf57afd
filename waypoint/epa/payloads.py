"""What Waypoint sends an EPA platform about one registration: a full, versioned snapshot (R-EPA-12). Pure: no
database, no clock; `selectors.delivery_gather` loads the state, `delivery` sends the result.

An outbox message only says that a registration changed and why. The snapshot is built from the state at send
time, so a replay or a late retry never sends anything older than what Waypoint holds now, and several queued
plain updates of one registration may travel as one. Each snapshot carries a `version` that increases with every
snapshot built for the registration: a platform applies the highest version it has seen and ignores older ones.

Codes travel as ILR codes with their labels (sex, ethnicity, CompStatus). Empty values travel as null.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from waypoint.core.ilr import Ethnicity, Sex
from waypoint.programmes.models import ProgrammeStatus

SCHEMA = "waypoint.epa-connector.registration/v1"

# ILR CompStatus of a programme aim.
COMP_STATUS_LABELS: dict[int, str] = {
    1: "Continuing",
    2: "Completed",
    3: "Withdrawn",
    6: "Break in learning",
}

# The platform's status for a registration (epaPRO's apprentice statuses).
ON_PROGRAMME = "On-programme"
SUSPENDED = "Suspended"
CANCELLED = "Cancelled"
WITHDRAWN = "Withdrawn"
COMPLETED = "Completed"

# The programme status in Waypoint → (CompStatus, the platform's status) when no change of circumstance says more.
_BY_PROGRAMME_STATUS: dict[str, tuple[int, str]] = {
    ProgrammeStatus.ACTIVE: (1, ON_PROGRAMME),
    ProgrammeStatus.PENDING_CHANGE_OF_PROGRAMME: (1, ON_PROGRAMME),
    ProgrammeStatus.EXPIRED: (1, ON_PROGRAMME),  # past its planned end, not yet finished: still continuing
    ProgrammeStatus.BREAK_IN_LEARNING: (6, SUSPENDED),
    ProgrammeStatus.COMPLETED: (2, COMPLETED),
    ProgrammeStatus.ARCHIVED: (2, COMPLETED),  # filed away after it finished
    ProgrammeStatus.WITHDRAWN: (3, CANCELLED),
    ProgrammeStatus.CANCELLED: (3, CANCELLED),
}

SEX_LABELS: dict[str, str] = dict(Sex.choices)
ETHNICITY_LABELS: dict[int, str] = dict(Ethnicity.choices)

# ILR WithdrawReason 40: transferred to a new learning aim with the same provider (a change of programme).
WITHDRAW_REASON_NEW_AIM = 40


@dataclass(frozen=True)
class LearnerState:
    uln: str
    first_name: str
    surname: str
    date_of_birth: dt.date | None
    sex: str  # ILR code F/M, or empty
    ethnicity: int | None  # ILR code
    email: str


@dataclass(frozen=True)
class ProgrammeState:
    code: str
    name: str
    standard_code: str
    start_date: dt.date
    planned_end_date: dt.date
    status: str  # the enrolment's ProgrammeStatus value


@dataclass(frozen=True)
class EmployerState:
    name: str
    edrs_number: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str


@dataclass(frozen=True)
class ManagerState:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class TutorState:
    name: str
    email: str
    job_title: str


@dataclass(frozen=True)
class RegistrationFacts:
    """The registration and everything the platform is told about it, as Waypoint holds it now."""

    registration_id: int
    version: int  # of the snapshot being built
    platform: str
    epao_id: str
    external_ref: str
    learner: LearnerState
    programme: ProgrammeState
    employer: EmployerState | None
    manager: ManagerState | None
    tutor: TutorState | None


@dataclass(frozen=True)
class MessageFacts:
    """Why the snapshot is sent: the outbox message (and the plain updates it carries along)."""

    event_id: uuid.UUID
    event_type: str
    occurred_at: dt.datetime
    event: Mapping[str, Any] = field(default_factory=dict)
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendState:
    registration: RegistrationFacts
    message: MessageFacts


@dataclass(frozen=True)
class PlatformStatus:
    comp_status: int
    target: str


def platform_status(event_type: str, programme_status: str, event: Mapping[str, Any]) -> PlatformStatus:
    """The ILR CompStatus and the platform's status for a snapshot.

    A change of circumstance sets the status it stands for (it drives the platform's transition, whatever the
    programme status is by the time it is sent); any other snapshot follows the programme status. A withdrawal
    because of a change of programme (WithdrawReason 40) is "Withdrawn"; any other withdrawal "Cancelled".
    """
    if event_type == "registration.break_in_learning":
        return PlatformStatus(6, SUSPENDED)
    if event_type == "registration.returned_to_learning":
        return PlatformStatus(1, ON_PROGRAMME)
    if event_type == "registration.withdrawn":
        reason = event.get("withdraw_reason")
        return PlatformStatus(3, WITHDRAWN if reason == WITHDRAW_REASON_NEW_AIM else CANCELLED)
    comp_status, target = _BY_PROGRAMME_STATUS.get(programme_status, (1, ON_PROGRAMME))
    return PlatformStatus(comp_status, target)


def merged_fields(*lists: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The changed fields of several messages in the order first named, each once."""
    return tuple(dict.fromkeys(name for names in lists for name in names))


def snapshot(state: SendState) -> dict[str, Any]:
    """The canonical JSON snapshot of one registration (schema waypoint.epa-connector.registration/v1)."""
    registration, message = state.registration, state.message
    programme = registration.programme
    status = platform_status(message.event_type, programme.status, message.event)
    return {
        "schema": SCHEMA,
        "event_id": str(message.event_id),
        "event_type": message.event_type,
        "occurred_at": _instant(message.occurred_at),
        "registration_id": registration.registration_id,
        "version": registration.version,
        "connection": {"platform": registration.platform, "epao_id": registration.epao_id},
        "external_ref": _text(registration.external_ref),
        "learner": _learner(registration.learner),
        "programme": {
            "code": programme.code,
            "name": programme.name,
            "standard_code": _text(programme.standard_code),
            "learn_start_date": programme.start_date.isoformat(),
            "learn_plan_end_date": programme.planned_end_date.isoformat(),
            "comp_status": {"code": status.comp_status, "label": COMP_STATUS_LABELS[status.comp_status]},
            "status": {"lms": programme.status, "platform_target": status.target},
        },
        "employer": _employer(registration.employer),
        "manager": _manager(registration.manager),
        "tutor": _tutor(registration.tutor),
        "event": dict(message.event) or None,
        "changed_fields": list(message.changed_fields),
    }


def _learner(learner: LearnerState) -> dict[str, Any]:
    return {
        "uln": _text(learner.uln),
        "given_names": learner.first_name,
        "family_name": learner.surname,
        "date_of_birth": learner.date_of_birth.isoformat() if learner.date_of_birth else None,
        "sex": _coded(learner.sex, SEX_LABELS) if learner.sex else None,
        "ethnicity": _coded(learner.ethnicity, ETHNICITY_LABELS) if learner.ethnicity is not None else None,
        "email": _text(learner.email),
    }


def _employer(employer: EmployerState | None) -> dict[str, Any] | None:
    if employer is None:
        return None
    return {
        "name": employer.name,
        "edrs_number": _text(employer.edrs_number),
        "address": {
            "line1": _text(employer.address_line_1),
            "line2": _text(employer.address_line_2),
            "town": _text(employer.town),
            "postcode": _text(employer.postcode),
        },
    }


def _manager(manager: ManagerState | None) -> dict[str, Any] | None:
    if manager is None:
        return None
    return {"name": manager.name, "email": _text(manager.email), "phone": _text(manager.phone)}


def _tutor(tutor: TutorState | None) -> dict[str, Any] | None:
    if tutor is None:
        return None
    return {"name": tutor.name, "email": _text(tutor.email), "job_title": _text(tutor.job_title)}


def _coded(code: str | int, labels: Mapping[Any, str]) -> dict[str, Any]:
    return {"code": code, "label": labels.get(code, "")}


def _text(value: str) -> str | None:
    return value or None


def _instant(moment: dt.datetime) -> str:
    """An ISO 8601 instant in UTC with a Z, to the millisecond."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
