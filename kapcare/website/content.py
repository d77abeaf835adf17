"""Public-site text: Markdown to sanitised HTML, reading time, relative dates,
slugs (pure Python, no Django).

Markdown is CommonMark (markdown-it-py) and the HTML is cleaned by nh3 (the
Ammonia sanitiser): only the tags below survive, no script, style or event
handler, links only to http(s), mailto and tel with rel="noopener noreferrer",
and images only from this site (a relative path), so a page never loads
anything from elsewhere.
"""

import math
import re
import unicodedata
from datetime import datetime

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

# Brysbaert M. How many words do we read per minute? A review and meta-analysis of
# reading rate. J Mem Lang. 2019;109:104047: silent reading of non-fiction, 238 wpm.
WORDS_PER_MINUTE = 238

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _only_local_images(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        local = value.startswith("/") and not value.startswith("//")
        return value if local else None
    if element == "a" and attribute == "href" and not value.strip():
        return None  # "[text]()": an empty link goes nowhere
    return value


def render_markdown(text: str) -> str:
    """Markdown -> HTML safe to show to anyone. Headings start at h2 (the page
    title is the h1)."""
    html = _parser.render(text)
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=_only_local_images,
        strip_comments=True,
    )


def plain_text(text: str) -> str:
    """The words of a Markdown text, for reading time, search and descriptions."""
    html = _parser.render(text)
    words = nh3.clean(html, tags=set())
    return " ".join(words.replace("&amp;", "&").split())


def reading_minutes(text: str) -> int:
    words = len(plain_text(text).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def relative_date(then: datetime, now: datetime) -> str:
    """ "today", "yesterday", "7 days ago", "3 weeks ago", "2 months ago", "1 year
    ago": by calendar days between the two local dates."""
    days = (now.date() - then.date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        weeks = days // 7
        return f"{weeks} weeks ago"
    if days < 365:
        months = days // 30
        return f"{months} months ago"
    years = days // 365
    return "1 year ago" if years == 1 else f"{years} years ago"


def slugify_title(title: str, *, limit: int = 80) -> str:
    """ "How does ketamine affect the brain?" -> "how-does-ketamine-affect-the-brain"."""
    ascii_title = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:limit].rstrip("-") or "post"
