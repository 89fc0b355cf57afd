"""Forms of the web pages: they parse and validate input; the services decide and write."""

from collections.abc import Collection, Mapping
from typing import Any

from django import forms
from django.conf import settings

from waypoint.people.models import Group
from waypoint.plans.journal import EDITABLE_FIELDS
from waypoint.plans.models import Component, ComponentStatus
from waypoint.plans.permissions import QA_FLAG
from waypoint.plans.services import ComponentValues
from waypoint.programmes.models import CompletionMode, ComponentType, Programme, ProgrammeStatus, ReviewType
from waypoint.web.queries import staff_user_list, tutor_list


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class ProgrammeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.parent.name} / {obj.name}" if obj.parent_id else str(obj.name)


class LearnerFilterForm(forms.Form):
    """The learner grid's search and filters; a bad value is ignored rather than failing the page."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    programme = ProgrammeChoiceField(
        queryset=Programme.objects.select_related("parent").order_by("name"), required=False, empty_label="Any"
    )
    status = forms.ChoiceField(
        choices=[("", "Any"), *ProgrammeStatus.choices], required=False, label="Programme status"
    )
    group = forms.ModelChoiceField(queryset=Group.objects.all(), required=False, empty_label="Any")
    tutor = UserChoiceField(queryset=tutor_list(), required=False, empty_label="Any")

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `learner_list_for`, from the fields that validated."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "search": data.get("q") or "",
            "programme_id": data["programme"].pk if data.get("programme") else None,
            "status": data.get("status") or None,
            "group_id": data["group"].pk if data.get("group") else None,
            "tutor_id": data["tutor"].pk if data.get("tutor") else None,
        }


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class ComponentForm(forms.Form):
    """Every editable attribute of a learner's component (`waypoint.plans.journal.EDITABLE_FIELDS`)."""

    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(choices=ComponentType.choices)
    status = forms.ChoiceField(choices=ComponentStatus.choices)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    owner = UserChoiceField(queryset=staff_user_list(), required=False, empty_label="Unassigned")
    completion_mode = forms.ChoiceField(choices=CompletionMode.choices)
    criteria_mappings = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    evidence_required = forms.BooleanField(required=False)
    min_evidence = forms.IntegerField(label="Minimum number of evidence", min_value=0, initial=0)
    documents = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One document name per line."
    )
    delivery_via_organisation = forms.BooleanField(required=False)
    delivery_via_employer = forms.BooleanField(required=False)
    planned_for_qa = forms.BooleanField(required=False, label="Planned for QA")
    marking_aid_exercise = forms.CharField(required=False, max_length=100)
    review_type = forms.ChoiceField(
        choices=[("", "—"), *ReviewType.choices], required=False, help_text="Review components only."
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        criteria: Collection[str] = (),
        editable: Collection[str] = EDITABLE_FIELDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        current = self.initial.get("criteria_mappings") or []
        codes = list(dict.fromkeys([*criteria, *current]))
        self.fields["criteria_mappings"].choices = [(c, c) for c in codes]  # type: ignore[attr-defined]
        if not settings.WAYPOINT_MARKING_AID:
            del self.fields["marking_aid_exercise"]
        self.lock(open_fields=editable)

    def lock(self, *, open_fields: Collection[str]) -> None:
        """Show every attribute outside `open_fields` read-only (and ignore it when submitted)."""
        for name, field in self.fields.items():
            if name != "revision" and name not in open_fields:
                field.disabled = True

    @classmethod
    def initial_for(cls, component: Component) -> dict[str, Any]:
        initial: dict[str, Any] = {f: getattr(component, f) for f in EDITABLE_FIELDS if f != "owner"}
        initial["owner"] = component.owner_id
        initial["documents"] = "\n".join(component.documents or [])
        initial["revision"] = component.revision
        return initial

    def values(self) -> ComponentValues:
        data = self.cleaned_data
        values: dict[str, Any] = {f: data[f] for f in EDITABLE_FIELDS if f in self.fields}
        values["owner"] = data["owner"].pk if data.get("owner") else None
        values["documents"] = _lines(data.get("documents") or "")
        values["criteria_mappings"] = list(data.get("criteria_mappings") or [])
        values["review_type"] = data.get("review_type") or ""
        values["marking_aid_exercise"] = data.get("marking_aid_exercise") or ""
        return ComponentValues(**values)  # type: ignore[typeddict-item]

    def add_service_errors(self, fields: Mapping[str, list[str]]) -> None:
        for field, messages in fields.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def editable_fields(*, full_refusal: object, qa_refusal: object) -> tuple[str, ...]:
    """Which attributes the form leaves open, given the matrix's answers (R-SYNC-21, R-SYNC-23)."""
    if full_refusal is None:
        return EDITABLE_FIELDS
    if qa_refusal is None:
        return (QA_FLAG,)
    return ()


class ReaddForm(forms.Form):
    template = forms.IntegerField(widget=forms.HiddenInput)


class ReviewScheduleForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
