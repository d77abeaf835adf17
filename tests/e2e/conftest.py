"""Playwright fixtures: Debian's Chromium driving pytest-django's live_server.

Each test gets a fresh browser context (no cookies) on the live server. The
server runs in another thread, so the tests use a transactional database: the
rows a test creates are committed where the server can read them.
"""

import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    # Playwright's sync API keeps an asyncio event loop running in this thread, and
    # Django refuses ORM calls made while a loop runs (SynchronousOnlyOperation).
    # The calls are synchronous in fact: the loop only drives the browser.
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
        # While the loop runs, Django keeps this thread's connections in a separate
        # (context-local) set. Close them before the loop stops, or PostgreSQL
        # refuses to drop the test database they are still connected to.
        connections.close_all()


@pytest.fixture
def page(
    browser: Browser,
    live_server: LiveServer,
    transactional_db: None,
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    """A signed-out tab on the live server; fails the test if the browser saw errors.

    Errors include JavaScript exceptions, Content-Security-Policy refusals and static
    files that did not load. A failed test leaves a screenshot in test-results/.
    """
    context = browser.new_context(
        base_url=live_server.url, locale="en-CA", timezone_id="America/Toronto"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda message: _console_error(message, problems))
    page.on("response", lambda response: _static_failure(response, problems))
    yield page
    reports = request.node.stash.get(_REPORTS, {})
    if "call" in reports and reports["call"].failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=RESULTS_DIR / f"{name}.png", full_page=True)
    context.close()
    assert not problems, "The browser reported problems:\n" + "\n".join(problems)


def _console_error(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(f"Console error: {message.text}")


def _static_failure(response: Response, problems: list[str]) -> None:
    # 304 Not Modified is a success: the browser revalidated its cached copy.
    if "/static/" in response.url and response.status not in {200, 304}:
        problems.append(f"Static file {response.url} answered {response.status}")
