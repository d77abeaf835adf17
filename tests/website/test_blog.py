"""The public site and blog: drafts and scheduled posts hidden until their time
(time travel, through the cache), feeds and sitemap, SEO tags, CSP, no external
resources, caching by content version, and the staff editor."""

import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import feedparser
import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.lib.concurrency import fingerprint
from kapcare.website import blog
from kapcare.website.content import slugify_title
from kapcare.website.models import Category, Post, SitePage, StaffProfile, post_values
from tests.conftest import ClientFor, make_staff, seen_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


@pytest.fixture
def author(db: None) -> StaffProfile:
    return StaffProfile.objects.create(
        name="Dr. Wren Tallis", credentials="MD, FRCPC", role_title="Medical director"
    )


def make_post(
    author: StaffProfile,
    title: str = "How does ketamine affect the brain?",
    *,
    status: str = Post.Status.PUBLISHED,
    publish_in: timedelta = -timedelta(days=7),
    body: str = "Ketamine blocks the **NMDA receptor**.",
    category: Category | None = None,
) -> Post:
    post = Post(
        title=title, slug=slugify_title(title),
        author=author, excerpt=f"About {title.lower()}", body=body, status=status,
        publish_at=timezone.now() + publish_in,
    )  # fmt: skip
    return blog.save_post(
        request=None, post=post, categories=[category] if category else [],
        tags=blog.tags_from_text("ketamine, research"), image_changed=False, by=None,
    )  # fmt: skip


def saved_seen(post: Post) -> str:
    """What an editor who opened the post now would have seen (its `seen`)."""
    return fingerprint(post_values(Post.objects.get(pk=post.pk)))


def png(width: int = 1600, height: int = 900) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#1f5f8b").save(buffer, "PNG")
    return SimpleUploadedFile(
        "picture.png", buffer.getvalue(), content_type="image/png"
    )


def test_the_default_pages_are_seeded_and_shown(client: Client) -> None:
    assert set(SitePage.objects.values_list("key", flat=True)) == set(
        SitePage.Key.values
    )
    for name in ("home", "services", "team", "faq", "locations", "contact", "privacy"):
        response = client.get(reverse(f"website:{name}"))
        assert response.status_code == 200, name
        assert b"Book a free consultation" in response.content
        assert reverse("intake:request_create").encode() in response.content


def test_drafts_are_invisible_to_the_public(
    client: Client, author: StaffProfile
) -> None:
    draft = make_post(author, "A draft about anxiety", status=Post.Status.DRAFT)
    live = make_post(author, "A live article")
    listing = client.get(reverse("website:post_list")).content.decode()
    assert live.title in listing and draft.title not in listing
    assert client.get(draft.get_absolute_url()).status_code == 404
    for url in (
        reverse("website:rss_feed"), reverse("website:atom_feed"),
        reverse("website:sitemap"), reverse("website:post_list") + "?q=anxiety",
        reverse("website:tag_posts", args=["ketamine"]), reverse("website:home"),
    ):  # fmt: skip
        assert draft.slug.encode() not in client.get(url).content, url


def test_a_scheduled_post_appears_at_its_time_without_a_deploy(
    client: Client, author: StaffProfile
) -> None:
    scheduled = make_post(author, "Ketamine for anxiety", publish_in=timedelta(hours=2))
    make_post(author, "An older article")
    assert client.get(reverse("website:home")).headers["X-Site-Cache"] == "miss"
    assert client.get(reverse("website:home")).headers["X-Site-Cache"] == "hit"
    assert scheduled.title.encode() not in client.get(reverse("website:home")).content
    assert client.get(scheduled.get_absolute_url()).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        home = client.get(reverse("website:home"))
        assert home.headers["X-Site-Cache"] == "miss"  # the version moved on by itself
        assert scheduled.title.encode() in home.content
        assert client.get(scheduled.get_absolute_url()).status_code == 200
        feed = feedparser.parse(client.get(reverse("website:rss_feed")).content)
        assert feed.entries[0].title == "Ketamine for anxiety"


