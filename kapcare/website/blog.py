"""Writing the public site: posts, pages and team profiles. Each save renders the
Markdown once (sanitised), keeps the search text and reading time, resizes a new
picture, and is written to the audit log."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet, Value
from django.db.models.expressions import Combinable
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, last_changed_by, record_event
from kapcare.lib.concurrency import check_unchanged
from kapcare.website.content import (
    plain_text,
    reading_minutes,
    render_markdown,
    slugify_title,
)
from kapcare.website.images import make_renditions
from kapcare.website.models import (
    Category,
    Post,
    SitePage,
    StaffProfile,
    Tag,
    post_values,
    site_page_values,
    staff_profile_values,
)

SEARCH_LIMIT = 100
Item = TypeVar("Item", bound=models.Model)


def _audit(
    request: HttpRequest | None, action: str, kind: str, pk: object, summary: str
) -> None:
    record_event(
        request=request, action=action, information=Information.CLINIC,
        object_type=kind, object_id=pk, summary=summary,
    )  # fmt: skip


def tags_from_text(text: str) -> list[Tag]:
    """ "ketamine, Anxiety , ketamine" -> the two tags, created when new."""
    names: dict[str, str] = {}
    for raw in text.split(","):
        name = " ".join(raw.split())[:40]
        if name:
            names.setdefault(slugify_title(name, limit=40), name)
    tags = []
    for slug, name in names.items():
        tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
        tags.append(tag)
    return tags


def save_post(
    *,
    request: HttpRequest | None,
    post: Post,
    categories: Any,
    tags: list[Tag],
    image_changed: bool,
    by: User | None,
    seen: str | None = None,
) -> Post:
    """Save a post from the editor (new or changed). A change is refused with
    ChangedMeanwhileError unless `seen` is the fingerprint of the post as saved."""
    creating = post._state.adding
    post.body_html = render_markdown(post.body)
    post.reading_minutes = reading_minutes(post.body)
    post.search_text = " ".join(
        [post.title, post.excerpt, plain_text(post.body)]
    ).lower()
    if post.status == Post.Status.PUBLISHED and post.publish_at is None:
        post.publish_at = timezone.now()
    post.updated_at = timezone.now()
    copies = _resized(post.featured_image, "blog") if image_changed else None
    with _discarded_if_refused(copies), transaction.atomic():
        stored = _locked_unchanged(
            Post, post, seen, post_values, "this post", "blog_post"
        )
        old_files: list[str] = []
        if copies is not None:
            old_files = _files_of(stored)
            post.image_renditions = copies
        post.save()
        _discard_on_commit(old_files, keep=_files_of(post))
        post.categories.set(categories)
        post.tags.set(tags)
        when = ""
        if post.status == Post.Status.PUBLISHED and post.publish_at is not None:
            local = timezone.localtime(post.publish_at)
            when = (
                f", scheduled for {local:%Y-%m-%d %H:%M}"
                if post.publish_at > timezone.now()
                else ", published"
            )
        _audit(
            request, Action.CREATE if creating else Action.UPDATE, "blog_post",
            post.pk, f"{'Wrote' if creating else 'Edited'} “{post.title}”{when}",
        )  # fmt: skip
    return post


def _locked_unchanged(
    model: type[Item], item: Item, seen: str | None,
    values: Callable[[Item], list[object]], what: str, kind: str,
) -> Item | None:  # fmt: skip
    """The saved row of an edited item, locked, after checking that it is what the
    editor saw (raises ChangedMeanwhileError); None for a new item."""
    if item._state.adding:
        return None
    # Two editors of one item: the lock makes the check and the save one step, so
    # the second save of a stale form is refused instead of undoing the first.
    stored = model._default_manager.select_for_update().get(pk=item.pk)
    check_unchanged(
        seen, values(stored), what=what, changed_by=last_changed_by(kind, item.pk)
    )
    return stored


def delete_post(*, request: HttpRequest | None, post: Post) -> None:
    with transaction.atomic():
        _audit(request, Action.UPDATE, "blog_post", post.pk, f"Deleted “{post.title}”")
        files = _files_of(post)
        post.delete()
        _discard_on_commit(files, keep=[])


def _files_of(item: Post | StaffProfile | None) -> list[str]:
    """The stored picture files of a post or profile: original and copies."""
    if item is None:
        return []
    if isinstance(item, Post):
        original, copies = item.featured_image, item.image_renditions
    else:
        original, copies = item.photo, item.photo_renditions
    return [*([original.name] if original else []), *copies.values()]


def _resized(picture: Any, folder: str) -> dict[str, str]:
    """The picture's resized copies, made before the save's transaction: on SQLite
    that holds the one write lock of the whole database, and resizing takes a while."""
    return make_renditions(picture, folder) if picture else {}


@contextmanager
def _discarded_if_refused(copies: dict[str, str] | None) -> Iterator[None]:
    """Remove copies made for a save that did not happen (refused or failed)."""
    try:
        yield
    except BaseException:
        for name in (copies or {}).values():
            default_storage.delete(name)
        raise


def _discard_on_commit(names: list[str], *, keep: list[str]) -> None:
    """Remove replaced pictures once the change is saved (never before: a rolled
    back save must keep its files)."""
    doomed = [name for name in names if name and name not in keep]

    def discard() -> None:
        for name in doomed:
            default_storage.delete(name)

    if doomed:
        transaction.on_commit(discard)


def save_page(
    *, request: HttpRequest | None, page: SitePage, seen: str | None = None
) -> SitePage:
    """Save an edited page; ChangedMeanwhileError unless `seen` matches the saved one."""
    page.body_html = render_markdown(page.body)
    page.updated_at = timezone.now()
    with transaction.atomic():
        _locked_unchanged(
            SitePage, page, seen, site_page_values, "this page", "site_page"
        )
        page.save()
        _audit(
            request, Action.UPDATE, "site_page", page.pk, f"Edited the {page.key} page"
        )
    return page


def save_profile(
    *, request: HttpRequest | None, profile: StaffProfile, photo_changed: bool,
    seen: str | None = None,
) -> StaffProfile:  # fmt: skip
    """Save a team profile (new or changed); a change is refused with
    ChangedMeanwhileError unless `seen` matches the profile as saved."""
    creating = profile._state.adding
    profile.updated_at = timezone.now()
    copies = _resized(profile.photo, "team") if photo_changed else None
    with _discarded_if_refused(copies), transaction.atomic():
        stored = _locked_unchanged(
            StaffProfile, profile, seen, staff_profile_values,
            "this team profile", "staff_profile",
        )  # fmt: skip
        old_files: list[str] = []
        if copies is not None:
            old_files = _files_of(stored)
            profile.photo_renditions = copies
        profile.save()
        _discard_on_commit(old_files, keep=_files_of(profile))
        _audit(
            request, Action.CREATE if creating else Action.UPDATE, "staff_profile",
            profile.pk, f"{'Added' if creating else 'Edited'} {profile.name} on the team",
        )  # fmt: skip
    return profile


def live_posts() -> "QuerySet[Post]":
    return Post.objects.live().select_related("author").order_by("-publish_at", "-pk")


def clean_query(text: str) -> str:
    """A search box's text without control characters (PostgreSQL refuses NUL),
    spaces collapsed, at most 100 characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:100]


def search_posts(query: str) -> "QuerySet[Post]":
    """Every word must appear (title, excerpt or text), case-insensitive."""
    posts = live_posts()
    for word in clean_query(query).lower().split()[:8]:
        posts = posts.filter(search_text__contains=word)
    return posts


def related_posts(post: Post, limit: int = 3) -> list[Post]:
    """Live posts sharing a category or tag, most shared first, then newest."""
    categories = list(post.categories.values_list("pk", flat=True))
    tags = list(post.tags.values_list("pk", flat=True))
    if not categories and not tags:
        return []
    shared: Combinable = Value(0)
    if categories:
        shared += Count(
            "categories", filter=Q(categories__in=categories), distinct=True
        )
    if tags:
        shared += Count("tags", filter=Q(tags__in=tags), distinct=True)
    return list(
        live_posts()
        .exclude(pk=post.pk)
        .annotate(shared=shared)
        .filter(shared__gt=0)
        .order_by("-shared", "-publish_at")[:limit]
    )


def live_categories() -> "QuerySet[Category]":
    """Topics with at least one public article (for the sidebar)."""
    return Category.objects.filter(posts__in=live_posts().values("pk")).distinct()
