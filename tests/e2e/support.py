"""Helpers for the browser tests: Debian's Chromium, TOTP codes, signing in."""

import re
from pathlib import Path

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from kapcare.accounts.models import User
from tests.factories import PASSWORD

# Debian's own build; Playwright's downloaded browsers are never used.
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = "Debian chromium not installed: apt-get install chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show for `device` right now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(6)


def sign_in(page: Page, user: User, device: TOTPDevice) -> None:
    """Sign in through the login and two-step pages, as staff do each morning."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-step/\?"))
    page.get_by_label("6-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/(patients|safety/caseload)/$"))
    page.wait_for_load_state()
