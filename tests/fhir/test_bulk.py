"""Bulk Data $export end to end: kick-off, polling, manifest, NDJSON files that
parse line by line, filters, groups, cancellation, and a re-run after a crash."""

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.fhir import bulk
from kapcare.fhir.models import BulkExport, BulkExportFile
from kapcare.patients.models import Patient
from tests.fhir.test_api import MODELS, api, owner_of, records, token_for

pytestmark = pytest.mark.django_db
__all__ = ["records"]
ASYNC = {"Prefer": "respond-async"}


def start(token: str, path: str = "/fhir/$export", **params: str) -> str:
    response = api(token).get(path, params, headers=ASYNC)
    assert response.status_code == 202, response.content
    return str(response["Content-Location"]).removeprefix("http://127.0.0.1:8000")


def finish(token: str, status_url: str) -> dict[str, Any]:
    waiting = api(token).get(status_url)
    assert waiting.status_code == 202 and waiting["Retry-After"] == "5"
    export_id = status_url.rsplit("/", 1)[1]
    assert bulk.run_export(export_id) == "done"
    done = api(token).get(status_url)
    assert done.status_code == 200
    return dict(done.json())


def download(token: str, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        response = api(token).get(output["url"].removeprefix("http://127.0.0.1:8000"))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+ndjson"
        lines = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
        assert len(lines) == output["count"]
        for line in lines:
            resource = json.loads(line)
            MODELS[output["type"]].model_validate(resource)
            assert resource["resourceType"] == output["type"]
            found.setdefault(output["type"], []).append(resource)
    return found


def test_a_system_export_end_to_end(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient, patient_b: Patient
) -> None:
    _, token = token_for(clinic_admin)
    manifest = finish(token, start(token))
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/$export")
    found = download(token, manifest)
    assert set(found) == set(MODELS)
    assert {p["id"] for p in found["Patient"]} == {str(patient_a.pk), str(patient_b.pk)}
    for kind, resources in found.items():
        if kind in ("Patient", "Practitioner", "Questionnaire"):
            continue
        assert {owner_of(kind, r) for r in resources} == {
            str(patient_a.pk),
            str(patient_b.pk),
        }
    assert (
        AuditEvent.objects.filter(object_type="fhir_export", patient=patient_a).count()
        == 1
    )


def test_filters_groups_and_refusals(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient, patient_b: Patient
) -> None:
    _, token = token_for(clinic_admin)
    only = download(token, finish(token, start(token, _type="Patient,Observation")))
    assert set(only) == {"Patient", "Observation"}
    since = download(
        token,
        finish(
            token, start(token, _type="Observation", _since=timezone.now().isoformat())
        ),
    )
    assert since == {}  # nothing changed since
    Patient.objects.filter(pk=patient_a.pk).update(status=Patient.Status.ACTIVE)
    Patient.objects.filter(pk=patient_b.pk).update(status=Patient.Status.PROSPECT)
    group = download(token, finish(token, start(token, "/fhir/Group/active/$export")))
    assert [p["id"] for p in group["Patient"]] == [str(patient_a.pk)]
    assert {owner_of("Observation", o) for o in group["Observation"]} == {
        str(patient_a.pk)
    }
    assert "Practitioner" not in group
    client = api(token)
    assert client.get("/fhir/$export").status_code == 400  # no Prefer: respond-async
    assert (
        client.get("/fhir/$export", {"_type": "Spaceship"}, headers=ASYNC).status_code
        == 400
    )
    assert (
        client.get("/fhir/$export", {"_since": "soon"}, headers=ASYNC).status_code
        == 400
    )
    assert (
        client.get("/fhir/$export", {"_outputFormat": "csv"}, headers=ASYNC).status_code
        == 400
    )
    assert (
        client.get("/fhir/$export", {"colour": "x"}, headers=ASYNC).status_code == 400
    )
    assert client.get("/fhir/Group/nobody/$export", headers=ASYNC).status_code == 404
    _, own = token_for(clinic_admin, patient=patient_a)
    assert api(own).get("/fhir/$export", headers=ASYNC).status_code == 403


def test_another_client_cannot_see_an_export(
    clinic_admin: User, records: dict[str, Any]
) -> None:
    _, token = token_for(clinic_admin)
    status_url = start(token)
    bulk.run_export(status_url.rsplit("/", 1)[1])
    _, other = token_for(clinic_admin)
    assert api(other).get(status_url).status_code == 404
    file = BulkExportFile.objects.first()
    assert file is not None
    assert api(other).get(f"{status_url}/{file.pk}.ndjson").status_code == 404


def test_cancelling_deletes_the_files(
    clinic_admin: User, records: dict[str, Any]
) -> None:
    _, token = token_for(clinic_admin)
    status_url = start(token)
    bulk.run_export(status_url.rsplit("/", 1)[1])
    names = list(BulkExportFile.objects.values_list("name", flat=True))
    assert names and all(bulk.storage().exists(n) for n in names)
    assert api(token).delete(status_url).status_code == 202
    assert not any(bulk.storage().exists(n) for n in names)
    assert api(token).get(status_url).status_code == 404


def test_a_rerun_after_a_killed_worker_starts_over(
    clinic_admin: User, records: dict[str, Any]
) -> None:
    _, token = token_for(clinic_admin)
    status_url = start(token)
    export = BulkExport.objects.get()
    half = bulk.storage().save("exports/half.ndjson", ContentFile(b'{"resourceType":'))
    BulkExportFile.objects.create(
        export=export, resource_type="Patient", part=1, name=half, count=1
    )
    BulkExport.objects.filter(pk=export.pk).update(
        status=BulkExport.Status.RUNNING, run_id=uuid.uuid4(),
        heartbeat_at=timezone.now() - timedelta(minutes=11),
    )  # fmt: skip
    assert bulk.run_export(str(export.pk)) == "done"
    assert not bulk.storage().exists(half)
    found = download(token, api(token).get(status_url).json())
    assert len(found["Patient"]) == 2
    assert bulk.run_export(str(export.pk)) == "done"  # a finished export is left alone


@pytest.mark.django_db(transaction=True)
def test_the_export_runs_in_the_task_worker(
    clinic_admin: User, patient_a: Patient
) -> None:
    from django.core.management import call_command

    from tests.fhir.test_api import add_phq9

    add_phq9(patient_a, 2, timezone.now() - timedelta(days=3))
    _, token = token_for(clinic_admin)
    status_url = start(token, "/fhir/Patient/$export")
    assert api(token).get(status_url).status_code == 202
    call_command("clinic_worker", "--batch", "--interval", "0")
    found = download(token, api(token).get(status_url).json())
    assert len(found["Patient"]) == 1 and len(found["QuestionnaireResponse"]) == 2
    assert "Practitioner" not in found  # a Patient-level export


def test_every_resource_of_the_demo_clinic_validates(db: None) -> None:
    """The synthetic demo clinic (as `make run` seeds it), exported in full: every
    line of every file is a valid FHIR R4 resource of its type."""
    from kapcare.measures.demo import seed_demo_measures
    from kapcare.patients.demo import seed_demo
    from kapcare.scheduling.demo import seed_demo_schedule
    from kapcare.treatment.demo import seed_demo_treatment

    seed_demo(patients=3)
    seed_demo_measures()
    seed_demo_treatment()
    seed_demo_schedule()
    admin = User.objects.get(email="admin@demo.kapcare.test")
    _, token = token_for(admin)
    found = download(token, finish(token, start(token)))
    assert set(found) >= {
        "Patient", "Practitioner", "Questionnaire", "QuestionnaireResponse",
        "Observation", "Encounter", "MedicationAdministration", "Appointment",
    }  # fmt: skip
    assert sum(len(v) for v in found.values()) > 100


def test_a_second_worker_leaves_a_live_run_alone(
    clinic_admin: User, records: dict[str, Any]
) -> None:
    _, token = token_for(clinic_admin)
    start(token)
    export = BulkExport.objects.get()
    alive = uuid.uuid4()
    BulkExport.objects.filter(pk=export.pk).update(
        status=BulkExport.Status.RUNNING, run_id=alive, heartbeat_at=timezone.now()
    )
    kept = bulk.storage().save(
        f"exports/{export.pk}/Patient-1-x.ndjson", ContentFile(b"{}\n")
    )
    assert bulk.run_export(str(export.pk)) == "running"
    assert bulk.storage().exists(kept)
    assert BulkExport.objects.get().run_id == alive


def test_cancelling_or_revoking_stops_a_running_export(
    clinic_admin: User, records: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kapcare.fhir.auth import revoke_client
    from tests.treatment.conftest import request_by

    client, token = token_for(clinic_admin)
    status_url = start(token)
    export = BulkExport.objects.get()
    real_beat = bulk._beat
    beats = []

    def cancel_on_second_beat(*args: Any) -> None:
        beats.append(1)
        if len(beats) == 2:
            bulk.cancel(BulkExport.objects.get(pk=export.pk))
        real_beat(*args)

    monkeypatch.setattr(bulk, "_beat", cancel_on_second_beat)
    assert bulk.run_export(str(export.pk)) == "cancelled"
    assert not BulkExportFile.objects.exists()
    assert bulk.storage().listdir(f"exports/{export.pk}")[1] == []
    assert api(token).get(status_url).status_code == 404
    monkeypatch.setattr(bulk, "_beat", real_beat)
    second = start(token)
    revoke_client(request=request_by(clinic_admin), client=client)
    assert bulk.run_export(second.rsplit("/", 1)[1]) == "queued"  # never claimed
    assert not BulkExportFile.objects.exists()


def test_odd_export_input_is_refused_cleanly(
    clinic_admin: User, records: dict[str, Any]
) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)
    for since in (
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2026-01-01",
    ):
        assert (
            client.get("/fhir/$export", {"_since": since}, headers=ASYNC).status_code
            == 400
        )
    twice = finish(token, start(token, _type="Patient,Patient"))
    assert [o["type"] for o in twice["output"]] == ["Patient"]
    status_url = start(token)
    bulk.run_export(status_url.rsplit("/", 1)[1])
    assert client.get(f"{status_url}/%C2%B2.ndjson").status_code == 404


def test_finished_exports_expire(clinic_admin: User, records: dict[str, Any]) -> None:
    _, token = token_for(clinic_admin)
    status_url = start(token)
    bulk.run_export(status_url.rsplit("/", 1)[1])
    names = list(BulkExportFile.objects.values_list("name", flat=True))
    assert bulk.expire_exports() == 0
    assert bulk.expire_exports(now=timezone.now() + timedelta(hours=25)) == 1
    assert not any(bulk.storage().exists(n) for n in names)
