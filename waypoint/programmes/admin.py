from django.contrib import admin
from django.http import HttpRequest

from waypoint.programmes.models import ComponentTemplate, Enrolment, Programme


class ComponentTemplateInline(admin.TabularInline):
    model = ComponentTemplate
    extra = 0
    ordering = ["position"]
    fields = [
        "position",
        "name",
        "type",
        "review_type",
        "completion_mode",
        "due_offset_days",
        "evidence_required",
        "min_evidence",
        "planned_for_qa",
    ]


class SubProgrammeInline(admin.TabularInline):
    model = Programme
    fk_name = "parent"
    extra = 0
    fields = ["name", "code", "standard_code", "epao_id"]
    show_change_link = True
    verbose_name = "sub-programme"
    verbose_name_plural = "sub-programmes"


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "standard_code", "epao_id"]
    list_filter = [("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "code", "standard_code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [SubProgrammeInline, ComponentTemplateInline]


@admin.register(ComponentTemplate)
class ComponentTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "programme", "position", "type", "due_offset_days"]
    list_filter = ["type"]
    search_fields = ["name", "programme__name", "programme__code"]
    list_select_related = ["programme"]
    autocomplete_fields = ["programme"]
    ordering = ["programme__name", "position"]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    """Enrolments are made through Waypoint's services (they build the plan); the admin only shows them."""

    list_display = ["learner", "programme", "status", "start_date", "planned_end_date"]
    list_filter = ["status", "programme"]
    search_fields = ["learner__surname", "learner__first_name", "learner__uln", "programme__name"]
    list_select_related = ["learner", "programme"]
    readonly_fields = ["learner", "programme", "enrolled_by"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
