from django.conf import settings
from django.db import models
from django.utils import timezone

from waypoint.people.models import Learner
from waypoint.programmes.models import Enrolment, ProgrammeStatus


class TrackerKind(models.TextChoices):
    CHANGE_OF_EMPLOYER = "change_of_employer", "Change of employer"
    CHANGE_OF_WORKING_CONDITIONS = "change_of_working_conditions", "Change of working conditions"
    BREAK_IN_LEARNING = "break_in_learning", "Break in learning"
    RETURN_TO_LEARNING = "return_to_learning", "Return to learning"
    WITHDRAWAL = "withdrawal", "Withdrawal from learning"
    CHANGE_OF_PROGRAMME = "change_of_programme", "Change of programme"

    @classmethod
    def of_employment(cls) -> frozenset["TrackerKind"]:
        """Changes to the learner's employment: they need no enrolment."""
        return frozenset({cls.CHANGE_OF_EMPLOYER, cls.CHANGE_OF_WORKING_CONDITIONS})

    @classmethod
    def circumstances(cls) -> frozenset["TrackerKind"]:
        """Changes of circumstance on one programme episode (R-EPA-7)."""
        return frozenset(set(cls) - cls.of_employment())


class TrackerStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


_EMPLOYMENT = sorted(TrackerKind.of_employment())
_CIRCUMSTANCES = sorted(TrackerKind.circumstances())


class Tracker(models.Model):
    """A requested change to a learner, applied only once someone holding Process Automation (Approve) approves it.

    `details` holds what the change is, as JSON values checked per kind (dates as YYYY-MM-DD, records by id).
    """

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="trackers")
    enrolment = models.ForeignKey(
        Enrolment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="trackers",
        help_text="The programme episode a change of circumstance is for.",
    )
    kind = models.CharField(max_length=30, choices=TrackerKind.choices)
    status = models.CharField(max_length=20, choices=TrackerStatus.choices, default=TrackerStatus.REQUESTED)
    details = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    previous_status = models.CharField(
        max_length=20,
        choices=ProgrammeStatus.choices,
        blank=True,
        help_text="A change of programme: the status the enrolment had before it became Pending Change of Programme.",
    )
    new_enrolment = models.ForeignKey(
        Enrolment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An approved change of programme: the enrolment on the new programme.",
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-requested_at"], name="tracker_by_status"),
            models.Index(fields=["learner", "status"], name="tracker_by_learner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=_EMPLOYMENT) | models.Q(enrolment__isnull=False),
                name="tracker_circumstance_has_enrolment",
            ),
            models.CheckConstraint(
                condition=models.Q(status=TrackerStatus.REQUESTED, decided_at__isnull=True)
                | (~models.Q(status=TrackerStatus.REQUESTED) & models.Q(decided_at__isnull=False)),
                name="tracker_decided_when_not_requested",
            ),
            # One open request of a kind per learner for their employment, one open change of circumstance per
            # programme episode: a second would be decided on stale facts.
            models.UniqueConstraint(
                fields=["learner", "kind"],
                condition=models.Q(status=TrackerStatus.REQUESTED, kind__in=_EMPLOYMENT),
                name="tracker_one_open_employment_change",
            ),
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=models.Q(status=TrackerStatus.REQUESTED, kind__in=_CIRCUMSTANCES),
                name="tracker_one_open_circumstance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.learner} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == TrackerStatus.REQUESTED
