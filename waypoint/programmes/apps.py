from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "waypoint.programmes"
    label = "programmes"