def test_saving_a_post_shows_it_at_once_through_the_cache(
    client: Client, author: StaffProfile
) -> None:
    post = make_post(author, "First title")
    client.get(post.get_absolute_url())
    assert client.get(post.get_absolute_url()).headers["X-Site-Cache"] == "hit"
    post.title = "Second title"
    blog.save_post(
        request=None, post=post, categories=[], tags=[], image_changed=False, by=None,
        seen=saved_seen(post),
    )  # fmt: skip
    page = client.get(post.get_absolute_url())
    assert page.headers["X-Site-Cache"] == "miss" and b"Second title" in page.content


def test_signed_in_staff_and_visitors_with_messages_are_never_served_the_cache(
    client_for: ClientFor, clinic_admin: User, author: StaffProfile
) -> None:
    post = make_post(author)
    Client().get(post.get_absolute_url())
    staff = client_for(clinic_admin).get(post.get_absolute_url())
    assert "X-Site-Cache" not in staff.headers
    visitor = Client()
    visitor.cookies["messages"] = "x"
    assert "X-Site-Cache" not in visitor.get(post.get_absolute_url()).headers


def test_the_feeds_parse_and_list_live_posts_newest_first(
    client: Client, author: StaffProfile
) -> None:
    make_post(author, "Older", publish_in=-timedelta(days=30))
    make_post(author, "Newer", publish_in=-timedelta(days=2))
    for name in ("rss_feed", "atom_feed"):
        feed = feedparser.parse(client.get(reverse(f"website:{name}")).content)
        assert not feed.bozo, name
        assert [e.title for e in feed.entries] == ["Newer", "Older"]
        assert feed.entries[0].link.endswith("/blog/newer/")
        assert feed.entries[0].summary == "About newer"


def test_the_sitemap_is_valid_xml_listing_every_published_post(
    client: Client, author: StaffProfile
) -> None:
    posts = [make_post(author, f"Article {n}") for n in "abc"]
    make_post(author, "Hidden draft", status=Post.Status.DRAFT)
    root = ET.fromstring(client.get(reverse("website:sitemap")).content)  # noqa: S314 - our own output
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = {loc.text for loc in root.findall("s:url/s:loc", ns)}
    for post in posts:
        assert any(str(loc).endswith(post.get_absolute_url()) for loc in locations)
    assert not any("hidden-draft" in str(loc) for loc in locations)
    assert any(str(loc).endswith("/services/") for loc in locations)
    robots = client.get(reverse("website:robots_txt")).content.decode()
    assert "Disallow: /patients/" in robots and "Sitemap: " in robots


class Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.loaded: list[str] = []
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta":
            self.meta[a.get("property") or a.get("name", "")] = a.get("content", "")
        if tag in {"script", "img", "iframe", "audio", "video", "source"} and a.get(
            "src"
        ):
            self.loaded.append(a["src"])
        if tag == "img" and a.get("srcset"):
            self.loaded += [part.split()[0] for part in a["srcset"].split(",")]
        if tag == "link" and a.get("rel") in {"stylesheet", "icon", "preload", "font"}:
            self.loaded.append(a.get("href", ""))
        self._in_ld = tag == "script" and a.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)
            self._in_ld = False


def test_a_post_page_previews_well_when_shared(
    client: Client, author: StaffProfile
) -> None:
    post = make_post(author)
    post.featured_image = png()
    post.featured_image_alt = "A calm blue picture"
    blog.save_post(
        request=None, post=post, categories=[], tags=[], image_changed=True, by=None,
        seen=saved_seen(post),
    )  # fmt: skip
    response = client.get(post.get_absolute_url())
    page = Resources()
    page.feed(response.content.decode())
    assert page.meta["og:title"] == post.title
    assert page.meta["og:type"] == "article"
    assert page.meta["og:url"].endswith(post.get_absolute_url())
    assert page.meta["og:image"].endswith("-1440.jpg")
    assert page.meta["twitter:card"] == "summary_large_image"
    assert page.meta["description"] == post.excerpt
    [ld] = [json.loads(text) for text in page.json_ld]
    assert ld["@type"] == "BlogPosting" and ld["headline"] == post.title
    assert ld["author"]["name"] == "Dr. Wren Tallis"
    home = Resources()
    home.feed(client.get("/").content.decode())
    assert json.loads(home.json_ld[0])["@type"] == "MedicalClinic"
    picture = client.get(page.meta["og:image"].split("127.0.0.1:8000")[-1])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    assert "immutable" in picture["Cache-Control"]


