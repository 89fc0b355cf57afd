"""Update Selected: downloaded rows written into learners' attainments (R-PLR-1, R-PLR-6)."""

import datetime as dt

import pytest
from django.contrib.auth.models import AbstractUser

from tests import factories
from tests.attainments.conftest import FakeLrs, event, exact_match
from waypoint.attainments.lrs.types import NOT_VERIFIED, LearnerEvents, LearnerQuery
from waypoint.attainments.models import Attainment, PlrDownload, PlrRow
from waypoint.attainments.rows import UpdateResult
from waypoint.attainments.selectors import RowFilter
from waypoint.attainments.services import (
    NO_IMPORT_PERMISSION,
    plr_download_refresh,
    plr_download_run,
    plr_download_start,
    plr_rows_update_selected,
)
from waypoint.core.errors import Conflict, PermissionRefused
from waypoint.people.models import Learner, Perm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lrs_on")]


@pytest.fixture
def admin() -> AbstractUser:
    return factories.staff([Perm.PLR_IMPORT])


def _downloaded(admin: AbstractUser, learners: list[Learner], lrs: FakeLrs | None = None) -> PlrDownload:
    download = plr_download_start(by=admin, learners=[x.pk for x in learners])
    plr_download_run(download.pk, client=lrs or FakeLrs())
    download.refresh_from_db()
    return download


def _not_verified_for(uln: str) -> FakeLrs:
    def answer(query: LearnerQuery) -> LearnerEvents:
        if query.uln == uln:
            return LearnerEvents(incoming_uln=uln, response_code=NOT_VERIFIED)
        return exact_match(query)

    return FakeLrs(answer)


def test_update_selected_writes_the_rows_into_attainments_and_reports_the_counts_r_plr_6(admin: AbstractUser) -> None:
    learners = [factories.learner(), factories.learner(), factories.learner(uln="")]
    download = _downloaded(admin, learners, _not_verified_for(learners[1].uln))

    result = plr_rows_update_selected(download=download, by=admin)

    assert result == UpdateResult(processed=4, updated=2, unchanged=0, skipped=2)
    attainment = Attainment.objects.get(learner=learners[0], lrs_event_id=event(learners[0].uln, 0).id)
    assert attainment.attainment_type == "PLR"
    assert attainment.subject == f"Subject 0 of {learners[0].uln}"
    assert attainment.award_date == dt.date(2023, 7, 30)
    assert attainment.date_loaded == dt.date(2023, 9, 1)
    assert (attainment.credits, attainment.provider_name, attainment.updated_by_id) == (10, "Leeds College", admin.pk)


def test_updating_twice_changes_nothing_the_second_time_r_plr_6(admin: AbstractUser) -> None:
    download = _downloaded(admin, [factories.learner(), factories.learner()])
    assert plr_rows_update_selected(download=download, by=admin).updated == 4
    before = list(Attainment.objects.order_by("pk").values())

    again = plr_rows_update_selected(download=download, by=admin)

    assert again == UpdateResult(processed=4, updated=0, unchanged=4, skipped=0)
    assert list(Attainment.objects.order_by("pk").values()) == before


def test_only_changed_events_are_updated_after_a_refresh(admin: AbstractUser) -> None:
    learner = factories.learner()
    download = _downloaded(admin, [learner])
    plr_rows_update_selected(download=download, by=admin)

    def regraded(query: LearnerQuery) -> LearnerEvents:
        events = (event(query.uln, 0, grade="Distinction"), event(query.uln, 1), event(query.uln, 2))
        return LearnerEvents(incoming_uln=query.uln, found_uln=query.uln, response_code="WSRC0004", events=events)

    plr_download_refresh(download=download, by=admin)
    plr_download_run(download.pk, client=FakeLrs(regraded))
    download.refresh_from_db()

    assert plr_rows_update_selected(download=download, by=admin) == UpdateResult(3, 2, 1, 0)
    assert Attainment.objects.get(learner=learner, lrs_event_id=event(learner.uln, 0).id).grade == "Distinction"
    assert Attainment.objects.filter(learner=learner).count() == 3


def test_update_selected_takes_the_rows_of_a_page_or_of_a_filter(admin: AbstractUser) -> None:
    learners = [factories.learner(), factories.learner()]
    download = _downloaded(admin, learners, _not_verified_for(learners[1].uln))
    first_row = PlrRow.objects.filter(download=download, learner=learners[0]).order_by("pk").first()
    assert first_row is not None

    assert plr_rows_update_selected(download=download, by=admin, row_ids=[first_row.pk]) == UpdateResult(1, 1, 0, 0)
    by_code = plr_rows_update_selected(download=download, by=admin, filters=RowFilter(response_code=NOT_VERIFIED))
    assert by_code == UpdateResult(1, 0, 0, 1)
    with_events = plr_rows_update_selected(download=download, by=admin, filters=RowFilter(has_events=True))
    assert with_events == UpdateResult(2, 1, 1, 0)


def test_an_admin_with_view_and_export_only_may_not_update_r_plr_1() -> None:
    viewer = factories.staff([Perm.PLR_VIEW])
    download = _downloaded(viewer, [factories.learner()])
    with pytest.raises(PermissionRefused) as refused:
        plr_rows_update_selected(download=download, by=viewer)
    assert refused.value.message == NO_IMPORT_PERMISSION
    assert not Attainment.objects.exists()


def test_nothing_is_updated_from_a_download_still_under_way(admin: AbstractUser) -> None:
    download = plr_download_start(by=admin, learners=[factories.learner().pk])
    with pytest.raises(Conflict):
        plr_rows_update_selected(download=download, by=admin)


def test_update_selected_sends_a_fixed_number_of_statements_for_a_hundred_rows(
    admin: AbstractUser, django_assert_max_num_queries: object
) -> None:
    download = _downloaded(admin, [factories.learner() for _ in range(50)])
    with django_assert_max_num_queries(10):  # type: ignore[operator]
        assert plr_rows_update_selected(download=download, by=admin).updated == 100
