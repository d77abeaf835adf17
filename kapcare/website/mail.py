"""Emails in the clinic's name (subject/body templates, sent once the transaction commits)."""

from collections.abc import Callable
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template import Context
from django.template.loader import get_template

from kapcare.website.models import get_clinic_profile


def clinic_sender() -> str:
    """DEFAULT_FROM_EMAIL's address, shown under the clinic's name."""
    return formataddr(
        (get_clinic_profile().name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])
    )


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a plain-text message. Text is not HTML, so nothing is HTML-escaped
    (a name like O'Brien stays O'Brien, not O&#x27;Brien)."""
    template = get_template(template_name)
    return str(template.template.render(Context(context, autoescape=False)))  # type: ignore[attr-defined]


def clinic_email(template: str, context: dict[str, Any], to: str) -> Callable[[], None]:
    """Render `<template>_subject.txt` and `<template>_body.txt` now; the returned
    function sends them (raising OSError, e.g. SMTPException, if it cannot)."""
    context = {"clinic": get_clinic_profile(), "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_text(f"{template}_subject.txt", context).split())
    body = render_text(f"{template}_body.txt", context)
    sender = clinic_sender()

    def send() -> None:
        send_mail(subject, body, sender, [to])

    return send


def send_clinic_email_on_commit(
    template: str, context: dict[str, Any], to: str
) -> None:
    """Send after commit, so a rolled-back change never emails anyone."""
    transaction.on_commit(clinic_email(template, context, to))
