"""The Learner Manager and the PLR download window as pages (R-PLR-1…8), with a fake LRS."""

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from tests import factories
from tests.attainments.conftest import FakeLrs, lrs_on  # noqa: F401 - the fixture
from tests.web.conftest import logged_in
from waypoint.attainments.models import Attainment, PlrDownload, PlrDownloadLearner, PlrDownloadStatus, PlrRow
from waypoint.attainments.services import LRS_NOT_CONFIGURED, NO_IMPORT_PERMISSION, NO_PLR_PERMISSION, plr_download_run
from waypoint.people.models import Group, Learner, Perm, StaffProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lrs_on")]

CONDITION = {"logic": "and", "field": "surname", "op": "contains", "value": "Okafor"}


def _learners(n: int = 3) -> list[Learner]:
    return [factories.learner(surname=f"Okafor{i}") for i in range(n)] + [factories.learner(surname="Brown")]


def _download(client: Client, **extra: Any) -> PlrDownload:
    response = client.post("/learner-manager/download/", {**CONDITION, "scope": "all", **extra})
    download = PlrDownload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/plr/downloads/{download.pk}/"
    return download


def test_learner_manager_lists_the_learners_the_condition_matches(client: Client) -> None:
    logged_in(client, [Perm.PLR_IMPORT])
    _learners()
    response = client.get("/learner-manager/", CONDITION)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    assert "Okafor0" in html
    assert "Brown" not in html
    assert "Select all 3 matching" in html
    assert 'id="plr-download" disabled' not in html


def test_learner_manager_or_group_and_bad_condition(client: Client) -> None:
    logged_in(client, [Perm.PLR_VIEW])
    _learners()
    data = {"logic": "or", "field": ["surname", "surname"], "op": ["equals", "equals"], "value": ["Brown", "Okafor1"]}
    assert client.get("/learner-manager/", data).context["page"].paginator.count == 2
    bad = client.get("/learner-manager/", {"field": "programme", "op": "equals", "value": "x"})
    assert bad.context["error"]
    assert bad.context["page"] is None


def test_learner_manager_picks_a_programme_from_the_list_of_names(client: Client) -> None:
    logged_in(client, [Perm.PLR_VIEW])
    parent = factories.programme()
    sub = factories.programme(parent=parent)
    other = factories.programme()
    for i in range(2):
        factories.enrolment(factories.learner(surname=f"Khan{i}"), parent)
    factories.enrolment(factories.learner(surname="Brown"), other)
    factories.enrolment(factories.learner(surname="Patel"), sub)
    employer = factories.employer(name="Acme Engineering")
    Group.objects.create(name="Leeds Cohort 3")
    tutor = factories.staff()
    StaffProfile.objects.filter(user=tutor).update(is_tutor=True)

    html = client.get("/learner-manager/").content.decode()
    assert 'name="pick-0-programme"' in html
    assert f'<option value="{parent.pk}">{escape(parent.name)}</option>' in html
    assert f'<option value="{sub.pk}">{escape(parent.name)} / {escape(sub.name)}</option>' in html
    assert f'<option value="{employer.pk}">Acme Engineering</option>' in html
    assert "Leeds Cohort 3</option>" in html
    assert f"{escape(tutor.get_full_name())}</option>" in html

    chosen = {
        "logic": "and",
        "row": "0",
        "field": "programme",
        "op": "equals",
        "value": "",
        "pick-0-programme": parent.pk,
    }
    response = client.get("/learner-manager/", chosen)
    assert [learner.surname for learner in response.context["page"].object_list] == ["Khan0", "Khan1"]
    page = response.content.decode()
    assert f'<option value="{parent.pk}" selected>' in page  # still chosen, and carried to the download form
    assert f'<input type="hidden" name="value" value="{parent.pk}">' in page

    one_of = {**chosen, "op": "in", "pick-0-programme": [parent.pk, sub.pk]}
    assert client.get("/learner-manager/", one_of).context["page"].paginator.count == 3
    typed = {**chosen, "value": str(other.pk), "pick-0-programme": ""}  # nothing chosen: the text, as without script
    assert [x.surname for x in client.get("/learner-manager/", typed).context["page"].object_list] == ["Brown"]


