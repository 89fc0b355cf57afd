from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "waypoint.web"
    label = "web"
