from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "waypoint.api"
    label = "api"
