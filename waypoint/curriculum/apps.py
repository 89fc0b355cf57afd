from django.apps import AppConfig


class CurriculumConfig(AppConfig):
    name = "waypoint.curriculum"
    label = "curriculum"
    verbose_name = "Learning plans for professionals"
