import io
import json
import urllib.request
from typing import Any

import pytest
from django.db import transaction
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from kapcare.lib import sms


def test_messages_wait_for_the_commit_and_vanish_with_a_rollback(
    db: None, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sms.send_sms_on_commit("+14165550123", "kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        sms.send_sms_on_commit("+14165550123", "rolled back")
        raise RuntimeError
    assert sms.outbox == [sms.TextMessage("+14165550123", "kept")]


def test_the_console_backend_prints(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SMS_BACKEND = "kapcare.lib.sms.ConsoleBackend"
    sms.send_sms("+14165550123", "Hello")
    assert "SMS to +14165550123:\nHello" in capsys.readouterr().out


class _Reply(io.BytesIO):
    def __enter__(self) -> "_Reply":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_twilio_gets_the_number_body_and_credentials(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SMS_BACKEND = "kapcare.lib.sms.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", "secret"
    settings.SMS_FROM = "+16475550000"
    sent: list[urllib.request.Request] = []

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> Any:
        sent.append(request)
        return _Reply(json.dumps({"sid": "SM1", "status": "queued"}).encode())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    sms.send_sms("+14165550123", "Your questionnaire")
    (request,) = sent
    assert request.full_url == (
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    )
    assert request.data == (
        b"To=%2B14165550123&From=%2B16475550000&Body=Your+questionnaire"
    )
    assert request.get_header("Authorization") == "Basic QUMxMjM6c2VjcmV0"


def test_twilio_errors_are_reported(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SMS_BACKEND = "kapcare.lib.sms.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", "secret"
    settings.SMS_FROM = "+16475550000"

    def refused(request: urllib.request.Request, timeout: float) -> Any:
        raise OSError("HTTP Error 400: Bad Request")

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    with pytest.raises(sms.SmsError, match="did not accept"):
        sms.send_sms("+14165550123", "x")
    settings.SMS_FROM = ""
    with pytest.raises(sms.SmsError, match="SMS_FROM"):
        sms.send_sms("+14165550123", "x")
