"""Caching of the public site's pages, invalidated by content, not by time.

The cache key holds a version read in one query: the newest change to any post,
page, team profile or the clinic's details, and the newest post whose publishing
time has come. Saving anything, or a scheduled post's time arriving, changes the
version, so every app server (whatever the cache backend) serves the new page at
once and nobody has to clear anything. The key also holds today's date, so
"7 days ago" is right tomorrow.

Only anonymous GETs without a session or pending messages are cached: signed-in
staff see preview links, and a visitor's own messages are never stored.
"""

import hashlib
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from kapcare.website.models import ClinicProfile, Post, SitePage, StaffProfile

CACHE_SECONDS = 3600
BROWSER_SECONDS = 60


def content_version(now: datetime | None = None) -> str:
    now = now or timezone.now()
    post, page = Post._meta.db_table, SitePage._meta.db_table
    staff, clinic = StaffProfile._meta.db_table, ClinicProfile._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(updated_at) FROM {post}),"  # noqa: S608 - table names only
            f" (SELECT COUNT(*) FROM {post}),"
            f" (SELECT MAX(publish_at) FROM {post}"
            f"  WHERE status = %s AND publish_at <= %s),"
            f" (SELECT MAX(updated_at) FROM {page}),"
            f" (SELECT MAX(updated_at) FROM {staff}),"
            f" (SELECT COUNT(*) FROM {staff}),"
            f" (SELECT MAX(updated_at) FROM {clinic})",
            [Post.Status.PUBLISHED, now],
        )
        row = cursor.fetchone()
    return hashlib.sha256(repr(row).encode()).hexdigest()[:16]


def cacheable(request: HttpRequest, params: tuple[str, ...] = ()) -> bool:
    """An anonymous GET with no session or messages, asking only for `params`
    (any other query string, e.g. ?utm_source=, is answered but not cached, so
    nobody can fill the cache with variants)."""
    return (
        request.method == "GET"
        and not request.user.is_authenticated
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and set(request.GET) <= set(params)
    )


def _key(request: HttpRequest, params: tuple[str, ...]) -> str:
    asked = "&".join(f"{p}={request.GET.get(p, '')[:20]}" for p in params)
    parts = [
        content_version(), timezone.localdate().isoformat(), request.scheme or "",
        request.get_host(), request.path, asked,
    ]  # fmt: skip
    return "site:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


KEPT_HEADERS = ("Content-Type", "X-Robots-Tag")


def cached_page(
    request: HttpRequest,
    build: Callable[[], HttpResponse],
    *,
    params: tuple[str, ...] = (),
) -> HttpResponse:
    """The page from the cache when nothing it shows has changed; else `build`s
    it and keeps a successful result. The key holds the host and scheme too, as
    feeds and the sitemap write absolute links."""
    if not cacheable(request, params):
        return build()
    key = _key(request, params)
    hit = cache.get(key)
    if hit is not None:
        body, headers = hit
        response = HttpResponse(body)
        for name, value in headers.items():
            response[name] = value
        response["X-Site-Cache"] = "hit"
    else:
        response = build()
        if response.status_code == 200 and not response.streaming:
            headers = {h: response[h] for h in KEPT_HEADERS if h in response}
            cache.set(key, (response.content, headers), CACHE_SECONDS)
        response["X-Site-Cache"] = "miss"
    response["Cache-Control"] = f"public, max-age={BROWSER_SECONDS}"
    return response
