"""A URLconf whose one view fails the way it is told, for tests/lib/test_server_errors.py."""

import psycopg
from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError, ProgrammingError
from django.http import HttpRequest, HttpResponse
from django.urls import path

FAILURES: dict[str, BaseException] = {
    "locked": OperationalError("database is locked"),
    "full": OperationalError("database or disk is full"),
    "sql": OperationalError("no such column: nonsense"),
    "bug": ValueError("a bug"),
}
# Django's wrapper around a psycopg error, as the ORM raises it
POSTGRESQL: dict[str, tuple[type[Exception], Exception]] = {
    "refused": (OperationalError, psycopg.OperationalError("connection refused")),
    "shutdown": (OperationalError, psycopg.errors.AdminShutdown("terminating")),
    "pg-full": (OperationalError, psycopg.errors.DiskFull("could not extend file")),
    "deadlock": (OperationalError, psycopg.errors.DeadlockDetected("deadlock")),
    "pg-sql": (ProgrammingError, psycopg.errors.UndefinedColumn("no column nonsense")),
}


def raise_postgresql(kind: str) -> None:
    django_error, cause = POSTGRESQL[kind]
    raise django_error(str(cause)) from cause


@login_not_required
def fail(request: HttpRequest, kind: str) -> HttpResponse:
    if kind in POSTGRESQL:
        raise_postgresql(kind)
    raise FAILURES[kind]


urlpatterns = [path("fail/<str:kind>/", fail)]
handler500 = "kapcare.lib.errors.server_error"
