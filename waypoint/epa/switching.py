"""What a learner's EPA registration does when their programme (or its EPAO) changes: R-EPA-8…11, as one pure rule.

A learner's programme episode is seen here only as what the EPA platform cares about: the EPAO assessing it and
the platform connection the programme has for that EPAO, if any. No database, no platform calls: the services
apply the outcome and record what must be sent.
"""

from dataclasses import dataclass
from enum import StrEnum


class RegistrationState(StrEnum):
    REGISTERED = "registered"  # on the platform through a connection
    MANUAL = "manual"  # the provider registers the learner with the EPAO by hand
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class SwitchAction(StrEnum):
    NONE = "none"
    SWITCH_TO_MANUAL = "switch_to_manual"  # R-EPA-8
    OFFER_REGISTRATION = "offer_registration"  # R-EPA-9
    MOVE_CONNECTION = "move_connection"  # R-EPA-10
    RESTART_PROGRAMME = "restart_programme"  # R-EPA-11


@dataclass(frozen=True)
class Placement:
    """A programme episode as the EPA platform sees it."""

    programme_id: int
    epao_id: str  # "EPA0001", or from the 2026-27 ILR year an 8-digit UKPRN
    connection_id: int | None  # the programme's platform connection for that EPAO; None: no connection
    specialism: str = ""


@dataclass(frozen=True)
class Switch:
    """What the change means for the learner's registrations."""

    action: SwitchAction
    state: RegistrationState  # the learner's registration state afterwards
    withdraw_old: bool = False  # the old registration is cancelled and the learner marked withdrawn there
    register_new: bool = False  # the learner is registered on the new connection
    stop_and_start: bool = False  # same registration: the old programme stopped, the new one started
    reason: str = ""


def registration_switch(old: Placement, new: Placement, state: RegistrationState) -> Switch:
    """R-EPA-8…11 for a learner registered as `state` on `old`, moved to `new`."""
    changed = (old.programme_id, old.epao_id, old.specialism) != (new.programme_id, new.epao_id, new.specialism)
    connected_before = old.connection_id is not None and state == RegistrationState.REGISTERED
    if not changed and old.connection_id == new.connection_id:
        return Switch(SwitchAction.NONE, state)
    if connected_before and new.connection_id is None:
        return Switch(
            SwitchAction.SWITCH_TO_MANUAL,
            RegistrationState.MANUAL,
            reason="The new programme's EPAO has no platform connection: the learner is registered manually now.",
        )
    if not connected_before and new.connection_id is not None:
        return Switch(
            SwitchAction.OFFER_REGISTRATION,
            RegistrationState.MANUAL,
            reason="The new programme has a platform connection: the learner may now be registered on it.",
        )
    if not connected_before:
        return Switch(SwitchAction.NONE, state)
    if old.connection_id != new.connection_id or old.epao_id != new.epao_id:
        return Switch(
            SwitchAction.MOVE_CONNECTION,
            RegistrationState.REGISTERED,
            withdraw_old=True,
            register_new=True,
            reason="Another EPAO or connection: the old registration is cancelled, the learner withdrawn there "
            "and registered on the new one.",
        )
    return Switch(
        SwitchAction.RESTART_PROGRAMME,
        RegistrationState.REGISTERED,
        stop_and_start=True,
        reason="Same EPAO and connection: the platform shows the old programme stopped and the new one started.",
    )
