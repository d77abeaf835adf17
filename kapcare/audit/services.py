"""Writing and checking the audit log. The only code that inserts AuditEvent rows."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.audit.chain import ChainBreak, event_hash, find_first_break
from kapcare.audit.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from kapcare.accounts.models import User
    from kapcare.patients.models import Patient

Action = AuditEvent.Action
Information = AuditEvent.Information


@dataclass(frozen=True)
class PendingEvent:
    """One event to write; actor and request context come from record_event()'s caller."""

    action: str
    patient_id: str | None = None
    information: str = ""
    object_type: str = ""
    object_id: str = ""
    summary: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    actor_id: str | None
    actor_label: str
    actor_role: str
    ip_address: str | None
    user_agent: str
    request_id: str

    @classmethod
    def from_request(
        cls, request: HttpRequest | None, actor: "User | None" = None
    ) -> "Context":
        user = actor
        if user is None and request is not None and request.user.is_authenticated:
            user = request.user
        return cls(
            actor_id=str(user.pk) if user is not None else None,
            actor_label=user.email if user is not None else "",
            actor_role=user.role_label if user is not None else "",
            ip_address=request.META.get("REMOTE_ADDR") if request is not None else None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300]
            if request is not None
            else "",
            request_id=getattr(request, "request_id", "")
            if request is not None
            else "",
        )

    @classmethod
    def system(cls, label: str) -> "Context":
        return cls(None, label, "system", None, "", "")


def record_event(
    *,
    request: HttpRequest | None,
    action: str,
    patient: "Patient | None" = None,
    information: str = "",
    object_type: str = "",
    object_id: object = "",
    summary: str = "",
    detail: dict[str, Any] | None = None,
    actor: "User | None" = None,
) -> AuditEvent:
    """Append one event. Inside a service's transaction it commits or rolls back with it."""
    pending = PendingEvent(
        action=action,
        patient_id=str(patient.pk) if patient is not None else None,
        information=information,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        detail=detail or {},
    )
    return record_events([pending], context=Context.from_request(request, actor))[0]


def record_events(
    pending: Sequence[PendingEvent], *, context: Context, at: datetime | None = None
) -> list[AuditEvent]:
    """Append events in one transaction, chained after the current head."""
    occurred_at = (at or timezone.now()).astimezone(UTC)
    with transaction.atomic():
        # The head row is the chain's lock: two writers must not both extend the same
        # hash, so PostgreSQL takes a row lock here; SQLite's IMMEDIATE transaction
        # already holds the database write lock.
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        seq, prev_hash = head.seq, head.hash
        events = []
        for item in pending:
            seq += 1
            fields: dict[str, Any] = {
                "seq": seq,
                "occurred_at": occurred_at.isoformat(),
                "actor_id": context.actor_id,
                "actor_label": context.actor_label,
                "actor_role": context.actor_role,
                "patient_id": item.patient_id,
                "action": item.action,
                "information": item.information,
                "object_type": item.object_type,
                "object_id": item.object_id,
                "summary": item.summary,
                "detail": item.detail,
                "ip_address": context.ip_address,
                "user_agent": context.user_agent,
                "request_id": context.request_id,
            }
            digest = event_hash(fields, prev_hash)
            events.append(
                AuditEvent(
                    **{**fields, "occurred_at": occurred_at},
                    prev_hash=prev_hash,
                    hash=digest,
                )
            )
            prev_hash = digest
        AuditEvent.objects.bulk_create(events, batch_size=500)
        head.seq, head.hash = seq, prev_hash
        head.save(update_fields=["seq", "hash"])
    return events


def _stored_events(batch_size: int = 2000) -> Iterator[tuple[dict[str, Any], str, str]]:
    rows = AuditEvent.objects.order_by("seq").values(
        "seq", "occurred_at", "actor_id", "actor_label", "actor_role", "patient_id",
        "action", "information", "object_type", "object_id", "summary", "detail",
        "ip_address", "user_agent", "request_id", "prev_hash", "hash",
    )  # fmt: skip
    for row in rows.iterator(chunk_size=batch_size):
        fields: dict[str, Any] = dict(row)
        prev_hash, stored_hash = fields.pop("prev_hash"), fields.pop("hash")
        fields["occurred_at"] = fields["occurred_at"].astimezone(UTC).isoformat()
        for key in ("actor_id", "patient_id"):
            fields[key] = str(fields[key]) if fields[key] is not None else None
        yield fields, prev_hash, stored_hash


def verify_audit_chain() -> tuple[int, ChainBreak | None]:
    """Return the number of events checked and the first broken link, if any."""
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "0" * 64)
    counted = 0

    def counting() -> Iterator[tuple[dict[str, Any], str, str]]:
        nonlocal counted
        for item in _stored_events():
            counted += 1
            yield item

    broken = find_first_break(counting(), head_seq=head_seq, head_hash=head_hash)
    return counted, broken
