"""Registering a manually registered learner on the EPA platform once their programme is connected (R-EPA-9).

After a change of programme onto a programme whose EPAO has a platform connection, or once a connection is set up
for the EPAO of a learner registered by hand, the episode's manual registration may be registered on the
platform: it takes the connection, and a `registration.created` message is recorded in the same transaction
(R-EPA-12).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from waypoint.core.errors import Conflict, NotFound, PermissionRefused
from waypoint.core.outbox import Change, ChangeKind, Source
from waypoint.epa.capture import connection_for, messages_insert, wake
from waypoint.epa.models import EpaRegistration
from waypoint.epa.switching import RegistrationState
from waypoint.epa.triggers import EVENT_TYPES
from waypoint.people.access import AnyUser, learner_visibility, staff_perms
from waypoint.plans.permissions import PlanAction, enrolment_change_refusal
from waypoint.programmes.models import ProgrammeStatus

REGISTER_NEEDED = (
    "Registering a learner on the EPA platform needs Advanced Delivery Management (Edit), Supervisor or Compliance QA."
)


class RegistrationRefused(Conflict):
    """The registration cannot be registered on the platform as it is."""

    code = "registration_refused"


def registration_list_for(user: AnyUser) -> QuerySet[EpaRegistration]:
    """EPA registrations of learners the user may see (R-CORE-8)."""
    return EpaRegistration.objects.filter(learner_visibility(user, "learner")).select_related(
        "enrolment__programme", "connection"
    )


def registration_get_for(user: AnyUser, registration_id: int) -> EpaRegistration:
    registration = registration_list_for(user).filter(pk=registration_id).first()
    if registration is None:
        raise NotFound("No such EPA registration, or you may not see its learner.")
    return registration


def registration_register(
    *, registration: EpaRegistration, by: AbstractBaseUser, source: Source = Source.UI
) -> EpaRegistration:
    """Register a manual registration on its programme's platform connection and tell the platform (R-EPA-9)."""
    if enrolment_change_refusal(staff_perms(by), PlanAction.EDIT) is not None:
        raise PermissionRefused(REGISTER_NEEDED)
    with transaction.atomic():
        current = (
            EpaRegistration.objects.select_for_update()
            .select_related("enrolment__programme")
            .filter(learner_visibility(by, "learner"), pk=registration.pk)
            .first()
        )
        if current is None:
            raise NotFound("No such EPA registration, or you may not see its learner.")
        enrolment = current.enrolment
        if current.state != RegistrationState.MANUAL:
            raise RegistrationRefused(
                f"Only a manual registration can be registered on the platform; this one is {current.state}."
            )
        if enrolment.status != ProgrammeStatus.ACTIVE:
            raise RegistrationRefused(
                f"The learner is {enrolment.get_status_display()} on {enrolment.programme}: only an Active learner "
                "is registered on the EPA platform."
            )
        target = connection_for(enrolment.programme)
        if target is None:
            epao = enrolment.programme.epao_id or "no EPAO"
            raise RegistrationRefused(
                f"{enrolment.programme} ({epao}) has no active EPA platform connection: the learner stays registered "
                "manually."
            )
        others = EpaRegistration.objects.filter(enrolment=enrolment, state=RegistrationState.REGISTERED)
        if others.exclude(pk=current.pk).exists():
            raise RegistrationRefused("This programme episode is already registered on the EPA platform.")
        one = EpaRegistration.objects.filter(pk=current.pk)
        one.update(
            state=RegistrationState.REGISTERED,
            connection=target,
            epao_id=enrolment.programme.epao_id,
            can_register=False,
            updated_at=timezone.now(),
        )
        change = Change(ChangeKind.ENROLLED, source, by.pk, enrolment_id=enrolment.pk)
        if messages_insert(one, change, kind=EVENT_TYPES[ChangeKind.ENROLLED], event={}):
            transaction.on_commit(wake)
    current.refresh_from_db()
    return current
