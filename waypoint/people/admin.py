from django import forms
from django.contrib import admin

from waypoint.people.models import Employer, Group, Learner, Manager, Perm, StaffProfile


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ManagerInline(admin.TabularInline):
    model = Manager
    extra = 0
    fields = ["first_name", "surname", "email", "phone"]


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "edrs_number", "town", "postcode"]
    search_fields = ["name", "edrs_number", "postcode"]
    inlines = [ManagerInline]


@admin.register(Manager)
class ManagerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "employer", "email", "phone"]
    search_fields = ["first_name", "surname", "email", "employer__name"]
    list_select_related = ["employer"]
    autocomplete_fields = ["employer"]


class StaffProfileForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        choices=Perm.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The learning-plan permissions (R-CORE-8). A superuser holds them all.",
    )

    class Meta:
        model = StaffProfile
        fields = ["user", "job_title", "is_tutor", "permissions", "all_groups", "groups"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    form = StaffProfileForm
    list_display = ["user", "job_title", "is_tutor", "all_groups", "permission_list"]
    list_filter = ["is_tutor", "all_groups"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "job_title"]
    list_select_related = ["user"]
    filter_horizontal = ["groups"]
    autocomplete_fields = ["user"]

    @admin.display(description="Permissions")
    def permission_list(self, obj: StaffProfile) -> str:
        return ", ".join(Perm(p).label for p in obj.permissions) or "—"


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["surname", "first_name", "uln", "email", "employer", "tutor"]
    search_fields = ["first_name", "surname", "uln", "email"]
    list_select_related = ["employer", "tutor"]
    list_filter = ["groups"]
    autocomplete_fields = ["employer", "manager", "tutor"]
    filter_horizontal = ["groups"]
    show_full_result_count = False
