from datetime import datetime

from django import template
from django.utils import timezone

from kapcare.website.content import relative_date

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """ "7 days ago", "3 weeks ago", "2 months ago" (in the clinic's time zone)."""
    if value is None:
        return ""
    return relative_date(timezone.localtime(value), timezone.localtime())


@register.filter
def first_rendition(renditions: dict[str, str]) -> str:
    """The smallest resized copy's name (for a thumbnail)."""
    return renditions[min(renditions, key=int)] if renditions else ""
