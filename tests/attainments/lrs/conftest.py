from collections.abc import Callable, Iterator
from typing import Any

import pytest

from waypoint.attainments.lrs import emulator
from waypoint.attainments.lrs.client import LrsClient

EMULATOR_PATH = "/emulators/lrs/LearnerServiceR9.svc"
CREDENTIALS = {"ukprn": "10012345", "username": "waypoint-test", "password": "s3cret-lrs", "vendor_id": 3}


@pytest.fixture(autouse=True)
def lrs_settings(settings: Any) -> Iterator[None]:
    """The LRS connection pointed at nothing yet, with the credentials the emulator accepts."""
    settings.WAYPOINT_LRS_UKPRN = CREDENTIALS["ukprn"]
    settings.WAYPOINT_LRS_USERNAME = CREDENTIALS["username"]
    settings.WAYPOINT_LRS_PASSWORD = CREDENTIALS["password"]
    settings.WAYPOINT_LRS_VENDOR_ID = CREDENTIALS["vendor_id"]
    settings.WAYPOINT_LRS_EMULATOR_LATENCY_MS = 0
    settings.WAYPOINT_LRS_EMULATOR_FAULT_RATE = 0.0
    emulator.reset()
    yield
    emulator.reset()


@pytest.fixture
def emulator_url(live_server: Any) -> str:
    return f"{live_server.url}{EMULATOR_PATH}"


@pytest.fixture
def make_client(emulator_url: str) -> Callable[..., LrsClient]:
    def make(**overrides: Any) -> LrsClient:
        return LrsClient(url=emulator_url, **{**CREDENTIALS, "timeout": 5.0, **overrides})

    return make


@pytest.fixture
def lrs(make_client: Callable[..., LrsClient]) -> LrsClient:
    return make_client()
