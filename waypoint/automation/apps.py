from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "waypoint.automation"
    label = "automation"
    verbose_name = "Process automation"
