"""Learners' attainments, and the PLR download sessions they are reviewed in before being recorded (R-PLR-1…8)."""

from django.conf import settings
from django.db import models

from waypoint.core.models import TimeStamped
from waypoint.people.models import Learner


class Attainment(TimeStamped):
    """One achievement on a learner's record; from the PLR, keyed by the LRS learning event's ID (R-PLR-6)."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="attainments")
    lrs_event_id = models.BigIntegerField("LRS event ID")
    attainment_type = models.CharField(max_length=30)
    uln = models.CharField("ULN", max_length=10, blank=True, help_text="The ULN the LRS holds the event under.")
    subject = models.CharField(max_length=255, blank=True)
    subject_code = models.CharField(max_length=30, blank=True)
    qualification_type = models.CharField(max_length=100, blank=True)
    level = models.CharField(max_length=30, blank=True)
    grade = models.CharField(max_length=50, blank=True)
    credits = models.IntegerField(null=True, blank=True)
    award_date = models.DateField(null=True, blank=True)
    awarding_organisation_name = models.CharField(max_length=255, blank=True)
    awarding_organisation_ukprn = models.CharField("awarding organisation UKPRN", max_length=20, blank=True)
    provider_name = models.CharField(max_length=255, blank=True)
    provider_ukprn = models.CharField("provider UKPRN", max_length=20, blank=True)
    source = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=50, blank=True)
    participation_start_date = models.DateField(null=True, blank=True)
    participation_end_date = models.DateField(null=True, blank=True)
    date_loaded = models.DateField(null=True, blank=True)
    collection_type = models.CharField(max_length=50, blank=True)
    return_number = models.CharField(max_length=50, blank=True)
    language_for_assessment = models.CharField(max_length=50, blank=True)
    restriction = models.CharField(max_length=50, blank=True)
    under_data_challenge = models.CharField(max_length=50, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["learner", "-award_date", "subject", "id"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "lrs_event_id"], name="attainment_learner_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or self.subject_code} ({self.learner_id})"


class PlrDownloadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Downloading"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    DISCARDED = "discarded", "Discarded"


class PlrDownload(models.Model):
    """An admin's download session: the learners asked about and what the LRS answered, held until discarded or
    expired, never written to learner records by itself (R-PLR-4)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plr_downloads")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=PlrDownloadStatus.choices, default=PlrDownloadStatus.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Learners selected.")
    done = models.PositiveIntegerField(default=0, help_text="Learners whose rows are written.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the download failed.")

    class Meta:
        indexes = [models.Index(fields=["expires_at"]), models.Index(fields=["owner", "created_at"])]

    def __str__(self) -> str:
        return f"PLR download {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (PlrDownloadStatus.DONE, PlrDownloadStatus.FAILED)


class PlrDownloadLearner(models.Model):
    """A learner selected for a download: the selection as rows, never a list of ids in a statement (R-PLR-8)."""

    download = models.ForeignKey(PlrDownload, on_delete=models.CASCADE, related_name="learners")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["download", "learner"], name="plr_download_learner_unique"),
        ]
        indexes = [models.Index(fields=["download", "id"])]

    def __str__(self) -> str:
        return f"{self.download_id}: {self.learner_id}"


class PlrRow(models.Model):
    """One row of the Attainments (PLR) grid: a learning event, or a learner without events with the codes that
    say why (R-PLR-3, R-PLR-4). Event fields are kept as the service sent them."""

    download = models.ForeignKey(PlrDownload, on_delete=models.CASCADE, related_name="rows")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="+")
    uln = models.CharField("ULN", max_length=10, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    surname = models.CharField(max_length=100, blank=True)
    found_uln = models.CharField("found ULN", max_length=10, blank=True)
    lrs_event_id = models.BigIntegerField("LRS event ID", null=True, blank=True)
    achievement_award_date = models.CharField(max_length=40, blank=True)
    achievement_provider_name = models.CharField(max_length=255, blank=True)
    achievement_provider_ukprn = models.CharField(max_length=20, blank=True)
    awarding_organisation_name = models.CharField(max_length=255, blank=True)
    awarding_organisation_ukprn = models.CharField(max_length=20, blank=True)
    collection_type = models.CharField(max_length=50, blank=True)
    credits = models.IntegerField(null=True, blank=True)
    date_loaded = models.CharField(max_length=40, blank=True)
    grade = models.CharField(max_length=50, blank=True)
    language_for_assessment = models.CharField(max_length=50, blank=True)
    level = models.CharField(max_length=30, blank=True)
    participation_end_date = models.CharField(max_length=40, blank=True)
    participation_start_date = models.CharField(max_length=40, blank=True)
    qualification_type = models.CharField(max_length=100, blank=True)
    restriction = models.CharField(max_length=50, blank=True)
    return_number = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=50, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    subject_code = models.CharField(max_length=30, blank=True)
    under_data_challenge = models.CharField(max_length=50, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_description = models.CharField(max_length=500, blank=True)
    response_code = models.CharField(max_length=20, blank=True)
    response_description = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["download", "surname", "first_name", "learner", "id"]),
            models.Index(fields=["download", "error_code"]),
            models.Index(fields=["download", "response_code"]),
            models.Index(fields=["download", "lrs_event_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.subject or self.error_code or self.response_code}"
