"""Browser tests: Playwright's sync API driving Debian's Chromium against a live dialconf web server.

They run in a pytest process of their own (scripts/test runs them after the main suite): once a sync
Playwright test has run in a process, later asyncio tests there fail. So this folder is collected only
when every path given to pytest lies inside it (`pytest tests/browser`); a wider run skips it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.web.conftest import PASSWORD, LiveServer, app, live_server, web_world  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]
# the README's pictures: retaken into docs/screenshots with DIALCONF_SCREENSHOTS=1, else into a
# temporary folder (so that a test run leaves the work tree as it was)
DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOTS = (
    DOC_SCREENSHOTS
    if os.environ.get("DIALCONF_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "dialconf-screenshots"
)
VIEWPORT = {"width": 1280, "height": 800}
HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave the browser tests out of any run that is not only about them."""
    asked = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    if asked and all(path == HERE or HERE in path.parents for path in asked):
        return None
    return True


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test does)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page: Page, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would."""
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/users$"))


def screenshot(page: Page, name: str) -> None:
    """Take one of the README's pictures (it must render: the file is checked to be a PNG)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