class _HiddenFields(HTMLParser):
    """The hidden fields of the form with the given id, in order, as (name, value) pairs."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.inside = found.get("id") == self.form_id
        elif tag == "input" and self.inside and found.get("type") == "hidden" and found.get("name"):
            self.pairs.append((found["name"] or "", found.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def test_learner_manager_nested_group_finds_and_downloads_exactly_its_learners(client: Client) -> None:
    logged_in(client, [Perm.PLR_IMPORT])
    programme, other = factories.programme(), factories.programme()
    group = Group.objects.create(name="Leeds Cohort 3")
    on_programme = factories.learner(surname="Khan-A")
    factories.enrolment(on_programme, programme)
    in_group = factories.learner(surname="Khan-B", groups=[group])
    factories.learner(surname="Khan-C")
    factories.enrolment(factories.learner(surname="Khan-D"), other)
    factories.enrolment(factories.learner(surname="Brown", groups=[group]), programme)
    expected = {on_programme.pk, in_group.pk}

    # surname contains Khan AND (programme equals P OR group equals G); sub-group 2 is empty, sub-group 3 blank.
    nested = {
        "logic": "and",
        "row": ["0", "1", "2", "3"],
        "g": ["", "1", "1", "3"],
        "field": ["surname", "programme", "group", ""],
        "op": ["contains", "equals", "equals", "contains"],
        "value": ["Khan", "", str(group.pk), ""],
        "pick-1-programme": str(programme.pk),
        "logic_1": "or",
        "logic_2": "and",
        "logic_3": "and",
    }
    response = client.get("/learner-manager/", nested)
    assert response.context["error"] is None
    assert {learner.pk for learner in response.context["page"].object_list} == expected
    html = response.content.decode()
    assert html.count('data-testid="condition-group"') == 2  # the one sub-group, and the script's template
    assert '<input type="radio" name="logic_1" value="or" checked>' in html
    assert f'<option value="{programme.pk}" selected>' in html

    # The download form carries the nested condition exactly: its learners are those the page lists.
    parser = _HiddenFields("learner-selection")
    parser.feed(html)
    carried: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        carried.setdefault(name, []).append(value)
    assert carried["g"] == ["", "1", "1"]
    assert carried["logic_1"] == ["or"]
    assert "logic_2" not in carried
    response = client.post("/learner-manager/download/", {**carried, "scope": "all"})
    assert response.status_code == 302
    download = PlrDownload.objects.get()
    assert set(PlrDownloadLearner.objects.filter(download=download).values_list("learner", flat=True)) == expected
    assert download.total == 2

    # Nothing ticked: back to the page with the same nested condition.
    back = client.post("/learner-manager/download/", {**carried, "scope": ""})
    again = client.get(back["Location"])
    assert {learner.pk for learner in again.context["page"].object_list} == expected


@pytest.mark.parametrize(
    ("perms", "configured", "reason"),
    [([Perm.SUPERVISOR], True, NO_PLR_PERMISSION), ([Perm.PLR_IMPORT], False, LRS_NOT_CONFIGURED)],
)
def test_download_button_is_disabled_with_the_refusal(
    client: Client, settings: Any, perms: list[Perm], configured: bool, reason: str
) -> None:
    if not configured:
        settings.WAYPOINT_LRS_URL = ""
    logged_in(client, perms)
    _learners(1)
    html = client.get("/learner-manager/").content.decode()
    assert 'id="plr-download" disabled' in html
    assert escape(reason) in html
    response = client.post("/learner-manager/download/", {**CONDITION, "scope": "all"}, follow=True)
    assert escape(reason) in response.content.decode()
    assert not PlrDownload.objects.exists()


def test_download_start_progress_grid_and_exports(client: Client) -> None:
    logged_in(client, [Perm.PLR_VIEW])
    _learners()
    download = _download(client)
    assert download.total == 3
    window = client.get(f"/plr/downloads/{download.pk}/")
    assert 'hx-trigger="every 1s"' in window.content.decode()
    assert client.get(f"/plr/downloads/{download.pk}/status/").status_code == 200

    plr_download_run(download.pk, client=FakeLrs())
    assert client.get(f"/plr/downloads/{download.pk}/status/")["HX-Refresh"] == "true"
    window = client.get(f"/plr/downloads/{download.pk}/")
    html = window.content.decode()
    assert window.context["page"].paginator.count == 6
    assert "Subject 0 of" in html
    assert "Export CSV" in html
    assert 'id="update-selected" disabled' in html
    assert escape(NO_IMPORT_PERMISSION) in html
    by_code = client.get(f"/plr/downloads/{download.pk}/", {"sort": "-subject_code", "has_events": "yes"})
    codes = [r.subject_code for r in by_code.context["page"].object_list]
    assert codes == sorted(codes, reverse=True)

    csv = client.get(f"/plr/downloads/{download.pk}/export.csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert len(b"".join(csv.streaming_content).decode().strip().splitlines()) == 7
    xlsx = client.get(f"/plr/downloads/{download.pk}/export.xlsx")
    assert "spreadsheetml" in xlsx["Content-Type"]


def test_download_of_chosen_learners(client: Client) -> None:
    logged_in(client, [Perm.PLR_IMPORT])
    first, second, *_ = _learners()
    _download(client, scope="", learner=[first.pk, second.pk])
    assert PlrDownload.objects.get().total == 2


def test_update_selected_shows_the_counts_and_the_record_shows_attainments(client: Client) -> None:
    logged_in(client, [Perm.PLR_IMPORT])
    learners = _learners()
    download = _download(client)
    plr_download_run(download.pk, client=FakeLrs())
    response = client.post(f"/plr/downloads/{download.pk}/update/", {"scope": "all"}, follow=True)
    html = response.content.decode()
    assert "6 processed, 6 updated, 0 not updated (unchanged), 0 skipped" in html
    assert Attainment.objects.count() == 6
    row = PlrRow.objects.filter(download=download).first()
    assert row is not None
    again = client.post(f"/plr/downloads/{download.pk}/update/", {"row": [row.pk]}, follow=True)
    assert "1 processed, 0 updated, 1 not updated (unchanged), 0 skipped" in again.content.decode()

    record = client.get(f"/learners/{learners[0].pk}/").content.decode()
    assert "Attainments" in record
    assert f"Subject 0 of {learners[0].uln}" in record
    assert "No attainments recorded." in client.get(f"/learners/{learners[-1].pk}/").content.decode()


def test_refresh_and_close(client: Client) -> None:
    logged_in(client, [Perm.PLR_VIEW])
    _learners(1)
    download = _download(client)
    plr_download_run(download.pk, client=FakeLrs())
    assert client.post(f"/plr/downloads/{download.pk}/refresh/").status_code == 302
    download.refresh_from_db()
    assert download.status == PlrDownloadStatus.QUEUED
    assert not download.rows.exists()
    response = client.post(f"/plr/downloads/{download.pk}/close/", follow=True)
    assert response.redirect_chain[-1][0] == "/learner-manager/"
    assert "discarded" in response.content.decode()
    assert not PlrDownload.objects.exists()
    assert not PlrRow.objects.exists()


def test_another_admins_download_is_not_found(client: Client) -> None:
    logged_in(client, [Perm.PLR_IMPORT])
    _learners(1)
    download = _download(client)
    logged_in(client, [Perm.PLR_IMPORT])
    assert client.get(f"/plr/downloads/{download.pk}/").status_code == 404
    assert client.post(f"/plr/downloads/{download.pk}/close/").status_code == 404