def test_public_pages_load_nothing_from_elsewhere_and_send_a_csp(
    client: Client, author: StaffProfile
) -> None:
    post = make_post(author)
    category = Category.objects.create(name="Research", slug="research")
    for url in (
        "/", post.get_absolute_url(), reverse("website:post_list"),
        reverse("website:category_posts", args=[category.slug]), reverse("website:faq"),
    ):  # fmt: skip
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        page = Resources()
        page.feed(response.content.decode())
        assert page.loaded, url
        for resource in page.loaded:
            assert resource.startswith("/") and not resource.startswith("//"), resource
        assert b"csrfmiddlewaretoken" not in response.content  # cacheable for all


def test_share_links_and_relative_dates_on_a_post(
    client: Client, author: StaffProfile
) -> None:
    make_post(author, "Three weeks old", publish_in=-timedelta(days=21))
    make_post(author, "Two months old", publish_in=-timedelta(days=61))
    post = make_post(author, "Seven days old", publish_in=-timedelta(days=7))
    body = client.get(post.get_absolute_url()).content.decode()
    url = "http%3A//127.0.0.1%3A8000/blog/seven-days-old/"
    assert f"https://www.facebook.com/sharer/sharer.php?u={url}" in body
    assert f"https://www.linkedin.com/sharing/share-offsite/?url={url}" in body
    assert f"https://x.com/intent/post?url={url}" in body
    assert "mailto:?subject=Seven%20days%20old" in body
    assert "3 weeks ago" in body and "2 months ago" in body
    assert "Recent Posts" in body


def test_search_pagination_and_archives(client: Client, author: StaffProfile) -> None:
    research = Category.objects.create(name="Research", slug="research")
    for n in range(12):
        make_post(
            author, f"Article number {n:02d}", publish_in=-timedelta(days=n + 1),
            category=research if n % 2 else None,
        )  # fmt: skip
    first = client.get(reverse("website:post_list")).content.decode()
    assert "Page 1 of 2" in first and "Article number 00" in first
    assert "Article number 11" not in first
    second = client.get(reverse("website:post_list"), {"page": 2}).content.decode()
    assert "Article number 11" in second
    found = client.get(
        reverse("website:post_list"), {"q": "number 07"}
    ).content.decode()
    assert "Article number 07" in found and "Article number 08" not in found
    nothing = client.get(reverse("website:post_list"), {"q": "'; DROP TABLE x; --"})
    assert nothing.status_code == 200 and b"No articles match" in nothing.content
    archive = client.get(reverse("website:category_posts", args=["research"]))
    assert archive.content.decode().count('class="post-card"') == 6
    assert (
        client.get(reverse("website:category_posts", args=["nope"])).status_code == 404
    )


def test_pages_stay_within_their_query_budget(
    client: Client, author: StaffProfile, django_assert_max_num_queries: object
) -> None:
    posts = [make_post(author, f"Article {n}") for n in range(8)]
    url = posts[0].get_absolute_url()
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(url).headers["X-Site-Cache"] == "miss"
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        assert client.get(url).headers["X-Site-Cache"] == "hit"
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        client.get("/")


# The editor


