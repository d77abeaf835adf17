import uuid
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from kapcare.lib.canada import Province
from kapcare.lib.phones import format_phone
from kapcare.lib.storage import GeneratedName
from kapcare.scheduling.reminders import parse_reminder_hours

TIME_ZONE_CHOICES = [
    (tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz
]

DEFAULT_CRISIS_RESOURCES = (
    "If you are thinking about suicide or are in crisis, call or text 9-8-8 "
    "(Suicide Crisis Helpline, 24/7, in English and French). "
    "In an emergency, call 9-1-1 or go to your nearest emergency department."
)


DEFAULT_ALERT_RESPONSE_STATEMENT = (
    "Your care team reviews answers like these during clinic hours and will contact "
    "you. If you need help before then, call or text 9-8-8 at any time, or call 9-1-1."
)


def validate_reminder_hours(value: str) -> None:
    try:
        parse_reminder_hours(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class PortalBooking(models.TextChoices):
    REQUESTS = "requests", "Patients ask; staff book"
    SELF = "self", "Patients book the types marked for self-booking"


class ClinicProfile(models.Model):
    """The clinic's identity, used by every page, email and printout (one row)."""

    name = models.CharField(max_length=150, default="Kapcare Clinic")
    logo = models.ImageField(upload_to=GeneratedName("clinic"), blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True, default="Toronto")
    province = models.CharField(
        max_length=2, choices=Province.choices, default=Province.ON
    )
    postal_code = models.CharField(max_length=7, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    hours = models.TextField(
        blank=True,
        help_text="Opening hours as patients should read them, one line a day.",
    )
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="America/Toronto"
    )
    crisis_resources = models.TextField(
        default=DEFAULT_CRISIS_RESOURCES,
        help_text="Shown wherever a patient may need urgent help.",
    )
    alert_response_statement = models.TextField(
        default=DEFAULT_ALERT_RESPONSE_STATEMENT,
        help_text="Shown to a patient whose answers raised a safety alert: when the "
        "clinic will respond.",
    )
    high_alert_deadline_minutes = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="A high alert not acknowledged within this time pages the on-call "
        "physician; twice this time, the clinic admins.",
    )
    moderate_alert_deadline_business_days = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="The same for a moderate alert, in business days (weekends and "
        "statutory holidays skipped).",
    )
    relapse_warning_enabled = models.BooleanField(
        default=True,
        help_text="Raise a 'possible relapse' alert for patients who responded.",
    )
    relapse_consecutive_measures = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="How many measures in a row must meet the relapse rule.",
    )
    first_contact_business_days = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A new consultation request not contacted within this many "
        "business days is highlighted on the intake board.",
    )
    appointment_reminder_hours = models.CharField(
        max_length=40,
        default="48,24",
        validators=[validate_reminder_hours],
        help_text="When to remind patients before an appointment, in hours, "
        "separated by commas (e.g. 48,24). Leave empty for no reminders.",
    )
    portal_booking = models.CharField(
        max_length=10,
        choices=PortalBooking.choices,
        default=PortalBooking.REQUESTS,
        help_text="Whether patients book in the portal themselves (only the "
        "appointment types marked for self-booking) or ask the clinic.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @property
    def reminder_hours(self) -> tuple[int, ...]:
        return parse_reminder_hours(self.appointment_reminder_hours)

    @property
    def has_own_crisis_text(self) -> bool:
        """Whether the clinic added to the national default (e.g. a local crisis line)."""
        return self.crisis_resources.strip() != DEFAULT_CRISIS_RESOURCES

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(
            p
            for p in [
                f"{self.city}," if self.city else "",
                self.province,
                self.postal_code,
            ]
            if p
        )
        return [line for line in [self.street_address, city_line] if line]


def clinic_profile_values(profile: ClinicProfile) -> list[object]:
    """What the clinic details form shows, in a fixed order (the logo by its stored
    name): the form's `seen` fingerprint and the save's lost-update check use it."""
    return [
        profile.name, profile.logo.name or "", profile.street_address, profile.city,
        profile.province, profile.postal_code, profile.phone, profile.email,
        profile.hours, profile.time_zone, profile.crisis_resources,
        profile.alert_response_statement, profile.high_alert_deadline_minutes,
        profile.moderate_alert_deadline_business_days, profile.relapse_warning_enabled,
        profile.relapse_consecutive_measures, profile.first_contact_business_days,
        profile.appointment_reminder_hours, profile.portal_booking,
    ]  # fmt: skip


def get_clinic_profile() -> ClinicProfile:
    profile, _ = ClinicProfile.objects.get_or_create(pk=1)
    return profile


def clinic_zone() -> zoneinfo.ZoneInfo:
    """The clinic's own time zone (its profile's), whatever zone is active."""
    return zoneinfo.ZoneInfo(get_clinic_profile().time_zone)


class StaffProfile(models.Model):
    """A clinician or staff member as the public sees them: the team page and the
    author box on articles."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="public_profile",
    )  # fmt: skip
    name = models.CharField(max_length=120)
    credentials = models.CharField(
        max_length=120, blank=True, help_text="e.g. MD, FRCPC or RP, MSW"
    )
    role_title = models.CharField(
        "role", max_length=120, blank=True, help_text="e.g. Medical director"
    )
    bio = models.TextField(blank=True, max_length=2000)
    photo = models.ImageField(upload_to=GeneratedName("originals/team"), blank=True)
    photo_renditions = models.JSONField(default=dict, blank=True, editable=False)
    on_team_page = models.BooleanField("show on the team page", default=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


def staff_profile_values(profile: StaffProfile) -> list[object]:
    """What the team profile form shows (the photo by its stored name), in a fixed
    order, for its lost-update check."""
    return [
        profile.name, profile.credentials, profile.role_title, profile.bio,
        profile.photo.name or "", profile.on_team_page, profile.order,
        profile.user_id or "",
    ]  # fmt: skip


class Category(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)
    slug = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PostQuerySet(models.QuerySet["Post"]):
    def live(self, now: datetime | None = None) -> "PostQuerySet":
        """What the public sees: published, and its publishing time has come."""
        return self.filter(
            status=Post.Status.PUBLISHED, publish_at__lte=now or timezone.now()
        )


class Post(models.Model):
    """An article on the clinic's blog, written in Markdown."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published (at its publishing time)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=150)
    slug = models.SlugField(max_length=90, unique=True)
    author = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="posts"
    )
    categories = models.ManyToManyField(Category, blank=True, related_name="posts")
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    excerpt = models.CharField(
        max_length=300, help_text="One or two sentences for lists, feeds and shares."
    )
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(editable=False, default="")
    reading_minutes = models.PositiveSmallIntegerField(editable=False, default=1)
    featured_image = models.ImageField(
        upload_to=GeneratedName("originals/blog"), blank=True
    )
    featured_image_alt = models.CharField(
        "featured image description (alt text)", max_length=200, blank=True
    )
    image_renditions = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When it appears on the site (a future time schedules it).",
    )  # fmt: skip
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at"]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="website_post_live")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="published")
                | models.Q(publish_at__isnull=False),
                name="website_post_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("website:post_detail", args=[self.slug])

    @property
    def is_live(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at <= timezone.now()
        )

    @property
    def was_updated(self) -> bool:
        return (
            self.publish_at is not None
            and self.updated_at - self.publish_at > timedelta(days=1)
        )


