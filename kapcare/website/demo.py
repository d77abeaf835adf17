"""The demo clinic's public site: team profiles for the demo clinicians, topics,
and six original articles with generated (abstract) pictures, published over
the last four months so "5 days ago" and "4 months ago" both show. Only when the
blog is empty."""

import io
import math
import random
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from kapcare.accounts.models import User
from kapcare.patients.demo import DEMO_DOMAIN
from kapcare.website import blog
from kapcare.website.content import slugify_title
from kapcare.website.demo_posts import POSTS
from kapcare.website.models import Category, Post, StaffProfile

PEOPLE = [
    ("physician", "MD, FRCPC", "Medical director",
     "Psychiatrist who leads the clinic's ketamine programme and reviews every "
     "treatment plan."),
    ("therapist", "RP, MSW", "Psychotherapist",
     "Prepares patients for their sessions and leads integration psychotherapy."),
    ("nurse", "RN", "Treatment nurse",
     "Stays with patients during every dose and checks their vital signs."),
]  # fmt: skip
PALETTES = [
    ((31, 95, 139), (120, 190, 200)), ((46, 125, 90), (200, 225, 170)),
    ((90, 70, 140), (230, 190, 150)), ((40, 80, 110), (250, 220, 160)),
    ((110, 130, 90), (235, 235, 205)), ((60, 60, 90), (170, 200, 230)),
]  # fmt: skip


def demo_picture(seed: int, width: int = 1600, height: int = 900) -> ContentFile[bytes]:
    """An abstract picture (gradient and soft circles), made here: no stock photos."""
    rng = random.Random(seed)  # noqa: S311 - decoration, not security
    top, bottom = PALETTES[seed % len(PALETTES)]
    picture = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(7):
        r = rng.randint(80, 320)
        x, y = rng.randint(0, width), rng.randint(0, height)
        shade = tuple(min(255, c + 40) for c in bottom)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=shade, width=6)
    for i in range(0, width, 40):
        dot = height * 0.7 + math.sin(i / 90 + seed) * 40
        draw.ellipse([i, dot, i + 8, dot + 8], fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return ContentFile(buffer.getvalue(), name=f"demo-{seed}.jpg")


def seed_demo_site() -> int:
    """Returns the number of posts created (0 when the blog has posts already)."""
    if Post.objects.exists():
        return 0
    now = timezone.now()
    with transaction.atomic():
        authors = {}
        for order, (slug, credentials, role_title, bio) in enumerate(PEOPLE):
            user = User.objects.filter(email=f"{slug}@{DEMO_DOMAIN}").first()
            profile = StaffProfile(
                user=user, name=user.full_name if user else slug.title(),
                credentials=credentials, role_title=role_title, bio=bio, order=order,
            )  # fmt: skip
            authors[slug] = blog.save_profile(
                request=None, profile=profile, photo_changed=False
            )
        for number, row in enumerate(POSTS):
            category, _ = Category.objects.get_or_create(
                slug=slugify_title(row["category"]), defaults={"name": row["category"]}
            )
            post = Post(
                title=row["title"], slug=row["slug"], excerpt=row["excerpt"],
                body=row["body"], featured_image_alt=row["alt"],
                author=authors["physician" if number % 2 == 0 else "therapist"],
                status=Post.Status.PUBLISHED,
                publish_at=now - timedelta(days=row["days_ago"], hours=number),
            )  # fmt: skip
            post.featured_image.save(
                f"{row['slug'][:40]}.jpg", demo_picture(number), save=False
            )
            blog.save_post(
                request=None, post=post, categories=[category],
                tags=blog.tags_from_text(row["tags"]), image_changed=True, by=None,
            )  # fmt: skip
            Post.objects.filter(pk=post.pk).update(updated_at=post.publish_at)
    return len(POSTS)
