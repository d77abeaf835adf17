"""The client's IP address, honouring only the reverse proxies the clinic trusts.

With TRUSTED_PROXY_COUNT = 0 (the default) X-Forwarded-For is ignored, so a
client cannot pick its own address; behind N proxies the address is the Nth entry
from the right of X-Forwarded-For (each proxy appends the address it saw).
Used by the audit log and by django-axes (AXES_CLIENT_IP_CALLABLE).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.ipv6 import clean_ipv6_address


def normalise_ip(raw: str | None) -> str | None:
    """The form GenericIPAddressField stores: None when empty or invalid, short IPv6."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    return clean_ipv6_address(str(address)) if address.version == 6 else str(address)


def client_ip(request: HttpRequest) -> str | None:
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [
            h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return normalise_ip(hops[-proxies])
    return normalise_ip(request.META.get("REMOTE_ADDR"))
