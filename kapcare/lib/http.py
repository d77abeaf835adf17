"""Typed requests (healthchecks hc/accounts/http.py style)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from kapcare.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    request_id: str
    htmx: HtmxDetails
