"""Real servers for the slow tests: a scratch database (an SQLite file or a
PostgreSQL database), migrated by manage.py, and gunicorn with several workers on
loopback, all in subprocesses, as in production."""

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("SLOW_PG_URL", "postgres://postgres@127.0.0.1:5432")
VENDORS = ["sqlite", "postgresql"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(sql)


def pg_reachable() -> bool:
    try:
        _pg_admin("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False
    return True


@contextmanager
def scratch_database(vendor: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database; yields its DATABASE_URL and drops it after."""
    if vendor == "sqlite":
        url = f"sqlite:///{tmp_path / 'slow.sqlite3'}"
    else:
        if not pg_reachable():
            pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER}")
        name = f"test_kapcare_slow_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = f"{PG_SERVER}/{name}"
    try:
        run_manage(url, "migrate", "--no-input", "-v", "0")
        yield url
    finally:
        if vendor == "postgresql":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# uploads and exports of the servers started here, apart from the checkout's var/
SCRATCH = Path(tempfile.mkdtemp(prefix="kapcare-slow-"))
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ, "DATABASE_URL": database_url, "DEBUG": "0",
        "MEDIA_ROOT": str(SCRATCH / "media"), "PRIVATE_MEDIA_ROOT": str(SCRATCH / "private"),
        **extra,
    }  # fmt: skip
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def _run_python(database_url: str, *args: str) -> str:
    """Our own Python (manage.py or a module) against the database; its stdout."""
    done = subprocess.run(  # noqa: S603 - our own code
        [str(BIN / "python"), *args],
        cwd=ROOT, env=environment(database_url), capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def run_manage(database_url: str, *args: str) -> str:
    return _run_python(database_url, "manage.py", *args)


def run_python(database_url: str, module: str, *args: str) -> str:
    return _run_python(database_url, "-m", module, *args)


@dataclass
class Running:
    """A server in its own process group, so kill -9 reaches every worker."""

    process: subprocess.Popen[bytes]
    base: str = ""

    def kill9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


@contextmanager
def gunicorn(
    database_url: str, workers: int = 3, wait: bool = True
) -> Iterator[Running]:
    """gunicorn with several workers on a free loopback port."""
    port = free_port()
    log = SCRATCH / f"gunicorn-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own app server
            [str(BIN / "gunicorn"), "kapcare.wsgi:application", "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60"],
            cwd=ROOT, env=environment(database_url), stdout=output, stderr=output,
            start_new_session=True,
        )  # fmt: skip
    server = Running(process, f"http://127.0.0.1:{port}")
    try:
        if wait:
            _wait_for(f"{server.base}/healthz", process, log)
        yield server
    finally:
        server.stop()


@contextmanager
def task_worker(database_url: str, *args: str, **settings: str) -> Iterator[Running]:
    """manage.py clinic_worker (frees stale jobs, then processes tasks)."""
    log = (
        Path(tempfile.gettempdir())
        / f"kapcare-worker-{os.getpid()}-{time.monotonic_ns()}.log"
    )
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own worker
            [str(BIN / "python"), "manage.py", "clinic_worker", "--interval", "0.1", *args],
            cwd=ROOT, env=environment(database_url, **settings), stdout=output,
            stderr=output, start_new_session=True,
        )  # fmt: skip
    server = Running(process)
    try:
        yield server
    finally:
        server.stop()


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(
        f"gunicorn did not answer {url} in 30 s: {log.read_text()[-2000:]}"
    )


class CuttableProxy:
    """A TCP relay to the database that can be cut (every connection dropped, new
    ones refused, as when PostgreSQL restarts or the network blips) and restored
    on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), daemon=True
                ).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                with contextlib.suppress(OSError):  # wakes the blocked accept()
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self._open = []

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
