from django.apps import AppConfig


class EpaConfig(AppConfig):
    name = "waypoint.epa"
    label = "epa"
    verbose_name = "EPA platform"

    def ready(self) -> None:
        from waypoint.core.outbox import outbox_subscribe
        from waypoint.epa.capture import TOPIC, record, wake

        outbox_subscribe(TOPIC, record, wake)
