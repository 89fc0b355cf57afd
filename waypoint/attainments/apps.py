from django.apps import AppConfig


class AttainmentsConfig(AppConfig):
    name = "waypoint.attainments"
    label = "attainments"
    verbose_name = "Attainments (PLR)"
