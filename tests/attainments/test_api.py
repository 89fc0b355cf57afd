"""PLR attainments and the Learner Manager over the API (R-PLR-1, 2, 4, 5, 6, 7)."""

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from openpyxl import load_workbook

from tests import factories
from tests.api.conftest import ApiClient, assert_error, token_client
from tests.attainments.conftest import FakeLrs, exact_match
from waypoint.attainments.exports import HEADINGS
from waypoint.attainments.lrs.types import LearnerEvents, LearnerQuery, LearningEvent
from waypoint.attainments.models import PlrDownload
from waypoint.attainments.services import LRS_NOT_CONFIGURED, NO_IMPORT_PERMISSION, plr_download_run
from waypoint.people.models import Perm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lrs_on")]


@pytest.fixture
def admin() -> AbstractUser:
    return factories.staff([Perm.PLR_IMPORT])


@pytest.fixture
def api(admin: AbstractUser) -> ApiClient:
    return token_client(admin)


def _formula_answer(query: LearnerQuery) -> LearnerEvents:
    answer = exact_match(query, events=1)
    risky = LearningEvent(id=answer.events[0].id, subject='=HYPERLINK("http://x")', credits=5, grade="Pass")
    return LearnerEvents(query.uln, query.uln, "WSRC0004", events=(risky,))


def _downloaded(api: ApiClient, learner_ids: list[int], lrs: FakeLrs | None = None) -> dict[str, Any]:
    response = api.post("/plr/downloads", {"learner_ids": learner_ids})
    assert response.status_code == 202, response.content
    download = response.json()
    assert (download["status"], download["done"], download["total"]) == ("queued", 0, len(learner_ids))
    plr_download_run(download["id"], client=lrs or FakeLrs())
    return download


def test_the_learner_manager_searches_learners_by_condition_r_plr_2(api: ApiClient) -> None:
    smith = factories.learner(surname="Smith")
    factories.learner(surname="Jones")
    condition = {"logic": "and", "conditions": [{"field": "surname", "operator": "starts_with", "value": "smi"}]}
    response = api.post("/learner-manager/search", {"condition": condition, "page_size": 10})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["items"][0]["id"] == smith.pk


def test_a_bad_condition_is_answered_with_what_is_wrong(api: ApiClient) -> None:
    response = api.post("/learner-manager/search", {"condition": {"conditions": [{"field": "uln", "operator": "in"}]}})
    body = assert_error(response, 422, "validation_failed")
    assert "conditions.0.value" in body["fields"]


def test_a_download_for_a_condition_downloads_every_matching_learner(api: ApiClient) -> None:
    learners = [factories.learner(surname=f"Match{n}") for n in range(3)]
    factories.learner(surname="Other")
    condition = {"conditions": [{"field": "surname", "operator": "starts_with", "value": "Match"}]}
    response = api.post("/plr/downloads", {"condition": condition})
    assert response.status_code == 202
    download = PlrDownload.objects.get(pk=response.json()["id"])
    assert set(download.learners.values_list("learner_id", flat=True)) == {x.pk for x in learners}


def test_the_download_is_polled_and_its_rows_paged_filtered_and_sorted_r_plr_4(api: ApiClient) -> None:
    learners = [factories.learner(surname="Beta"), factories.learner(surname="Alpha"), factories.learner(uln="")]
    download = _downloaded(api, [x.pk for x in learners])

    polled = api.get(f"/plr/downloads/{download['id']}").json()
    assert (polled["status"], polled["done"], polled["total"], polled["row_count"]) == ("done", 3, 3, 5)

    page = api.get(f"/plr/downloads/{download['id']}/rows", page_size=2).json()
    assert page["count"] == 5
    assert [r["surname"] for r in page["items"]] == ["Alpha", "Alpha"]
    errors = api.get(f"/plr/downloads/{download['id']}/rows", error_code="WP_MISSING_ULN").json()
    assert [r["learner_id"] for r in errors["items"]] == [learners[2].pk]
    assert errors["items"][0]["error_description"]
    by_subject = api.get(f"/plr/downloads/{download['id']}/rows", sort="-subject", has_events="true").json()
    subjects = [r["subject"] for r in by_subject["items"]]
    assert subjects == sorted(subjects, reverse=True)
    assert len(subjects) == 4
    assert_error(api.get(f"/plr/downloads/{download['id']}/rows", sort="shoe_size"), 422, "validation_failed")


