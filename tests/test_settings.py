"""Deployment settings and the SQLite recipe (security-reliability.md T19, T24)."""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoDbBlocker

from kapcare.accounts.models import User
from tests.conftest import ClientFor

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production would not.
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        KAPCARE_ENV="production", DEBUG="0", SECRET_KEY="x" * 30 + "-real-secret-from-a-vault-9f8e7d6c5b4a",
        ALLOWED_HOSTS="clinic.example.ca", AUDIT_CHAIN_KEY="k" * 40,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _manage(
        "check",
        KAPCARE_ENV="production",
        ALLOWED_HOSTS="clinic.example.ca",
        SECRET_KEY="",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_an_audit_chain_key() -> None:
    result = _manage(
        "check",
        KAPCARE_ENV="production",
        ALLOWED_HOSTS="clinic.example.ca",
        SECRET_KEY="s" * 50,
        AUDIT_CHAIN_KEY="",
    )
    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEY" in result.stderr


def test_a_bad_boolean_is_a_clear_error() -> None:
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ],
)
def test_security_headers_on_public_pages(
    client: Client, header: str, expected: str
) -> None:
    assert client.get(reverse("website:home"))[header] == expected


@pytest.mark.django_db
def test_csp_and_permissions_policy_on_every_response(client: Client) -> None:
    for url in [reverse("website:home"), reverse("accounts:login"), "/does-not-exist/"]:
        response = client.get(url)
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "camera=()" in response["Permissions-Policy"]
        assert response["X-Request-ID"]


@pytest.mark.django_db
def test_signed_in_pages_are_not_cached(client_for: ClientFor, nurse: User) -> None:
    assert (
        client_for(nurse).get(reverse("patients:patient_list"))["Cache-Control"]
        == "no-store"
    )


def _file_database(path: Path) -> BaseDatabaseWrapper:
    """A connection with the project's SQLite settings, on a file instead of :memory:."""
    config = {**settings.DATABASES["default"], "NAME": str(path)}
    return SQLiteWrapper(config, alias=f"file-{threading.get_ident()}")


@pytest.fixture
def sqlite_only(django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only settings")
    with django_db_blocker.unblock():
        yield


@pytest.mark.usefixtures("sqlite_only")
def test_sqlite_settings_are_applied_to_a_file_database(tmp_path: Path) -> None:
    """WAL, FULL sync and a 20 s busy timeout really reach the connection (T19)."""
    wrapper = _file_database(tmp_path / "t.sqlite3")
    values = {}
    try:
        with wrapper.cursor() as cursor:
            for pragma in (
                "journal_mode",
                "synchronous",
                "busy_timeout",
                "foreign_keys",
            ):
                cursor.execute(f"PRAGMA {pragma}")
                values[pragma] = cursor.fetchone()[0]
    finally:
        wrapper.close()
    assert values == {
        "journal_mode": "wal",
        "synchronous": 2,
        "busy_timeout": 20000,
        "foreign_keys": 1,
    }


@pytest.mark.usefixtures("sqlite_only")
def test_concurrent_read_then_write_transactions_all_commit(tmp_path: Path) -> None:
    """Four threads x 25 read-then-write increments in atomic(): IMMEDIATE makes them queue, not fail."""
    path = tmp_path / "c.sqlite3"
    setup = _file_database(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n INTEGER)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    setup.close()
    errors: list[Exception] = []

    def work() -> None:
        wrapper = _file_database(path)
        connections[wrapper.alias] = wrapper  # thread-local: atomic(using=...) finds it
        try:
            for _ in range(25):
                with (
                    transaction.atomic(using=wrapper.alias),
                    wrapper.cursor() as cursor,
                ):
                    cursor.execute("SELECT n FROM counter")
                    (n,) = cursor.fetchone()
                    cursor.execute("UPDATE counter SET n = %s", [n + 1])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = _file_database(path)
    with check.cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        total = cursor.fetchone()[0]
    check.close()
    assert errors == []
    assert total == 100


def test_production_answers_with_hsts_and_sends_http_to_https(tmp_path: Path) -> None:
    """With production settings (behind a TLS proxy that sets X-Forwarded-Proto):
    HTTPS answers carry HSTS for a year with subdomains; plain HTTP is redirected."""
    script = (
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='clinic.example.ca')\n"
        "s = c.get('/healthz', HTTP_X_FORWARDED_PROTO='https')\n"
        "p = c.get('/healthz')\n"
        "print(s.status_code, s.headers.get('Strict-Transport-Security'))\n"
        "print(p.status_code, p.headers.get('Location'))\n"
    )
    result = _manage(
        "shell", "-c", script,
        KAPCARE_ENV="production", DEBUG="0", SECRET_KEY="x" * 30 + "-real-secret-from-a-vault-9f8e7d6c5b4a",
        ALLOWED_HOSTS="clinic.example.ca", AUDIT_CHAIN_KEY="k" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    secure, plain = result.stdout.strip().splitlines()[-2:]
    assert secure == "200 max-age=31536000; includeSubDomains; preload"
    assert plain == "301 https://clinic.example.ca/healthz"
