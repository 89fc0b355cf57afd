"""The read side of sync runs: visibility, history, summary, learner lists and diffs (R-SYNC-13, 14, 27, R-PLUS-1)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import factories as make
from tests.plans.sync.conftest import Setting, many_targets
from waypoint.core.errors import NotFound
from waypoint.people.models import Learner, Perm
from waypoint.plans.models import Component, SyncRun
from waypoint.plans.services import component_delete, component_update
from waypoint.plans.sync.reports import (
    Choice,
    Counted,
    FieldChange,
    Message,
    Progress,
    outcome_diff,
    outcome_reason,
    sync_run_get_for,
    sync_run_list_for,
    sync_run_outcomes,
    sync_run_outcomes_iterator,
    sync_run_summary,
)
from waypoint.plans.sync.runs import sync_run_confirm, sync_run_create
from waypoint.plans.sync.types import NotSynced, SyncWarning, template_key

pytestmark = pytest.mark.django_db
ALL_STATUSES = ["completed", "not_started", "in_progress", "awaiting_marking", "referred"]
# What a Create writes and a Delete removes: every attribute but the learner's progress, in display order.
SYNCED = [
    "name",
    "type",
    "due_date",
    "owner",
    "completion_mode",
    "criteria_mappings",
    "instructions",
    "evidence_required",
    "min_evidence",
    "documents",
    "delivery_via_organisation",
    "delivery_via_employer",
    "planned_for_qa",
    "marking_aid_exercise",
    "review_type",
]


def _run(
    s: Setting, *, by: Any = None, sync_type: str = "all", statuses: list[str] = ALL_STATUSES, **kw: Any
) -> SyncRun:
    keys = kw.pop("keys", None) or [template_key(c.template_id) for c in s.components(s.source)]  # type: ignore[arg-type]
    return sync_run_create(
        by=by or s.admin,
        enrolment=s.source,
        keys=keys,
        learners=Learner.objects.filter(pk__in=[t.learner_id for t in s.targets]),
        sync_type=sync_type,
        statuses=statuses,
        visit_id=kw.pop("visit_id", None),
        **kw,
    )


def _name(s: Setting, *surnames: str) -> None:
    for target, surname in zip(s.targets, surnames, strict=True):
        Learner.objects.filter(pk=target.learner_id).update(first_name="Ada", surname=surname)


# Who sees a run (R-SYNC-27)


def test_a_run_is_seen_by_its_admin_a_supervisor_and_a_superuser_only(sync_setting: Setting) -> None:
    s = sync_setting
    editor = make.staff([Perm.ADM_EDIT])
    run = _run(s, by=editor)
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw")

    for user in (editor, s.admin, superuser):
        assert sync_run_get_for(user, run.pk) == run
    for user in (make.staff([Perm.ADM_EDIT]), make.staff([Perm.COMPLIANCE_QA])):
        with pytest.raises(NotFound):
            sync_run_get_for(user, run.pk)
        assert not sync_run_list_for(user).exists()


def test_the_history_is_newest_first_and_filtered(sync_setting: Setting) -> None:  # R-SYNC-27
    s = sync_setting
    s.admin.first_name, s.admin.last_name = "Grace", "Hopper"
    s.admin.save()
    first = _run(s)
    sync_run_confirm(run=first, by=s.admin)
    editor = make.staff([Perm.ADM_EDIT])
    second = _run(s, by=editor)
    SyncRun.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(days=3))

    assert list(sync_run_list_for(s.admin)) == [second, first]
    assert list(sync_run_list_for(editor)) == [second]
    assert list(sync_run_list_for(s.admin, status="applied")) == [first]
    assert list(sync_run_list_for(s.admin, search="grace hop")) == [first]
    assert list(sync_run_list_for(s.admin, search=s.source.learner.surname)) == [second, first]
    assert list(sync_run_list_for(s.admin, search="nobody")) == []
    assert list(sync_run_list_for(s.admin, since=timezone.now() - dt.timedelta(days=1))) == [second]
    assert list(sync_run_list_for(s.admin, source_learner=s.targets[0].learner_id)) == []


# The summary (R-SYNC-13, 14)


def test_the_summary_names_the_choices_and_counts(sync_setting: Setting) -> None:  # R-SYNC-13
    s = sync_setting
    Component.objects.filter(pk=s.components(s.targets[0])[0].pk).update(status="completed")
    run = _run(s, statuses=["referred", "not_started", "in_progress"])

    summary = sync_run_summary(sync_run_get_for(s.admin, run.pk))

    assert (summary.component_count, summary.learner_count) == (3, 3)
    assert (summary.synchronised, summary.not_synchronised) == (8, 1)
    assert summary.statuses == [
        Choice("not_started", "Not Started"),
        Choice("in_progress", "In Progress"),
        Choice("referred", "Referred"),
    ]  # in the order of the statuses, whatever the order chosen
    assert summary.sync_type == Choice("all", "Apply and overwrite ALL attributes")
    assert summary.status == Choice("summarised", "Summary ready")
    assert summary.programme.name == summary.programme.label == s.programme.name
    assert summary.warnings == [
        Message(
            "SOME_NOT_SYNCHRONISED",
            "Some components will not be synchronised for some learners: see the reasons below.",
        )
    ]
    assert summary.progress == Progress(done=0, total=8)
    first_row = summary.rows[0]
    assert (first_row.synchronised, first_row.not_synchronised) == (2, 1)
    assert first_row.reasons == [Counted("STATUS_NOT_SELECTED", NotSynced.STATUS_NOT_SELECTED.message, 1)]
    assert [r.action for r in summary.rows] == [Choice("synchronise", "Synchronise")] * 3


def test_a_row_warns_that_reviews_and_their_tasks_are_re_created(sync_setting: Setting) -> None:  # R-SYNC-14
    s = sync_setting
    review = s.components(s.source)[2]
    component_update(component=review, by=s.admin, changes={"instructions": "Bring the log."}, visit_id=None)

    summary = sync_run_summary(_run(s, keys=[template_key(review.template_id)]))  # type: ignore[arg-type]

    assert summary.rows[0].warnings == [
        Counted("REVIEW_TASKS_RECREATED", SyncWarning.REVIEW_TASKS_RECREATED.message, 3)
    ]
    assert summary.warnings == []  # a row warning, not one of the run-wide warnings of R-SYNC-13


def test_the_summary_costs_two_queries(sync_setting: Setting, django_assert_num_queries: Any) -> None:
    run = _run(sync_setting)
    with django_assert_num_queries(2):
        assert len(sync_run_summary(sync_run_get_for(sync_setting.admin, run.pk)).rows) == 3


# The learner lists and their diffs (R-SYNC-14, R-PLUS-1)


def test_outcomes_are_listed_by_surname_and_filtered(sync_setting: Setting) -> None:  # R-SYNC-14
    s = sync_setting
    _name(s, "Cole", "Abbott", "Baker")
    Component.objects.filter(pk=s.components(s.targets[2])[1].pk).update(status="completed")
    run = _run(s, statuses=["not_started"])
    second_row = run.components.order_by("position")[1]

    every = sync_run_outcomes(run)
    assert [(o.learner.surname, o.row.position) for o in every.items][:4] == [
        ("Abbott", 1),
        ("Abbott", 2),
        ("Abbott", 3),
        ("Baker", 1),
    ]
    assert every.count == len(every.items) == 9
    assert {o.programme_status for o in every.items} == {"active"}
    assert not any(o.is_source or o.undo for o in every.items)
    not_synced = sync_run_outcomes(run, row_id=second_row.pk, synchronised=False)
    assert [(o.learner.surname, o.decision.reason) for o in not_synced.items] == [("Baker", "STATUS_NOT_SELECTED")]
    synced = sync_run_outcomes(run, row_id=second_row.pk, synchronised=True)
    assert [o.learner.surname for o in synced.items] == ["Abbott", "Cole"]
    assert sync_run_outcomes(run, learner_id=s.targets[0].learner_id).count == 3


def test_a_page_is_a_slice_of_the_list_and_the_export_reads_every_chunk(sync_setting: Setting) -> None:
    s = sync_setting
    _name(s, "Cole", "Abbott", "Baker")
    run = _run(s)

    def keys(items: Any) -> list[tuple[int, int]]:
        return [(o.learner.pk, o.row.pk) for o in items]

    every = keys(sync_run_outcomes(run).items)
    second = sync_run_outcomes(run, page=2, page_size=4)
    assert (second.count, keys(second.items)) == (9, every[4:8])
    past_the_end = sync_run_outcomes(run, page=4, page_size=4)
    assert (past_the_end.count, past_the_end.items) == (9, [])
    assert keys(sync_run_outcomes_iterator(run, chunk_size=2)) == every  # chunks of 2 seek past the last one
    assert keys(sync_run_outcomes_iterator(run, chunk_size=3)) == every  # the last chunk is full
    not_synced = sync_run_outcomes_iterator(run, synchronised=False)
    assert list(not_synced) == []


def test_the_diff_of_a_synchronise_lists_exactly_the_changed_fields_in_display_order(sync_setting: Setting) -> None:
    s = sync_setting
    first = s.components(s.source)[0]
    component_update(
        component=first,
        by=s.admin,
        changes={"instructions": "Read chapter 2.", "due_date": dt.date(2027, 4, 1)},
        visit_id=s.visit.pk,
    )
    target = s.components(s.targets[0])[0]
    run = _run(s, sync_type="only_changes", keys=[template_key(first.template_id)], visit_id=s.visit.pk)  # type: ignore[arg-type]

    [outcome] = sync_run_outcomes(run, learner_id=s.targets[0].learner_id).items

    assert outcome.component_id == target.pk
    assert outcome_diff(outcome) == [
        FieldChange("due_date", target.due_date.isoformat() if target.due_date else None, "2027-04-01"),
        FieldChange("instructions", "", "Read chapter 2."),
    ]


def test_the_diff_of_a_create_is_every_value_and_of_a_delete_every_old_value(sync_setting: Setting) -> None:
    s = sync_setting
    first, second, _review = s.components(s.source)
    component_delete(component=second, by=s.admin, visit_id=s.visit.pk)
    component_update(component=first, by=s.admin, changes={"name": "Induction"}, visit_id=s.visit.pk)
    Component.objects.filter(pk=s.components(s.targets[0])[0].pk).delete()
    kept = s.components(s.targets[0])[0]  # the second component, which the sync deletes
    run = _run(
        s,
        sync_type="only_changes",
        keys=[template_key(first.template_id), template_key(second.template_id)],  # type: ignore[arg-type]
        visit_id=s.visit.pk,
    )

    create, delete = sync_run_outcomes(run, learner_id=s.targets[0].learner_id).items

    assert (create.decision.action, delete.decision.action) == ("create", "delete")
    assert (create.component_id, delete.component_id) == (None, kept.pk)
    made = outcome_diff(create)
    assert made[0] == FieldChange("name", None, "Induction")
    assert [c.field for c in made] == SYNCED
    assert {c.old for c in made} == {None}
    gone = outcome_diff(delete)
    assert [c.field for c in gone] == SYNCED
    assert gone[0] == FieldChange("name", kept.name, None)
    assert {c.field: c.old for c in gone}["criteria_mappings"] == ["K1"]
    assert {c.new for c in gone} == {None}


def test_a_pair_not_synchronised_or_without_changes_has_an_empty_diff(sync_setting: Setting) -> None:  # R-PLUS-1
    s = sync_setting
    Component.objects.filter(pk=s.components(s.targets[0])[0].pk).update(status="completed")
    run = _run(s, statuses=["not_started"])

    outcomes = sync_run_outcomes(run).items

    refused = [o for o in outcomes if o.decision.reason]
    assert [o.decision.reason for o in refused] == ["STATUS_NOT_SELECTED"]
    assert outcome_reason(refused[0]) == Message("STATUS_NOT_SELECTED", NotSynced.STATUS_NOT_SELECTED.message)
    assert outcome_diff(refused[0]) == []
    unchanged = [o for o in outcomes if not o.decision.reason and not o.decision.changes]
    assert unchanged  # ALL over identical plans: synchronised, nothing to write
    assert all(outcome_diff(o) == [] and outcome_reason(o) is None for o in unchanged)


def test_the_source_learner_is_listed_with_its_own_before_values(sync_setting: Setting) -> None:  # R-SYNC-10
    s = sync_setting
    first = s.components(s.source)[0]
    component_update(component=first, by=s.admin, changes={"name": "Renamed on the source"}, visit_id=None)
    template_name = first.template.name  # type: ignore[union-attr]

    run = _run(s, sync_type="selected", attributes=["name"], keys=[template_key(first.template_id)])  # type: ignore[arg-type]

    [source] = [o for o in sync_run_outcomes(run).items if o.is_source]
    assert (source.learner.pk, source.component_id) == (s.source.learner_id, first.pk)
    assert outcome_diff(source) == [FieldChange("name", "Renamed on the source", template_name)]


def test_once_applied_the_diff_shows_the_values_before_the_sync(sync_setting: Setting) -> None:  # R-PLUS-1
    s = sync_setting
    first, second, _review = s.components(s.source)
    component_update(component=first, by=s.admin, changes={"instructions": "Read chapter 2."}, visit_id=s.visit.pk)
    component_delete(component=second, by=s.admin, visit_id=s.visit.pk)
    target_first, target_second, _ = s.components(s.targets[0])
    run = _run(
        s,
        sync_type="only_changes",
        keys=[template_key(first.template_id), template_key(second.template_id)],  # type: ignore[arg-type]
        visit_id=s.visit.pk,
    )
    before = sync_run_outcomes(run, learner_id=s.targets[0].learner_id).items

    applied = sync_run_confirm(run=run, by=s.admin)

    assert applied.status == "applied"
    assert Component.objects.get(pk=target_first.pk).instructions == "Read chapter 2."
    assert not Component.objects.filter(pk=target_second.pk).exists()
    after = sync_run_outcomes(applied, learner_id=s.targets[0].learner_id).items
    assert [outcome_diff(o) for o in after] == [outcome_diff(o) for o in before]
    synchronise, delete = after
    assert outcome_diff(synchronise) == [FieldChange("instructions", target_first.instructions, "Read chapter 2.")]
    assert outcome_diff(delete)[0] == FieldChange("name", target_second.name, None)
    assert {(o.component_id, o.undo) for o in after} == {(target_first.pk, ""), (target_second.pk, "")}


def _everyone_on(s: Setting) -> SyncRun:
    """ALL, of every component, to every learner on the programme."""
    return sync_run_create(
        by=s.admin,
        enrolment=s.source,
        keys=[template_key(c.template_id) for c in s.components(s.source)],  # type: ignore[arg-type]
        learners=Learner.objects.exclude(pk=s.source.learner_id),
        sync_type="all",
        statuses=ALL_STATUSES,
        visit_id=None,
    )


def test_a_page_of_learners_costs_the_same_for_5_and_60_learners(
    sync_setting: Setting, django_assert_num_queries: Any
) -> None:  # R-SYNC-26, DESIGN: query budgets are tested
    s = sync_setting
    component_update(component=s.components(s.source)[0], by=s.admin, changes={"name": "New"}, visit_id=None)
    many_targets(s.programme, 2)
    few = _everyone_on(s)
    many_targets(s.programme, 55)
    many = _everyone_on(s)
    assert (few.learner_count, many.learner_count) == (5, 60)

    for run, learners in ((few, 5), (many, 60)):
        # the pairs (the grid rows, the rows with a source decision), the page with its count, then its learners,
        # grid rows, decisions and the components the diffs show
        with django_assert_num_queries(7):
            page = sync_run_outcomes(run, page_size=200)
            diffs = [(o.learner.full_name, o.programme_status, outcome_diff(o)) for o in page.items]
        assert page.count == len(diffs) == 3 * learners
        assert sum(1 for _n, _s, d in diffs if d) == learners  # the renamed first component


def test_a_page_of_an_applied_run_costs_the_same_for_5_and_60_learners(
    sync_setting: Setting, django_assert_num_queries: Any
) -> None:
    s = sync_setting
    component_update(component=s.components(s.source)[0], by=s.admin, changes={"name": "New"}, visit_id=None)
    many_targets(s.programme, 2)
    few = sync_run_confirm(run=_everyone_on(s), by=s.admin)
    many_targets(s.programme, 55)
    many = sync_run_confirm(run=_everyone_on(s), by=s.admin)
    assert (few.status, many.status) == ("applied", "applied")

    for run, learners, renamed in ((few, 5, 5), (many, 60, 55)):  # the second run finds 5 renamed already
        # the stored pairs need no query: the page with its count, then its learners, grid rows, decisions, journal
        with django_assert_num_queries(5):
            page = sync_run_outcomes(run, page_size=200)
            diffs = [outcome_diff(o) for o in page.items]
        assert page.count == len(diffs) == 3 * learners
        names = [d for d in diffs if d]
        assert len(names) == renamed
        assert all(d == [FieldChange("name", d[0].old, "New")] and d[0].old != "New" for d in names)


def test_one_grid_rows_list_reads_that_row_alone_and_counts_past_the_last_page(sync_setting: Setting) -> None:
    """R-SYNC-14: a row's list holds its own learners only; a page past the end is empty with the right count."""
    s = sync_setting
    component_update(component=s.components(s.source)[0], by=s.admin, changes={"name": "New"}, visit_id=None)
    run = _everyone_on(s)
    row = run.components.order_by("position").first()
    assert row is not None
    for applied in (False, True):
        current = sync_run_confirm(run=run, by=s.admin) if applied else run
        page = sync_run_outcomes(current, row_id=row.pk, page_size=2)
        assert {o.row.pk for o in page.items} == {row.pk}
        assert (len(page.items), page.count) == (2, 3)
        beyond = sync_run_outcomes(current, row_id=row.pk, page=5, page_size=2)
        assert (beyond.items, beyond.count) == ([], 3)
