"""Forms of the learning plan pages (seed 002): plan and milestone details, assigning, per-person milestone status."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from waypoint.curriculum.models import (
    Catalog,
    Curriculum,
    Metric,
    Milestone,
    ProfessionalGroup,
    RegistrationType,
)
from waypoint.curriculum.services import DuplicateMode


class ServiceErrors:
    """Shows a refusal's field problems beside the fields; the rest above the form."""

    def add_service_errors(self, fields: Mapping[str, list[str]]) -> None:
        for field, problems in fields.items():
            name = "catalogs" if field == "catalog_ids" else field
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)  # type: ignore[attr-defined]


DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CurriculumForm(ServiceErrors, forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    starts_at = forms.DateTimeField(label="Start date and time", required=False, widget=DATETIME)
    ends_at = forms.DateTimeField(label="End date and time", required=False, widget=DATETIME)
    due_date = forms.DateField(required=False, widget=DATE)
    milestone_order_enforced = forms.BooleanField(label="Milestone order enforced", required=False)
    registration_type = forms.ChoiceField(choices=RegistrationType.choices)
    auto_register = forms.BooleanField(
        label="Auto-register professionals", required=False, help_text="Only when registration is Enforced."
    )
    add_to_my_learning = forms.BooleanField(
        label="Display Add to My Learning button", required=False, help_text="Only when registration is not Enforced."
    )
    catalogs = forms.ModelMultipleChoiceField(
        queryset=Catalog.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    @staticmethod
    def initial_for(curriculum: Curriculum) -> dict[str, Any]:
        return {
            "name": curriculum.name,
            "description": curriculum.description,
            "starts_at": curriculum.starts_at,
            "ends_at": curriculum.ends_at,
            "due_date": curriculum.due_date,
            "milestone_order_enforced": curriculum.milestone_order_enforced,
            "registration_type": curriculum.registration_type,
            "auto_register": curriculum.auto_register,
            "add_to_my_learning": curriculum.add_to_my_learning,
            "catalogs": list(curriculum.catalogs.all()),
        }

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["catalog_ids"] = [c.pk for c in data.pop("catalogs")]
        return data


class MilestoneForm(ServiceErrors, forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    metric = forms.ChoiceField(choices=Metric.choices)
    units = forms.DecimalField(
        max_digits=6, decimal_places=2, required=False, help_text="Sessions or credits required."
    )
    due_date = forms.DateField(required=False, widget=DATE)
    program_order_enforced = forms.BooleanField(label="Program order enforced", required=False)

    @staticmethod
    def initial_for(milestone: Milestone) -> dict[str, Any]:
        return {f: getattr(milestone, f) for f in MilestoneForm.base_fields}


class DuplicateForm(forms.Form):
    mode = forms.ChoiceField(
        choices=[
            (DuplicateMode.SHELL.value, "Learning plan only"),
            (DuplicateMode.MILESTONES.value, "Learning plan and milestones"),
            (DuplicateMode.EVERYTHING.value, "Learning plan, milestones and linked programs"),
        ],
        widget=forms.RadioSelect,
        initial=DuplicateMode.SHELL.value,
    )


class CatalogsForm(ServiceErrors, forms.Form):
    catalogs = forms.ModelMultipleChoiceField(queryset=Catalog.objects.all(), widget=forms.CheckboxSelectMultiple)
    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")])


class AssignForm(ServiceErrors, forms.Form):
    people = forms.ModelMultipleChoiceField(
        queryset=get_user_model()
        .objects.filter(staff__isnull=True, is_active=True)
        .order_by("last_name", "first_name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    group = forms.ModelChoiceField(queryset=ProfessionalGroup.objects.all(), required=False, empty_label="No group")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("people")) == bool(data.get("group")):
            raise forms.ValidationError("Choose either people or one group.")
        return data


class OverrideForm(ServiceErrors, forms.Form):
    action = forms.ChoiceField(
        choices=[("no_action", "No Action"), ("waived", "Waived"), ("adjusted", "Adjust Requirements")]
    )
    units = forms.DecimalField(max_digits=6, decimal_places=2, required=False)
    due_date = forms.DateField(required=False, widget=DATE)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm_detach = forms.BooleanField(required=False)
