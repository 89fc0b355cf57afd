"""Which changes are sent to the EPA platform, by where they came from: the pure rule (R-EPA-2…7)."""

import pytest

from waypoint.core.outbox import Change, ChangeKind, Source
from waypoint.epa.triggers import SENT_FROM, is_sent

EDITS = (Source.UI, Source.API)


@pytest.mark.parametrize("field", ["learner.sex", "learner.ethnicity", "learner.uln"])
@pytest.mark.parametrize("source", EDITS)
def test_gender_ethnicity_and_uln_changed_in_the_ui_or_api_are_sent(field: str, source: Source) -> None:
    """R-EPA-2"""
    assert is_sent(Change(ChangeKind.PERSONAL, source, fields=(field,)))


def test_personal_details_other_than_gender_ethnicity_and_uln_are_not_sent_on_their_own() -> None:
    """R-EPA-2: a name or email edit travels with the next snapshot, it is not a trigger."""
    assert not is_sent(Change(ChangeKind.PERSONAL, Source.UI, fields=("learner.first_name", "learner.email")))
    assert is_sent(Change(ChangeKind.PERSONAL, Source.UI, fields=("learner.first_name", "learner.uln")))


@pytest.mark.parametrize("source", [Source.AUTOMATION, Source.SYSTEM])
def test_personal_details_from_automation_or_the_system_are_not_sent(source: Source) -> None:
    """R-EPA-2 names the user interface and the API only."""
    assert not is_sent(Change(ChangeKind.PERSONAL, source, fields=("learner.uln",)))


@pytest.mark.parametrize("source", EDITS)
def test_a_case_owner_change_in_the_ui_or_api_is_sent(source: Source) -> None:
    """R-EPA-3"""
    assert is_sent(Change(ChangeKind.TUTOR, source, fields=("learner.tutor",)))
    assert is_sent(Change(ChangeKind.TUTOR, source, fields=("tutor.email",)))


def test_a_case_owner_change_from_automation_is_not_sent() -> None:
    """R-EPA-3 names the user interface and the API only (no automation changes a case owner)."""
    assert not is_sent(Change(ChangeKind.TUTOR, Source.AUTOMATION, fields=("learner.tutor",)))


@pytest.mark.parametrize("kind", [ChangeKind.MANAGER, ChangeKind.EMPLOYER])
@pytest.mark.parametrize("source", [*EDITS, Source.AUTOMATION])
def test_manager_and_employer_changes_from_ui_api_or_approved_automation_are_sent(
    kind: ChangeKind, source: Source
) -> None:
    """R-EPA-4, R-EPA-5"""
    assert is_sent(Change(kind, source))


@pytest.mark.parametrize("source", EDITS)
def test_programme_dates_from_edit_programme_details_are_sent_but_the_epa_period_is_not(source: Source) -> None:
    """R-EPA-6"""
    assert is_sent(Change(ChangeKind.PROGRAMME_DATES, source, fields=("programme.start_date",), enrolment_id=1))
    assert not is_sent(Change(ChangeKind.EPA_PERIOD, source, fields=("programme.epa_period_end",), enrolment_id=1))


@pytest.mark.parametrize(
    "kind",
    [
        ChangeKind.BREAK_IN_LEARNING,
        ChangeKind.RETURN_TO_LEARNING,
        ChangeKind.WITHDRAWAL,
        ChangeKind.CHANGE_OF_PROGRAMME,
    ],
)
def test_a_change_of_circumstance_is_sent_only_from_an_approved_automation(kind: ChangeKind) -> None:
    """R-EPA-7"""
    assert is_sent(Change(kind, Source.AUTOMATION, enrolment_id=1))
    for manual in (Source.UI, Source.API, Source.SYSTEM):
        assert not is_sent(Change(kind, manual, enrolment_id=1))


def test_every_kind_of_change_has_a_rule() -> None:
    assert set(SENT_FROM) == set(ChangeKind)
