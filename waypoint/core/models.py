from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    COALESCED = "coalesced", "Sent with a later update"


class OutboxSource(models.TextChoices):
    """Where a change came from: what is sent may depend on it (R-EPA-2…7)."""

    UI = "ui", "User interface"
    API = "api", "API"
    AUTOMATION = "automation", "Approved process automation"
    SYSTEM = "system", "System"


class OutboxMessage(models.Model):
    """ "Learner 42's registration 17 changed, because X": written in the transaction of the change itself (R-EPA-12).

    A topic's deliverer sends messages of one `key` (its ordering lane: for the EPA platform, a registration) in
    order, building what it sends from the current state at send time. The row also holds the delivery state, so
    that admins see what is pending, sent and failed.
    """

    topic = models.CharField(max_length=30)
    key = models.BigIntegerField(help_text="Ordering lane: messages of one topic and key are delivered in order.")
    learner_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=60, help_text="What is sent, e.g. registration.updated.")
    changed = models.JSONField(default=list, blank=True, help_text="What changed, e.g. ['learner.uln'].")
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, choices=OutboxSource.choices)
    event = models.JSONField(default=dict, blank=True, help_text="Details of a change of circumstance.")
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    idempotency_key = models.UUIDField(unique=True)
    status = models.CharField(max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    coalesced_into = models.BigIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="What was last sent.")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["topic", "status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["topic", "key", "id"], name="outbox_lane"),
            models.Index(fields=["learner_id", "id"], name="outbox_learner"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
