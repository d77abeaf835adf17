"""Consistent online backups and their restore, for SQLite and PostgreSQL.

A backup is a snapshot file and a manifest beside it (JSON): every table's row count
and a SHA-256 of its rows, read from the same snapshot, and the audit chain's head.
A restore loads the snapshot and then proves it: each table's count and checksum
must equal the manifest's, and the audit chain must verify.

- SQLite: the online backup API (sqlite3.Connection.backup; https://sqlite.org/backup.html),
  which copies a consistent snapshot while the clinic keeps writing (WAL).
- PostgreSQL: pg_dump --format=custom inside a REPEATABLE READ transaction whose
  snapshot it shares (--snapshot, from pg_export_snapshot()), so the manifest and
  the dump see the same rows; pg_restore --clean --single-transaction to restore.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from kapcare.audit.models import AuditChainHead
from kapcare.audit.services import verify_audit_chain

MANIFEST_SUFFIX = ".manifest.json"


class BackupError(RuntimeError):
    """The backup or restore could not be made or did not verify; the message says why."""


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Path
    tables: int
    rows: int


@dataclass(frozen=True)
class RestoreResult:
    tables: int
    rows: int
    audit_events: int


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def fingerprint_tables(
    open_cursor: Callable[[str], Any],
    tables: Iterable[str],
    quote: Callable[[str], str],
) -> dict[str, TableFingerprint]:
    """Row count and a SHA-256 per table: each row hashed on its own (every column,
    first to last), the row hashes sorted, then hashed together, so the result
    depends on neither the order rows come back in nor the server's collation.

    open_cursor(name) gives a cursor in the snapshot being fingerprinted (on
    PostgreSQL a named, server-side one, so a large table streams)."""
    found: dict[str, TableFingerprint] = {}
    for number, table in enumerate(sorted(tables)):
        cursor = open_cursor(f"kapcare_fingerprint_{number}")
        try:
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - a table name from introspection
            rows = []
            while batch := cursor.fetchmany(5000):
                rows += [
                    hashlib.sha256(
                        repr(tuple(_plain(v) for v in row)).encode()
                    ).digest()
                    for row in batch
                ]
        finally:
            cursor.close()
        rows.sort()
        found[table] = TableFingerprint(
            len(rows), hashlib.sha256(b"".join(rows)).hexdigest()
        )
    return found


def _tables(cursor: Any) -> list[str]:
    return [
        t.name
        for t in connection.introspection.get_table_list(cursor)
        if t.type == "t" and not t.name.startswith("sqlite_")
    ]


def _write_manifest(
    path: Path, fingerprints: dict[str, TableFingerprint], head: tuple[int, str]
) -> Path:
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    body = {
        "created_at": datetime.now(UTC).isoformat(),
        "vendor": connection.vendor,
        "file": path.name,
        "file_sha256": _file_sha256(path),
        "audit_head": {"seq": head[0], "hash": head[1]},
        "tables": {
            name: {"rows": f.rows, "sha256": f.sha256}
            for name, f in fingerprints.items()
        },
    }
    temporary = manifest.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=1, sort_keys=True))
    temporary.replace(manifest)
    return manifest


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _audit_head(cursor: Any) -> tuple[int, str]:
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    cursor.execute(f"SELECT seq, hash FROM {table} WHERE id = 1")  # noqa: S608 - our table name
    row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "0" * 64)


def backup_file_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if connection.vendor == "sqlite" else "pgdump"
    return f"kapcare-{stamp}.{suffix}"


def make_backup(directory: Path) -> BackupResult:
    """Write a snapshot and its manifest into directory (created if missing); the
    file appears under its final name only once complete."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / backup_file_name()
    previous = os.umask(0o077)  # health information: readable by the app's user only
    try:
        return _make_backup(path)
    finally:
        os.umask(previous)


def _make_backup(path: Path) -> BackupResult:
    partial = path.with_name(path.name + ".partial")
    if connection.vendor == "sqlite":
        fingerprints, head = _backup_sqlite(partial)
    elif connection.vendor == "postgresql":
        fingerprints, head = _backup_postgresql(partial)
    else:
        raise BackupError(f"No backup method for {connection.vendor}.")
    partial.replace(path)
    manifest = _write_manifest(path, fingerprints, head)
    return BackupResult(
        path, manifest, len(fingerprints), sum(f.rows for f in fingerprints.values())
    )


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backup_sqlite(
    partial: Path,
) -> tuple[dict[str, TableFingerprint], tuple[int, str]]:
    if connection.in_atomic_block:
        raise BackupError("Cannot take a backup inside a transaction.")
    connection.ensure_connection()
    with connection.cursor() as django_cursor:
        tables = _tables(django_cursor)
    # read back with the same type conversions as Django's connection, so the
    # checksums compare with those taken through it after a restore
    detect_types = connection.get_connection_params()["detect_types"]
    target = sqlite3.connect(partial, detect_types=detect_types)
    try:
        connection.connection.backup(target)
        # a self-contained file: no -wal/-shm beside it when it is read later
        target.execute("PRAGMA journal_mode=DELETE")
        _check_integrity(target)
        fingerprints = fingerprint_tables(
            lambda _: target.cursor(), tables, _sqlite_quote
        )
        head = _audit_head(target.cursor())
    finally:
        target.close()
    return fingerprints, head


