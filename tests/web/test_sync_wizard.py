"""The Sync Activities wizard through its pages (R-SYNC-1…15, R-PLUS-1…3): its state lives in a draft sync run,
every step answers with a fixed number of queries, and the history undoes a run (R-SYNC-27, R-PLUS-2)."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.plans.sync.conftest import many_targets
from tests.web.conftest import form_values, logged_in
from waypoint.people.models import Perm
from waypoint.plans.models import Component, SyncRun, SyncRunStatus, SyncTarget
from waypoint.plans.sync.wizard import sync_run_summarise
from waypoint.programmes.models import Enrolment, Programme, ProgrammeStatus

pytestmark = pytest.mark.django_db

NEW_DUE = dt.date(2031, 3, 31)


def _cohort(targets: int = 3) -> tuple[Programme, Enrolment, list[Enrolment]]:
    programme = factories.programme(templates=3)
    source = factories.enrolment(factories.learner(surname="Source"), programme)
    others = [factories.enrolment(factories.learner(surname=f"Target{i}"), programme) for i in range(targets)]
    return programme, source, others


def _first(enrolment: Enrolment) -> Component:
    found = Component.objects.filter(enrolment=enrolment).order_by("position").first()
    assert found is not None
    return found


def _edit_due_date(client: Client, component: Component) -> None:
    values = {**form_values(component), "due_date": NEW_DUE.isoformat()}
    response = client.post(f"/learners/{component.learner_id}/components/{component.pk}/edit/", values)
    assert response.status_code == 302, response.content[:500]


def _start(client: Client, learner_id: int) -> SyncRun:
    response = client.post(f"/learners/{learner_id}/sync/")
    assert response.status_code == 302, response.content[:500]
    match = re.search(r"/sync/(\d+)/components/$", response["Location"])
    assert match, response["Location"]
    return SyncRun.objects.get(pk=int(match[1]))


def _url(run: SyncRun, step: str) -> str:
    return f"/learners/{run.source_learner_id}/sync/{run.pk}/{step}/"


def _htmx(target: str) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target}


def test_sync_activities_is_hidden_and_refused_for_an_admin_without_sync_permissions(client: Client) -> None:
    """R-SYNC-1."""
    logged_in(client, perms=())
    _programme, source, _ = _cohort()
    page = client.get(f"/learners/{source.learner_id}/").content.decode()
    assert "Sync Activities" not in page
    assert client.post(f"/learners/{source.learner_id}/sync/").status_code == 403
    assert client.get("/sync-runs/").status_code == 403
    assert not SyncRun.objects.exists()


def test_the_button_shows_for_an_admin_who_may_sync(client: Client) -> None:
    """R-SYNC-1."""
    logged_in(client)
    _programme, source, _ = _cohort()
    assert 'data-testid="sync-activities"' in client.get(f"/learners/{source.learner_id}/").content.decode()


def test_only_changes_from_the_wizard_applies_the_edited_due_date_to_the_selected_learners(client: Client) -> None:
    """R-SYNC-4, 8, 12, 13, 15: the edit made in the record visit is preselected, summarised and applied."""
    logged_in(client)
    _programme, source, targets = _cohort()
    client.get(f"/learners/{source.learner_id}/")
    edited = _first(source)
    _edit_due_date(client, edited)

    run = _start(client, source.learner_id)
    assert run.status == SyncRunStatus.DRAFT
    assert run.keys == [["template", edited.template_id]]  # preselected (R-SYNC-4)
    assert run.sync_type == "only_changes"
    page = client.get(_url(run, "components")).content.decode()
    assert "Updated" in page

    response = client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    assert response.status_code == 302
    assert SyncTarget.objects.filter(run=run).count() == 3
    assert client.post(_url(run, "learners"), {"action": "next"})["Location"] == _url(run, "conditions")
    assert client.post(_url(run, "conditions"), {"status": ["not_started"]})["Location"] == _url(run, "type")
    response = client.post(_url(run, "type"), {"sync_type": "only_changes"})
    assert response["Location"] == _url(run, "summary")
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUMMARISED
    summary = client.get(_url(run, "summary")).content.decode()
    assert "Confirm &amp; Synchronise" in summary
    assert 'data-testid="figure-learners">3<' in summary

    assert client.post(_url(run, "confirm"))["Location"] == _url(run, "summary")
    run.refresh_from_db()
    assert run.status == SyncRunStatus.APPLIED
    assert "Synchronised: 3 changes for 3 learners." in client.get(_url(run, "summary")).content.decode()
    assert {_first(t).due_date for t in targets} == {NEW_DUE}


def test_the_wizard_keeps_every_choice_across_back_next_and_reload(client: Client) -> None:
    """Back, Next and a reload lose nothing: the choices are the draft run's."""
    logged_in(client)
    _programme, source, targets = _cohort()
    run = _start(client, source.learner_id)
    code = f"t{_first(source).template_id}"
    client.post(_url(run, "components"), {"action": "one", "code": code, "selected": "1"})
    client.post(_url(run, "learners"), {"action": "one", "learner": str(targets[1].learner_id), "selected": "1"})
    client.get(_url(run, "learners"), {"filtered": "1", "search": "Target1"})
    client.post(_url(run, "conditions"), {"status": ["in_progress", "referred"]})
    client.post(_url(run, "type"), {"back": "1"})

    again = client.get(_url(run, "components")).content.decode()
    assert f'data-code="{code}" checked' in again
    learners = client.get(_url(run, "learners")).content.decode()
    assert 'value="Target1"' in learners  # the saved search
    assert 'data-testid="learners-selected-count">1<' in learners
    conditions = client.get(_url(run, "conditions")).content.decode()
    assert 'value="in_progress" checked' in conditions
    assert 'value="referred" checked' in conditions
    assert 'value="not_started" checked' not in conditions


