"""Issuing and revoking API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from waypoint.api.models import ApiToken
from waypoint.core.errors import ValidationFailed
from waypoint.people.access import staff_profile

KEY_PREFIX = "wp_"
PREFIX_LENGTH = 8


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new token for `user` and its key; the key is not stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ValidationFailed("A token needs a name.", fields={"name": ["This field is required."]})
    if len(name) > ApiToken._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationFailed("The token name is too long.", fields={"name": ["At most 100 characters."]})
    if staff_profile(user) is None:
        raise ValidationFailed(
            f"{user} has no staff profile, so they may not use the API.", fields={"user": ["Not a staff user."]}
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user_id=user.pk,
            name=name,
            prefix=key[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH],
            key_hash=key_hash(key),
        )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
