from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory, override_settings

from kapcare.audit import services
from kapcare.audit.chain import GENESIS_HASH, event_hash
from kapcare.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from kapcare.audit.services import Action, record_event, verify_audit_chain

pytestmark = pytest.mark.django_db


def _write(n: int) -> list[AuditEvent]:
    return [
        record_event(
            request=None,
            action=Action.VIEW,
            object_type="patient",
            summary=f"event {i}",
        )
        for i in range(n)
    ]


def _drop_update_trigger() -> None:
    """Play an attacker with direct database access, who can drop our triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent"
            )
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")


def test_events_are_chained_from_genesis() -> None:
    first, second = _write(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (2, second.hash)


def test_a_clean_chain_verifies() -> None:
    _write(5)
    assert verify_audit_chain() == (5, None)


def test_it_reports_an_edited_event() -> None:
    _write(5)
    _drop_update_trigger()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET summary = 'nothing to see' WHERE seq = 3"
        )
    _checked, broken = verify_audit_chain()
    assert broken is not None
    assert broken.seq == 3
    assert "changed" in broken.reason


def test_it_reports_a_deleted_event() -> None:
    _write(5)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_change"
            )
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    _, broken = verify_audit_chain()
    assert broken is not None
    assert broken.seq == 2
    assert "missing" in broken.reason


def test_it_reports_the_newest_events_deleted() -> None:
    _write(4)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_change"
            )
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 3")
    _, broken = verify_audit_chain()
    assert broken is not None
    assert broken.seq == 3


def test_audit_verify_command_exits_non_zero_on_tampering(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _write(3)
    call_command("audit_verify")
    assert "3 events verified" in capsys.readouterr().out
    _drop_update_trigger()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = 'someone@else' WHERE seq = 1"
        )
    with pytest.raises(CommandError, match="event #1"):
        call_command("audit_verify")


def test_the_orm_refuses_to_update_or_delete_events() -> None:
    (event,) = _write(1)
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_the_database_refuses_a_raw_update() -> None:
    _write(1)
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET summary = 'x'")
    assert AuditEvent.objects.get(seq=1).summary == "event 0"


def test_an_event_in_a_rolled_back_transaction_leaves_no_gap() -> None:
    _write(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        _write(1)
        raise RuntimeError("crash mid-write")
    _write(1)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [
        1,
        2,
    ]
    assert verify_audit_chain() == (2, None)


def test_the_hash_covers_every_chained_field() -> None:
    fields = {
        "seq": 1, "occurred_at": "2026-01-01T00:00:00+00:00", "actor_id": None, "actor_label": "",
        "actor_role": "", "patient_id": None, "action": "view", "information": "",
        "object_type": "", "object_id": "", "summary": "", "detail": {}, "ip_address": None,
        "user_agent": "", "request_id": "",
    }  # fmt: skip
    base = event_hash(fields, GENESIS_HASH, "k")
    for name in fields:
        changed = {**fields, name: "tampered"}
        assert event_hash(changed, GENESIS_HASH, "k") != base, name


def test_the_hash_depends_on_the_key() -> None:
    _write(1)
    with override_settings(AUDIT_CHAIN_KEY="another key"):
        _, broken = verify_audit_chain()
    assert broken is not None
    assert broken.seq == 1


@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [
        ("", None),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("not an ip", None),
        ("10.0.0.7", "10.0.0.7"),
    ],
)
def test_odd_client_addresses_still_verify(
    remote_addr: str, stored: str | None
) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    request.user = AnonymousUser()
    event = record_event(request=request, action=Action.VIEW, summary="x")
    assert AuditEvent.objects.get(pk=event.pk).ip_address == stored
    assert verify_audit_chain() == (1, None)


def test_nul_characters_are_kept_out_of_the_database() -> None:
    request = RequestFactory().get("/", HTTP_USER_AGENT="evil\x00agent")
    request.user = AnonymousUser()
    record_event(
        request=request,
        action=Action.LOGIN_FAILED,
        summary="a\x00b",
        detail={"email": "x\x00@y"},
    )
    event = AuditEvent.objects.get()
    assert "\x00" not in event.user_agent + event.summary + event.detail["email"]
    assert verify_audit_chain() == (1, None)


def test_events_written_while_verifying_are_not_tampering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _write(3)
    real = services._stored_events

    def writes_meanwhile(**kwargs: int) -> Iterator[tuple[dict[str, object], str, str]]:
        yield from real(**kwargs)
        _write(1)

    monkeypatch.setattr(services, "_stored_events", writes_meanwhile)
    assert verify_audit_chain() == (3, None)


def test_an_event_inserted_past_the_head_is_reported() -> None:
    _write(1)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (seq, occurred_at, actor_label, actor_role, action,"
            " information, object_type, object_id, summary, detail, user_agent, request_id,"
            " prev_hash, hash) SELECT 2, occurred_at, actor_label, actor_role, action,"
            " information, object_type, object_id, summary, detail, user_agent, request_id,"
            " hash, hash FROM audit_auditevent WHERE seq = 1"
        )
    _, broken = verify_audit_chain()
    assert broken is not None
    assert broken.seq == 2
    assert "outside" in broken.reason


def test_the_head_cannot_be_rewound_to_hide_deletions() -> None:
    _write(3)
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditchainhead SET seq = 1")
    assert AuditChainHead.objects.get(pk=1).seq == 3
