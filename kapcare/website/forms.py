from typing import Any

from django import forms
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.lib.canada import clean_canadian_phone, clean_postal_code
from kapcare.lib.edit_forms import add_seen_field
from kapcare.website.content import slugify_title
from kapcare.website.images import check_picture
from kapcare.website.models import (
    ClinicProfile,
    Post,
    SitePage,
    StaffProfile,
    clinic_profile_values,
    post_values,
    site_page_values,
    staff_profile_values,
)


class ClinicProfileForm(forms.ModelForm[ClinicProfile]):
    class Meta:
        model = ClinicProfile
        fields = [
            "name", "logo", "street_address", "city", "province", "postal_code", "phone",
            "email", "hours", "time_zone", "crisis_resources", "alert_response_statement",
            "high_alert_deadline_minutes", "moderate_alert_deadline_business_days",
            "relapse_warning_enabled", "relapse_consecutive_measures",
            "first_contact_business_days", "appointment_reminder_hours",
            "portal_booking",
        ]  # fmt: skip
        widgets = {
            "hours": forms.Textarea(attrs={"rows": 4}),
            "crisis_resources": forms.Textarea(attrs={"rows": 4}),
            "alert_response_statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_seen_field(self, clinic_profile_values)

    def clean_phone(self) -> str:
        return clean_canadian_phone(str(self.cleaned_data.get("phone", "")))

    def clean_postal_code(self) -> str:
        return clean_postal_code(str(self.cleaned_data.get("postal_code", "")))

    def clean_logo(self) -> object:
        logo = self.cleaned_data.get("logo")
        if logo and getattr(logo, "size", 0) > 1024 * 1024:
            raise forms.ValidationError("The logo must be under 1 MB.")
        if logo and hasattr(logo, "content_type"):
            check_picture(logo)  # served as uploaded: a real, whole picture only
        return logo


RESERVED_SLUGS = {"feed", "category", "tag"}


class PostForm(forms.ModelForm[Post]):
    """The article editor. Tags are typed, comma separated; the slug follows the
    title unless given."""

    tag_names = forms.CharField(
        label="Tags", required=False, max_length=300,
        help_text="Comma separated, e.g. depression, research",
    )  # fmt: skip
    slug = forms.SlugField(
        max_length=90, required=False,
        help_text="The end of the address; made from the title when left empty.",
    )  # fmt: skip
    publish_at = forms.DateTimeField(
        required=False, label="Publishing time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Empty: now, when published. A future time schedules the post.",
    )  # fmt: skip

    class Meta:
        model = Post
        fields = [
            "title", "slug", "author", "categories", "tag_names", "excerpt", "body",
            "featured_image", "featured_image_alt", "status", "publish_at",
        ]  # fmt: skip
        widgets = {
            "body": forms.Textarea(attrs={"rows": 20}),
            "excerpt": forms.Textarea(attrs={"rows": 2}),
            "categories": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["tag_names"].initial = ", ".join(
                t.name for t in self.instance.tags.all()
            )
        add_seen_field(self, post_values)

    def clean_featured_image(self) -> object:
        image = self.cleaned_data.get("featured_image")
        if image and hasattr(image, "content_type"):
            check_picture(image)
        return image

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        title = data.get("title") or ""
        slug = data.get("slug") or slugify_title(title)
        data["slug"] = slug
        if data.get("status") == Post.Status.PUBLISHED and not data.get("publish_at"):
            data["publish_at"] = timezone.now()
        clash = Post.objects.filter(slug=slug).exclude(pk=self.instance.pk)
        if slug in RESERVED_SLUGS:
            self.add_error(
                "slug", f"“{slug}” is used by the site itself; choose another."
            )
        elif title and clash.exists():
            self.add_error("slug", "Another post has this address; change the slug.")
        if (
            data.get("featured_image")
            and not (data.get("featured_image_alt") or "").strip()
        ):
            self.add_error(
                "featured_image_alt",
                "Describe the picture for people who cannot see it (alt text).",
            )
        return data


class SitePageForm(forms.ModelForm[SitePage]):
    class Meta:
        model = SitePage
        fields = ["title", "description", "lead", "body"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 20}),
            "description": forms.Textarea(attrs={"rows": 2}),
            "lead": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_seen_field(self, site_page_values)


class StaffProfileForm(forms.ModelForm[StaffProfile]):
    class Meta:
        model = StaffProfile
        fields = [
            "name", "credentials", "role_title", "bio", "photo", "on_team_page",
            "order", "user",
        ]  # fmt: skip
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}
        labels = {"user": "Staff account (optional)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.fields["user"]
        assert isinstance(user, forms.ModelChoiceField)  # noqa: S101 - type narrowing
        user.queryset = User.objects.filter(
            kind=User.Kind.STAFF, is_active=True
        ).order_by("full_name")
        add_seen_field(self, staff_profile_values)

    def clean_photo(self) -> object:
        photo = self.cleaned_data.get("photo")
        if photo and hasattr(photo, "content_type"):
            check_picture(photo)
        return photo
