"""Bearer tokens for registered API clients (SMART-style scopes, see ApiClient)."""

import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, record_event
from kapcare.fhir.errors import FhirError
from kapcare.fhir.models import ApiClient
from kapcare.lib.tokens import token_hash
from kapcare.patients.models import Patient

TOKEN_PREFIX = "kc_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class Grant:
    client: ApiClient
    scopes: frozenset[str]
    patient_id: uuid.UUID | None

    def may_read(self, resource_type: str) -> bool:
        context = "patient" if self.patient_id else "system"
        return bool(
            {f"{context}/*.read", f"{context}/{resource_type}.read"} & self.scopes
        )

    def may_write(self, resource_type: str) -> bool:
        context = "patient" if self.patient_id else "system"
        return f"{context}/{resource_type}.write" in self.scopes


def authenticate(request: HttpRequest) -> Grant:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(
            401, "login", "Send the client's token: Authorization: Bearer <token>."
        )
    client = (
        ApiClient.objects.filter(token_hash=token_hash(token.strip()), revoked_at=None)
        .select_related("patient")
        .first()
    )
    if client is None:
        raise FhirError(401, "login", "This token is not valid or has been revoked.")
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return Grant(client, frozenset(client.scopes), client.patient_id)


def register_client(
    *,
    request: HttpRequest,
    name: str,
    kind: str,
    patient: Patient | None,
    may_submit_responses: bool,
    by: User,
) -> tuple[ApiClient, str]:
    """Create a client; returns it and its token (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name, kind=kind, patient=patient,
            may_submit_responses=may_submit_responses, token_hash=token_hash(token),
            token_hint=token[:8], created_by=by,
        )  # fmt: skip
        record_event(
            request=request, action=Action.CREATE, patient=patient,
            information=Information.ACCOUNT, object_type="api_client",
            object_id=client.pk,
            summary=f"Registered FHIR client “{name}” ({', '.join(client.scopes)})",
        )  # fmt: skip
    return client, token


def revoke_client(*, request: HttpRequest, client: ApiClient) -> None:
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        record_event(
            request=request, action=Action.UPDATE, patient=client.patient,
            information=Information.ACCOUNT, object_type="api_client",
            object_id=client.pk, summary=f"Revoked FHIR client “{client.name}”",
        )  # fmt: skip
