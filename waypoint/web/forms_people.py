"""Forms of the people, programme-details, change-of-circumstance and process-automation pages.

They parse what the admin typed; the services validate it against the rules and write. A form sends a service only
the fields the admin changed, so that an unchanged value (an old case owner who has since left, say) never blocks a
change to something else.
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from waypoint.automation.details import HOURS_IN_A_WEEK, NOTES_MAX_LENGTH
from waypoint.automation.models import TrackerKind, TrackerStatus
from waypoint.core.ilr import Ethnicity, Sex
from waypoint.people.models import Employer, Learner, Manager
from waypoint.plans.services.circumstances import CHANGE_OF_PROGRAMME_REASON, REASON_MAX_LENGTH
from waypoint.programmes.models import Enrolment, Programme, WithdrawReason
from waypoint.web.forms import UserChoiceField
from waypoint.web.queries import staff_user_list

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DATE_INPUT, help_text=help_text)


class ServiceErrorsMixin:
    """Show a service's `ValidationFailed.fields` beside the fields they name (the rest above the form)."""

    fields: dict[str, forms.Field]

    def add_service_errors(self, fields: Mapping[str, list[str]], aliases: Mapping[str, str] | None = None) -> None:
        for field, problems in fields.items():
            name = (aliases or {}).get(field, field)
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)  # type: ignore[attr-defined]

    def changes(self) -> dict[str, Any]:
        """The cleaned values of the fields the admin changed, by field name."""
        data: dict[str, Any] = self.cleaned_data  # type: ignore[attr-defined]
        return {name: data[name] for name in self.changed_data if name in data}  # type: ignore[attr-defined]


class EmployerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.postcode})" if obj.postcode else str(obj.name)


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.first_name} {obj.surname}" + (f" · {obj.email}" if obj.email else "")


def managers_of(employer_id: int | None) -> QuerySet[Manager]:
    """The contacts a learner of that employer may have as manager."""
    if employer_id is None:
        return Manager.objects.none()
    return Manager.objects.filter(employer_id=employer_id).order_by("surname", "first_name")


def _posted_id(data: Any, name: str, fallback: int | None) -> int | None:
    """The id the admin chose in a bound form's select, before the form is cleaned."""
    if data is None or name not in data:
        return fallback
    value = str(data.get(name) or "")
    return int(value) if value.isdigit() else None


SEX_CHOICES = [("", "—"), *[(value, f"{value} · {label}") for value, label in Sex.choices]]
ETHNICITY_CHOICES = [("", "—"), *[(value, f"{value} · {label}") for value, label in Ethnicity.choices]]


class LearnerDetailsForm(ServiceErrorsMixin, forms.Form):
    """The learner's ILR personal details, contact, employer, manager and case owner.

    Text is not validated here: the ULN check digit, email format and length are the service's rules, and its
    messages show beside the fields.
    """

    first_name = forms.CharField(max_length=100)
    surname = forms.CharField(max_length=100)
    date_of_birth = _date("Date of birth", required=False)
    uln = forms.CharField(label="ULN", required=False, help_text="Unique Learner Number: 10 digits.")
    sex = forms.TypedChoiceField(label="Sex (ILR)", choices=SEX_CHOICES, required=False, empty_value="")
    ethnicity = forms.TypedChoiceField(
        label="Ethnicity (ILR)", choices=ETHNICITY_CHOICES, required=False, coerce=int, empty_value=None
    )
    email = forms.CharField(required=False)
    employer = EmployerChoiceField(queryset=Employer.objects.order_by("name"), required=False, empty_label="None")
    manager = ManagerChoiceField(
        queryset=Manager.objects.none(),
        required=False,
        empty_label="None",
        help_text="A contact of the employer.",
        error_messages={"invalid_choice": "Choose a contact of the chosen employer."},
    )
    tutor = UserChoiceField(queryset=staff_user_list(), required=False, empty_label="None", label="Case owner")

    def __init__(self, *args: Any, learner: Learner, **kwargs: Any) -> None:
        kwargs.setdefault("initial", self.initial_for(learner))
        super().__init__(*args, **kwargs)
        employer_id = _posted_id(self.data if self.is_bound else None, "employer", learner.employer_id)
        self.fields["manager"].queryset = managers_of(employer_id)  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(learner: Learner) -> dict[str, Any]:
        return {
            "first_name": learner.first_name,
            "surname": learner.surname,
            "date_of_birth": learner.date_of_birth,
            "uln": learner.uln,
            "sex": learner.sex,
            "ethnicity": learner.ethnicity,
            "email": learner.email,
            "employer": learner.employer_id,
            "manager": learner.manager_id,
            "tutor": learner.tutor_id,
        }

    def changes(self) -> dict[str, Any]:
        """`LearnerValues` of what changed; relations as ids."""
        return {name: (value.pk if hasattr(value, "pk") else value) for name, value in super().changes().items()}