def _form(author: StaffProfile, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Mindfulness and KAP", "slug": "", "author": str(author.pk),
        "tag_names": "mindfulness, integration", "excerpt": "A short practice helps.",
        "body": "## Before\n\nBreathe.", "featured_image_alt": "", "status": "draft",
        "publish_at": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_clinicians_write_a_draft_then_publish_it(
    client_for: ClientFor, physician: User, author: StaffProfile
) -> None:
    client = client_for(physician)
    response = client.post(reverse("website:post_create"), _form(author))
    post = Post.objects.get()
    assert response.status_code == 302
    assert (post.slug, post.status, post.reading_minutes) == (
        "mindfulness-and-kap", "draft", 1,
    )  # fmt: skip
    assert post.body_html == "<h2>Before</h2>\n<p>Breathe.</p>\n"
    assert sorted(t.name for t in post.tags.all()) == ["integration", "mindfulness"]
    assert Client().get(post.get_absolute_url()).status_code == 404
    preview = client.get(reverse("website:post_preview", args=[post.pk]))
    assert (
        preview.status_code == 200
        and b"a draft; the public cannot see it" in preview.content
    )
    url = reverse("website:post_edit", args=[post.pk])
    edited = client.post(url, _form(
        author, status="published", featured_image=png(), featured_image_alt="Calm lake",
        seen=seen_in(client.get(url).content),
    ))  # fmt: skip
    assert edited.status_code == 302, edited.content.decode()[-3000:]
    post.refresh_from_db()
    assert post.is_live and set(post.image_renditions) == {"480", "960", "1440"}
    assert Client().get(post.get_absolute_url()).status_code == 200
    assert (
        AuditEvent.objects.filter(object_type="blog_post", actor=physician).count() == 2
    )


def test_the_editor_explains_bad_input_and_keeps_it(
    client_for: ClientFor, therapist: User, author: StaffProfile
) -> None:
    client = client_for(therapist)
    make_post(author, "Mindfulness and KAP")
    disguised = SimpleUploadedFile(
        "photo.png", b"<?php echo 'hi'; ?>", content_type="image/png"
    )
    response = client.post(
        reverse("website:post_create"),
        _form(author, featured_image=disguised, featured_image_alt="x"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Another post has this address" in body
    assert "Upload a valid image" in body or "not a picture we can use" in body
    assert "A short practice helps." in body
    missing_alt = client.post(
        reverse("website:post_create"),
        _form(author, slug="other", featured_image=png()),
    )
    assert (
        "Describe the picture for people who cannot see it"
        in missing_alt.content.decode()
    )
    assert Post.objects.count() == 1


def test_the_live_preview_is_sanitised(client_for: ClientFor, physician: User) -> None:
    client = client_for(physician)
    response = client.post(
        reverse("website:markdown_preview"),
        {"body": "**hi** <script>alert(1)</script>"},
        headers={"HX-Request": "true"},
    )
    assert response.content.decode() == (
        "<p><strong>hi</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    )


def test_deleting_asks_first_and_pages_are_for_clinic_admins(
    client_for: ClientFor, clinic_admin: User, physician: User, author: StaffProfile
) -> None:
    post = make_post(author)
    admin = client_for(clinic_admin)
    confirm = admin.get(reverse("website:post_delete", args=[post.pk]))
    assert b"cannot be undone" in confirm.content and Post.objects.exists()
    admin.post(reverse("website:post_delete", args=[post.pk]))
    assert not Post.objects.exists()
    assert (
        client_for(physician)
        .get(reverse("website:page_edit", args=["faq"]))
        .status_code
        == 403
    )
    faq = reverse("website:page_edit", args=["faq"])
    admin.post(
        faq,
        {
            "title": "FAQ",
            "description": "Answers",
            "lead": "",
            "body": "## New\n\nText",
            "seen": seen_in(admin.get(faq).content),
        },
    )
    assert b"<h2>New</h2>" in Client().get(reverse("website:faq")).content
    assert AuditEvent.objects.filter(
        object_type="site_page", actor=clinic_admin
    ).exists()


def test_team_profiles_with_photos(client_for: ClientFor, clinic_admin: User) -> None:
    admin = client_for(clinic_admin)
    admin.post(
        reverse("website:profile_create"),
        {"name": "Sam Lefebvre", "credentials": "RP", "role_title": "Therapist",
         "bio": "Leads integration.", "photo": png(800, 800), "on_team_page": "on",
         "order": "1", "user": ""},
    )  # fmt: skip
    profile = StaffProfile.objects.get()
    assert set(profile.photo_renditions) == {"480"}
    team = Client().get(reverse("website:team")).content.decode()
    assert "Sam Lefebvre" in team and "Leads integration." in team


def test_friendly_error_pages(client: Client) -> None:
    missing = client.get("/blog/no-such-article/")
    assert missing.status_code == 404
    assert (
        b"Page not found" in missing.content
        and b"Book a free consultation" in missing.content
    )
    from django.template.loader import render_to_string

    broken = render_to_string("500.html")
    assert "Something went wrong" in broken and "9-8-8" in broken


# a refused edit's own written text, kept whole under the field
KEPT = 'Not saved: this form had<span class="kept-text">{}</span>'


def jpeg_bytes(width: int = 1200, height: int = 800) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#336699").save(buffer, "JPEG")
    return buffer.getvalue()


def test_cut_off_pictures_are_refused_and_phone_photos_accepted(
    client_for: ClientFor, physician: User, author: StaffProfile
) -> None:
    client = client_for(physician)
    whole = jpeg_bytes()
    cut = SimpleUploadedFile(
        "cut.jpg", whole[: len(whole) // 2], content_type="image/jpeg"
    )
    response = client.post(
        reverse("website:post_create"),
        _form(author, featured_image=cut, featured_image_alt="A picture"),
    )
    assert response.status_code == 400
    assert "That file is not a picture we can use." in response.content.decode()
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (800, 600), c) for c in ("#114477", "#774411")]
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:])
    mpo = SimpleUploadedFile(
        "IMG_0001.JPG", buffer.getvalue(), content_type="image/jpeg"
    )
    saved = client.post(
        reverse("website:post_create"),
        _form(
            author, slug="phone", featured_image=mpo, featured_image_alt="A phone photo"
        ),
    )
    assert saved.status_code == 302
    assert set(Post.objects.get(slug="phone").image_renditions) == {"480"}


def test_only_resized_copies_are_served_and_replaced_ones_are_removed(
    client: Client, author: StaffProfile, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.storage import default_storage

    post = make_post(author)
    post.featured_image = png()
    post.featured_image_alt = "Blue"
    blog.save_post(
        request=None, post=post, categories=[], tags=[], image_changed=True, by=None,
        seen=saved_seen(post),
    )  # fmt: skip
    original, first_copies = post.featured_image.name, dict(post.image_renditions)
    assert original.startswith("originals/blog/")
    assert client.get(reverse("website:image", args=[original])).status_code == 404
    for traversal in ("blog/../originals/blog/x.jpg", "../settings.py", "blog/x.png"):
        assert client.get(reverse("website:image", args=[traversal])).status_code == 404
    post.featured_image = png(900, 600)
    with django_capture_on_commit_callbacks(execute=True):
        blog.save_post(
            request=None, post=post, categories=[], tags=[], image_changed=True, by=None,
            seen=saved_seen(post),
        )  # fmt: skip
    assert not default_storage.exists(original)
    assert not any(default_storage.exists(name) for name in first_copies.values())
    assert all(default_storage.exists(name) for name in post.image_renditions.values())


def test_the_cache_ignores_stray_query_strings_and_production_cookies(
    client: Client, author: StaffProfile, settings: object
) -> None:
    post = make_post(author)
    client.get(post.get_absolute_url())
    tracked = client.get(post.get_absolute_url(), {"utm_source": "news"})
    assert tracked.status_code == 200 and "X-Site-Cache" not in tracked.headers
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"  # type: ignore[attr-defined]
    visitor = Client()
    visitor.cookies["__Host-sessionid"] = "abc"
    assert "X-Site-Cache" not in visitor.get(post.get_absolute_url()).headers


def test_feeds_are_cached_per_host(client: Client, author: StaffProfile) -> None:
    make_post(author)
    first = client.get(reverse("website:rss_feed"), HTTP_HOST="localhost")
    second = client.get(reverse("website:rss_feed"), HTTP_HOST="testserver")
    assert second.headers["X-Site-Cache"] == "miss"
    assert b"http://localhost/" in first.content
    assert b"http://localhost/" not in second.content


def test_odd_searches_and_reserved_or_unpublished_names(
    client: Client, client_for: ClientFor, physician: User, author: StaffProfile
) -> None:
    make_post(author)
    assert client.get(reverse("website:post_list"), {"q": "a\x00b"}).status_code == 200
    assert client.get(reverse("website:post_list"), {"page": "9999"}).status_code == 200
    assert client.get(reverse("website:post_list"), {"page": "-1x"}).status_code == 200
    draft = make_post(author, "Secret plans", status=Post.Status.DRAFT)
    draft.tags.set(blog.tags_from_text("unannounced"))
    assert (
        client.get(reverse("website:tag_posts", args=["unannounced"])).status_code
        == 404
    )
    assert (
        client.get(reverse("website:tag_posts", args=["ketamine"])).status_code == 200
    )
    refused = client_for(physician).post(
        reverse("website:post_create"), _form(author, slug="feed")
    )
    assert "is used by the site itself" in refused.content.decode()


def test_related_articles_rank_by_what_they_share(author: StaffProfile) -> None:
    research, care = (
        Category.objects.create(name=n, slug=n.lower()) for n in ("Research", "Care")
    )
    post = make_post(author, "Main", category=research)
    post.categories.add(care)
    one = make_post(author, "Shares one category", category=research)
    one.tags.set(blog.tags_from_text("a, b, c, d, e, f"))
    two = make_post(author, "Shares both categories", category=research)
    two.categories.add(care)
    two.tags.clear()
    one.tags.clear()
    post.tags.clear()
    assert [p.title for p in blog.related_posts(post)] == [
        "Shares both categories", "Shares one category",
    ]  # fmt: skip


def test_page_queries_do_not_grow_with_the_blog(
    client: Client, author: StaffProfile, django_assert_num_queries: object
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    research = Category.objects.create(name="Research", slug="research")

    def count(path: str) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    count("/")  # the first request of a test also creates the clinic's row
    first = make_post(author, "First", category=research)
    for n in range(2):
        make_post(author, f"Early {n}", category=research)
    few = [
        count(p)
        for p in ("/", first.get_absolute_url(), "/blog/", "/blog/category/research/")
    ]
    for n in range(27):
        make_post(
            author, f"Later {n}", category=research, publish_in=-timedelta(days=1)
        )
    many = [
        count(p)
        for p in ("/", first.get_absolute_url(), "/blog/", "/blog/category/research/")
    ]
    assert few == many


def test_team_profiles_link_only_staff_accounts(
    client_for: ClientFor, clinic_admin: User, patient_user: User
) -> None:
    page = (
        client_for(clinic_admin).get(reverse("website:profile_create")).content.decode()
    )
    assert clinic_admin.full_name in page
    assert patient_user.full_name not in page


# Two editors at once: the second save of a stale form is refused


def test_a_stale_post_editor_is_refused_and_keeps_their_text(
    client_for: ClientFor, physician: User, therapist: User, author: StaffProfile
) -> None:
    post = make_post(author, "Mindfulness and KAP", status=Post.Status.DRAFT)
    url = reverse("website:post_edit", args=[post.pk])
    first, second = client_for(physician), client_for(therapist)
    seen_first = seen_in(first.get(url).content)
    seen_second = seen_in(second.get(url).content)
    published = first.post(url, _form(author, status="published", seen=seen_first))
    assert published.status_code == 302

    stale = second.post(
        url,
        _form(
            author, body="Her new paragraph.\n\nWith a second line.", seen=seen_second
        ),
    )

    assert stale.status_code == 409
    body = stale.content.decode()
    # what is saved now is in the form, this form's entries noted under it
    assert f"Not saved: this form had {Post.Status.DRAFT.label}." in body
    assert f"was changed by {escape(physician.display_name)}" in body
    assert KEPT.format("Her new paragraph.\n\nWith a second line.") in body
    post.refresh_from_db()
    assert (post.status, post.body) == ("published", "## Before\n\nBreathe.")
    again = stale.context["form"].data.dict()  # the page as shown ...
    again["body"] = "Her new paragraph."  # ... with the paragraph pasted back
    assert second.post(url, again).status_code == 302
    post.refresh_from_db()
    assert (post.status, post.body) == ("published", "Her new paragraph.")


def test_a_stale_page_editor_is_refused_and_keeps_their_text(
    client_for: ClientFor, clinic_admin: User
) -> None:
    url = reverse("website:page_edit", args=["faq"])
    first, second = client_for(clinic_admin), client_for(make_staff(Role.CLINIC_ADMIN))
    seen_first = seen_in(first.get(url).content)
    seen_second = seen_in(second.get(url).content)
    page = SitePage.objects.get(key="faq")
    form = {"title": page.title, "description": page.description, "lead": page.lead}
    saved = first.post(url, {**form, "body": "First answer.", "seen": seen_first})
    assert saved.status_code == 302

    stale = second.post(url, {**form, "body": "Second answer.", "seen": seen_second})

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(clinic_admin.display_name)}" in body
    assert KEPT.format("Second answer.") in body
    assert "First answer.</textarea>" in body
    assert SitePage.objects.get(key="faq").body == "First answer."
    again = second.post(
        url, {**form, "body": "Second answer.", "seen": seen_in(body.encode())}
    )
    assert again.status_code == 302
    assert SitePage.objects.get(key="faq").body == "Second answer."


def test_a_stale_team_profile_cannot_put_someone_back_on_the_team_page(
    client_for: ClientFor, clinic_admin: User, author: StaffProfile
) -> None:
    url = reverse("website:profile_edit", args=[author.pk])
    first, second = client_for(clinic_admin), client_for(make_staff(Role.CLINIC_ADMIN))
    seen_first = seen_in(first.get(url).content)
    seen_second = seen_in(second.get(url).content)
    form = {
        "name": author.name, "credentials": author.credentials,
        "role_title": author.role_title, "bio": "", "on_team_page": "on",
        "order": "0", "user": "",
    }  # fmt: skip
    hidden = {**form, "on_team_page": "", "seen": seen_first}
    assert first.post(url, hidden).status_code == 302

    stale = second.post(url, {**form, "bio": "Leads the clinic.", "seen": seen_second})

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(clinic_admin.display_name)}" in body
    assert KEPT.format("Leads the clinic.") in body
    assert "Not saved: this form had yes." in body  # "On the team page"
    author.refresh_from_db()
    assert (author.on_team_page, author.bio) == (False, "")
    again = stale.context["form"].data.dict()  # the page as shown, bio typed again
    again["bio"] = "Leads the clinic."
    assert second.post(url, again).status_code == 302
    author.refresh_from_db()
    assert (author.on_team_page, author.bio) == (False, "Leads the clinic.")


@pytest.mark.parametrize("kind", ["post", "page", "profile"])
def test_an_editor_form_without_what_it_saw_changes_nothing(
    client_for: ClientFor, clinic_admin: User, author: StaffProfile, kind: str
) -> None:
    post = make_post(author, "Mindfulness and KAP")
    url, form = {
        "post": (
            reverse("website:post_edit", args=[post.pk]),
            _form(author, body="New"),
        ),
        "page": (
            reverse("website:page_edit", args=["faq"]),
            {"title": "FAQ", "description": "Answers", "lead": "", "body": "New"},
        ),
        "profile": (
            reverse("website:profile_edit", args=[author.pk]),
            {"name": "New", "order": "0", "user": "", "on_team_page": "on"},
        ),
    }[kind]
    before = AuditEvent.objects.count()
    response = client_for(clinic_admin).post(url, form)
    assert response.status_code in (200, 400)
    assert b"does not say what it was opened with" in response.content
    assert AuditEvent.objects.count() == before
    post.refresh_from_db()
    author.refresh_from_db()
    assert post.body != "New" and author.name != "New"
    assert SitePage.objects.get(key="faq").body != "New"
