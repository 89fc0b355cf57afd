"""Milestone learning plans for professionals (seed 002, R-CUR-1…12).

In the code a professional's learning plan is a `Curriculum`, shown to people as "Learning Plan", so that it never
collides with a learner's learning plan of components. A professional is a user with a login.
"""

from typing import Any

from django.conf import settings
from django.db import models

from waypoint.core.models import TimeStamped

USER = settings.AUTH_USER_MODEL


class ProgramKind(models.TextChoices):
    PROGRAM = "program", "Program"  # delivered in sessions
    ACTIVITY = "activity", "Activity"  # self-paced, no sessions; counts as one session (R-CUR-3)


class Program(TimeStamped):
    """A course or offering a professional enrols in: in sessions, or as an activity."""

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=30, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=ProgramKind.choices, default=ProgramKind.PROGRAM)
    credits = models.DecimalField(max_digits=6, decimal_places=2, default=0)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Session(TimeStamped):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    location = models.CharField(max_length=200, blank=True)
    online_url = models.URLField(max_length=300, blank=True)

    class Meta:
        ordering = ["program", "starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.program} · {self.starts_at:%d %b %Y %H:%M}"


class Catalog(TimeStamped):
    """A list of offerings professionals browse (Program Catalog, R-CUR-9)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegistrationType(models.TextChoices):
    ENFORCED = "enforced", "Enforced"  # enrol in every requirement to be registered
    NON_ENFORCED = "non_enforced", "Non-enforced"  # enrol as you go
    DISABLED = "disabled", "Disabled"  # no registration: everything visible from the preview


class Curriculum(TimeStamped):
    """A learning plan for professionals (R-CUR-1)."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    milestone_order_enforced = models.BooleanField(default=False)
    registration_type = models.CharField(
        max_length=20, choices=RegistrationType.choices, default=RegistrationType.NON_ENFORCED
    )
    auto_register = models.BooleanField(default=False, help_text="Only when registration is Enforced.")
    add_to_my_learning = models.BooleanField(default=False, help_text="Only when registration is not Enforced.")
    catalogs = models.ManyToManyField(Catalog, blank=True, related_name="curricula")
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    SESSIONS = "sessions", "Sessions"
    CREDITS = "credits", "Credits"
    NONE = "none", "None (elective)"


class Milestone(TimeStamped):
    """A container of requirements in a curriculum (R-CUR-2)."""

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    metric = models.CharField(max_length=10, choices=Metric.choices, default=Metric.SESSIONS)
    units = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Sessions or credits required."
    )
    due_date = models.DateField(null=True, blank=True)
    program_order_enforced = models.BooleanField(default=False)
    programs = models.ManyToManyField(Program, through="MilestoneProgram", related_name="milestones")

    class Meta:
        ordering = ["curriculum", "position"]
        constraints = [
            models.UniqueConstraint(fields=["curriculum", "position"], name="milestone_position_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class MilestoneProgram(models.Model):
    """A program (or activity) linked to a milestone, in order."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="links")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="links")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["milestone", "position"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "program"], name="milestone_program_unique"),
            models.UniqueConstraint(fields=["milestone", "position"], name="milestone_program_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} · {self.program}"


class ProfessionalGroup(TimeStamped):
    """A group of professionals a curriculum can be assigned to (R-CUR-5)."""

    name = models.CharField(max_length=120, unique=True)
    members: "models.ManyToManyField[Any, Any]" = models.ManyToManyField(
        USER, blank=True, related_name="professional_groups"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Assignment(TimeStamped):
    """A curriculum assigned to one professional, individually or through a group (R-CUR-5, R-CUR-6).

    The due date and the requirements are fixed at the first assignment; `group` is cleared by an individual
    override, after which the assignment is maintained individually.
    """

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="assignments")
    person = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="curriculum_assignments")
    group = models.ForeignKey(
        ProfessionalGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    due_date = models.DateField(null=True, blank=True)
    requirements = models.JSONField(default=dict, blank=True, help_text="Milestone id → units, as first assigned.")
    assigned_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["curriculum", "person"]
        constraints = [
            models.UniqueConstraint(fields=["curriculum", "person"], name="assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.curriculum} → {self.person}"


class MilestoneAction(models.TextChoices):
    WAIVED = "waived", "Waived"
    ADJUSTED = "adjusted", "Adjusted requirements"


class MilestoneStatus(TimeStamped):
    """One person's status on one milestone (R-CUR-7); No Action is the absence of a row."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="milestone_statuses")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="statuses")
    action = models.CharField(max_length=10, choices=MilestoneAction.choices)
    units = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    set_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "milestone"], name="milestone_status_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} · {self.milestone}: {self.action}"


class RegistrationStatus(models.TextChoices):
    STARTED = "started", "Started"
    REGISTERED = "registered", "Registered"
    CANCELLED = "cancelled", "Cancelled"


class Registration(TimeStamped):
    """A professional's registration in a curriculum: through the workflow, or Add to My Learning (R-CUR-8)."""

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="registrations")
    person = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="curriculum_registrations")
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices, default=RegistrationStatus.STARTED)
    via_my_learning = models.BooleanField(default=False, help_text="Added with Add to My Learning.")
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["curriculum", "person"]
        constraints = [
            models.UniqueConstraint(
                fields=["curriculum", "person"],
                condition=~models.Q(status="cancelled"),
                name="registration_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.curriculum} ({self.status})"


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", "Enrolled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ProgramEnrolment(TimeStamped):
    """A professional enrolled in a program's session, or in an activity (no session).

    `registration` is set when the enrolment was made through a curriculum's registration workflow: deleting the
    registration un-enrols exactly those (R-CUR-8).
    """

    person = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="program_enrolments")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="enrolments")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE, related_name="enrolments")
    registration = models.ForeignKey(
        Registration, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrolments"
    )
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ENROLLED)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person", "program", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "program"],
                condition=~models.Q(status="cancelled"),
                name="program_enrolment_open_unique",
            ),
        ]
        indexes = [models.Index(fields=["program", "status"])]

    def __str__(self) -> str:
        return f"{self.person} in {self.program} ({self.status})"