def test_the_grid_exports_as_csv_with_its_columns_r_plr_5(api: ApiClient) -> None:
    learner = factories.learner()
    download = _downloaded(api, [learner.pk], FakeLrs(_formula_answer))
    response = api.get(f"/plr/downloads/{download['id']}/rows.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == HEADINGS
    assert HEADINGS[-4:] == ["Error Code", "Error Description", "Response Code", "Response Description"]
    row = dict(zip(lines[0], lines[1], strict=True))
    assert (row["ULN"], row["Surname"], row["Credits"], row["Response Code"]) == (
        learner.uln,
        learner.surname,
        "5",
        "WSRC0004",
    )
    assert row["Subject"] == '\'=HYPERLINK("http://x")'  # never run as a formula


def test_the_grid_exports_as_excel_r_plr_5(api: ApiClient) -> None:
    learners = [factories.learner(), factories.learner(uln="")]
    download = _downloaded(api, [x.pk for x in learners], FakeLrs(_formula_answer))
    response = api.get(f"/plr/downloads/{download['id']}/rows.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADINGS
    assert len(rows) == 3
    by_uln = {r[0]: dict(zip(HEADINGS, r, strict=True)) for r in rows[1:]}
    assert by_uln[learners[0].uln]["Subject"] == '\'=HYPERLINK("http://x")'
    assert by_uln[learners[0].uln]["Credits"] == 5
    assert by_uln[None]["Error Code"] == "WP_MISSING_ULN"


def test_update_selected_refresh_and_discard_over_the_api_r_plr_6_r_plr_7(api: ApiClient) -> None:
    learner = factories.learner()
    download = _downloaded(api, [learner.pk])
    path = f"/plr/downloads/{download['id']}"

    first = api.post(f"{path}/update", {"all": True}).json()
    assert first == {"processed": 2, "updated": 2, "unchanged": 0, "skipped": 0}
    assert api.post(f"{path}/update", {"all": True}).json()["unchanged"] == 2
    rows = api.get(f"{path}/rows").json()["items"]
    assert api.post(f"{path}/update", {"row_ids": [rows[0]["id"]]}).json()["processed"] == 1
    assert api.post(f"{path}/update", {"filter": {"has_events": False}}).json()["processed"] == 0
    assert_error(api.post(f"{path}/update", {"all": True, "row_ids": [1]}), 422, "invalid_input")

    attainments = api.get(f"/learners/{learner.pk}/attainments").json()
    assert {a["lrs_event_id"] for a in attainments} == {r["lrs_event_id"] for r in rows}

    refreshed = api.post(f"{path}/refresh")
    assert refreshed.status_code == 202
    assert refreshed.json()["status"] == "queued"
    assert_error(api.post(f"{path}/refresh"), 409, "conflict")

    assert api.delete(path).status_code == 204
    assert_error(api.get(path), 404, "not_found")


def test_another_admins_download_is_not_found(api: ApiClient) -> None:
    download = _downloaded(api, [factories.learner().pk])
    other = token_client(factories.staff([Perm.PLR_IMPORT]))
    for response in (
        other.get(f"/plr/downloads/{download['id']}"),
        other.get(f"/plr/downloads/{download['id']}/rows"),
        other.get(f"/plr/downloads/{download['id']}/rows.csv"),
        other.post(f"/plr/downloads/{download['id']}/update", {"all": True}),
        other.delete(f"/plr/downloads/{download['id']}"),
    ):
        assert_error(response, 404, "not_found")


def test_without_a_plr_permission_or_an_lrs_connection_everything_is_refused_r_plr_1(
    api: ApiClient, settings: Any
) -> None:
    learner = factories.learner()
    download = _downloaded(api, [learner.pk])
    stranger = token_client(factories.staff([Perm.SUPERVISOR]))
    assert_error(stranger.post("/plr/downloads", {"learner_ids": [learner.pk]}), 403, "permission_denied")

    viewer = token_client(factories.staff([Perm.PLR_VIEW]))
    mine = _downloaded(viewer, [learner.pk])
    assert viewer.get(f"/plr/downloads/{mine['id']}/rows.csv").status_code == 200
    body = assert_error(viewer.post(f"/plr/downloads/{mine['id']}/update", {"all": True}), 403, "permission_denied")
    assert body["message"] == NO_IMPORT_PERMISSION

    settings.WAYPOINT_LRS_URL = ""
    for response in (
        api.post("/plr/downloads", {"learner_ids": [learner.pk]}),
        api.get(f"/plr/downloads/{download['id']}/rows"),
        api.post(f"/plr/downloads/{download['id']}/update", {"all": True}),
    ):
        assert assert_error(response, 403, "permission_denied")["message"] == LRS_NOT_CONFIGURED
