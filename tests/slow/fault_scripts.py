"""Steps the fault tests run inside the scratch database, each in its own process
(as a real deployment would), printing JSON:

    DATABASE_URL=... python -m tests.slow.fault_scripts COMMAND [ARGS]

- links PATHS_JSON: for the questionnaire links given, each link's state and its
  responses (no half record: a used link has exactly one complete response, an
  unused one none).
- kick_off_export: a system client and a bulk export of every patient; its id.
- kill_mid_export ID PGID SECONDS: kill -9 the worker once it is part-way through.
- export_state ID: the export's status.
- check_export ID: per resource type, lines written and distinct ids (no duplicate
  from a killed run), and how many patients the database holds.
- enqueue_runs N FILE: N tasks that each append their number to FILE.
- dosing_world N: N open dosing sessions (demo patients, IV courses) and a nurse's
  signed-in session cookie; their note step paths.
- session_notes MARKERS_JSON: for each note text given, how many notes carry it
  and how many audit events record those notes (a whole note has one of each).
"""

import json
import os
import sys
from typing import Any

import django


def _links(paths: list[str]) -> dict[str, Any]:
    from kapcare.lib.tokens import token_hash
    from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse

    by_hash = {token_hash(p.rstrip("/").rsplit("/", 1)[1]): p for p in paths}
    links = QuestionnaireLink.objects.filter(token_hash__in=by_hash)
    responses: dict[str, list[dict[str, Any]]] = {}
    for row in QuestionnaireResponse.objects.filter(
        source=QuestionnaireResponse.Source.PATIENT_LINK
    ).values("submission_key", "total", "answers", "is_complete"):
        responses.setdefault(str(row["submission_key"]), []).append(dict(row))
    state = {}
    for link in links:
        found = responses.get(f"link-{link.pk}", [])
        state[by_hash[link.token_hash]] = {
            "used": link.used_at is not None,
            "responses": len(found),
            # scored, with the answers sent (items 1-9; item 10 is optional)
            "complete": all(
                r["total"] is not None and len(r["answers"]) >= 9 for r in found
            ),
        }
    return {"links": state, "responses": sum(len(v) for v in responses.values())}


def system_client(name: str) -> tuple[Any, str]:
    """A FHIR system client registered by the demo clinic admin, and its token."""
    from django.test import RequestFactory

    from kapcare.accounts.models import User
    from kapcare.fhir.auth import register_client
    from kapcare.patients.demo import DEMO_DOMAIN

    admin = User.objects.get(email=f"admin@{DEMO_DOMAIN}")
    request = RequestFactory().get("/")
    request.user = admin
    return register_client(
        request=request, name=name, kind="system", patient=None,
        may_submit_responses=False, by=admin,
    )  # fmt: skip


def _kick_off_export() -> dict[str, Any]:
    from django.db import transaction

    from kapcare.fhir import bulk
    from kapcare.fhir.auth import Grant

    client, _ = system_client("Registry")
    with transaction.atomic():
        export = bulk.kick_off(
            grant=Grant(client, frozenset(client.scopes), None), level="system",
            group="", types=["Patient", "QuestionnaireResponse"], since=None,
            output_format=None, request_url="/fhir/$export",
        )  # fmt: skip
    return {"export": str(export.pk)}


def _export_state(export_id: str) -> dict[str, Any]:
    from kapcare.fhir.models import BulkExport

    export = BulkExport.objects.get(pk=export_id)
    return {"status": export.status, "progress": export.progress}


def _kill_mid_export(export_id: str, group: int, seconds: float) -> dict[str, Any]:
    """Poll (in this one process) until the worker has written part of the export's
    first type but not all of it, then kill -9 the worker's process group at once."""
    import signal
    import time

    from kapcare.fhir.models import BulkExport

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        export = BulkExport.objects.get(pk=export_id)
        if export.status != BulkExport.Status.RUNNING and export.status != "queued":
            break  # finished or failed before it could be killed
        if export.progress.startswith("Patient:") and not export.progress.startswith(
            "Patient: 0 "
        ):
            os.killpg(group, signal.SIGKILL)
            return {"killed": True, **_export_state(export_id)}
        time.sleep(0.005)
    return {"killed": False, **_export_state(export_id)}


