from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "waypoint.people"
    label = "people"
