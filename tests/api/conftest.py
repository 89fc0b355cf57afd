"""An API client per test: `as_user(user)` signs requests with a fresh bearer token."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client

from tests import factories
from waypoint.people.models import Perm

BASE = "/api/v1"


class ApiClient:
    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params)

    def post(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.post(BASE + path, data=data, content_type="application/json")

    def patch(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.patch(BASE + path, data=data, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(BASE + path)


def token_client(user: AbstractUser) -> ApiClient:
    return ApiClient(Client(headers={"Authorization": f"Bearer {factories.api_token(user)}"}))


@pytest.fixture
def as_user(db: None) -> Callable[[AbstractUser], ApiClient]:
    return token_client


@pytest.fixture
def supervisor(db: None) -> AbstractUser:
    return factories.staff([Perm.SUPERVISOR])


@pytest.fixture
def api(supervisor: AbstractUser) -> ApiClient:
    """A Supervisor who sees every group."""
    return token_client(supervisor)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body
