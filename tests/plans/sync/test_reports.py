"""The read side of sync runs: visibility, history, summary, learner lists and diffs (R-SYNC-13, 14, 27, R-PLUS-1)."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests import factories as make
from tests.plans.sync.conftest import Setting
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
    sync_run_get_for,
    sync_run_list_for,
    sync_run_outcomes,
    sync_run_summary,
)
from waypoint.plans.sync.runs import sync_run_confirm, sync_run_create
from waypoint.plans.sync.types import NotSynced, SyncWarning, template_key

pytestmark = pytest.mark.django_db
ALL_STATUSES = ["completed", "not_started", "in_progress", "awaiting_marking", "referred"]


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

    every = list(sync_run_outcomes(run))
    assert [(o.learner.surname, o.row.position) for o in every][:4] == [
        ("Abbott", 1),
        ("Abbott", 2),
        ("Abbott", 3),
        ("Baker", 1),
    ]
    assert len(every) == 9
    assert {o.programme_status for o in every} == {"active"}  # type: ignore[attr-defined]
    not_synced = list(sync_run_outcomes(run, row_id=second_row.pk, synchronised=False))
    assert [(o.learner.surname, o.reason) for o in not_synced] == [("Baker", "STATUS_NOT_SELECTED")]
    synced = sync_run_outcomes(run, row_id=second_row.pk, synchronised=True)
    assert [o.learner.surname for o in synced] == ["Abbott", "Cole"]
    assert sync_run_outcomes(run, learner_id=s.targets[0].learner_id).count() == 3


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

    [outcome] = sync_run_outcomes(run, learner_id=s.targets[0].learner_id)

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

    create, delete = sync_run_outcomes(run, learner_id=s.targets[0].learner_id)

    assert (create.action, delete.action) == ("create", "delete")
    made = outcome_diff(create)
    assert made[0] == FieldChange("name", None, "Induction")
    assert [c.field for c in made] == [
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
    assert {c.old for c in made} == {None}
    gone = outcome_diff(delete)
    assert gone[0] == FieldChange("name", kept.name, None)
    assert {c.field: c.old for c in gone}["criteria_mappings"] == ["K1"]
    assert {c.new for c in gone} == {None}


def test_a_pair_not_synchronised_or_without_changes_has_an_empty_diff(sync_setting: Setting) -> None:  # R-PLUS-1
    s = sync_setting
    Component.objects.filter(pk=s.components(s.targets[0])[0].pk).update(status="completed")
    run = _run(s, statuses=["not_started"])

    outcomes = list(sync_run_outcomes(run))

    refused = [o for o in outcomes if o.reason]
    assert [o.reason for o in refused] == ["STATUS_NOT_SELECTED"]
    assert outcome_diff(refused[0]) == []
    unchanged = [o for o in outcomes if not o.reason and not o.changes]
    assert unchanged  # ALL over identical plans: synchronised, nothing to write
    assert all(outcome_diff(o) == [] for o in unchanged)


def test_listing_outcomes_with_their_diffs_is_one_query(sync_setting: Setting, django_assert_num_queries: Any) -> None:
    s = sync_setting
    component_update(component=s.components(s.source)[0], by=s.admin, changes={"name": "New"}, visit_id=None)
    for _ in range(10):
        make.enrolment(make.learner(), s.programme)
    run = sync_run_create(
        by=s.admin,
        enrolment=s.source,
        keys=[template_key(c.template_id) for c in s.components(s.source)],  # type: ignore[arg-type]
        learners=Learner.objects.exclude(pk=s.source.learner_id),
        sync_type="all",
        statuses=ALL_STATUSES,
        visit_id=None,
    )
    with django_assert_num_queries(1):
        outcomes = list(sync_run_outcomes(run))
        diffs = [(o.learner.full_name, o.programme_status, outcome_diff(o)) for o in outcomes]  # type: ignore[attr-defined]
    assert len(diffs) == 39
    assert sum(1 for _n, _s, d in diffs if d) == 13
