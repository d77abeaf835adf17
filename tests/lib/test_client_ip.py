import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from pytest_django import Settings

from kapcare.lib.client_ip import client_ip


def _request(remote: str, forwarded: str = "") -> HttpRequest:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_trusted_proxies_the_header_is_ignored(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("10.0.0.1", "6.6.6.6")) == "10.0.0.1"


def test_behind_one_proxy_the_last_hop_is_the_client(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request("127.0.0.1", "6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"


def test_a_short_header_falls_back_to_the_socket_address(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("127.0.0.1", "203.0.113.9")) == "127.0.0.1"


@pytest.mark.parametrize(
    ("raw", "expected"), [("", None), ("junk", None), ("2001:DB8::0:1", "2001:db8::1")]
)
def test_addresses_are_stored_in_canonical_form(
    settings: Settings, raw: str, expected: str | None
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(raw)) == expected
