"""The clinic's public site: home, pages, blog, feeds, sitemap and robots.txt.

Anonymous pages are cached by content version (public_cache); every page says
who the clinic is to search engines and link previews (title, description,
canonical address, OpenGraph and Twitter card tags, JSON-LD)."""

import json
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.contrib.syndication.views import Feed
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed

from kapcare.accounts.access import otp_exempt
from kapcare.website import blog
from kapcare.website.context_processors import clinic_for
from kapcare.website.models import (
    Category,
    ClinicProfile,
    Post,
    SitePage,
    StaffProfile,
    Tag,
)
from kapcare.website.public_cache import cached_page

PER_PAGE = 10
RECENT = 5
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
# Resized copies only (originals, which keep camera data, live under originals/).
_IMAGE_NAME = re.compile(r"^(blog|team)/[0-9a-f]{12}-\d{2,4}(_[A-Za-z0-9]{7})?\.jpg$")


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def json_ld(data: dict[str, Any]) -> str:
    """JSON for a <script type="application/ld+json"> block, safe inside HTML."""
    return json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)


def image_url(renditions: dict[str, str], width: int = 960) -> str:
    if not renditions:
        return ""
    best = min(renditions, key=lambda w: abs(int(w) - width))
    return reverse("website:image", args=[renditions[best]])


def srcset(renditions: dict[str, str]) -> str:
    return ", ".join(
        f"{reverse('website:image', args=[name])} {width}w"
        for width, name in sorted(renditions.items(), key=lambda item: int(item[0]))
    )


def _clinic_ld(clinic: ClinicProfile) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalClinic",
        "name": clinic.name,
        "url": absolute("/"),
        "medicalSpecialty": "Psychiatric",
    }
    if clinic.phone:
        data["telephone"] = clinic.phone
    if clinic.street_address:
        data["address"] = {
            "@type": "PostalAddress", "streetAddress": clinic.street_address,
            "addressLocality": clinic.city, "addressRegion": clinic.province,
            "postalCode": clinic.postal_code, "addressCountry": "CA",
        }  # fmt: skip
    return data


def _seo(
    *, title: str, description: str, path: str, image: str = "", kind: str = "website"
) -> dict[str, str]:
    return {
        "title": title, "description": description, "url": absolute(path),
        "image": absolute(image) if image else "", "type": kind,
    }  # fmt: skip


def _page(key: str) -> SitePage:
    page = SitePage.objects.filter(key=key).first()
    if page is None:
        raise Http404("No such page")
    return page


def _recent() -> list[Post]:
    return list(blog.live_posts()[:RECENT])


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    def build() -> HttpResponse:
        clinic = clinic_for(request)
        page = _page(SitePage.Key.HOME)
        context = {
            "page": page,
            "posts": list(blog.live_posts()[:3]),
            "team": list(StaffProfile.objects.filter(on_team_page=True)[:4]),
            "seo": _seo(title=page.title, description=page.description, path="/"),
            "json_ld": json_ld(_clinic_ld(clinic)),
        }
        return render(request, "website/home.html", context)

    return cached_page(request, build)


@login_not_required
def site_page(request: HttpRequest, key: str) -> HttpResponse:
    def build() -> HttpResponse:
        page = _page(key)
        context: dict[str, Any] = {
            "page": page,
            "seo": _seo(
                title=page.title, description=page.description, path=request.path
            ),
            "json_ld": json_ld(_clinic_ld(clinic_for(request))),
        }
        if key == SitePage.Key.TEAM:
            context["team"] = StaffProfile.objects.filter(on_team_page=True)
        return render(request, "website/page.html", context)

    return cached_page(request, build)


def _paged(request: HttpRequest, posts: QuerySet[Post]) -> Page[Post]:
    paginator = Paginator(posts.prefetch_related("categories"), PER_PAGE)
    return paginator.get_page(request.GET.get("page"))


@login_not_required
def post_list(request: HttpRequest) -> HttpResponse:
    query = blog.clean_query(request.GET.get("q", ""))

    def build() -> HttpResponse:
        posts = blog.search_posts(query) if query else blog.live_posts()
        heading = f"Articles matching “{query}”" if query else "Articles"
        context = {
            "page_obj": _paged(request, posts), "heading": heading, "query": query,
            "recent": _recent(), "categories": blog.live_categories(),
            "seo": _seo(
                title=heading,
                description=f"Articles from {clinic_for(request).name} on ketamine "
                "therapy, depression, anxiety and recovery.",
                path=request.path,
            ),
        }  # fmt: skip
        return render(request, "website/post_list.html", context)

    return build() if query else cached_page(request, build, params=("page",))


@login_not_required
def category_posts(request: HttpRequest, slug: str) -> HttpResponse:
    def build() -> HttpResponse:
        category = get_object_or_404(Category, slug=slug)
        context = {
            "page_obj": _paged(request, blog.live_posts().filter(categories=category)),
            "heading": category.name, "intro": category.description,
            "recent": _recent(), "categories": blog.live_categories(),
            "seo": _seo(
                title=category.name,
                description=category.description or f"Articles about {category.name}.",
                path=request.path,
            ),
        }  # fmt: skip
        return render(request, "website/post_list.html", context)

    return cached_page(request, build, params=("page",))