def test_only_changes_is_disabled_with_a_reason_when_there_are_no_recent_changes(client: Client) -> None:
    """R-SYNC-8: disabled with a tooltip; ALL attributes is chosen instead, and a forced ONLY changes is refused."""
    logged_in(client)
    _programme, source, _ = _cohort()
    run = _start(client, source.learner_id)
    assert run.sync_type == "all"
    page = client.get(_url(run, "type")).content.decode()
    assert re.search(r'value="only_changes"[^>]*disabled', page)
    assert "no changes to this learner's plan since opening the record" in page
    client.post(_url(run, "components"), {"action": "matching", "selected": "1"})
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    response = client.post(_url(run, "type"), {"sync_type": "only_changes"}, follow=True)
    assert "ONLY changes is not available" in response.content.decode()
    run.refresh_from_db()
    assert run.status == SyncRunStatus.DRAFT


def test_next_without_a_selection_says_what_is_missing(client: Client) -> None:
    logged_in(client)
    _programme, source, _ = _cohort()
    run = _start(client, source.learner_id)
    response = client.post(_url(run, "components"), {"action": "next"}, follow=True)
    assert "Select at least one component to synchronise." in response.content.decode()
    response = client.post(_url(run, "learners"), {"action": "next"}, follow=True)
    assert "Select at least one learner to synchronise." in response.content.decode()


def test_a_selected_learner_who_became_ineligible_is_left_out_and_the_admin_is_told(client: Client) -> None:
    """R-SYNC-5: the summary never includes a learner the admin could no longer select."""
    logged_in(client)
    _programme, source, targets = _cohort()
    run = _start(client, source.learner_id)
    client.post(_url(run, "components"), {"action": "matching", "selected": "1"})
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    Enrolment.objects.filter(pk=targets[0].pk).update(status=ProgrammeStatus.ARCHIVED)
    response = client.post(_url(run, "type"), {"sync_type": "all"}, follow=True)
    assert "1 selected learner is no longer eligible" in response.content.decode()
    run.refresh_from_db()
    assert run.learner_count == 2


def test_selecting_all_matching_learners_follows_the_filters(client: Client) -> None:
    """R-SYNC-5: "select all matching" selects exactly what the filters match, on every page."""
    logged_in(client)
    _programme, source, targets = _cohort(targets=4)
    Enrolment.objects.filter(pk=targets[0].pk).update(status=ProgrammeStatus.BREAK_IN_LEARNING)
    run = _start(client, source.learner_id)
    client.post(
        _url(run, "learners"), {"action": "matching", "selected": "1", "status": ProgrammeStatus.BREAK_IN_LEARNING}
    )
    assert list(SyncTarget.objects.filter(run=run).values_list("learner_id", flat=True)) == [targets[0].learner_id]
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    assert SyncTarget.objects.filter(run=run).count() == 4
    client.post(_url(run, "learners"), {"action": "matching", "selected": "0", "search": "Target2"})
    assert targets[2].learner_id not in set(SyncTarget.objects.filter(run=run).values_list("learner_id", flat=True))


