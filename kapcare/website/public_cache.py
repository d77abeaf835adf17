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


def cacheable(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and not request.user.is_authenticated
        and "sessionid" not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def cached_page(
    request: HttpRequest, build: Callable[[], HttpResponse]
) -> HttpResponse:
    """The page from the cache when nothing it shows has changed; else `build`s
    it and keeps a successful result."""
    if not cacheable(request):
        return build()
    key = (
        "site:"
        + hashlib.sha256(
            "|".join(
                [
                    content_version(),
                    timezone.localdate().isoformat(),
                    request.get_full_path(),
                ]
            ).encode()
        ).hexdigest()
    )
    hit = cache.get(key)
    if hit is not None:
        body, content_type = hit
        response = HttpResponse(body, content_type=content_type)
        response["X-Site-Cache"] = "hit"
    else:
        response = build()
        if response.status_code == 200 and not response.streaming:
            cache.set(key, (response.content, response["Content-Type"]), CACHE_SECONDS)
        response["X-Site-Cache"] = "miss"
    response["Cache-Control"] = f"public, max-age={BROWSER_SECONDS}"
    return response
