"""`waypoint api_token USERNAME [--name NAME]`: issue an API token and print its key once."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from waypoint.api.models import ApiToken
from waypoint.api.services import api_token_create, api_token_revoke
from waypoint.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API token for a staff user and print its key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="API token", help="What the token is for (default: 'API token').")
        parser.add_argument("--revoke", metavar="PREFIX", help="Revoke the user's token with this prefix instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user called {options['username']!r}.")
        if options["revoke"]:
            token = ApiToken.objects.filter(user=user, prefix=options["revoke"], revoked_at__isnull=True).first()
            if token is None:
                raise CommandError(f"{user} has no active token starting {options['revoke']!r}.")
            api_token_revoke(token=token)
            self.stderr.write(f"Revoked {token}.")
            return
        try:
            token, key = api_token_create(user=user, name=options["name"])
        except ApplicationError as e:
            raise CommandError(e.message) from None
        self.stderr.write(f"Created {token} for {user}. Keep the key secret; it cannot be shown again.")
        self.stdout.write(key)
