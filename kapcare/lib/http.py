"""Typed requests (healthchecks hc/accounts/http.py style)."""

from django.http import HttpRequest

from kapcare.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    request_id: str


class KapcareHttpRequest(HttpRequest):
    request_id: str