def post_values(post: Post) -> list[object]:
    """What the article editor shows of a saved post (the picture by its stored
    name, topics by id, tags by name), in a fixed order, for its lost-update check."""
    return [
        post.title, post.slug, post.author_id, post.excerpt, post.body,
        post.featured_image.name or "", post.featured_image_alt, post.status,
        post.publish_at.isoformat() if post.publish_at else "",
        sorted(post.categories.values_list("pk", flat=True)),
        sorted(post.tags.values_list("name", flat=True)),
    ]  # fmt: skip


class SitePage(models.Model):
    """A clinic-editable page of the public site (home, services, team, FAQ,
    locations and hours, contact, privacy), written in Markdown."""

    class Key(models.TextChoices):
        HOME = "home", "Home"
        SERVICES = "services", "Services"
        TEAM = "team", "Team"
        FAQ = "faq", "Questions"
        LOCATIONS = "locations", "Locations and hours"
        CONTACT = "contact", "Contact"
        PRIVACY = "privacy", "Privacy policy"

    key = models.CharField(max_length=12, choices=Key.choices, unique=True)
    title = models.CharField(max_length=150)
    description = models.CharField(
        max_length=300, help_text="Shown by search engines and when the page is shared."
    )
    lead = models.CharField(max_length=400, blank=True, help_text="The opening line.")
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title


def site_page_values(page: SitePage) -> list[object]:
    """What the page editor shows, in a fixed order, for its lost-update check."""
    return [page.title, page.description, page.lead, page.body]
