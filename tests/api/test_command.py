"""The api_token management command."""

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from waypoint.api.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_token_for_an_unknown_user_is_refused() -> None:
    with pytest.raises(CommandError, match="No user"):
        call_command("api_token", "nobody")


def test_a_token_is_revoked_by_its_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    factories.staff(username="ben")
    call_command("api_token", "ben")
    key = capsys.readouterr().out.strip()
    call_command("api_token", "ben", "--revoke", key[3:11])
    assert ApiToken.objects.get().revoked_at is not None
