from django.db import models

from waypoint.core.models import OutboxMessage, TimeStamped
from waypoint.epa.switching import RegistrationState
from waypoint.people.models import Learner
from waypoint.programmes.models import Enrolment, epao_id_validator


class Platform(models.TextChoices):
    EPAPRO = "epapro", "epaPRO"


class EpaConnection(TimeStamped):
    """A connection to an EPA platform for one EPAO: programmes assessed by that EPAO are connected (R-EPA-1).

    Credentials never live in the database: `credential_setting` names the environment variable holding the
    connection's API token.
    """

    name = models.CharField(max_length=120)
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.EPAPRO)
    epao_id = models.CharField("EPAO id", max_length=8, unique=True, validators=[epao_id_validator])
    base_url = models.URLField(max_length=300)
    credential_setting = models.CharField(
        max_length=100, blank=True, help_text="Environment variable holding the API token, e.g. WAYPOINT_EPA_TOKEN."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.epao_id})"


class EpaRegistration(TimeStamped):
    """One learner's programme episode with one EPA connection, or registered manually (R-EPA-1, R-EPA-8…11).

    Its id is the ordering lane of its outbox messages.
    """

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="epa_registrations")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="epa_registrations")
    connection = models.ForeignKey(
        EpaConnection, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    epao_id = models.CharField("EPAO id", max_length=8, blank=True)
    state = models.CharField(max_length=20, choices=[(s.value, s.value.title()) for s in RegistrationState])
    can_register = models.BooleanField(
        default=False, help_text="Manual, but the programme now has a connection: it may be registered (R-EPA-9)."
    )
    external_ref = models.CharField(max_length=60, blank=True, help_text="The platform's own id for the apprentice.")
    version = models.PositiveIntegerField(default=0, help_text="The last snapshot version sent.")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["learner", "state"]),
            models.Index(fields=["enrolment"]),
        ]

    def __str__(self) -> str:
        return f"{self.learner} · {self.enrolment.programme} · {self.state}"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    TRANSIENT = "transient", "Failed, will retry"
    REJECTED = "rejected", "Rejected by the platform"
    EXHAUSTED = "exhausted", "Failed, no retries left"


class DeliveryAttempt(models.Model):
    """One try at sending one outbox message (R-EPA-12)."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempts_made")
    attempted_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="In plain words.")

    class Meta:
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return f"{self.message_id}: {self.outcome}"
