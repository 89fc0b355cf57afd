"""Forms of the learning plan set-up pages (seed 002): programs and sessions, their rosters, catalogs, professional
groups, notifications and the professionals' term."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from waypoint.curriculum.models import (
    Catalog,
    Curriculum,
    NotificationTemplate,
    Program,
    ProgramEnrolment,
    ProgramKind,
    Session,
)
from waypoint.web.forms_curriculum import DATETIME, ServiceErrors


class ProgramForm(ServiceErrors, forms.Form):
    name = forms.CharField(max_length=200)
    code = forms.CharField(max_length=30)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    kind = forms.ChoiceField(
        choices=ProgramKind.choices,
        help_text="A program is delivered in sessions; an activity is self-paced and counts as one session.",
    )
    credits = forms.DecimalField(max_digits=6, decimal_places=2, min_value=0, initial=0)

    @staticmethod
    def initial_for(program: Program) -> dict[str, Any]:
        return {f: getattr(program, f) for f in ProgramForm.base_fields}


class SessionForm(ServiceErrors, forms.Form):
    starts_at = forms.DateTimeField(label="Starts", widget=DATETIME)
    ends_at = forms.DateTimeField(label="Ends", widget=DATETIME)
    capacity = forms.IntegerField(min_value=1, required=False, help_text="Empty: no limit.")
    location = forms.CharField(max_length=200, required=False)
    online_url = forms.URLField(label="Online meeting link", max_length=300, required=False, assume_scheme="https")

    @staticmethod
    def initial_for(session: Session) -> dict[str, Any]:
        return {f: getattr(session, f) for f in SessionForm.base_fields}


class CompletionsForm(ServiceErrors, forms.Form):
    """The roster's checkboxes and its two buttons: the chosen enrolments become completed, or not completed."""

    MARK_COMPLETED = "completed"
    MARK_NOT_COMPLETED = "not_completed"

    enrolments = forms.ModelMultipleChoiceField(
        queryset=ProgramEnrolment.objects.none(),
        required=False,  # choosing nobody is refused by the service, with its own message
        error_messages={
            "invalid_choice": "An enrolment chosen (%(value)s) is not on this roster any more; reload the page.",
            "invalid_pk_value": "“%(pk)s” is not an enrolment.",
        },
    )
    action = forms.ChoiceField(
        choices=[(MARK_COMPLETED, "Mark completed"), (MARK_NOT_COMPLETED, "Mark not completed")],
        error_messages={"required": "Choose Mark completed or Mark not completed."},
    )

    def __init__(self, *args: Any, roster: QuerySet[ProgramEnrolment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrolments"].queryset = roster  # type: ignore[attr-defined]

    @property
    def completed(self) -> bool:
        return bool(self.cleaned_data["action"] == self.MARK_COMPLETED)


class CatalogForm(ServiceErrors, forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    @staticmethod
    def initial_for(catalog: Catalog) -> dict[str, Any]:
        return {"name": catalog.name, "description": catalog.description}


class GroupForm(ServiceErrors, forms.Form):
    # Longer than a group name may be, so that the service says why a name is refused.
    name = forms.CharField(max_length=500)


class NotificationForm(ServiceErrors, forms.Form):
    enabled = forms.BooleanField(label="Send this notification", required=False)
    subject = forms.CharField(max_length=500)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}))
    days_before = forms.IntegerField(
        label="Days before the deadline", help_text="Deadline reminders only: sent this many days before."
    )
    all_curricula = forms.BooleanField(label="For every Learning Plan", required=False)
    curricula = forms.ModelMultipleChoiceField(
        label="Only for these Learning Plans",
        queryset=Curriculum.objects.order_by("name", "pk").only("pk", "name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    @staticmethod
    def initial_for(template: NotificationTemplate) -> dict[str, Any]:
        return {
            "enabled": template.enabled,
            "subject": template.subject,
            "body": template.body,
            "days_before": template.days_before,
            "all_curricula": template.all_curricula,
            "curricula": [c.pk for c in template.curricula.all()],
        }

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["curricula"] = [c.pk for c in data["curricula"]]
        return data


class TermForm(ServiceErrors, forms.Form):
    # Longer than the term may be, so that the service says why a term is refused (R-CUR-12).
    value = forms.CharField(label="Term professionals see", max_length=200, required=False)
