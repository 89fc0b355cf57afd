from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models

from waypoint.core.ilr import Ethnicity, Sex, validate_uln
from waypoint.core.models import TimeStamped


class Perm(models.TextChoices):
    """The seven permissions that govern learning-plan edits and syncs (R-CORE-8), the two of PLR attainments
    (R-PLR-1), and approving process-automation trackers (R-EPA-4, R-EPA-5, R-EPA-7)."""

    SUPERVISOR = "supervisor", "Supervisor"
    COMPLIANCE_QA = "compliance_qa", "Compliance QA"
    INTERNAL_VERIFIER = "internal_verifier", "Internal Verifier"
    ADM_ADD = "adm_add", "Advanced Delivery Management (Add)"
    ADM_EDIT = "adm_edit", "Advanced Delivery Management (Edit)"
    ADM_DELETE = "adm_delete", "Advanced Delivery Management (Delete)"
    EDIT_DELETE_FINISHED = "edit_delete_finished", "Edit/Delete Finished Components"
    PLR_IMPORT = "plr_import", "Attainments (PLR) Import"
    PLR_VIEW = "plr_view", "Attainments (PLR) View and Export"
    AUTOMATION_APPROVE = "automation_approve", "Process Automation (Approve)"


# The permissions over learning plans and their synchronisation (R-CORE-8, R-SYNC-20…25).
PLAN_PERMISSIONS: tuple[Perm, ...] = tuple(
    p for p in Perm if p not in (Perm.PLR_IMPORT, Perm.PLR_VIEW, Perm.AUTOMATION_APPROVE)
)


class Group(models.Model):
    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """A staff user's Waypoint permissions and which learner groups they may see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    job_title = models.CharField(max_length=120, blank=True)
    permissions = models.JSONField(default=list, blank=True, help_text="Values of Perm.")
    all_groups = models.BooleanField(default=False, help_text="May see learners of every group.")
    groups = models.ManyToManyField(Group, blank=True, related_name="staff")
    is_tutor = models.BooleanField(default=False)

    def __str__(self) -> str:
        return str(self.user)

    @property
    def perms(self) -> frozenset[Perm]:
        return frozenset(Perm(p) for p in self.permissions)


class Employer(TimeStamped):
    name = models.CharField(max_length=200)
    edrs_number = models.CharField("EDRS number", max_length=9, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Manager(TimeStamped):
    """An employer contact who manages apprentices at work."""

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="managers")
    first_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    email = models.CharField(max_length=254, blank=True, validators=[EmailValidator()])
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["surname", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.surname}"


class Learner(TimeStamped):
    first_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    uln = models.CharField("ULN", max_length=10, blank=True, validators=[validate_uln])
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    ethnicity = models.PositiveSmallIntegerField(choices=Ethnicity.choices, null=True, blank=True)
    email = models.CharField(max_length=254, blank=True, validators=[EmailValidator()])
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="learners")
    manager = models.ForeignKey(Manager, null=True, blank=True, on_delete=models.SET_NULL, related_name="learners")
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tutees",
        help_text="Case owner.",
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="learners")

    class Meta:
        ordering = ["surname", "first_name", "id"]
        indexes = [
            models.Index(fields=["surname", "first_name", "id"]),
            models.Index(fields=["uln"]),
            models.Index(fields=["tutor", "surname"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["uln"], condition=~models.Q(uln=""), name="learner_uln_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        if self.manager_id is None:
            return
        manager_employer = Manager.objects.filter(pk=self.manager_id).values_list("employer_id", flat=True).first()
        if manager_employer != self.employer_id:
            raise ValidationError({"manager": "The manager must be a contact of the learner's employer."})

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.surname}"
