from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "waypoint.plans"
    label = "plans"

    def ready(self) -> None:
        from waypoint.plans import visits

        visits.connect_signals()