@login_not_required
def tag_posts(request: HttpRequest, slug: str) -> HttpResponse:
    def build() -> HttpResponse:
        in_use = Tag.objects.filter(posts__in=blog.live_posts().values("pk"))
        tag = get_object_or_404(in_use.distinct(), slug=slug)
        context = {
            "page_obj": _paged(request, blog.live_posts().filter(tags=tag)),
            "heading": f"Tagged “{tag.name}”",
            "recent": _recent(), "categories": blog.live_categories(),
            "seo": _seo(
                title=f"Tagged {tag.name}", description=f"Articles tagged {tag.name}.",
                path=request.path,
            ),
        }  # fmt: skip
        return render(request, "website/post_list.html", context)

    return cached_page(request, build, params=("page",))


def post_context(request: HttpRequest, post: Post) -> dict[str, Any]:
    url = absolute(post.get_absolute_url())
    image = image_url(post.image_renditions, 1440)
    author = post.author
    posting: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.excerpt,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": post.publish_at.isoformat() if post.publish_at else "",
        "dateModified": post.updated_at.isoformat(),
        "author": {"@type": "Person", "name": author.name},
        "publisher": {"@type": "MedicalClinic", "name": clinic_for(request).name},
        "wordCount": len(post.search_text.split()),
    }
    if image:
        posting["image"] = absolute(image)
    return {
        "post": post,
        "recent": [p for p in _recent() if p.pk != post.pk][: RECENT - 1],
        "related": blog.related_posts(post),
        "share_url": url,
        "seo": _seo(
            title=post.title,
            description=post.excerpt,
            path=post.get_absolute_url(),
            image=image,
            kind="article",
        ),
        "json_ld": json_ld(posting),
        "srcset": srcset(post.image_renditions),
        "image": image_url(post.image_renditions),
        "author_photo": image_url(author.photo_renditions, 480),
    }


@login_not_required
def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    def build() -> HttpResponse:
        post = get_object_or_404(
            blog.live_posts().prefetch_related("categories", "tags"), slug=slug
        )
        return render(request, "website/post_detail.html", post_context(request, post))

    return cached_page(request, build)


@login_not_required
@otp_exempt
def image(request: HttpRequest, name: str) -> FileResponse:
    """A resized picture (new names on every upload, so cached for a year)."""
    if not _IMAGE_NAME.match(name) or not default_storage.exists(name):
        raise Http404("No such picture")
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


class LatestPosts(Feed):  # type: ignore[type-arg]
    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def title(self) -> str:
        return f"{clinic_for(self.request).name}: articles"

    def description(self) -> str:
        return "New articles on ketamine-assisted psychotherapy and mental health."

    def link(self) -> str:
        return reverse("website:post_list")

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request

    def items(self) -> list[Post]:
        return list(blog.live_posts()[:20])

    def item_title(self, item: Post) -> str:
        return item.title

    def item_description(self, item: Post) -> str:
        return item.excerpt

    def item_pubdate(self, item: Post) -> Any:
        return item.publish_at

    def item_updateddate(self, item: Post) -> Any:
        return item.updated_at

    def item_author_name(self, item: Post) -> str:
        return str(item.author)


class LatestPostsAtom(LatestPosts):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()


_rss, _atom = LatestPosts(), LatestPostsAtom()


@login_not_required
def rss_feed(request: HttpRequest) -> HttpResponse:
    return cached_page(request, lambda: _rss(request))


@login_not_required
def atom_feed(request: HttpRequest) -> HttpResponse:
    return cached_page(request, lambda: _atom(request))


class PostSitemap(Sitemap):  # type: ignore[type-arg]
    changefreq = "monthly"

    def items(self) -> QuerySet[Post]:
        return Post.objects.live().order_by("-publish_at")

    def lastmod(self, item: Post) -> Any:
        return item.updated_at


class PageSitemap(Sitemap):  # type: ignore[type-arg]
    changefreq = "monthly"

    def items(self) -> list[str]:
        return ["website:home", "website:post_list"] + [
            f"website:{key}" for key in SitePage.Key.values if key != SitePage.Key.HOME
        ]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS: dict[str, type[Sitemap[Any]] | Sitemap[Any]] = {
    "pages": PageSitemap,
    "posts": PostSitemap,
}


@login_not_required
def sitemap(request: HttpRequest) -> HttpResponse:
    def build() -> HttpResponse:
        response = sitemap_view(request, sitemaps=SITEMAPS)
        response.render()
        return response

    return cached_page(request, build)


@login_not_required
@otp_exempt
def robots_txt(request: HttpRequest) -> HttpResponse:
    private = [
        "/accounts/", "/patients/", "/portal/", "/measures/", "/safety/", "/audit/",
        "/intake/", "/schedule/", "/site/", "/calendar/", "/register/", "/protocols/",
        "/appointment-messages/",
    ]  # fmt: skip
    lines = ["User-agent: *", *[f"Disallow: {p}" for p in private], ""]
    lines.append(f"Sitemap: {absolute(reverse('website:sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