LEARNER_FIELD_LABELS = {
    "first_name": "first name",
    "surname": "surname",
    "date_of_birth": "date of birth",
    "uln": "ULN",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "email": "email",
    "employer": "employer",
    "manager": "manager",
    "tutor": "case owner",
}


class SearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)

    def search(self) -> str:
        return str(self.cleaned_data.get("q") or "") if self.is_valid() else ""


class EmployerForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=200)
    edrs_number = forms.CharField(label="EDRS number", required=False, help_text="Employer Data Service number.")
    address_line_1 = forms.CharField(required=False)
    address_line_2 = forms.CharField(required=False)
    town = forms.CharField(required=False)
    postcode = forms.CharField(required=False)

    @staticmethod
    def initial_for(employer: Employer) -> dict[str, Any]:
        return {name: getattr(employer, name) for name in EmployerForm.base_fields}


class ManagerForm(ServiceErrorsMixin, forms.Form):
    first_name = forms.CharField(max_length=100)
    surname = forms.CharField(max_length=100)
    email = forms.CharField(required=False)
    phone = forms.CharField(required=False)

    @staticmethod
    def initial_for(manager: Manager) -> dict[str, Any]:
        return {name: getattr(manager, name) for name in ManagerForm.base_fields}


class StaffForm(ServiceErrorsMixin, forms.Form):
    first_name = forms.CharField(required=False)
    last_name = forms.CharField(required=False, label="Surname")
    email = forms.CharField(required=False)
    job_title = forms.CharField(required=False)

    @staticmethod
    def initial_for(user: Any) -> dict[str, Any]:
        profile = getattr(user, "staff", None)
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "job_title": profile.job_title if profile else "",
        }


class ProgrammeDetailsForm(ServiceErrorsMixin, forms.Form):
    """Edit Programme Details: the dates of an enrolment; its status changes through the changes of circumstance."""

    start_date = _date("Start date")
    planned_end_date = _date("Planned end date")
    epa_period_start = _date("EPA period start", required=False)
    epa_period_end = _date("EPA period end", required=False)

    @staticmethod
    def initial_for(enrolment: Enrolment) -> dict[str, Any]:
        return {name: getattr(enrolment, name) for name in ProgrammeDetailsForm.base_fields}


# Changes of circumstance


class BreakForm(ServiceErrorsMixin, forms.Form):
    effective_date = _date("Last day of learning")
    reason = forms.CharField(max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))
    expected_return = _date("Expected return", required=False)


class ReturnForm(ServiceErrorsMixin, forms.Form):
    return_date = _date("Return date", help_text="The learner's new start date.")
    planned_end_date = _date("New planned end date")


WITHDRAW_CHOICES = [
    ("", "Choose a reason"),
    *[(value, f"{value} · {label}") for value, label in WithdrawReason.choices if value != CHANGE_OF_PROGRAMME_REASON],
]


class WithdrawForm(ServiceErrorsMixin, forms.Form):
    effective_date = _date("Last day of learning")
    withdraw_reason = forms.TypedChoiceField(label="Withdrawal reason (ILR)", choices=WITHDRAW_CHOICES, coerce=int)


class ProgrammePickerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


def programmes_to_move_to(enrolment: Enrolment, search: str = "") -> QuerySet[Programme]:
    """Programmes (never sub-programmes) a learner may move to from `enrolment`'s, matching every word of `search`."""
    programmes = Programme.objects.filter(parent__isnull=True).exclude(pk=enrolment.programme_id).order_by("name")
    for word in search.split():
        programmes = programmes.filter(Q(name__icontains=word) | Q(code__istartswith=word))
    return programmes


