"""A scratch database for the benchmark; the configured database is never touched."""

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

# Fixed, so a run that was killed half-way is clobbered by the next one instead
# of leaving databases behind.
POSTGRES_NAME = "test_kapcare_bench"


@contextmanager
def scratch_database() -> Iterator[str]:
    """Create and migrate an empty test database, and destroy it afterwards.

    SQLite gets a file in a temporary directory and keeps the OPTIONS from
    kapcare/settings.py (WAL, IMMEDIATE); PostgreSQL gets its own test database
    on the DATABASE_URL server.
    """
    real_name = connection.settings_dict["NAME"]
    with tempfile.TemporaryDirectory(prefix="kapcare-bench-") as tmp:
        if connection.vendor == "sqlite":
            name = str(Path(tmp) / "bench.sqlite3")
        else:
            name = POSTGRES_NAME
        if name == real_name:
            raise RuntimeError(f"Refusing to clobber the configured database {name}")
        connection.settings_dict["TEST"]["NAME"] = name
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
        if connection.settings_dict["NAME"] != name:
            raise RuntimeError(f"Expected to be using the scratch database {name}")
        try:
            yield name
        finally:
            connection.creation.destroy_test_db(real_name, verbosity=0)


def analyze() -> None:
    """Refresh PostgreSQL's planner statistics, as autovacuum would after a bulk load."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def connect_ms(samples: int = 20) -> float:
    """Median time to open a new connection.

    The test Client reuses one connection, but CONN_MAX_AGE=0 means each
    production request opens its own, so this cost comes on top of the page times.
    """
    times = []
    for _ in range(samples):
        connection.close()
        start = time.perf_counter()
        connection.ensure_connection()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def describe() -> str:
    """Vendor and server version, for example "postgresql 15.20"."""
    version = ".".join(str(part) for part in connection.get_database_version())
    return f"{connection.vendor} {version}"
