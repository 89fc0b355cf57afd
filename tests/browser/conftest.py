"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live server.

Skipped where /usr/bin/chromium is absent, unless WAYPOINT_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to build data
# are still plain synchronous calls, so Django's async-safety check does not apply to them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"


def _browser_required() -> bool:
    return os.environ.get("WAYPOINT_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or _browser_required():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent (apt-get install chromium); WAYPOINT_REQUIRE_BROWSER=1 fails")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"WAYPOINT_REQUIRE_BROWSER=1 but {CHROMIUM} is absent: install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


class Screenshots:
    """Saves each page into test-artifacts/screenshots/, and into docs/screenshots/ with WAYPOINT_SCREENSHOTS=1."""

    def __init__(self) -> None:
        self.to_docs = os.environ.get("WAYPOINT_SCREENSHOTS", "").strip() == "1"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if self.to_docs:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, page: object, name: str, *, docs: bool = False) -> None:
        data = page.screenshot(full_page=True)  # type: ignore[attr-defined]
        (ARTIFACTS / f"{name}.png").write_bytes(data)
        if docs and self.to_docs:
            (DOCS_SCREENSHOTS / f"{name}.png").write_bytes(data)


@pytest.fixture
def screenshots() -> Screenshots:
    return Screenshots()
