"""The 500 handler. A database that cannot be reached, is locked past SQLite's busy
timeout, or whose disk is full answers 503 with Retry-After and a page drawn without
the database; any other error, the 500 page. Writes run in transactions, so the
failed one left nothing half-saved."""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError
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


# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html)
# that mean the database is unavailable, not that the request is wrong.
POSTGRESQL_UNAVAILABLE = {
    "53100": "full",  # disk_full
    "53200": "busy",  # out_of_memory
    "53300": "busy",  # too_many_connections
    "40001": "busy",  # serialization_failure
    "40P01": "busy",  # deadlock_detected
    "55P03": "busy",  # lock_not_available
    "57014": "busy",  # query_canceled (statement timeout)
    "57P01": "unreachable",  # admin_shutdown
    "57P02": "unreachable",  # crash_shutdown
    "57P03": "unreachable",  # cannot_connect_now
    "25006": "unreachable",  # read_only_sql_transaction: a standby after failover
}


def database_trouble(exc: BaseException | None) -> str | None:
    """ "busy", "full" or "unreachable" when the error is the database being
    unavailable, not a fault in the request; None otherwise."""
    if isinstance(exc, InterfaceError):
        return "unreachable"
    if not isinstance(exc, DatabaseError):
        return None
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("psycopg"):
        state = getattr(cause, "sqlstate", None)
        if state is None:  # no answer from a server: refused, lost, timed out
            return "unreachable" if isinstance(exc, OperationalError) else None
        if state.startswith("08"):  # connection exception
            return "unreachable"
        return POSTGRESQL_UNAVAILABLE.get(state)
    if isinstance(exc, OperationalError):
        message = str(exc).lower()
        for text, kind in SQLITE_UNAVAILABLE.items():
            if text in message:
                return kind
    return None


def unavailable(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    trouble = database_trouble(sys.exc_info()[1])
    if trouble is None:
        return HttpResponse(loader.render_to_string("500.html"), status=500)
    logger.error(
        "Database unavailable (%s) on %s %s", trouble, request.method, request.path
    )
    return unavailable(
        HttpResponse(
            loader.render_to_string("503.html", {"trouble": trouble}), status=503
        )
    )
