"""A sync run and everything it records (R-SYNC-27): inputs, targets, per-pair outcomes, what undo needs.

Imported by `waypoint.plans.models`, so these are models of the `plans` app.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from waypoint.plans.sync.types import ReviewEffect, SyncAction, SyncType
from waypoint.programmes.models import ComponentAttributes


class SyncRunStatus(models.TextChoices):
    DRAFT = "draft", "Being chosen"
    SUMMARISING = "summarising", "Working out the summary"
    SUMMARISED = "summarised", "Summary ready"
    QUEUED = "queued", "Queued"
    APPLYING = "applying", "Applying"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    UNDOING = "undoing", "Undoing"
    UNDONE = "undone", "Undone"


class SyncRun(models.Model):
    """One synchronisation: what the admin chose, its summary and what became of it."""

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sync_runs")
    created_at = models.DateTimeField(default=timezone.now)
    source_learner = models.ForeignKey("people.Learner", on_delete=models.CASCADE, related_name="sync_runs")
    enrolment = models.ForeignKey("programmes.Enrolment", on_delete=models.CASCADE, related_name="sync_runs")
    programme = models.ForeignKey("programmes.Programme", on_delete=models.CASCADE, related_name="sync_runs")
    # The record visit whose changes are the admin's recent changes (R-SYNC-12).
    visit = models.ForeignKey("plans.RecordVisit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    keys = models.JSONField(default=list, help_text="The selected components, as [kind, id] keys.")
    sync_type = models.CharField(max_length=20, choices=[(t.value, t.name) for t in SyncType])
    statuses = models.JSONField(default=list, help_text="Target component statuses the sync applies to.")
    attributes = models.JSONField(default=list, help_text="Template attributes of a SELECTED sync.")
    learner_filters = models.JSONField(default=dict, help_text="The wizard's Select Learners filters.")
    # The permissions the summary was decided with: if they change, the summary is stale.
    perms = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=SyncRunStatus.choices, default=SyncRunStatus.SUMMARISED)
    summarised_at = models.DateTimeField(default=timezone.now)
    learner_count = models.PositiveIntegerField(default=0)
    component_count = models.PositiveIntegerField(default=0)
    synchronised = models.PositiveIntegerField(default=0, help_text="Learner/component pairs to synchronise.")
    not_synchronised = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, help_text="Run-wide warnings (R-SYNC-13), as codes.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    applied_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_restored = models.PositiveIntegerField(default=0)
    undo_conflicts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["by", "-created_at"])]

    def __str__(self) -> str:
        return f"Sync run #{self.pk}"


class SyncTarget(models.Model):
    """One selected target learner: the selection lives in a table, never in a parameter list (R-SYNC-26)."""

    # No database constraints: "select all matching" inserts 20,000 rows at once, and PostgreSQL checking two
    # deferred foreign keys per row at commit took 230 ms of that step (Django still cascades deletes).
    run = models.ForeignKey(
        SyncRun, on_delete=models.CASCADE, related_name="targets", db_index=False, db_constraint=False
    )
    learner = models.ForeignKey(
        "people.Learner", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "learner"], name="sync_target_once_per_run")]

    def __str__(self) -> str:
        return f"{self.run} → learner {self.learner_id}"


class SyncRunComponent(models.Model):
    """One selected source component: a row of the summary grid (R-SYNC-14) and what a sync writes."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="components")
    key_kind = models.CharField(max_length=10)  # "template" or "component" (see types.ComponentKey)
    key_id = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=30)
    source_component_id = models.PositiveIntegerField(null=True, blank=True)  # None: deleted in the visit
    source_revision = models.PositiveIntegerField(null=True, blank=True)
    source_review_at = models.DateTimeField(null=True, blank=True, help_text="When the source review is scheduled.")
    action = models.CharField(max_length=20, choices=[(a.value, a.name) for a in SyncAction])
    last_updated = models.DateTimeField(null=True, blank=True)
    updates = models.JSONField(default=dict, help_text="The values a Synchronise writes.")
    creates = models.JSONField(null=True, blank=True, help_text="The values a Create writes.")
    synchronised = models.PositiveIntegerField(default=0)
    not_synchronised = models.PositiveIntegerField(default=0)
    changing = models.PositiveIntegerField(default=0, help_text="Existing components a Synchronise changes.")
    creating = models.PositiveIntegerField(default=0, help_text="Learners a Create adds the component for.")
    reasons = models.JSONField(default=dict, help_text="Not-synchronised counts by reason code.")
    warnings = models.JSONField(default=dict, help_text="Warning counts by code.")

    class Meta:
        ordering = ["run", "position", "id"]

    def __str__(self) -> str:
        return self.name


