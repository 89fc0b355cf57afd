from django.conf import settings
from django.db import models
from django.utils import timezone

from waypoint.people.models import Learner
from waypoint.programmes.models import ComponentAttributes, ComponentTemplate, Enrolment


class ComponentStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not Started"
    IN_PROGRESS = "in_progress", "In Progress"
    AWAITING_MARKING = "awaiting_marking", "Awaiting Marking"
    REFERRED = "referred", "Referred"
    COMPLETED = "completed", "Completed"

    @classmethod
    def finished(cls) -> frozenset[str]:
        """R-CORE-5: Completed is finished; every other status is non-finished."""
        return frozenset({cls.COMPLETED})


class Component(ComponentAttributes):
    """One item of a learner's learning plan (R-CORE-4)."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="components")
    # Served by the (enrolment, position) index; a second index would only slow every write.
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="components", db_index=False)
    template = models.ForeignKey(
        ComponentTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="components",
        help_text="Empty for a component added to one learner by hand.",
    )
    # A component a sync copied from a component added by hand on another learner's plan: later syncs of
    # that component find this copy through it (R-SYNC-11). No constraint: the original may be deleted.
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=ComponentStatus.choices, default=ComponentStatus.NOT_STARTED)
    due_date = models.DateField(null=True, blank=True)
    # No index: a sync rewrites owners, and an index on a rewritten column prevents in-place updates.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_components",
        db_index=False,
    )
    marking_aid_submitted = models.BooleanField(
        default=False, help_text="The learner has submitted Marking Aid evidence for the exercise."
    )
    revision = models.PositiveIntegerField(default=1, help_text="Raised by every write; detects stale edits.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["enrolment", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "template"],
                condition=models.Q(template__isnull=False),
                name="component_template_once_per_enrolment",
            ),
        ]
        indexes = [
            models.Index(fields=["enrolment", "position"]),
            # Finds a learner's copy of a hand-made component (R-SYNC-11); only copies are in it.
            models.Index(
                fields=["copied_from", "learner"],
                condition=models.Q(copied_from__isnull=False),
                name="component_copy_of_learner",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.status in ComponentStatus.finished()


class ReviewStatus(models.TextChoices):
    NOT_SCHEDULED = "not_scheduled", "Not Scheduled"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In Progress"
    COMPLETED = "completed", "Completed"


class Review(models.Model):
    """The review entity behind a Review component (R-CORE-6)."""

    component = models.OneToOneField(Component, on_delete=models.CASCADE, related_name="review")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.NOT_SCHEDULED)
    review_type = models.CharField(max_length=20, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Review of {self.component}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"


class CalendarTask(models.Model):
    """A meeting task in a learner's or an admin's calendar, made when a review is scheduled."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="tasks")
    learner = models.ForeignKey(Learner, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(max_length=250)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(learner__isnull=False) ^ models.Q(admin__isnull=False),
                name="task_for_learner_xor_admin",
            )
        ]

    def __str__(self) -> str:
        return self.title


class RecordVisit(models.Model):
    """One admin's stay on one learner record (R-SYNC-12): changes made during it are 'recent'."""

    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="record_visits")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="record_visits")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["admin", "learner", "started_at"])]

    def __str__(self) -> str:
        return f"{self.admin} on {self.learner} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class ChangeAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    SYNCHRONISED = "synchronised", "Synchronised"  # by a sync run: old and new hold every changed field


class ComponentChange(models.Model):
    """The journal (R-CORE-9): one row per changed field, or one per creation or deletion."""

    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="component_changes")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="component_changes")
    # Kept after the component is deleted: the journal must still say which one it was.
    component = models.ForeignKey(
        Component, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="changes"
    )
    template = models.ForeignKey(ComponentTemplate, null=True, on_delete=models.SET_NULL, related_name="+")
    component_name = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=ChangeAction.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    visit = models.ForeignKey(RecordVisit, null=True, on_delete=models.SET_NULL, related_name="changes")
    sync_run = models.ForeignKey(
        "plans.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["learner", "-at"]),
            models.Index(fields=["visit", "by"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.component_name} {self.field}".strip()


from waypoint.plans.sync.models import (  # noqa: E402  (the sync run's models belong to this app)
    SyncDecision,
    SyncOutcome,
    SyncRun,
    SyncRunComponent,
    SyncRunStatus,
    SyncSavedComponent,
    SyncSavedReview,
    SyncSavedTask,
    SyncTarget,
)

__all__ = [
    "CalendarTask",
    "ChangeAction",
    "Component",
    "ComponentChange",
    "ComponentStatus",
    "RecordVisit",
    "Review",
    "ReviewStatus",
    "SyncDecision",
    "SyncOutcome",
    "SyncRun",
    "SyncRunComponent",
    "SyncRunStatus",
    "SyncSavedComponent",
    "SyncSavedReview",
    "SyncSavedTask",
    "SyncTarget",
    "TaskStatus",
]
