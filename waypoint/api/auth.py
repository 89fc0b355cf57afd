"""Who is calling the API: a bearer token, or the browser session (with CSRF on unsafe methods).

Only active users with a staff profile may use the API.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from waypoint.api.models import ApiToken
from waypoint.api.services import key_hash
from waypoint.people.access import staff_profile

# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfFailed(HttpError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header.")


def may_use_api(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and staff_profile(user) is not None)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <key>` with a key from `waypoint api_token USERNAME`."""

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        if not token or len(token) > 200:
            return None
        found = (
            ApiToken.objects.select_related("user", "user__staff")
            .filter(key_hash=key_hash(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not may_use_api(found.user):
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


class StaffSessionAuth(APIKeyCookie):
    """The Django session of a signed-in staff user; unsafe methods need the CSRF token.

    Unlike ninja's SessionAuth, a request without a signed-in user is answered 401 (not a CSRF 403).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return None  # the session middleware has already read the cookie

    def authenticate(self, request: HttpRequest, key: str | None) -> AbstractBaseUser | None:
        user = getattr(request, "user", None)
        if not may_use_api(user):
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


def acting_user(request: HttpRequest) -> AbstractBaseUser:
    """The authenticated user of an API request."""
    return request.auth  # type: ignore[attr-defined]


def uses_session(request: HttpRequest) -> bool:
    return getattr(request, "api_token", None) is None


token_auth = TokenAuth()
session_auth = StaffSessionAuth()
