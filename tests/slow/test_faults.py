"""Faults, on real servers and SQLite and PostgreSQL: kill -9 of the app server in
the middle of questionnaire submissions and of nurses' dosing-session notes, and of
the task worker in the middle of a bulk export; the database unreachable; two task
workers on one queue.

After each: nothing committed is lost, nothing half-written is visible, the audit
chain verifies, and jobs resume."""

import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.slow.servers import (
    VENDORS,
    CuttableProxy,
    gunicorn,
    run_manage,
    run_python,
    scratch_database,
    task_worker,
)

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PHQ9 = {f"item_{n}": "1" for n in range(1, 9)} | {"item_9": "0"}


def _script(database_url: str, *args: str) -> dict[str, Any]:
    return dict(json.loads(run_python(database_url, "tests.slow.fault_scripts", *args)))


def _submit(base: str, path: str) -> str:
    """One patient sending a PHQ-9 from their link: "saved", "refused" (answered,
    not saved), "cut" (the server died with the answers sent) or "lost" (the server
    was gone before the answers were sent)."""
    with requests.Session() as browser:
        try:
            page = browser.get(base + path, timeout=10)
        except requests.RequestException:
            return "lost"
        token = CSRF.search(page.text)
        if token is None:
            return "refused"
        try:
            sent = browser.post(
                base + path, {**PHQ9, "csrfmiddlewaretoken": token.group(1)}, timeout=10
            )
        except requests.RequestException:
            return "cut"
    return (
        "saved" if sent.status_code == 200 and "Thank you" in sent.text else "refused"
    )


