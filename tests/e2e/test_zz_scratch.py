from playwright.sync_api import Page


def test_fails_for_screenshot(page: Page) -> None:
    page.goto("/accounts/login/")
    assert False, "deliberate"


def test_console_error_is_caught(page: Page) -> None:
    page.goto("/accounts/login/")
    page.evaluate("console.error('boom')")
