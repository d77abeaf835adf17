"""The 500 handler. A database that cannot be reached, is locked past SQLite's busy
timeout, or whose disk is full answers 503 with Retry-After and a page drawn without
the database; any other error, the 500 page. Writes run in transactions, so the
failed one left nothing half-saved."""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

logger = logging.getLogger("kapcare.errors")

# SQLite reports these as OperationalError (https://sqlite.org/rescode.html: BUSY,
# FULL, IOERR, CANTOPEN); its SQL mistakes are OperationalError too, and stay 500s.
SQLITE_UNAVAILABLE = {
    "database is locked": "busy",
    "database or disk is full": "full",
    "disk i/o error": "unreachable",
    "unable to open database file": "unreachable",
}
RETRY_AFTER_SECONDS = 30


def database_trouble(exc: BaseException | None) -> str | None:
    """ "busy", "full" or "unreachable" when the error is the database being
    unavailable, not a fault in the request; None otherwise."""
    if isinstance(exc, InterfaceError):
        return "unreachable"
    if not isinstance(exc, OperationalError):
        return None
    message = str(exc).lower()
    for text, kind in SQLITE_UNAVAILABLE.items():
        if text in message:
            return kind
    # psycopg raises OperationalError for a lost or refused connection, a server
    # shutting down or a cancelled query; SQL mistakes are ProgrammingError.
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("psycopg"):
        return "unreachable"
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    trouble = database_trouble(sys.exc_info()[1])
    if trouble is None:
        return HttpResponse(loader.render_to_string("500.html"), status=500)
    logger.error(
        "Database unavailable (%s) on %s %s", trouble, request.method, request.path
    )
    response = HttpResponse(
        loader.render_to_string("503.html", {"trouble": trouble}), status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