class SyncDecision(models.Model):
    """One decision of a run's summary: a grid row and a target state, shared by every learner in that state.

    A summary decides each distinct state once (`pairs.py` encodes a target component's state as a number) and
    stores no row per learner: the learner lists are read from the plans while the run waits for its confirm.
    The counts and sums are what the confirm checks the plans against (R-SYNC-15).
    """

    row = models.ForeignKey(SyncRunComponent, on_delete=models.CASCADE, related_name="decisions")
    state = models.IntegerField(help_text="The target state decided on (pairs.MISSING, pairs.SOURCE or a code).")
    action = models.CharField(max_length=20, choices=[(a.value, a.name) for a in SyncAction])
    reason = models.CharField(max_length=40, blank=True, help_text="Why not synchronised (a NotSynced name).")
    changes = models.BooleanField(default=False, help_text="Synchronised and writes something.")
    review = models.CharField(max_length=20, default=ReviewEffect.NONE.value)
    warnings = models.CharField(max_length=100, blank=True, help_text="SyncWarning names, comma-separated.")
    fields = models.JSONField(default=list, help_text="The attributes the sync changes, in display order.")
    before = models.JSONField(null=True, blank=True, help_text="The source learner's before-values (SELECTED).")
    learners = models.PositiveIntegerField(default=0, help_text="Learner/component pairs in this state.")
    revisions = models.BigIntegerField(default=0, help_text="Sum of their components' revisions.")
    components = models.BigIntegerField(default=0, help_text="Sum of their components' ids.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["row", "state"], name="sync_decision_once_per_state")]

    def __str__(self) -> str:
        return f"{self.row}, state {self.state}: {self.action} {self.reason}"


class SyncOutcome(models.Model):
    """One learner and component of an applied run (R-SYNC-27): its state, so its decision, and the component.

    Written by the confirm, in one statement, from the same query the summary's lists read. No database
    constraints: 540,000 rows for 20,000 learners and 27 components, deleted with the run (Django cascades).
    """

    row = models.ForeignKey(
        SyncRunComponent, on_delete=models.CASCADE, related_name="outcomes", db_index=False, db_constraint=False
    )
    learner = models.ForeignKey("people.Learner", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    state = models.IntegerField()
    component_id = models.PositiveIntegerField(null=True, blank=True)  # the created one, once applied
    revision = models.PositiveIntegerField(null=True, blank=True, help_text="The target's revision decided on.")
    undo = models.CharField(max_length=10, blank=True)  # "restored" or "conflict" after an undo

    class Meta:
        indexes = [models.Index(fields=["row", "state", "learner"], name="sync_outcome_row_state")]

    def __str__(self) -> str:
        return f"{self.row} for learner {self.learner_id}: state {self.state}"


# What undo needs to put back exactly what a run deleted or replaced: copies of the rows, ids included.


class SyncSavedComponent(ComponentAttributes):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+")
    component_id = models.PositiveIntegerField()
    learner_id = models.PositiveIntegerField()
    enrolment_id = models.PositiveIntegerField()
    template_id = models.PositiveIntegerField(null=True)
    copied_from_id = models.PositiveIntegerField(null=True)
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    due_date = models.DateField(null=True)
    owner_id = models.PositiveIntegerField(null=True)
    marking_aid_submitted = models.BooleanField()
    revision = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} as before {self.run}"


class SyncSavedReview(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+")
    review_id = models.PositiveIntegerField()
    component_id = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    review_type = models.CharField(max_length=20)
    scheduled_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"Review {self.review_id} as before {self.run}"


class SyncSavedTask(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="+")
    task_id = models.PositiveIntegerField()
    review_id = models.PositiveIntegerField()
    learner_id = models.PositiveIntegerField(null=True)
    admin_id = models.PositiveIntegerField(null=True)
    title = models.CharField(max_length=250)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=10)

    def __str__(self) -> str:
        return f"{self.title} as before {self.run}"
