"""The Django admin for curriculum reference data. Plans are built through the API and the services, which keep
positions contiguous and apply every rule; the admin's plan form applies the same rules (R-CUR-1, R-CUR-2)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from waypoint.curriculum import rules
from waypoint.curriculum.models import (
    Assignment,
    Catalog,
    Curriculum,
    Milestone,
    MilestoneProgram,
    ProfessionalGroup,
    Program,
    Registration,
    Session,
)
from waypoint.curriculum.report_rows import plans_linking, report_rows_refresh
from waypoint.curriculum.services.plans import PROGRESS_FIELDS


class SessionForm(forms.ModelForm):
    online_url = forms.URLField(max_length=300, required=False, assume_scheme="https")

    class Meta:
        model = Session
        fields = ["starts_at", "ends_at", "capacity", "location", "online_url"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The session must end after it starts.")
        return data


class SessionInline(admin.TabularInline):
    """Sessions are deleted on the program's page, which refuses while anyone is enrolled."""

    model = Session
    form = SessionForm
    extra = 0

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "credits"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    inlines = [SessionInline]

    def save_model(self, request: HttpRequest, obj: Program, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"credits", "kind"} & set(form.changed_data):
            report_rows_refresh(plans=plans_linking([obj.pk]))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a program carries its enrolments and completions, the history progress is counted from


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class CurriculumForm(forms.ModelForm):
    class Meta:
        model = Curriculum
        fields = [
            "name",
            "description",
            "starts_at",
            "ends_at",
            "due_date",
            "milestone_order_enforced",
            "registration_type",
            "auto_register",
            "add_to_my_learning",
            "catalogs",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = rules.curriculum_problems(
            data.get("registration_type", ""),
            bool(data.get("auto_register")),
            bool(data.get("add_to_my_learning")),
            data.get("starts_at"),
            data.get("ends_at"),
        )
        for field, message in problems.items():
            self.add_error(field, message)
        return data


class MilestoneInline(admin.TabularInline):
    """Milestones as they stand; they are added, reordered and linked through the learning plan API."""

    model = Milestone
    fields = ("position", "name", "metric", "units", "due_date", "program_order_enforced")
    readonly_fields = fields
    extra = 0
    ordering = ["position"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Curriculum)
class CurriculumAdmin(admin.ModelAdmin):
    form = CurriculumForm
    list_display = ["name", "registration_type", "due_date", "starts_at", "ends_at"]
    list_filter = ["registration_type", "catalogs"]
    search_fields = ["name", "description"]
    filter_horizontal = ["catalogs"]
    inlines = [MilestoneInline]

    def save_model(self, request: HttpRequest, obj: Curriculum, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["name", "description", "metric", "units", "due_date", "program_order_enforced"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kinds = self.instance.programs.values_list("kind", flat=True) if self.instance.pk else []
        for field, message in rules.milestone_problems(data.get("metric", ""), data.get("units"), kinds).items():
            self.add_error(field if field in self.fields else None, message)
        return data


class MilestoneProgramInline(admin.TabularInline):
    model = MilestoneProgram
    fields = ("position", "program")
    readonly_fields = fields
    extra = 0
    ordering = ["position"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    """Change a milestone's details; create, delete, reorder and link programs through the learning plan API."""

    form = MilestoneForm
    list_display = ["name", "curriculum", "position", "metric", "units"]
    list_select_related = ["curriculum"]
    search_fields = ["name", "curriculum__name"]
    inlines = [MilestoneProgramInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Milestone, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if PROGRESS_FIELDS & set(form.changed_data):
            report_rows_refresh(plans=[obj.curriculum_id])


@admin.register(ProfessionalGroup)
class ProfessionalGroupAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    filter_horizontal = ["members"]


class _ReadOnly(admin.ModelAdmin):
    """Made by the assignment and registration workflows; listed here to look up, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(_ReadOnly):
    list_display = ["curriculum", "person", "group", "due_date", "created_at"]
    list_select_related = ["curriculum", "person", "group"]
    search_fields = ["curriculum__name", "person__username", "person__last_name"]


@admin.register(Registration)
class RegistrationAdmin(_ReadOnly):
    list_display = ["curriculum", "person", "status", "via_my_learning", "completed_at", "cancelled_at"]
    list_filter = ["status", "via_my_learning"]
    list_select_related = ["curriculum", "person"]
    search_fields = ["curriculum__name", "person__username", "person__last_name"]