def _check_integrity(database: sqlite3.Connection) -> None:
    """PRAGMA integrity_check must answer "ok" (reference T20)."""
    found = [row[0] for row in database.execute("PRAGMA integrity_check").fetchall()]
    if found != ["ok"]:
        raise BackupError(f"SQLite integrity check failed: {'; '.join(found[:3])}")


def _libpq_environment() -> dict[str, str]:
    settings = connection.settings_dict
    environment = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE"),
    ):  # fmt: skip
        if settings.get(key):
            environment[variable] = str(settings[key])
    return environment


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (Debian: apt-get install postgresql-client)."
        )
    return found


def _backup_postgresql(
    partial: Path,
) -> tuple[dict[str, TableFingerprint], tuple[int, str]]:
    """pg_dump runs on the snapshot this transaction exports while the manifest is
    read from the same snapshot (both at once, so the transaction is never idle)."""
    pg_dump = _tool("pg_dump")
    if connection.in_atomic_block:
        raise BackupError("Cannot take a backup inside a transaction.")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        tables = _tables(cursor)
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            dump = subprocess.Popen(  # noqa: S603 - fixed arguments
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                 f"--file={partial}"],
                env=_libpq_environment(), stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                fingerprints = fingerprint_tables(
                    lambda name: raw.cursor(name=name),
                    tables,
                    connection.ops.quote_name,
                )
                head = _audit_head(cursor)
            finally:
                _, errors = dump.communicate()
            if dump.returncode != 0:
                raise BackupError(f"pg_dump failed: {errors.strip()}")
        finally:
            cursor.execute("ROLLBACK")
    return fingerprints, head


def read_manifest(path: Path) -> dict[str, Any]:
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest.exists():
        raise BackupError(f"No manifest beside {path.name} ({manifest.name}).")
    body: dict[str, Any] = json.loads(manifest.read_text())
    if body.get("vendor") != connection.vendor:
        raise BackupError(
            f"This is a {body.get('vendor')} backup; the database is {connection.vendor}."
        )
    if body.get("file_sha256") != _file_sha256(path):
        raise BackupError(
            f"{path.name} does not match its manifest (damaged or replaced)."
        )
    return body


def restore_backup(path: Path) -> RestoreResult:
    """Replace the database's contents with the backup's, then prove it: every
    table's count and checksum against the manifest, and the audit chain."""
    manifest = read_manifest(path)
    if connection.vendor == "sqlite":
        _restore_sqlite(path)
    else:
        _restore_postgresql(path)
    return verify_restore(manifest)


def _restore_sqlite(path: Path) -> None:
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("Cannot restore inside a transaction.")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    _check_integrity(connection.connection)


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _restore_postgresql(path: Path) -> None:
    """The schema is emptied and the dump loaded in one transaction (psql -1), so a
    failed load leaves the database as it was; tables added since the backup go too."""
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    others = _other_sessions()
    if others:
        raise BackupError(
            f"{others} other connection(s) to the database are open: stop the app "
            "servers and task workers first."
        )
    connection.close()
    script = subprocess.run(  # noqa: S603 - fixed arguments
        [pg_restore, "--no-owner", "--file=-", str(path)],
        capture_output=True, check=False,
    )  # fmt: skip
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed: {script.stderr.decode().strip()}")
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [psql, "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
         "-c", "SET lock_timeout = '10s'",
         "-c", "DROP SCHEMA public CASCADE", "-c", "CREATE SCHEMA public", "-f", "-"],
        input=script.stdout, env=_libpq_environment(), capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(
            f"Restore failed, nothing changed: {done.stderr.decode().strip()[-2000:]}"
        )


def verify_restore(manifest: dict[str, Any]) -> RestoreResult:
    expected = {
        name: TableFingerprint(t["rows"], t["sha256"])
        for name, t in manifest["tables"].items()
    }
    with transaction.atomic(), connection.cursor() as cursor:
        raw = connection.connection
        server_side = connection.vendor == "postgresql"
        found = fingerprint_tables(
            lambda name: raw.cursor(name=name) if server_side else raw.cursor(),
            _tables(cursor),
            connection.ops.quote_name,
        )
        head = _audit_head(cursor)
    differences = [
        f"{name}: {found.get(name)} != {want}"
        for name, want in expected.items()
        if found.get(name) != want
    ] + [f"{name}: not in the backup" for name in found.keys() - expected.keys()]
    if differences:
        raise BackupError(
            "Restored tables differ from the manifest: " + "; ".join(differences[:5])
        )
    if head != (manifest["audit_head"]["seq"], manifest["audit_head"]["hash"]):
        raise BackupError("The restored audit chain head differs from the manifest.")
    checked, broken = verify_audit_chain()
    if broken is not None:
        raise BackupError(
            f"The restored audit chain is broken at event #{broken.seq}: {broken.reason}."
        )
    return RestoreResult(len(found), sum(f.rows for f in found.values()), checked)