def _submit_until_killed(base: str, queue: list[str], outcome: dict[str, str],
                         kill: Callable[[], None]) -> None:  # fmt: skip
    """12 patients sending questionnaires; kill -9 after 3 s, mid-stream."""
    lock = threading.Lock()

    def patient() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            result = _submit(base, path)
            outcome[path] = result
            if result in ("lost", "cut"):
                return

    threads = [threading.Thread(target=patient) for _ in range(12)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    kill()
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.parametrize("vendor", VENDORS)
def test_kill_9_of_the_app_server_mid_submit(
    vendor: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with scratch_database(vendor, tmp_path) as database_url:
        world = json.loads(
            run_python(database_url, "tests.slow.load_world", "--links", "3000")
        )
        paths: list[str] = world["links"]
        outcome: dict[str, str] = {}
        queue = list(paths)
        kills = 0
        # kill until at least one submission was cut with its answers in flight
        while kills < 3 and "cut" not in outcome.values():
            with gunicorn(database_url, workers=3) as server:
                _submit_until_killed(server.base, queue, outcome, server.kill9)
            kills += 1
        saved = [p for p, r in outcome.items() if r == "saved"]
        cut = [p for p, r in outcome.items() if r == "cut"]
        refused = [p for p, r in outcome.items() if r == "refused"]
        assert cut, f"no submission was in flight in {kills} kills"
        assert refused == [], refused[:3]  # before each kill, every send was saved
        # restart: the server comes back and the same links behave
        with gunicorn(database_url, workers=2) as server:
            unused = [p for p in paths if p not in outcome]
            assert _submit(server.base, unused[0]) == "saved"
            assert _submit(server.base, saved[0]) == "refused"  # spent, not re-saved
        (tmp_path / "paths.json").write_text(json.dumps(paths))
        state = _script(database_url, "links", str(tmp_path / "paths.json"))["links"]
        verified = run_manage(database_url, "audit_verify")
    stored = {"used": True, "responses": 1, "complete": True}
    lost = [path for path in saved if state[path] != stored]  # confirmed, then missing
    half = [
        path for path, link in state.items()
        if link["responses"] != (1 if link["used"] else 0) or not link["complete"]
    ]  # fmt: skip
    record_property("security: faults injected (kill -9)", kills)
    record_property(f"security: links checked after kill -9 ({vendor})", len(state))
    record_property(f"security: rows lost after kill -9 ({vendor})", len(lost))
    record_property(f"security: half records after kill -9 ({vendor})", len(half))
    assert lost == [] and half == [], (lost[:3], half[:3])
    assert "Audit log intact" in verified
    print(  # noqa: T201 - the figures, in the log
        f"kill -9 app server ({vendor}, {kills} kill(s)): {len(saved)} confirmed, all "
        f"stored; {len(cut)} cut with their answers in flight; {len(state)} links "
        "checked, none half-written"
    )


def _note_writer(base: str, cookie: tuple[str, str], jobs: list[tuple[str, str]],
                 outcome: dict[str, str], lock: threading.Lock) -> None:  # fmt: skip
    """A nurse adding notes to sessions (htmx, as the page does) until the server
    dies: each marker "saved" (confirmed), "cut" (sent, no answer) or "refused"."""
    with requests.Session() as browser:
        browser.cookies.set(*cookie)
        with lock:
            first = jobs[-1][0] if jobs else None
        if first is None:
            return
        try:
            page = browser.get(base + first.removesuffix("note/"), timeout=10)
        except requests.RequestException:
            return
        token = CSRF.search(page.text)
        if token is None:
            return
        while True:
            with lock:
                if not jobs:
                    return
                path, marker = jobs.pop()
            note = {
                "csrfmiddlewaretoken": token.group(1), "note-kind": "observation",
                "note-noted_time": "00:01", "note-text": marker,
            }  # fmt: skip
            try:
                sent = browser.post(
                    base + path, note, headers={"HX-Request": "true"}, timeout=10
                )
            except requests.RequestException:
                outcome[marker] = "cut"
                return
            outcome[marker] = "saved" if "Note added." in sent.text else "refused"


@pytest.mark.parametrize("vendor", VENDORS)
def test_kill_9_of_the_app_server_mid_dosing_note(
    vendor: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Eight nurses write notes into 40 open dosing sessions; the app server is
    killed mid-stream until a note is cut in flight. Every confirmed note is there
    with its audit event; a cut one is whole (note and audit) or absent."""
    with scratch_database(vendor, tmp_path) as database_url:
        world = _script(database_url, "dosing_world", "40")
        cookie = (world["session_cookie"], world["cookie"])
        jobs = [
            (world["paths"][n % len(world["paths"])], f"kill-test note {n}")
            for n in range(4000)
        ]
        markers = [marker for _, marker in jobs]
        outcome: dict[str, str] = {}
        lock = threading.Lock()
        kills = 0
        while kills < 3 and "cut" not in outcome.values():
            with gunicorn(database_url, workers=3) as server:
                nurses = [
                    threading.Thread(
                        target=_note_writer,
                        args=(server.base, cookie, jobs, outcome, lock),
                    )
                    for _ in range(8)
                ]
                for nurse in nurses:
                    nurse.start()
                time.sleep(3)
                server.kill9()
                for nurse in nurses:
                    nurse.join(timeout=30)
            kills += 1
        (tmp_path / "markers.json").write_text(json.dumps(markers))
        state = _script(database_url, "session_notes", str(tmp_path / "markers.json"))
        verified = run_manage(database_url, "audit_verify")
    found = state["markers"]
    saved = [m for m, r in outcome.items() if r == "saved"]
    cut = [m for m, r in outcome.items() if r == "cut"]
    assert cut, f"no note was in flight in {kills} kills"
    assert [m for m, r in outcome.items() if r == "refused"] == []
    lost = [m for m in saved if found[m] != {"notes": 1, "audited": 1}]
    half = [
        m for m, f in found.items()
        if f not in ({"notes": 0, "audited": 0}, {"notes": 1, "audited": 1})
    ]  # fmt: skip
    unsent = [m for m in markers if m not in outcome and found[m]["notes"]]
    record_property("security: faults injected (kill -9)", kills)
    record_property(f"security: notes checked after kill -9 ({vendor})", len(found))
    record_property(f"security: rows lost after kill -9 ({vendor})", len(lost))
    record_property(f"security: half records after kill -9 ({vendor})", len(half))
    assert lost == [] and half == [] and unsent == [], (lost[:3], half[:3], unsent[:3])
    assert state["other_notes"] == 0
    assert "Audit log intact" in verified
    print(  # noqa: T201 - the figures, in the log
        f"kill -9 app server mid dosing note ({vendor}, {kills} kill(s)): "
        f"{len(saved)} notes confirmed, all stored with their audit event; "
        f"{len(cut)} cut in flight ({sum(found[m]['notes'] for m in cut)} of them "
        "committed whole); none half-written"
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_kill_9_of_the_task_worker_mid_export(
    vendor: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with scratch_database(vendor, tmp_path) as database_url:
        run_manage(database_url, "seed_demo", "--patients", "1500")
        export = _script(database_url, "kick_off_export")["export"]
        with task_worker(database_url) as worker:
            state = _script(
                database_url, "kill_mid_export", export, str(worker.process.pid), "120"
            )
            worker.process.wait(timeout=20)
            assert state["killed"] and state["status"] == "running", state
        assert _script(database_url, "export_state", export)["status"] == "running"
        # a new worker frees the stale job (stale at once here) and finishes it
        with task_worker(database_url, "--batch", STALE_TASK_MINUTES="0") as worker:
            worker.process.wait(timeout=300)
        checked = _script(database_url, "check_export", export)
        verified = run_manage(database_url, "audit_verify")
    assert checked["status"] == "done", checked
    patients = checked["types"]["Patient"]
    assert patients["lines"] == patients["recorded"] == patients["distinct_ids"]
    assert patients["lines"] == checked["patients"]
    answers = checked["types"].get("QuestionnaireResponse", {"lines": 0})
    assert answers["lines"] == answers.get("distinct_ids", 0) == checked["responses"]
    assert "Audit log intact" in verified
    record_property("security: faults injected (kill -9)", 1)
    print(  # noqa: T201 - the figures, in the log
        f"kill -9 task worker ({vendor}): export resumed and completed; "
        f"{patients['lines']} patients and {answers['lines']} responses, each once"
    )


def test_an_unreachable_database_is_a_friendly_503(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """PostgreSQL gone (nothing listens on the port): every page answers 503 with
    Retry-After and a plain message; the app server itself stays up."""
    with gunicorn("postgres://postgres@127.0.0.1:9/gone", workers=2) as server:
        for path in ("/", "/accounts/login/", "/patients/", "/blog/"):
            answer = requests.get(server.base + path, timeout=30, allow_redirects=False)
            assert answer.status_code == 503, (path, answer.status_code)
            assert answer.headers["Retry-After"] == "30"
            assert "cannot reach its database" in answer.text
        assert requests.get(server.base + "/healthz", timeout=10).status_code == 200
    record_property("security: faults injected (database unreachable)", 1)


def test_postgresql_gone_for_a_while_loses_nothing(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """The connection to PostgreSQL is cut while patients have their PHQ-9 open
    (every connection dropped, new ones refused) and restored. Sends during the
    outage get the friendly 503 and store nothing; the same sends after it are
    stored once; sends before it are all there; the app servers never restart."""
    with scratch_database("postgresql", tmp_path) as database_url:
        world = json.loads(
            run_python(database_url, "tests.slow.load_world", "--links", "60")
        )
        address = urlsplit(database_url)
        proxy = CuttableProxy(address.hostname or "127.0.0.1", address.port or 5432)
        login = address.netloc.rpartition("@")[0]
        proxied = address._replace(netloc=f"{login}@127.0.0.1:{proxy.port}").geturl()
        paths: list[str] = world["links"]
        before, during = paths[:20], paths[20:40]
        with gunicorn(proxied, workers=2) as server:
            assert [_submit(server.base, p) for p in before] == ["saved"] * 20
            opened = [_open_form(server.base, p) for p in during]
            proxy.cut()
            refused = [_send_form(server.base, form) for form in opened]
            healthy = requests.get(server.base + "/healthz", timeout=10).status_code
            proxy.restore()
            resent = [_send_form(server.base, form) for form in opened]
            pid = server.process.pid
            assert server.process.poll() is None  # the app server stayed up
        (tmp_path / "paths.json").write_text(json.dumps(paths[:40]))
        state = _script(database_url, "links", str(tmp_path / "paths.json"))["links"]
        verified = run_manage(database_url, "audit_verify")
    assert all(
        code == 503 and "cannot reach its database" in text for code, text in refused
    ), refused[:2]
    assert healthy == 200 and pid
    assert all(code == 200 and "Thank you" in text for code, text in resent), [
        (code, text[:300]) for code, text in resent if code != 200
    ][:2]
    stored = {"used": True, "responses": 1, "complete": True}
    lost = [p for p in paths[:40] if state[p] != stored]
    record_property("security: faults injected (PostgreSQL connection cut)", 1)
    record_property("security: rows lost after the database outage", len(lost))
    assert lost == [] and "Audit log intact" in verified
    print(  # noqa: T201 - the figures, in the log
        "PostgreSQL cut and restored: 20 sends before stored; 20 sends during it "
        "answered 503 and stored nothing; the same 20 sent again afterwards stored "
        "once each; audit chain intact"
    )


def _open_form(base: str, path: str) -> tuple[requests.Session, str, str]:
    browser = requests.Session()
    page = browser.get(base + path, timeout=10)
    token = CSRF.search(page.text)
    assert token is not None, page.status_code
    return browser, path, token.group(1)


def _send_form(base: str, form: tuple[requests.Session, str, str]) -> tuple[int, str]:
    browser, path, token = form
    sent = browser.post(base + path, {**PHQ9, "csrfmiddlewaretoken": token}, timeout=30)
    return sent.status_code, sent.text


def test_two_task_workers_never_run_a_job_twice(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """django-tasks' database backend on PostgreSQL claims each job with SELECT ...
    FOR UPDATE SKIP LOCKED: 300 jobs, two workers, each job once."""
    with scratch_database("postgresql", tmp_path) as database_url:
        ran = tmp_path / "ran.txt"
        _script(database_url, "enqueue_runs", "300", str(ran))
        with (
            task_worker(database_url, "--batch") as first,
            task_worker(database_url, "--batch") as second,
        ):
            first.process.wait(timeout=300)
            second.process.wait(timeout=300)
    lines = ran.read_text().split()
    numbers = [int(n) for n in lines[0::2]]
    workers = set(lines[1::2])
    assert sorted(numbers) == list(range(300))  # every job, once
    assert len(workers) == 2  # both workers took jobs
    record_property("security: jobs run by two workers (each once)", len(numbers))