class NotificationKind(models.TextChoices):
    DEADLINE = "deadline", "Learning Plan Deadline"
    REGISTRATION = "registration", "Learning Plan Registration"
    ASSIGNMENT = "assignment", "Learning Plan Assignment"


class NotificationTemplate(TimeStamped):
    """An email professionals receive (R-CUR-10); admins edit the subject and body (Django template syntax)."""

    kind = models.CharField(max_length=20, choices=NotificationKind.choices, unique=True)
    enabled = models.BooleanField(default=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    days_before = models.PositiveSmallIntegerField(default=7, help_text="Deadline: this many days before.")
    all_curricula = models.BooleanField(default=True)
    curricula = models.ManyToManyField(Curriculum, blank=True, related_name="notification_templates")

    def __str__(self) -> str:
        return self.get_kind_display()


class NotificationSent(models.Model):
    """One notification sent, so that a deadline reminder is never sent twice."""

    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    about = models.CharField(max_length=60, blank=True, help_text="What it was for, e.g. the deadline's date.")
    sent_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["curriculum", "person"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "curriculum", "person", "about"],
                condition=models.Q(kind="deadline"),
                name="deadline_sent_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.person} ({self.sent_at:%Y-%m-%d})"


class Terminology(models.Model):
    """What professionals' pages call a learning plan (R-CUR-12); one row."""

    learning_plan = models.CharField(max_length=20, default="Learning Plan")

    def __str__(self) -> str:
        return self.learning_plan


class ReportRow(models.Model):
    """One (plan, person) pair of the Learning Plan reports with its progress worked out (R-CUR-11).

    Derived data: `waypoint.curriculum.report_rows.report_rows_refresh` rewrites the rows of the pairs a change
    touches, in the change's own transaction, so that a report reads rows instead of working out every person's
    progress. What depends on the day (overdue) or is only shown (names, group, due date) is read at report time.
    """

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="+", db_index=False)
    person = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    registration = models.PositiveSmallIntegerField(
        default=0, help_text="0 none, 1 cancelled, 2 started, 3 registered: the most advanced registration."
    )
    milestones_met = models.PositiveIntegerField(default=0)
    milestones_total = models.PositiveIntegerField(default=0)
    units_done = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    units_required = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    started = models.BooleanField(default=False)
    complete = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["curriculum", "person"], name="report_row_unique")]
        # the constraint's index serves look-ups by plan; the person's own index, refreshes by person

    def __str__(self) -> str:
        return f"{self.curriculum_id} x {self.person_id}: {self.milestones_met} of {self.milestones_total}"


class ReportMilestone(models.Model):
    """One milestone of a `ReportRow`: its state, units and due date for that person (R-CUR-7, R-CUR-11)."""

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="+", db_index=False)
    person = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+", db_index=False)
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=12)
    units_required = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    units_done = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    due_date = models.DateField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "curriculum", "milestone"], name="report_milestone_unique")
        ]  # its prefix serves look-ups by person and by (person, plan); one index fewer to keep up on every write

    def __str__(self) -> str:
        return f"{self.curriculum_id} x {self.person_id} · {self.milestone_id}: {self.state}"
