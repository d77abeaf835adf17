"""Staff write the public site: articles with a live preview, the clinic's pages
and the team. Drafts and scheduled posts are seen only here (and in the staff
preview, which shows the post exactly as the public will)."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import shown_again
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.website import blog
from kapcare.website.content import render_markdown
from kapcare.website.forms import PostForm, SitePageForm, StaffProfileForm
from kapcare.website.models import (
    Post,
    SitePage,
    StaffProfile,
    post_values,
    site_page_values,
    staff_profile_values,
)
from kapcare.website.public_views import post_context

WRITE = "website.change_post"
M = TypeVar("M", Post, SitePage, StaffProfile)
Form = TypeVar("Form", PostForm, SitePageForm, StaffProfileForm)


@staff_permission_required(WRITE)
def editor_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    posts = Post.objects.select_related("author").order_by(
        "status", "-publish_at", "-updated_at"
    )
    context = {
        "posts": posts[:200],
        "pages": SitePage.objects.all(),
        "team": StaffProfile.objects.all(),
    }
    return render(request, "website/editor/home.html", context)


def _edit_post(request: AuthenticatedHttpRequest, post: Post) -> HttpResponse:
    form = PostForm(request.POST or None, request.FILES or None, instance=post)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = blog.save_post(
                request=request, post=form.save(commit=False),
                categories=form.cleaned_data["categories"],
                tags=blog.tags_from_text(form.cleaned_data["tag_names"]),
                image_changed="featured_image" in form.changed_data, by=request.user,
                seen=form.cleaned_data.get("seen"),
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            post.refresh_from_db()
            form = _kept(PostForm, request, post, post_values, exc)
            status = 409
        else:
            state = (
                "published"
                if saved.is_live
                else "scheduled"
                if saved.status == Post.Status.PUBLISHED
                else "saved as a draft"
            )
            messages.success(request, f"“{saved.title}” {state}.")
            return redirect("website:post_edit", post_id=saved.pk)
    context = {
        "form": form, "post": post,
        "preview": render_markdown(form["body"].value() or ""),
    }  # fmt: skip
    return render(request, "website/editor/post_form.html", context, status=status)


def _kept(
    form_class: type[Form], request: AuthenticatedHttpRequest, saved: M,
    values: Callable[[M], list[object]], exc: ChangedMeanwhileError,
) -> Form:  # fmt: skip
    """The form again after someone else saved first (shown_again). A chosen picture
    must be chosen again: browsers cannot refill it. The form gets its own copy of
    `saved`, which the page keeps showing as saved."""
    fresh = type(saved)._default_manager.get(pk=saved.pk)
    return shown_again(
        lambda data: form_class(data, instance=fresh), request.POST,
        fingerprint(values(saved)), exc,
    )  # fmt: skip


@staff_permission_required("website.add_post")
def post_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    post = Post(author=StaffProfile.objects.filter(user=request.user).first())
    return _edit_post(request, post)


@staff_permission_required(WRITE)
def post_edit(request: AuthenticatedHttpRequest, post_id: str) -> HttpResponse:
    return _edit_post(request, get_object_or_404(Post, pk=post_id))


@staff_permission_required("website.delete_post")
def post_delete(request: AuthenticatedHttpRequest, post_id: str) -> HttpResponse:
    post = get_object_or_404(Post, pk=post_id)
    if request.method == "POST":
        blog.delete_post(request=request, post=post)
        messages.success(request, f"“{post.title}” deleted.")
        return redirect("website:editor_home")
    return render(request, "website/editor/post_delete.html", {"post": post})


@staff_permission_required(WRITE)
def post_preview(request: AuthenticatedHttpRequest, post_id: str) -> HttpResponse:
    """The post as the public will see it, whatever its state."""
    post = get_object_or_404(
        Post.objects.select_related("author").prefetch_related("categories", "tags"),
        pk=post_id,
    )
    context = {**post_context(request, post), "staff_preview": True}
    response = render(request, "website/post_detail.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@staff_permission_required(WRITE)
@require_POST
def markdown_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The editor's live preview (htmx): the same sanitised HTML the page shows."""
    html = render_markdown(request.POST.get("body", "")[:100_000])
    return HttpResponse(html or '<p class="muted">Nothing to preview yet.</p>')


@staff_permission_required("website.change_sitepage")
def page_edit(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    page = get_object_or_404(SitePage, key=key)
    form = SitePageForm(request.POST or None, instance=page)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            blog.save_page(
                request=request, page=form.save(commit=False),
                seen=form.cleaned_data["seen"],
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            page.refresh_from_db()
            form = _kept(SitePageForm, request, page, site_page_values, exc)
            status = 409
        else:
            messages.success(request, f"{page.title} saved.")
            return redirect("website:editor_home")
    context = {"form": form, "page": page, "preview": render_markdown(page.body)}
    return render(request, "website/editor/page_form.html", context, status=status)


def _edit_profile(
    request: AuthenticatedHttpRequest, profile: StaffProfile
) -> HttpResponse:
    form = StaffProfileForm(
        request.POST or None, request.FILES or None, instance=profile
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            blog.save_profile(
                request=request, profile=form.save(commit=False),
                photo_changed="photo" in form.changed_data,
                seen=form.cleaned_data.get("seen"),
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            profile.refresh_from_db()
            form = _kept(StaffProfileForm, request, profile, staff_profile_values, exc)
            status = 409
        else:
            messages.success(request, f"{profile.name} saved.")
            return redirect("website:editor_home")
    return render(
        request, "website/editor/profile_form.html",
        {"form": form, "profile": profile}, status=status,
    )  # fmt: skip


@staff_permission_required("website.change_staffprofile")
def profile_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _edit_profile(request, StaffProfile())


@staff_permission_required("website.change_staffprofile")
def profile_edit(request: AuthenticatedHttpRequest, profile_id: str) -> HttpResponse:
    return _edit_profile(request, get_object_or_404(StaffProfile, pk=profile_id))
