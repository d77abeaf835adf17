"""Text messages through a pluggable backend, like Django's email backends.

`SMS_BACKEND` names a class with `send(to, body)`:
- `kapcare.lib.sms.ConsoleBackend` (development): writes the message to stdout.
- `kapcare.lib.sms.LocmemBackend` (tests): keeps messages in `outbox`.
- `kapcare.lib.sms.TwilioBackend` (production): Twilio's Messages REST API
  (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource),
  configured by `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and `SMS_FROM`.

Messages are sent after the surrounding transaction commits, so a rolled-back
change never texts anyone. Numbers are E.164 (+14165550123).
"""

import base64
import json
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider refused or could not be reached."""


@dataclass(frozen=True)
class TextMessage:
    to: str
    body: str


class SmsBackend(Protocol):
    def send(self, message: TextMessage) -> None: ...


outbox: list[TextMessage] = []


class LocmemBackend:
    def send(self, message: TextMessage) -> None:
        outbox.append(message)


class ConsoleBackend:
    def send(self, message: TextMessage) -> None:
        sys.stdout.write(f"SMS to {message.to}:\n{message.body}\n{'-' * 40}\n")
        sys.stdout.flush()


class TwilioBackend:
    api = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, message: TextMessage) -> None:
        sid = settings.TWILIO_ACCOUNT_SID
        if not (sid and settings.TWILIO_AUTH_TOKEN and settings.SMS_FROM):
            raise SmsError("Set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and SMS_FROM")
        data = urllib.parse.urlencode(
            {"To": message.to, "From": settings.SMS_FROM, "Body": message.body}
        ).encode()
        credentials = base64.b64encode(
            f"{sid}:{settings.TWILIO_AUTH_TOKEN}".encode()
        ).decode()
        request = urllib.request.Request(  # noqa: S310 - fixed https URL
            self.api.format(sid=urllib.parse.quote(sid)),
            data=data,
            headers={"Authorization": f"Basic {credentials}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
                payload = json.loads(reply.read() or b"{}")
        except (OSError, ValueError) as exc:
            raise SmsError(f"Twilio did not accept the message: {exc}") from exc
        if payload.get("error_code"):
            raise SmsError(f"Twilio refused the message: {payload.get('message')}")


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


def send_sms(to: str, body: str) -> None:
    get_backend().send(TextMessage(to=to, body=body))


def send_sms_on_commit(to: str, body: str) -> None:
    transaction.on_commit(lambda: send_sms(to, body))