class ChangeProgrammeForm(ServiceErrorsMixin, forms.Form):
    programme = ProgrammePickerField(
        queryset=Programme.objects.none(),
        label="New programme",
        error_messages={"required": "Choose the programme to move to.", "invalid_choice": "Choose another programme."},
    )
    start_date = _date("Start date on the new programme")
    planned_end_date = _date("Planned end date on the new programme")

    def __init__(self, *args: Any, enrolment: Enrolment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes_to_move_to(enrolment)  # type: ignore[attr-defined]


# Process automation


class TrackerFilterForm(forms.Form):
    """The tracker list's filters; a bad value is ignored rather than failing the page."""

    status = forms.ChoiceField(choices=[("", "Any"), *TrackerStatus.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any"), *TrackerKind.choices], required=False)
    q = forms.CharField(required=False, label="Learner", max_length=200)

    def filters(self) -> dict[str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"status": data.get("status") or "", "kind": data.get("kind") or "", "search": data.get("q") or ""}


class TrackerKindForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose the change"), *TrackerKind.choices], label="Change to request")


class EnrolmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.programme.name} ({obj.get_status_display()})"


class TrackerDetailsForm(ServiceErrorsMixin, forms.Form):
    """The details one kind of tracker needs (`waypoint.automation.details.FIELDS`), and its enrolment."""

    kind: TrackerKind

    def __init__(self, *args: Any, learner: Learner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.learner = learner
        if self.kind in TrackerKind.circumstances():
            enrolments = (
                Enrolment.objects.filter(learner_id=learner.pk, programme__parent__isnull=True)
                .select_related("programme")
                .order_by("-start_date", "programme__name")
            )
            field = EnrolmentChoiceField(queryset=enrolments, label="Programme", empty_label=None)
            self.fields = {"enrolment": field, **self.fields}

    def details(self) -> dict[str, Any]:
        """The tracker's details: records as ids, empty values left out."""
        values: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "enrolment" or value in (None, ""):
                continue
            if hasattr(value, "pk"):
                value = value.pk
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            values[name] = value
        return values

    def enrolment(self) -> Enrolment | None:
        return self.cleaned_data.get("enrolment")

    def add_tracker_errors(self, fields: Mapping[str, list[str]]) -> None:
        self.add_service_errors({name.removeprefix("details."): problems for name, problems in fields.items()})


class EmployerChangeRequestForm(TrackerDetailsForm):
    kind = TrackerKind.CHANGE_OF_EMPLOYER

    employer = EmployerChoiceField(queryset=Employer.objects.order_by("name"), label="New employer")
    manager = ManagerChoiceField(
        queryset=Manager.objects.none(),
        label="New manager",
        help_text="A contact of the new employer.",
        error_messages={"invalid_choice": "Choose a contact of the new employer."},
    )
    effective_date = _date("From")

    def __init__(self, *args: Any, learner: Learner, **kwargs: Any) -> None:
        super().__init__(*args, learner=learner, **kwargs)
        employer_id = _posted_id(self.data if self.is_bound else None, "employer", None)
        self.fields["manager"].queryset = managers_of(employer_id)  # type: ignore[attr-defined]


class WorkingConditionsRequestForm(TrackerDetailsForm):
    kind = TrackerKind.CHANGE_OF_WORKING_CONDITIONS

    effective_date = _date("From")
    manager = ManagerChoiceField(
        queryset=Manager.objects.none(),
        required=False,
        empty_label="No change",
        label="New manager",
        help_text="A contact of the learner's employer.",
    )
    hours_per_week = forms.FloatField(required=False, min_value=0.5, max_value=HOURS_IN_A_WEEK, label="Hours a week")
    notes = forms.CharField(
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Working-condition notes",
        help_text="What changes: role, place of work, contract.",
    )

    def __init__(self, *args: Any, learner: Learner, **kwargs: Any) -> None:
        super().__init__(*args, learner=learner, **kwargs)
        self.fields["manager"].queryset = managers_of(learner.employer_id)  # type: ignore[attr-defined]


class BreakRequestForm(TrackerDetailsForm, BreakForm):
    kind = TrackerKind.BREAK_IN_LEARNING


class ReturnRequestForm(TrackerDetailsForm, ReturnForm):
    kind = TrackerKind.RETURN_TO_LEARNING


class WithdrawalRequestForm(TrackerDetailsForm, WithdrawForm):
    kind = TrackerKind.WITHDRAWAL


class ProgrammeChangeRequestForm(TrackerDetailsForm):
    kind = TrackerKind.CHANGE_OF_PROGRAMME

    programme = ProgrammePickerField(
        queryset=Programme.objects.filter(parent__isnull=True).order_by("name"), label="New programme"
    )
    start_date = _date("Start date on the new programme")
    planned_end_date = _date("Planned end date on the new programme")


TRACKER_FORMS: dict[str, type[TrackerDetailsForm]] = {
    form.kind.value: form
    for form in (
        EmployerChangeRequestForm,
        WorkingConditionsRequestForm,
        BreakRequestForm,
        ReturnRequestForm,
        WithdrawalRequestForm,
        ProgrammeChangeRequestForm,
    )
}


class TrackerRejectForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for rejecting",
        error_messages={"required": "Give the reason for rejecting the request."},
    )
