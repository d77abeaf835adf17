"""Issue 8's target: the home and article pages, cached and uncached, with the
demo clinic's articles plus enough more for several list pages."""

from datetime import timedelta

from django.core.cache import cache
from django.http.response import HttpResponseBase
from django.test import Client
from django.utils import timezone

from bench.timing import Send
from kapcare.website import blog
from kapcare.website.demo import seed_demo_site
from kapcare.website.demo_posts import POSTS
from kapcare.website.models import Post, StaffProfile

EXTRA_POSTS = 54


def seed_site() -> str:
    """The demo articles and EXTRA_POSTS more; returns an article's address."""
    seed_demo_site()
    author = StaffProfile.objects.first()
    assert author is not None  # noqa: S101 - seeded just above
    body = POSTS[0]["body"]
    for n in range(EXTRA_POSTS):
        post = Post(
            title=f"Bench article {n}", slug=f"bench-article-{n}", author=author,
            excerpt="A benchmark article.", body=body, status=Post.Status.PUBLISHED,
            publish_at=timezone.now() - timedelta(days=n + 1),
        )  # fmt: skip
        blog.save_post(
            request=None, post=post, categories=[], tags=[], image_changed=False,
            by=None,
        )  # fmt: skip
    return f"/blog/{POSTS[0]['slug']}/"


def uncached(client: Client, path: str) -> Send:
    """Each request builds the page afresh (the site cache emptied first)."""

    def send() -> HttpResponseBase:
        cache.clear()
        return client.get(path)

    return send
