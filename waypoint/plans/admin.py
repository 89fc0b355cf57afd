"""Plans are changed through Waypoint's pages and services (permission-checked and journalled);
the admin only shows them."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from waypoint.plans.models import CalendarTask, Component, ComponentChange, RecordVisit, Review


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Component)
class ComponentAdmin(ReadOnlyAdmin):
    list_display = ["name", "learner", "type", "status", "due_date", "owner", "planned_for_qa"]
    list_filter = ["type", "status", "planned_for_qa"]
    search_fields = ["name", "learner__surname", "learner__uln"]
    list_select_related = ["learner", "owner"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["component", "status", "review_type", "scheduled_at"]
    list_filter = ["status"]
    list_select_related = ["component"]


@admin.register(CalendarTask)
class CalendarTaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "starts_at", "learner", "admin", "status"]
    list_filter = ["status"]
    list_select_related = ["learner", "admin"]


@admin.register(ComponentChange)
class ComponentChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "by", "learner", "component_name", "action", "field", "old_value", "new_value", "visit"]
    list_filter = ["action"]
    search_fields = ["component_name", "learner__surname", "learner__uln", "field"]
    list_select_related = ["by", "learner", "visit"]
    date_hierarchy = "at"


@admin.register(RecordVisit)
class RecordVisitAdmin(ReadOnlyAdmin):
    list_display = ["admin", "learner", "started_at", "ended_at"]
    list_select_related = ["admin", "learner"]
