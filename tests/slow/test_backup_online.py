"""Backup while the clinic writes, restore into an empty database (reference T20):
`manage.py backup` runs while patients send questionnaires through gunicorn; the
backup restores into a database that has never been migrated, every table matches
the manifest, the audit chain verifies, everything confirmed before the backup
began is there, and the app boots on the restored database."""

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.slow.servers import (
    BIN,
    ROOT,
    VENDORS,
    _pg_admin,
    environment,
    gunicorn,
    run_python,
    scratch_database,
)
from tests.slow.test_faults import _script, _submit

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_online_backup_restores_into_an_empty_database(
    vendor: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with scratch_database(vendor, tmp_path) as database_url:
        world = json.loads(
            run_python(database_url, "tests.slow.load_world", "--links", "2000")
        )
        confirmed: dict[str, float] = {}
        stop = threading.Event()
        queue = list(world["links"])
        lock = threading.Lock()
        with gunicorn(database_url, workers=3) as server:

            def patient() -> None:
                while not stop.is_set():
                    with lock:
                        if not queue:
                            return
                        path = queue.pop()
                    if _submit(server.base, path) == "saved":
                        confirmed[path] = time.monotonic()

            threads = [threading.Thread(target=patient) for _ in range(8)]
            for thread in threads:
                thread.start()
            time.sleep(2)
            backup_started = time.monotonic()
            backup = subprocess.run(  # noqa: S603 - our own manage.py
                [str(BIN / "python"), "manage.py", "backup", "--to", str(tmp_path / "b")],
                cwd=ROOT, env=environment(database_url), capture_output=True, text=True,
                check=False, timeout=600,
            )  # fmt: skip
            time.sleep(1)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert backup.returncode == 0, backup.stderr[-2000:]
        written_during = [p for p, at in confirmed.items() if at > backup_started]
        assert written_during, "no write ran while the backup was taken"
    [path] = [p for p in (tmp_path / "b").iterdir() if not p.name.endswith(".json")]
    manifest = json.loads((tmp_path / "b" / (path.name + ".manifest.json")).read_text())
    if vendor == "sqlite":
        empty = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    else:
        name = f"test_kapcare_restored_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}"')
        empty = f"{os.environ.get('SLOW_PG_URL', 'postgres://postgres@127.0.0.1:5432')}/{name}"
    try:
        restore = subprocess.run(  # noqa: S603 - our own manage.py
            [str(BIN / "python"), "manage.py", "restore", str(path), "--yes"],
            cwd=ROOT, env=environment(empty), capture_output=True, text=True,
            check=False, timeout=600,
        )  # fmt: skip
        assert restore.returncode == 0, restore.stderr[-2000:]
        assert "match the manifest; audit chain intact" in restore.stdout
        before = [p for p, at in confirmed.items() if at < backup_started]
        (tmp_path / "before.json").write_text(json.dumps(before))
        state = _script(empty, "links", str(tmp_path / "before.json"))["links"]
        missing = [p for p in before if state[p]["responses"] != 1]
        with gunicorn(empty, workers=2) as server:  # the app boots on the restore
            assert requests.get(server.base + "/blog/", timeout=10).status_code == 200
    finally:
        if vendor == "postgresql":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rows = sum(table["rows"] for table in manifest["tables"].values())
    record_property(f"security: rows checked after restore ({vendor})", rows)
    record_property(
        f"security: rows lost in backup and restore ({vendor})", len(missing)
    )
    assert missing == [], missing[:3]
    print(  # noqa: T201 - the figures, in the log
        f"online backup ({vendor}): {len(written_during)} questionnaires saved while it "
        f"ran; restored into an empty database: {len(manifest['tables'])} tables, "
        f"{rows:,} rows match the manifest; all {len(before)} confirmed before it present"
    )
