from typing import Any

from django.core.management.base import BaseCommand

from waypoint.demo.staff import logins_table


class Command(BaseCommand):
    help = "Print the demo logins: username, name, permissions, visibility, and the shared password."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(logins_table())
