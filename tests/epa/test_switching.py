"""The EPA registration switching rules R-EPA-8…11, as one pure function."""

from hypothesis import given
from hypothesis import strategies as st

from waypoint.epa.switching import Placement, RegistrationState, SwitchAction, registration_switch

REGISTERED, MANUAL = RegistrationState.REGISTERED, RegistrationState.MANUAL


def test_moving_from_a_connected_programme_to_another_epao_without_a_connection_switches_to_manual() -> None:
    """R-EPA-8."""
    switch = registration_switch(Placement(1, "EPA0001", 10), Placement(2, "EPA0002", None), REGISTERED)
    assert switch.action == SwitchAction.SWITCH_TO_MANUAL
    assert switch.state == MANUAL
    assert not switch.register_new


def test_a_manually_registered_learner_moved_onto_a_connected_programme_may_then_be_registered() -> None:
    """R-EPA-9."""
    switch = registration_switch(Placement(1, "EPA0002", None), Placement(2, "EPA0001", 10), MANUAL)
    assert switch.action == SwitchAction.OFFER_REGISTRATION
    assert switch.state == MANUAL  # registering is the admin's next step
    assert not switch.withdraw_old


def test_moving_between_two_connections_cancels_the_old_registration_withdraws_and_registers_on_the_new() -> None:
    """R-EPA-10."""
    switch = registration_switch(Placement(1, "EPA0001", 10), Placement(2, "EPA0002", 20), REGISTERED)
    assert switch.action == SwitchAction.MOVE_CONNECTION
    assert (switch.withdraw_old, switch.register_new, switch.state) == (True, True, REGISTERED)


def test_changing_the_epao_id_on_the_same_connection_also_moves_the_registration() -> None:
    """R-EPA-10: a changed EPAO id counts as another connection, an 8-digit UKPRN included."""
    switch = registration_switch(Placement(1, "EPA0001", 10), Placement(1, "10012345", 10), REGISTERED)
    assert switch.action == SwitchAction.MOVE_CONNECTION


def test_a_programme_change_within_the_same_epao_and_connection_stops_the_old_and_starts_the_new() -> None:
    """R-EPA-11."""
    switch = registration_switch(Placement(1, "EPA0001", 10), Placement(2, "EPA0001", 10), REGISTERED)
    assert switch.action == SwitchAction.RESTART_PROGRAMME
    assert (switch.stop_and_start, switch.withdraw_old, switch.register_new) == (True, False, False)


def test_a_change_of_specialism_is_treated_like_a_programme_change() -> None:
    """R-EPA-11."""
    switch = registration_switch(Placement(1, "EPA0001", 10, "A"), Placement(1, "EPA0001", 10, "B"), REGISTERED)
    assert switch.action == SwitchAction.RESTART_PROGRAMME


def test_nothing_changes_when_neither_side_is_connected_or_nothing_moved() -> None:
    assert registration_switch(Placement(1, "EPA0001", None), Placement(2, "EPA0002", None), MANUAL).action == (
        SwitchAction.NONE
    )
    assert registration_switch(Placement(1, "EPA0001", 10), Placement(1, "EPA0001", 10), REGISTERED).action == (
        SwitchAction.NONE
    )


placements = st.builds(
    Placement,
    st.integers(1, 3),
    st.sampled_from(["EPA0001", "EPA0002", "10012345"]),
    st.one_of(st.none(), st.integers(10, 12)),
    st.sampled_from(["", "A"]),
)


@given(placements, placements, st.sampled_from(list(RegistrationState)))
def test_a_learner_ends_registered_only_where_there_is_a_connection(
    old: Placement, new: Placement, state: RegistrationState
) -> None:
    """R-EPA-1, 8…11: whatever the move, a learner is never left registered on a programme without a connection,
    and a registration is only ever moved when there was one."""
    switch = registration_switch(old, new, state)
    if switch.state == REGISTERED and switch.action != SwitchAction.NONE:
        assert new.connection_id is not None
    if switch.withdraw_old or switch.stop_and_start:
        assert state == REGISTERED
        assert old.connection_id is not None
