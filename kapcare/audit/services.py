"""Writing and checking the audit log. The only code that inserts AuditEvent rows."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.audit.chain import ChainBreak, event_hash, find_first_break
from kapcare.audit.models import AuditChainHead, AuditEvent
from kapcare.lib.client_ip import client_ip

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
            ip_address=client_ip(request) if request is not None else None,
            user_agent=_text(request.META.get("HTTP_USER_AGENT", ""))[:300]
            if request is not None
            else "",
            request_id=getattr(request, "request_id", "")
            if request is not None
            else "",
        )

    @classmethod
    def system(cls, label: str) -> "Context":
        return cls(None, label, "system", None, "", "")


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; a NUL in a header or form must not lose the event."""
    return value.replace("\x00", "\ufffd")


def _clean_detail(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(str(k)): _clean_detail(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_detail(v) for v in value]
    return value


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
        object_id=_text(str(object_id))[:64],
        summary=_text(summary)[:300],
        detail=_clean_detail(detail or {}),
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
            digest = event_hash(fields, prev_hash, settings.AUDIT_CHAIN_KEY)
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


def _stored_events(
    *, up_to: int, batch_size: int = 2000
) -> Iterator[tuple[dict[str, Any], str, str]]:
    rows = AuditEvent.objects.filter(seq__lte=up_to).order_by("seq").values(
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
    """Return the number of events checked and the first broken link, if any.

    The clinic keeps working while this runs, so it checks the chain up to the head
    it read first; events written meanwhile are only checked for having a head.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "0" * 64)
    counted = 0

    def counting() -> Iterator[tuple[dict[str, Any], str, str]]:
        nonlocal counted
        for item in _stored_events(up_to=head_seq):
            counted += 1
            yield item

    broken = find_first_break(
        counting(), head_seq=head_seq, head_hash=head_hash, key=settings.AUDIT_CHAIN_KEY
    )
    if broken is None:
        latest = (
            AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
            or 0
        )
        stray = AuditEvent.objects.filter(seq__gt=latest).order_by("seq").first()
        if stray is not None:
            broken = ChainBreak(
                stray.seq, f"event #{stray.seq} was added outside the audit service"
            )
    return counted, broken


def last_changed_by(
    object_type: str, object_id: object, summary_prefix: str = ""
) -> str:
    """Who last created or changed this object (that part of it, by the summary's
    start), by the audit log, for "changed by X after you opened it"; "" when the
    log names no one."""
    event = (
        AuditEvent.objects.filter(
            object_type=object_type, object_id=str(object_id),
            action__in=[AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE],
            summary__startswith=summary_prefix,
        )
        .select_related("actor")
        .order_by("-seq")
        .first()
    )  # fmt: skip
    if event is None:
        return ""
    return event.actor.display_name if event.actor else event.actor_label
