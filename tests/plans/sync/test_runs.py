"""Sync runs on the database: summary, confirm, undo (R-SYNC-11…19, 26, 27, R-PLUS-1, 2).

The rules themselves are tested on plain values in test_decide.py; these tests prove that what `decide`
says is what the database gets, at any number of learners, all or nothing.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as make
from tests.plans.sync.conftest import ALL_STATUSES, Setting, many_targets
from waypoint.core.errors import Conflict, PermissionRefused, ValidationFailed
from waypoint.people.models import Learner, Perm
from waypoint.plans.journal import snapshot
from waypoint.plans.models import (
    CalendarTask,
    ChangeAction,
    Component,
    ComponentChange,
    RecordVisit,
    Review,
    ReviewStatus,
    SyncDecision,
    SyncOutcome,
    SyncRun,
    SyncRunStatus,
)
from waypoint.plans.services import component_add, component_delete, component_update, review_schedule
from waypoint.plans.sync import runs
from waypoint.plans.sync.decide import SYNCED_FIELDS
from waypoint.plans.sync.pairs import MISSING, SOURCE, run_pairs
from waypoint.plans.sync.runs import sync_run_confirm, sync_run_create, sync_run_undo
from waypoint.plans.sync.types import ComponentKey, SyncType, hand_made_key, template_key
from waypoint.programmes.models import ComponentType

pytestmark = pytest.mark.django_db


def _key(component: Component) -> ComponentKey:
    return template_key(component.template_id) if component.template_id else hand_made_key(component.pk)


def _run(s: Setting, keys: list[ComponentKey], sync_type: SyncType = SyncType.ONLY_CHANGES, **extra: Any) -> SyncRun:
    values: dict[str, Any] = {"statuses": ALL_STATUSES, "visit_id": s.visit.pk, **extra}
    return sync_run_create(
        by=extra.pop("by", s.admin),
        enrolment=s.source,
        keys=keys,
        learners=Learner.objects.filter(enrolments__programme=s.programme).exclude(pk=s.source.learner_id),
        sync_type=sync_type,
        **{k: v for k, v in values.items() if k != "by"},
    )


def _decisions(run: SyncRun) -> dict[int, SyncDecision]:
    """Each target learner's decision in a run of one grid row: its pair (read from the plans until the run is
    applied, then stored) joined to the summary's decision of the pair's state."""
    sql, params = run_pairs(run)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT learner_id, row_id, state FROM ({sql}) p", params)
        found = cursor.fetchall()
    decided = {(d.row_id, d.state): d for d in SyncDecision.objects.filter(row__run=run)}
    return {learner: decided[(row, state)] for learner, row, state in found if state != SOURCE}


def _plans(enrolment_ids: list[int]) -> list[tuple[Any, ...]]:
    """Every column of the plans, their reviews and tasks, for comparing before and after."""
    components = list(Component.objects.filter(enrolment_id__in=enrolment_ids).order_by("id").values())
    reviews = list(Review.objects.filter(component__enrolment_id__in=enrolment_ids).order_by("id").values())
    tasks = list(CalendarTask.objects.filter(review__component__enrolment_id__in=enrolment_ids).order_by("id").values())
    for c in components:
        c.pop("revision"), c.pop("updated_at")
    return [tuple(sorted(r.items())) for r in components + reviews + tasks]


def test_only_changes_run_applies_the_recent_changes_and_undo_restores_them(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-8, R-SYNC-11, R-PLUS-2
    first, second, third = s.components(s.source)
    component_update(component=first, by=s.admin, changes={"due_date": dt.date(2027, 4, 1)}, visit_id=s.visit.pk)
    component_delete(component=second, by=s.admin, visit_id=s.visit.pk)
    target_ids = [t.pk for t in s.targets]
    before = _plans(target_ids)

    run = _run(s, [_key(first), _key(second)])
    assert (run.learner_count, run.component_count, run.synchronised, run.not_synchronised) == (3, 2, 6, 0)

    run = sync_run_confirm(run=run, by=s.admin)
    assert run.status == SyncRunStatus.APPLIED
    for target in s.targets:
        comps = s.components(target)
        assert [c.template_id for c in comps] == [first.template_id, third.template_id]
        assert comps[0].due_date == dt.date(2027, 4, 1)

    run = sync_run_undo(run=run, by=s.admin)
    assert (run.undo_restored, run.undo_conflicts) == (6, 0)
    assert _plans(target_ids) == before


def test_a_hand_made_component_is_created_on_targets_and_found_again_by_a_later_sync(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-11
    made = component_add(
        enrolment=s.source, by=s.admin, values={"name": "Site visit", "type": "exam"}, visit_id=s.visit.pk
    )
    sync_run_confirm(run=_run(s, [_key(made)]), by=s.admin)
    copies = Component.objects.filter(copied_from_id=made.pk)
    assert sorted(c.learner_id for c in copies) == sorted(t.learner_id for t in s.targets)
    assert {(c.name, c.template_id, c.status) for c in copies} == {("Site visit", None, "not_started")}

    component_update(component=made, by=s.admin, changes={"name": "Site visit 2"}, visit_id=s.visit.pk)
    run = _run(s, [_key(made)])
    assert {d.action for d in _decisions(run).values()} == {"synchronise"}
    sync_run_confirm(run=run, by=s.admin)
    assert set(copies.values_list("name", flat=True)) == {"Site visit 2"}


def test_a_removed_template_component_is_created_again_on_a_target(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-11, R-SYNC-22
    first = s.components(s.source)[0]
    target = s.targets[0]
    component_delete(component=s.components(target)[0], by=s.admin, visit_id=None)
    run = _run(s, [_key(first)], SyncType.ALL)
    decision = _decisions(run)[target.learner_id]
    assert (decision.state, decision.action, decision.reason, decision.learners) == (MISSING, "create", "", 1)
    sync_run_confirm(run=run, by=s.admin)
    assert Component.objects.filter(enrolment=target, template_id=first.template_id).count() == 1


def test_a_target_in_a_status_not_selected_is_listed_with_the_reason_and_left_alone(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-6, R-SYNC-14
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"instructions": "New"}, visit_id=s.visit.pk)
    held = s.components(s.targets[0])[0]
    Component.objects.filter(pk=held.pk).update(status="completed")
    run = _run(s, [_key(first)], statuses=["not_started"])
    row = run.components.get()
    assert (row.synchronised, row.not_synchronised, row.reasons) == (2, 1, {"STATUS_NOT_SELECTED": 1})
    assert run.warnings == ["SOME_NOT_SYNCHRONISED"]
    sync_run_confirm(run=run, by=s.admin)
    assert Component.objects.get(pk=held.pk).instructions == held.instructions
    assert [c.instructions for t in s.targets[1:] for c in s.components(t)[:1]] == ["New", "New"]


def test_a_refused_pair_is_reported_and_the_rest_goes_through(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-23, R-SYNC-25
    editor = make.staff({Perm.ADM_EDIT})
    s.visit.admin = editor
    s.visit.save()
    first = s.components(s.source)[0]
    component_update(component=first, by=editor, changes={"instructions": "Edited"}, visit_id=s.visit.pk)
    finished = s.components(s.targets[0])[0]
    Component.objects.filter(pk=finished.pk).update(status="completed")
    run = _run(s, [_key(first)], by=editor)
    refused = _decisions(run)[s.targets[0].learner_id]
    assert (refused.reason, refused.learners) == ("NO_EDIT_FINISHED_PERMISSION", 1)
    sync_run_confirm(run=run, by=editor)
    assert Component.objects.get(pk=finished.pk).instructions != "Edited"
    assert (
        Component.objects.filter(enrolment__in=s.targets[1:], template=first.template, instructions="Edited").count()
        == 2
    )


def test_a_created_review_is_not_scheduled_with_tasks_where_the_source_is_scheduled(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-18
    review = s.components(s.source)[-1]
    assert review.type == ComponentType.REVIEW
    at = dt.datetime(2027, 2, 3, 10, 0, tzinfo=dt.UTC)
    review_schedule(component=review, by=s.admin, starts_at=at, visit_id=s.visit.pk)
    target = s.targets[0]
    component_delete(component=s.components(target)[-1], by=s.admin, visit_id=None)

    sync_run_confirm(run=_run(s, [_key(review)], SyncType.ALL), by=s.admin)

    created = Component.objects.get(enrolment=target, template=review.template)
    assert created.review.status == ReviewStatus.NOT_SCHEDULED
    tasks = CalendarTask.objects.filter(review=created.review)
    assert {(t.learner_id, t.admin_id, t.starts_at) for t in tasks} == {
        (target.learner_id, None, at),
        (None, target.learner.tutor_id, at),
    }


def test_a_completed_review_keeps_its_date_while_the_component_changes(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-19
    review = s.components(s.source)[-1]
    component_update(component=review, by=s.admin, changes={"due_date": dt.date(2027, 5, 5)}, visit_id=s.visit.pk)
    target_review = s.components(s.targets[0])[-1]
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    review_schedule(component=target_review, by=s.admin, starts_at=at, visit_id=None)
    Review.objects.filter(component=target_review).update(status=ReviewStatus.COMPLETED)
    other = s.components(s.targets[1])[-1]
    review_schedule(component=other, by=s.admin, starts_at=at, visit_id=None)
    kept = Review.objects.get(component=target_review)

    run = _run(s, [_key(review)])
    effects = {learner: d.review for learner, d in _decisions(run).items()}
    assert effects[s.targets[0].learner_id] == "keep_completed"
    assert effects[s.targets[1].learner_id] == "recreate"
    assert run.components.get().warnings == {"REVIEW_TASKS_RECREATED": 2}
    sync_run_confirm(run=run, by=s.admin)

    assert Component.objects.get(pk=target_review.pk).due_date == dt.date(2027, 5, 5)
    assert Review.objects.get(pk=kept.pk).scheduled_at == at  # same review, same date
    assert CalendarTask.objects.filter(review=kept).count() == 2
    remade = Review.objects.get(component=other)
    assert remade.status == ReviewStatus.NOT_SCHEDULED
    assert not remade.tasks.exists()


def test_selected_attributes_update_the_source_which_stays_recently_changed(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-10, R-SYNC-4, R-SYNC-13c
    first = s.components(s.source)[0]
    Component.objects.filter(pk=first.pk).update(name="Renamed on the source only")
    run = _run(s, [_key(first)], SyncType.SELECTED, attributes=["name", "instructions"])
    assert "SOURCE_UPDATED" in run.warnings
    assert SyncDecision.objects.get(row__run=run, state=SOURCE).before == {"name": "Renamed on the source only"}
    sync_run_confirm(run=run, by=s.admin)

    assert Component.objects.get(pk=first.pk).name == first.template.name  # type: ignore[union-attr]
    recent = ComponentChange.objects.filter(visit=s.visit, by=s.admin, component_id=first.pk)
    assert list(recent.values_list("action", "field")) == [(ChangeAction.UPDATED, "name")]


def test_only_changes_is_refused_when_the_visit_has_no_changes(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-8
    with pytest.raises(ValidationFailed, match="ONLY changes is not available"):
        _run(s, [_key(s.components(s.source)[0])])
    assert not SyncRun.objects.exists()


def test_a_plan_edited_after_the_summary_stops_the_confirm_and_refreshes_the_summary(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-15
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"instructions": "From the source"}, visit_id=s.visit.pk)
    run = _run(s, [_key(first)])
    edited = s.components(s.targets[0])[0]
    component_update(component=edited, by=s.admin, changes={"status": "completed"}, visit_id=None)
    before = _plans([t.pk for t in s.targets])

    with pytest.raises(Conflict, match="changed since this summary"):
        sync_run_confirm(run=run, by=s.admin)

    assert _plans([t.pk for t in s.targets]) == before
    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUMMARISED
    assert not SyncOutcome.objects.filter(row__run=run).exists()  # the pairs the confirm stored are rolled back
    fresh = _decisions(run)[s.targets[0].learner_id]  # decided on the edited component, alone in its state
    assert (fresh.learners, fresh.components, fresh.revisions) == (1, edited.pk, edited.revision + 1)
    sync_run_confirm(run=run, by=s.admin)  # the fresh summary confirms
    assert Component.objects.get(pk=edited.pk).instructions == "From the source"


def test_confirming_a_run_twice_applies_it_once(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-15
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"instructions": "Once"}, visit_id=s.visit.pk)
    run = _run(s, [_key(first)])
    sync_run_confirm(run=run, by=s.admin)
    revisions = list(Component.objects.filter(template=first.template).values_list("revision", flat=True))
    again = sync_run_confirm(run=run, by=s.admin)
    assert again.status == SyncRunStatus.APPLIED
    assert list(Component.objects.filter(template=first.template).values_list("revision", flat=True)) == revisions
    assert ComponentChange.objects.filter(sync_run=run).count() == 3


def test_a_failure_half_way_through_the_apply_leaves_no_change(
    sync_setting: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = sync_setting  # R-SYNC-15: all or nothing
    first, second, _ = s.components(s.source)
    component_update(component=first, by=s.admin, changes={"instructions": "One"}, visit_id=s.visit.pk)
    component_update(component=second, by=s.admin, changes={"instructions": "Two"}, visit_id=s.visit.pk)
    run = _run(s, [_key(first), _key(second)])
    before = _plans([t.pk for t in s.targets])
    calls = []

    def fail_once_components_are_written(run: SyncRun, done: int) -> None:
        calls.append(done)
        if done:  # the journal is written and six components are updated
            raise RuntimeError("the database went away")

    monkeypatch.setattr(runs, "sync_run_report_progress", fail_once_components_are_written)
    with pytest.raises(RuntimeError):
        sync_run_confirm(run=run, by=s.admin)

    assert calls == [0, 0, 6]
    assert _plans([t.pk for t in s.targets]) == before
    assert not ComponentChange.objects.filter(sync_run=run).exists()
    assert SyncRun.objects.get(pk=run.pk).status == SyncRunStatus.SUMMARISED


def test_undo_reports_a_component_changed_after_the_run_as_a_conflict_and_leaves_it(sync_setting: Setting) -> None:
    s = sync_setting  # R-PLUS-2
    first = s.components(s.source)[0]
    original = s.components(s.targets[1])[0].instructions
    component_update(component=first, by=s.admin, changes={"instructions": "Synced"}, visit_id=s.visit.pk)
    run = sync_run_confirm(run=_run(s, [_key(first)]), by=s.admin)
    later = s.components(s.targets[0])[0]
    component_update(component=later, by=s.admin, changes={"instructions": "Edited later"}, visit_id=None)

    run = sync_run_undo(run=run, by=s.admin)

    assert (run.undo_restored, run.undo_conflicts) == (2, 1)
    assert SyncOutcome.objects.get(row__run=run, component_id=later.pk).undo == "conflict"
    assert Component.objects.get(pk=later.pk).instructions == "Edited later"
    assert s.components(s.targets[1])[0].instructions == original
    with pytest.raises(Conflict, match="already been undone"):
        sync_run_undo(run=run, by=s.admin)


def test_undo_puts_back_deleted_components_with_their_reviews_and_tasks(sync_setting: Setting) -> None:
    s = sync_setting  # R-PLUS-2, R-SYNC-27
    review = s.components(s.source)[-1]
    for target in s.targets:
        at = dt.datetime(2027, 1, 10, 14, 0, tzinfo=dt.UTC)
        review_schedule(component=s.components(target)[-1], by=s.admin, starts_at=at, visit_id=None)
    component_delete(component=review, by=s.admin, visit_id=s.visit.pk)
    before = _plans([t.pk for t in s.targets])
    run = sync_run_confirm(run=_run(s, [_key(review)]), by=s.admin)
    assert not Review.objects.filter(component__enrolment__in=s.targets).exists()

    sync_run_undo(run=run, by=s.admin)

    assert _plans([t.pk for t in s.targets]) == before


def test_every_run_is_recorded_with_who_what_and_the_before_values(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-27
    first = s.components(s.source)[0]
    old = s.components(s.targets[0])[0].instructions
    component_update(component=first, by=s.admin, changes={"instructions": "New text"}, visit_id=s.visit.pk)
    run = sync_run_confirm(run=_run(s, [_key(first)], statuses=["not_started"]), by=s.admin)
    run.refresh_from_db()
    assert (run.by_id, run.source_learner_id, run.sync_type, run.statuses) == (
        s.admin.pk,
        s.source.learner_id,
        "only_changes",
        ["not_started"],
    )
    assert run.keys == [list(_key(first))]
    assert run.applied_at is not None
    pair = SyncOutcome.objects.get(row__run=run, learner=s.targets[0].learner)
    assert pair.component_id == s.components(s.targets[0])[0].pk
    decision = SyncDecision.objects.get(row=pair.row, state=pair.state)
    assert (decision.action, decision.changes, decision.fields) == ("synchronise", True, ["instructions"])
    journal = ComponentChange.objects.get(sync_run=run, learner=s.targets[0].learner)
    assert (journal.action, journal.old_value, journal.new_value) == (
        ChangeAction.SYNCHRONISED,
        {"instructions": old},
        {"instructions": "New text"},
    )


def test_the_journal_holds_the_before_values_of_changed_and_deleted_components_and_undo_puts_them_back(
    sync_setting: Setting,
) -> None:
    s = sync_setting  # R-SYNC-27, R-CORE-9, R-PLUS-2: the before-values live in the journal, and undo reads them
    first, second, _ = s.components(s.source)
    component_update(component=first, by=s.admin, changes={"due_date": dt.date(2027, 4, 1)}, visit_id=s.visit.pk)
    component_delete(component=second, by=s.admin, visit_id=s.visit.pk)
    target = s.targets[0]
    changed, deleted, _ = s.components(target)
    Component.objects.filter(pk=deleted.pk).update(evidence_required=True, documents=["Plan.pdf"])
    deleted.refresh_from_db()
    run = sync_run_confirm(run=_run(s, [_key(first), _key(second)]), by=s.admin)

    journal = ComponentChange.objects.filter(sync_run=run, learner=target.learner)
    synced = journal.get(action=ChangeAction.SYNCHRONISED)
    assert (synced.component_id, synced.old_value, synced.new_value) == (
        changed.pk,
        {"due_date": changed.due_date and changed.due_date.isoformat()},
        {"due_date": "2027-04-01"},
    )
    gone = journal.get(action=ChangeAction.DELETED)
    everything = {f: v for f, v in snapshot(deleted).items() if f in SYNCED_FIELDS}
    assert (gone.component_id, gone.old_value, gone.new_value) == (deleted.pk, everything, None)

    sync_run_undo(run=run, by=s.admin)
    undone = journal.exclude(pk__in=[synced.pk, gone.pk])
    assert sorted(((j.action, j.component_id, j.new_value) for j in undone), key=lambda j: j[0]) == [
        (ChangeAction.CREATED, deleted.pk, everything),
        (ChangeAction.SYNCHRONISED, changed.pk, synced.old_value),
    ]
    assert Component.objects.get(pk=changed.pk).due_date == changed.due_date


def _statements(learners: int) -> tuple[int, int, int]:
    """SQL statements of a summary, a confirm and an undo of an ALL sync that updates, creates and deletes."""
    programme = make.programme(templates=3)
    source = make.enrolment(make.learner(tutor=make.staff()), programme)
    many_targets(programme, learners)
    admin = make.staff({Perm.SUPERVISOR})
    visit = RecordVisit.objects.create(admin=admin, learner=source.learner)
    s = Setting(programme, source, [], admin, visit, admin)
    first, second, third = s.components(source)
    component_update(component=first, by=admin, changes={"instructions": "x"}, visit_id=visit.pk)
    component_delete(component=second, by=admin, visit_id=visit.pk)
    made = component_add(enrolment=source, by=admin, values={"name": "New", "type": "exam"}, visit_id=visit.pk)
    with CaptureQueriesContext(connection) as summary:
        run = _run(s, [_key(first), _key(second), _key(third), _key(made)], SyncType.ALL)
    assert run.learner_count == learners
    with CaptureQueriesContext(connection) as confirm:
        sync_run_confirm(run=run, by=admin)
    assert Component.objects.filter(copied_from_id=made.pk).count() == learners
    with CaptureQueriesContext(connection) as undo:
        sync_run_undo(run=run, by=admin)
    assert SyncRun.objects.get(pk=run.pk).undo_restored == 3 * learners
    return len(summary), len(confirm), len(undo)


def test_the_statement_count_of_a_run_is_the_same_for_10_and_1000_learners(settings: Any) -> None:
    settings.WAYPOINT_SYNC_BACKGROUND_FROM = 10_000  # applied here, not in the worker
    # R-SYNC-26: a confirm (and its summary and undo) sends the same statements whatever the number of learners.
    assert _statements(10) == _statements(1000)


def test_an_edit_landing_after_the_check_is_caught_by_the_update_and_nothing_is_applied(
    sync_setting: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL only: another transaction can write a component between the check and the update, so the
    update is guarded by the stored revision. A SQLite confirm holds the write lock from the start of its
    transaction (transaction_mode = IMMEDIATE), so no edit can land there and its update has no guard; the
    edit this test makes inside the confirm's own transaction would go through unnoticed."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite confirm holds the write lock, so no edit can land after the check")
    s = sync_setting  # R-SYNC-15: the update itself only touches components still at the summary's revision
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"instructions": "From the source"}, visit_id=s.visit.pk)
    run = _run(s, [_key(first)])
    racing = s.components(s.targets[2])[0]

    def check_then_someone_edits(run: SyncRun) -> bool:
        component_update(component=racing, by=s.admin, changes={"instructions": "Mine"}, visit_id=None)
        return False

    monkeypatch.setattr(runs, "plans_changed", check_then_someone_edits)
    with pytest.raises(Conflict, match="changed since this summary"):
        sync_run_confirm(run=run, by=s.admin)

    # The edit stands in for another transaction's; made inside the confirm's, it is rolled back with it.
    assert Component.objects.get(pk=racing.pk).instructions != "From the source"
    assert (
        not Component.objects.filter(template=first.template, instructions="From the source")
        .exclude(enrolment=s.source)
        .exists()
    )
    assert not ComponentChange.objects.filter(sync_run=run).exists()


@pytest.mark.parametrize(
    ("sync_type", "attributes", "field", "message"),
    [
        ("everything", [], "sync_type", "Choose one of: only_changes, all, selected."),  # R-SYNC-7
        ("selected", [], "attributes", "Tick at least one template attribute."),  # R-SYNC-10
        ("selected", ["due_date"], "attributes", "Not offered for SELECTED: due_date."),  # R-SYNC-10
        ("all", ["name"], "attributes", "Template attributes are chosen only with the SELECTED type."),
    ],
)
def test_invalid_choices_are_refused_with_the_reason_and_record_nothing(
    sync_setting: Setting, sync_type: str, attributes: list[str], field: str, message: str
) -> None:
    s = sync_setting
    with pytest.raises(ValidationFailed) as refused:
        sync_run_create(
            by=s.admin,
            enrolment=s.source,
            keys=[_key(s.components(s.source)[0])],
            learners=Learner.objects.exclude(pk=s.source.learner_id),
            sync_type=sync_type,
            statuses=ALL_STATUSES,
            attributes=attributes,
            visit_id=s.visit.pk,
        )
    assert refused.value.fields == {field: [message]}
    assert not SyncRun.objects.exists()


def test_an_admin_without_any_sync_permission_cannot_create_a_run(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-1
    quality = make.staff({Perm.EDIT_DELETE_FINISHED})
    with pytest.raises(PermissionRefused, match="Synchronising learning plans needs"):
        _run(s, [_key(s.components(s.source)[0])], SyncType.ALL, by=quality)
    assert not SyncRun.objects.exists()


def test_a_fresh_summary_keeps_the_grid_rows_so_links_to_them_stay_valid(sync_setting: Setting) -> None:
    s = sync_setting  # R-SYNC-15
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"instructions": "New"}, visit_id=s.visit.pk)
    run = _run(s, [_key(first)])
    row_ids = list(run.components.values_list("pk", flat=True))
    component_update(
        component=s.components(s.targets[0])[0], by=s.admin, changes={"status": "completed"}, visit_id=None
    )
    with pytest.raises(Conflict):
        sync_run_confirm(run=run, by=s.admin)
    assert list(run.components.values_list("pk", flat=True)) == row_ids
    assert sum(SyncDecision.objects.filter(row_id__in=row_ids).values_list("learners", flat=True)) == 3
    assert not SyncOutcome.objects.filter(row_id__in=row_ids).exists()