def test_a_large_summary_is_worked_out_in_the_background_and_the_page_says_so(client: Client, settings: Any) -> None:
    """R-PLUS-3: the step answers at once; the summary page shows the work, then the summary."""
    settings.WAYPOINT_SYNC_SUMMARY_BACKGROUND_FROM = 2
    logged_in(client)
    _programme, source, _ = _cohort()
    run = _start(client, source.learner_id)
    client.post(_url(run, "components"), {"action": "matching", "selected": "1"})
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    client.post(_url(run, "type"), {"sync_type": "all"})
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUMMARISING
    assert "Working out the summary" in client.get(_url(run, "summary")).content.decode()
    poll = client.get(_url(run, "summary"), {"was": "summarising"}, **_htmx("run-status"))
    assert "HX-Refresh" not in poll.headers
    sync_run_summarise(run.pk)
    poll = client.get(_url(run, "summary"), {"was": "summarising"}, **_htmx("run-status"))
    assert poll.headers["HX-Refresh"] == "true"
    assert "Confirm &amp; Synchronise" in client.get(_url(run, "summary")).content.decode()


def test_back_from_the_summary_reopens_the_choices(client: Client) -> None:
    logged_in(client)
    _programme, source, _ = _cohort()
    run = _start(client, source.learner_id)
    client.post(_url(run, "components"), {"action": "matching", "selected": "1"})
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    client.post(_url(run, "type"), {"sync_type": "all"})
    assert client.post(_url(run, "back"))["Location"] == _url(run, "type")
    run.refresh_from_db()
    assert run.status == SyncRunStatus.DRAFT
    assert not run.components.exists()


def test_a_plan_changed_before_confirm_gets_a_fresh_summary_and_nothing_applied(client: Client) -> None:
    """R-SYNC-15."""
    logged_in(client)
    _programme, source, targets = _cohort()
    run = _start(client, source.learner_id)
    client.post(_url(run, "components"), {"action": "matching", "selected": "1"})
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    client.post(_url(run, "type"), {"sync_type": "all"})
    Component.objects.filter(pk=_first(targets[0]).pk).update(instructions="changed meanwhile", revision=99)
    response = client.post(_url(run, "confirm"), follow=True)
    assert "Learning plans changed since this summary was made" in response.content.decode()
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUMMARISED
    assert _first(targets[0]).instructions == "changed meanwhile"


def test_history_lists_the_run_and_its_page_undoes_it(client: Client) -> None:
    """R-SYNC-27, R-PLUS-2."""
    logged_in(client)
    _programme, source, targets = _cohort()
    client.get(f"/learners/{source.learner_id}/")
    before = _first(targets[0]).due_date
    _edit_due_date(client, _first(source))
    run = _start(client, source.learner_id)
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    client.post(_url(run, "type"), {"sync_type": "only_changes"})
    client.post(_url(run, "confirm"))
    assert _first(targets[0]).due_date == NEW_DUE

    listing = client.get("/sync-runs/").content.decode()
    assert f'href="/sync-runs/{run.pk}/"' in listing
    detail = client.get(f"/sync-runs/{run.pk}/").content.decode()
    assert "Undo this sync" in detail
    rows = client.get(f"/sync-runs/{run.pk}/outcomes/", {"row": run.components.get().pk, "synchronised": "1"})
    assert "Target0" in rows.content.decode()

    response = client.post(f"/sync-runs/{run.pk}/undo/", follow=True)
    assert "Undone: 3 restored." in response.content.decode()
    assert _first(targets[0]).due_date == before


def _queries(client: Client, method: str, url: str, data: dict[str, Any], headers: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data, **headers)
    assert response.status_code in (200, 302), (url, response.status_code)
    return len(queries)


def _step_queries(client: Client, source: Enrolment) -> dict[str, int]:
    """The queries of every request of a wizard run through, summary, confirm and history included."""
    counts = {"post start": _queries(client, "post", f"/learners/{source.learner_id}/sync/", {}, {})}
    run = SyncRun.objects.latest("pk")
    steps: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
        ("components", "get", {}, {}),
        ("components", "post", {"action": "matching", "selected": "1"}, _htmx("component-grid")),
        ("learners", "get", {}, {}),
        ("learners", "get", {"filtered": "1", "status": "active", "page": "2"}, _htmx("learner-grid")),
        ("learners", "post", {"action": "matching", "selected": "1", "filtered": "1"}, _htmx("learner-grid")),
        ("learners/options/group", "get", {"group_search": "a"}, {}),
        ("learners/options/tutor", "get", {"tutor_search": "a"}, {}),
        ("conditions", "get", {}, {}),
        ("conditions", "post", {"status": ["not_started", "in_progress"]}, {}),
        ("type", "get", {}, {}),
        ("type", "post", {"sync_type": "all"}, {}),
        ("summary", "get", {}, {}),
        ("outcomes", "get", {"row": "ROW", "synchronised": "1"}, {}),
        ("outcomes", "get", {"row": "ROW", "synchronised": "0", "page": "2"}, {}),
        ("confirm", "post", {}, {}),
        ("summary", "get", {}, {}),
    ]
    for step, method, data, headers in steps:
        if data.get("row") == "ROW":
            data = {**data, "row": str(run.components.order_by("position").values_list("pk", flat=True)[0])}
        counts[f"{method} {step} {sorted(data)}"] = _queries(client, method, _url(run, step), data, headers)
    counts["get history"] = _queries(client, "get", "/sync-runs/", {}, {})
    counts["get run"] = _queries(client, "get", f"/sync-runs/{run.pk}/", {}, {})
    row = str(run.components.order_by("position").values_list("pk", flat=True)[0])
    counts["get run outcomes"] = _queries(
        client, "get", f"/sync-runs/{run.pk}/outcomes/", {"row": row, "synchronised": "1"}, {}
    )
    return counts


