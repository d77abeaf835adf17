"""manage.py backup and restore: a round trip on the configured database (SQLite or
PostgreSQL) compares every table's row count and checksum with the manifest, and
the audit chain verifies after the restore."""

import json
import subprocess
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import Action, Context, PendingEvent, record_events
from kapcare.backups.services import (
    BackupError,
    make_backup,
    read_manifest,
    restore_backup,
    verify_restore,
)
from kapcare.measures.models import QuestionnaireResponse
from kapcare.patients.models import Patient
from tests.factories import PatientFactory
from tests.outcomes.conftest import build_hand_built

pytestmark = pytest.mark.django_db(transaction=True)


def _audit(who: User, patient: Patient, summary: str) -> None:
    record_events(
        [PendingEvent(action=Action.VIEW, patient_id=str(patient.pk), summary=summary)],
        context=Context.from_request(None, actor=who),
    )


def test_a_round_trip_restores_every_row_and_the_audit_chain(
    physician: User, nurse: User, tmp_path: Path
) -> None:
    cohort = build_hand_built(physician, nurse)
    a = cohort.people["a"]
    for n in range(5):
        _audit(physician, a, f"Viewed the chart ({n})")
    result = make_backup(tmp_path)
    manifest = json.loads(result.manifest.read_text())
    assert result.path.exists() and not list(tmp_path.glob("*.partial"))
    tables = manifest["tables"]
    assert result.tables == len(tables) > 60
    assert (
        tables[QuestionnaireResponse._meta.db_table]["rows"] == 21
    )  # the hand-built cohort's scores
    assert tables[AuditEvent._meta.db_table]["rows"] == 5
    assert manifest["audit_head"]["seq"] == 5

    # the clinic carries on after the backup: a new chart, a changed name, more audit
    late = PatientFactory.create(legal_family_name="Afterwards")
    Patient.objects.filter(pk=a.pk).update(legal_family_name="Changed")
    QuestionnaireResponse.objects.filter(patient=a).delete()
    _audit(physician, late, "Viewed the new chart")

    restored = restore_backup(result.path)

    assert restored.tables == result.tables and restored.rows == result.rows
    assert restored.audit_events == 5
    assert not Patient.objects.filter(pk=late.pk).exists()
    assert Patient.objects.get(pk=a.pk).legal_family_name == a.legal_family_name
    assert QuestionnaireResponse.objects.filter(patient=a).count() == 5
    # and the clinic can carry on writing after a restore: the chain extends
    _audit(physician, a, "Viewed after the restore")
    assert AuditEvent.objects.count() == 6
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "6 events verified" in out.getvalue()


def test_the_check_after_a_restore_can_fail(
    physician: User, nurse: User, tmp_path: Path
) -> None:
    """The manifest check is real: one changed cell in one table is named."""
    cohort = build_hand_built(physician, nurse)
    result = make_backup(tmp_path)
    manifest = read_manifest(result.path)
    verify_restore(manifest)  # the live database still equals its backup
    Patient.objects.filter(pk=cohort.people["b"].pk).update(legal_given_name="Other")
    with pytest.raises(BackupError, match=Patient._meta.db_table):
        verify_restore(manifest)


def test_a_damaged_backup_is_refused_before_anything_changes(
    physician: User, tmp_path: Path
) -> None:
    PatientFactory.create()
    result = make_backup(tmp_path)
    with result.path.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\xff\x00\xff")
    PatientFactory.create()
    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command("restore", str(result.path), "--yes")
    assert Patient.objects.count() == 2


def test_restore_asks_for_confirmation_and_backup_reports_what_it_wrote(
    physician: User, tmp_path: Path
) -> None:
    PatientFactory.create()
    out = StringIO()
    call_command("backup", "--to", str(tmp_path), stdout=out)
    [path] = [p for p in tmp_path.iterdir() if not p.name.endswith(".json")]
    assert f"Backup written: {path}" in out.getvalue()
    PatientFactory.create()
    with pytest.raises(CommandError, match="run again with --yes"):
        call_command("restore", str(path))
    assert Patient.objects.count() == 2
    out = StringIO()
    call_command("restore", str(path), "--yes", stdout=out)
    assert "match the manifest; audit chain intact" in out.getvalue()
    assert Patient.objects.count() == 1
    with pytest.raises(CommandError, match="No manifest"):
        call_command("restore", str(tmp_path / "missing.sqlite3"), "--yes")


def test_a_backup_of_the_other_database_kind_is_refused(
    physician: User, tmp_path: Path
) -> None:
    result = make_backup(tmp_path)
    body = json.loads(result.manifest.read_text())
    body["vendor"] = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    result.manifest.write_text(json.dumps(body))
    with pytest.raises(BackupError, match="backup; the database is"):
        read_manifest(result.path)


def test_a_backup_is_readable_by_the_apps_user_only(tmp_path: Path) -> None:
    result = make_backup(tmp_path / "backups")
    assert (tmp_path / "backups").stat().st_mode & 0o777 == 0o700
    assert result.path.stat().st_mode & 0o777 == 0o600
    assert result.manifest.stat().st_mode & 0o777 == 0o600


def test_a_table_added_after_the_backup_is_gone_after_the_restore(
    tmp_path: Path,
) -> None:
    """As after an upgrade that is rolled back: the restore gives the backup's
    schema, not the backup's rows in today's schema."""
    PatientFactory.create()
    result = make_backup(tmp_path)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kapcare_added_later (x integer)")
    restore_backup(result.path)
    with connection.cursor() as cursor:
        assert "kapcare_added_later" not in connection.introspection.table_names(cursor)


def _second_connection() -> Any:
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
        port=settings["PORT"], password=settings["PASSWORD"], autocommit=True,
    )  # fmt: skip


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_a_write_during_the_dump_is_in_neither_the_dump_nor_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pg_dump shares the snapshot the manifest is read from: a row committed by
    another session just before pg_dump starts is in neither, so the restore
    verifies (without --snapshot the dump would hold one patient more)."""
    PatientFactory.create()
    real_popen = subprocess.Popen

    def popen_after_a_write(*args: Any, **kwargs: Any) -> Any:
        with _second_connection() as other:
            other.execute(
                "UPDATE patients_patient SET legal_family_name = 'Written during' "
                "WHERE id = (SELECT id FROM patients_patient LIMIT 1)"
            )
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen_after_a_write)
    result = make_backup(tmp_path)
    monkeypatch.undo()
    restore_backup(result.path)  # verifies every table against the manifest
    assert not Patient.objects.filter(legal_family_name="Written during").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_a_restore_is_refused_while_the_app_is_connected(tmp_path: Path) -> None:
    PatientFactory.create()
    result = make_backup(tmp_path)
    PatientFactory.create()
    with _second_connection(), pytest.raises(BackupError, match="other connection"):
        restore_backup(result.path)
    assert Patient.objects.count() == 2