def _check_export(export_id: str) -> dict[str, Any]:
    from kapcare.fhir import bulk
    from kapcare.fhir.models import BulkExport
    from kapcare.measures.models import QuestionnaireResponse
    from kapcare.patients.models import Patient

    export = BulkExport.objects.get(pk=export_id)
    store = bulk.storage()
    types: dict[str, dict[str, int]] = {}
    ids: dict[str, set[str]] = {}
    for part in export.files.all():
        with store.open(part.name) as handle:
            lines = [
                json.loads(line) for line in handle.read().decode().splitlines() if line
            ]
        seen = types.setdefault(part.resource_type, {"lines": 0, "recorded": 0})
        seen["lines"] += len(lines)
        seen["recorded"] += part.count
        ids.setdefault(part.resource_type, set()).update(line["id"] for line in lines)
    for resource_type, found in ids.items():
        types[resource_type]["distinct_ids"] = len(found)
    return {
        "status": export.status,
        "types": types,
        "patients": Patient.objects.count(),
        "responses": QuestionnaireResponse.objects.count(),
    }


def signed_in_cookie(email: str) -> str:
    """A session for `email`, signed in with its two-step check passed."""
    from django.conf import settings
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kapcare.accounts.models import User

    user = User.objects.get(email=email)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(
        user=user, confirmed=True
    ).persistent_id
    session.save()
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def _dosing_world(count: int) -> dict[str, Any]:
    from decimal import Decimal

    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone

    from kapcare.accounts.models import User
    from kapcare.patients.demo import DEMO_DOMAIN, seed_demo
    from kapcare.patients.models import Patient
    from kapcare.treatment import services
    from kapcare.treatment.models import Protocol

    seed_demo(patients=count)
    physician = User.objects.get(email=f"physician@{DEMO_DOMAIN}")
    nurse = User.objects.get(email=f"nurse@{DEMO_DOMAIN}")
    protocol = Protocol.objects.filter(route="iv").order_by("name")[0]
    paths = []
    for patient in Patient.objects.order_by("mrn")[:count]:
        course = services.create_course(
            request=None, patient=patient, protocol=protocol, indication="depression",
            phase="induction", prescribed_dose=Decimal("0.5"), planned_sessions=6,
            starts_on=timezone.localdate(), notes="", by=physician,
        )  # fmt: skip
        session = services.start_session(request=None, course=course, by=nurse)
        paths.append(
            reverse("treatment:session_step", args=[patient.pk, session.pk, "note"])
        )
    return {
        "paths": paths, "session_cookie": settings.SESSION_COOKIE_NAME,
        "cookie": signed_in_cookie(f"nurse@{DEMO_DOMAIN}"),
    }  # fmt: skip


def _session_notes(markers: list[str]) -> dict[str, Any]:
    from django.db.models import Count

    from kapcare.audit.models import AuditEvent
    from kapcare.treatment.models import SessionNote

    notes = list(SessionNote.objects.filter(text__in=markers).values("pk", "text"))
    audited = dict(
        AuditEvent.objects.filter(
            object_type="session_note", object_id__in=[str(n["pk"]) for n in notes]
        )
        .values_list("object_id")
        .annotate(n=Count("seq"))
    )
    found: dict[str, dict[str, int]] = {m: {"notes": 0, "audited": 0} for m in markers}
    for note in notes:
        found[note["text"]]["notes"] += 1
        found[note["text"]]["audited"] += audited.get(str(note["pk"]), 0)
    orphans = SessionNote.objects.count() - len(notes)
    return {"markers": found, "other_notes": orphans}


def _enqueue_runs(count: int, target: str) -> dict[str, Any]:
    from tests.slow.tasks import record_run

    for number in range(count):
        record_run.enqueue(number, target)
    return {"queued": count}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")
    django.setup()
    command, *args = argv
    if command == "links":
        result = _links(json.loads(open(args[0]).read()))  # noqa: PTH123, SIM115
    elif command == "kick_off_export":
        result = _kick_off_export()
    elif command == "kill_mid_export":
        result = _kill_mid_export(args[0], int(args[1]), float(args[2]))
    elif command == "export_state":
        result = _export_state(args[0])
    elif command == "check_export":
        result = _check_export(args[0])
    elif command == "dosing_world":
        result = _dosing_world(int(args[0]))
    elif command == "session_notes":
        result = _session_notes(json.loads(open(args[0]).read()))  # noqa: PTH123, SIM115
    elif command == "enqueue_runs":
        result = _enqueue_runs(int(args[0]), args[1])
    else:
        raise SystemExit(f"unknown command {command}")
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