def test_every_wizard_step_costs_the_same_queries_for_5_and_60_learners(client: Client) -> None:
    """Every step of the wizard, its summary, confirm and history send the same queries for 5 learners on the
    programme as for 60: the cost does not grow per learner (the 500 ms budget at 20,000 is bench/wizard.py)."""
    logged_in(client)
    programme, source, _ = _cohort(targets=5)
    small = _step_queries(client, source)
    many_targets(programme, 55)
    large = _step_queries(client, source)
    assert small == large
    assert max(large.values()) <= 35, large  # the confirm, applied here inline, is the most


@pytest.mark.parametrize("perms", [(Perm.ADM_EDIT,), (Perm.SUPERVISOR,)])
def test_an_admin_sees_only_their_own_drafts(client: Client, perms: tuple[Perm, ...]) -> None:
    """A draft belongs to the admin preparing it: another admin gets 404."""
    owner = Client()
    logged_in(owner)
    _programme, source, _ = _cohort()
    run = _start(owner, source.learner_id)
    logged_in(client, perms=perms)
    assert client.get(_url(run, "components")).status_code == 404


def test_a_draft_is_not_history_until_its_summary_is_made(client: Client) -> None:
    """R-SYNC-27: Sync runs lists runs with a summary, not wizards still being filled in."""
    logged_in(client)
    _programme, source, _ = _cohort()
    run = _start(client, source.learner_id)
    assert f'href="/sync-runs/{run.pk}/"' not in client.get("/sync-runs/").content.decode()
    assert client.get(f"/sync-runs/{run.pk}/").status_code == 404
    assert client.get(f"/api/v1/sync-runs/{run.pk}").status_code == 404


def test_the_summary_exports_the_learners_not_synchronised_as_csv(client: Client) -> None:
    """R-SYNC-14: the not-synchronised list with reasons, downloaded from the summary's link."""
    logged_in(client)
    _programme, source, targets = _cohort()
    Component.objects.filter(pk=_first(targets[0]).pk).update(status="completed")
    run = _start(client, source.learner_id)
    client.post(_url(run, "components"), {"action": "one", "code": f"t{_first(source).template_id}", "selected": "1"})
    client.post(_url(run, "learners"), {"action": "matching", "selected": "1", "filtered": "1"})
    client.post(_url(run, "conditions"), {"status": ["not_started"]})
    client.post(_url(run, "type"), {"sync_type": "all"})
    summary = client.get(_url(run, "summary")).content.decode()
    link = f"/api/v1/sync-runs/{run.pk}/learners.csv?synchronised=false"
    assert link in summary
    response = client.get(link)
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Learner,ULN,Programme status,Component,Action,Synchronised,Reason")
    assert len(lines) == 2
    assert targets[0].learner.full_name in lines[1]
    assert lines[1].endswith(",no,The learner's component is in a status that was not selected.")


def test_starting_the_wizard_again_drops_the_admins_earlier_draft_of_that_learner(client: Client) -> None:
    """One wizard per learner at a time: the earlier draft (and any a week old) is gone, other admins' stay."""
    other = Client()
    logged_in(other)
    admin = logged_in(client)
    _programme, source, targets = _cohort()
    theirs = _start(other, source.learner_id)
    first = _start(client, source.learner_id)
    elsewhere = _start(client, targets[0].learner_id)
    old = _start(client, targets[1].learner_id)
    SyncRun.objects.filter(pk=old.pk).update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    second = _start(client, source.learner_id)
    drafts = set(SyncRun.objects.filter(status=SyncRunStatus.DRAFT).values_list("pk", flat=True))
    assert drafts == {theirs.pk, elsewhere.pk, second.pk}
    assert second.by_id == admin.pk
    assert first.pk not in drafts
