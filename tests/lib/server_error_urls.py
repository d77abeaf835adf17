"""A URLconf whose one view fails the way it is told, for tests/lib/test_server_errors.py."""

import psycopg
from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

FAILURES: dict[str, BaseException] = {
    "locked": OperationalError("database is locked"),
    "full": OperationalError("database or disk is full"),
    "sql": OperationalError("no such column: nonsense"),
    "bug": ValueError("a bug"),
}


@login_not_required
def fail(request: HttpRequest, kind: str) -> HttpResponse:
    if kind == "refused":
        try:
            raise psycopg.OperationalError("connection refused")
        except psycopg.OperationalError as exc:
            raise OperationalError("connection refused") from exc
    raise FAILURES[kind]


urlpatterns = [path("fail/<str:kind>/", fail)]
handler500 = "kapcare.lib.errors.server_error"
