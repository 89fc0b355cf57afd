from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from waypoint.core.models import TimeStamped
from waypoint.people.models import Learner

epao_id_validator = RegexValidator(
    r"^(EPA\d{4}|\d{8})$", "An EPAO id is EPA followed by four digits (EPA0001) or an 8-digit UKPRN."
)


class ComponentType(models.TextChoices):
    LEARNING_ACTIVITY = "learning_activity", "Learning Activity"
    REVIEW = "review", "Review"
    PROGRESS_REVIEW = "progress_review", "Progress Review"
    ASSESSMENT = "assessment", "Assessment"
    OFF_THE_JOB = "off_the_job", "Off-the-job"
    EXAM = "exam", "Exam"
    DOCUMENT = "document", "Document"

    @classmethod
    def with_review(cls) -> frozenset[str]:
        """Types whose components carry a review entity (R-CORE-6)."""
        return frozenset({cls.REVIEW, cls.PROGRESS_REVIEW})


class CompletionMode(models.TextChoices):
    LEARNER = "learner", "Learner marks complete"
    TUTOR = "tutor", "Tutor marks complete"
    EVIDENCE = "evidence", "On evidence upload"
    MARKING = "marking", "On marking"
    REVIEW_SIGN_OFF = "review_sign_off", "On review sign-off"


class ReviewType(models.TextChoices):
    PROGRESS = "progress", "Progress review"
    TRIPARTITE = "tripartite", "Tripartite review"
    INITIAL = "initial", "Initial review"
    GATEWAY = "gateway", "Gateway readiness review"


class Programme(TimeStamped):
    """A delivery programme, or a sub-programme of one (R-CORE-2)."""

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=30, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="sub_programmes")
    standard_code = models.CharField(max_length=10, blank=True, help_text="Apprenticeship standard, e.g. ST0116.")
    epao_id = models.CharField(
        "EPAO id", max_length=8, blank=True, validators=[epao_id_validator], help_text="e.g. EPA0001"
    )
    criteria = models.JSONField(
        default=list, blank=True, help_text="Codes of the standard's criteria (K1, S2, B3…) that components map to."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.parent_id and self.parent and self.parent.parent_id:
            raise ValidationError({"parent": "A sub-programme cannot have sub-programmes of its own."})

    @property
    def is_sub_programme(self) -> bool:
        return self.parent_id is not None


class ComponentAttributes(models.Model):
    """The attributes a template component and a learner's component share (R-CORE-4)."""

    name = models.CharField(max_length=200)
    type = models.CharField(max_length=30, choices=ComponentType.choices)
    completion_mode = models.CharField(max_length=20, choices=CompletionMode.choices, default=CompletionMode.TUTOR)
    criteria_mappings = models.JSONField(default=list, blank=True)
    instructions = models.TextField(blank=True)
    evidence_required = models.BooleanField(default=False)
    min_evidence = models.PositiveSmallIntegerField("minimum number of evidence", default=0)
    documents = models.JSONField(default=list, blank=True, help_text="Names of the documents attached.")
    delivery_via_organisation = models.BooleanField(default=False)
    delivery_via_employer = models.BooleanField(default=False)
    planned_for_qa = models.BooleanField("planned for QA", default=False)
    marking_aid_exercise = models.CharField(max_length=100, blank=True)
    review_type = models.CharField(max_length=20, choices=ReviewType.choices, blank=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.review_type and self.type not in ComponentType.with_review():
            errors["review_type"] = "Only Review components have a review type."
        if self.type in ComponentType.with_review() and not self.review_type:
            errors["review_type"] = "A Review component needs a review type."
        if self.min_evidence and not self.evidence_required:
            errors["min_evidence"] = "A minimum number of evidence needs 'Evidence required'."
        if not isinstance(self.criteria_mappings, list) or not all(isinstance(c, str) for c in self.criteria_mappings):
            errors["criteria_mappings"] = "Criteria mappings are a list of criterion codes."
        if not isinstance(self.documents, list) or not all(isinstance(d, str) for d in self.documents):
            errors["documents"] = "Documents are a list of document names."
        if errors:
            raise ValidationError(errors)


class ComponentTemplate(ComponentAttributes):
    """One ordered item of a programme template."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="templates")
    position = models.PositiveIntegerField()
    due_offset_days = models.PositiveIntegerField(default=0, help_text="Due this many days after the start date.")

    class Meta:
        ordering = ["programme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "position"], name="template_position_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ProgrammeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    BREAK_IN_LEARNING = "break_in_learning", "Break in Learning"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    PENDING_CHANGE_OF_PROGRAMME = "pending_change", "Pending Change of Programme"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    ARCHIVED = "archived", "Archived"


class WithdrawReason(models.IntegerChoices):
    """ILR WithdrawReason: why a learner withdrew (required with CompStatus 3, withdrawn)."""

    TRANSFERRED_TO_ANOTHER_PROVIDER = 2, "Transferred to another provider"
    INJURY_OR_ILLNESS = 3, "Injury / illness"
    TRANSFERRED_BY_AGREEMENT = 7, "Transferred between providers by or with the agreement of the ESFA"
    OLASS_OUTSIDE_CONTROL = 28, "OLASS learner withdrawn, outside the provider's control"
    MADE_REDUNDANT = 29, "Made redundant"
    NEW_LEARNING_AIM = 40, "Transferred to a new learning aim with the same provider"
    GOVERNMENT_STRATEGY = 41, "Transferred to another provider for a government strategy"
    ACADEMIC_FAILURE = 42, "Academic failure (HE only)"
    FINANCIAL = 43, "Financial reasons"
    OTHER_PERSONAL = 44, "Other personal reasons"
    WRITTEN_OFF = 45, "Written off after lapse of time (HE only)"
    MERGER = 47, "Transferred due to merger"
    INDUSTRY_PLACEMENT = 48, "Industry placement learner withdrawn, outside the provider's control"
    NOT_KNOWN = 98, "Not known"


class Enrolment(TimeStamped):
    """A learner on a programme or sub-programme (R-CORE-3)."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="enrolments")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField(max_length=20, choices=ProgrammeStatus.choices, default=ProgrammeStatus.ACTIVE)
    start_date = models.DateField()
    planned_end_date = models.DateField()
    epa_period_start = models.DateField("EPA period start", null=True, blank=True)
    epa_period_end = models.DateField("EPA period end", null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # ILR facts of a change of circumstance (LearnActEndDate, WithdrawReason, OrigLearnStartDate).
    actual_end_date = models.DateField(
        null=True, blank=True, help_text="The last day of learning, on a break, a withdrawal or a change of programme."
    )
    withdraw_reason = models.PositiveSmallIntegerField(choices=WithdrawReason.choices, null=True, blank=True)
    original_start_date = models.DateField(
        null=True, blank=True, help_text="The first start date, once a return to learning has moved the start date."
    )

    class Meta:
        ordering = ["learner", "programme"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "programme"], name="enrolment_unique"),
        ]
        indexes = [models.Index(fields=["programme", "status"])]

    def __str__(self) -> str:
        return f"{self.learner} on {self.programme}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start_date and self.planned_end_date and self.planned_end_date < self.start_date:
            errors["planned_end_date"] = "The planned end date cannot be before the start date."
        if self.epa_period_start and self.epa_period_end and self.epa_period_end < self.epa_period_start:
            errors["epa_period_end"] = "The EPA period cannot end before it starts."
        if errors:
            raise ValidationError(errors)
