"""Markdown to safe HTML (an XSS list and a property test), reading time,
relative dates and slugs."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapcare.website.content import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    reading_minutes,
    relative_date,
    render_markdown,
    slugify_title,
)

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<img src=x onerror=alert(1)>",
    '<img src="/ok.png" onerror="alert(1)">',
    "![x](javascript:alert(1))",
    "![x](https://evil.example/pixel.png)",
    "![x](//evil.example/pixel.png)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "[x](vbscript:msgbox(1))",
    "<object data=x></object><embed src=x>",
    "<form action=https://evil.example><input name=q></form>",
]


class Shape(HTMLParser):
    """Collects every tag and attribute the browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def shape(html: str) -> Shape:
    parser = Shape()
    parser.feed(html)
    return parser


def assert_safe(html: str) -> None:
    for tag, attrs in shape(html).tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, (tag, name)
            if name == "href":
                # an allowed scheme, or none at all (a link on this site, "#", "page/")
                assert value and urlsplit(value).scheme.lower() in {
                    "", "http", "https", "mailto", "tel",
                }, value  # fmt: skip
            if name == "src":
                assert (value or "").startswith("/") and not (value or "").startswith(
                    "//"
                ), value


@pytest.mark.parametrize("payload", XSS)
def test_known_attacks_are_neutralised(payload: str) -> None:
    html = render_markdown(f"Hello\n\n{payload}\n\nBye")
    assert_safe(html)
    lowered = html.lower()
    for opening in (
        "<script",
        "<svg",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<style",
    ):
        assert opening not in lowered  # at most shown as text (&lt;script…)
    assert "Hello" in html and "Bye" in html


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("<>/=\"' abcjsvgonerrimpt:()[]!#*&;1")),
        max_size=120,
    )
)
def test_any_text_renders_only_allowed_tags_and_attributes(text: str) -> None:
    assert_safe(render_markdown(text))


def test_markdown_features_survive() -> None:
    html = render_markdown(
        "# Title\n\n**bold** _it_ [link](https://example.org) ![pic](/images/x.jpg)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\n\n- item"
    )
    assert "<h2>Title</h2>" in html  # the page title is the only h1
    assert '<a href="https://example.org" rel="noopener noreferrer">link</a>' in html
    assert '<img src="/images/x.jpg" alt="pic">' in html
    assert "<table>" in html and "<blockquote>" in html and "<li>item</li>" in html


def test_reading_time_is_words_over_238_a_minute() -> None:
    assert reading_minutes("word " * 238) == 1
    assert reading_minutes("word " * 239) == 2
    assert reading_minutes("") == 1


NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (0, "today"), (1, "yesterday"), (7, "7 days ago"), (13, "13 days ago"),
        (14, "2 weeks ago"), (21, "3 weeks ago"), (59, "8 weeks ago"),
        (60, "2 months ago"), (120, "4 months ago"), (364, "12 months ago"),
        (365, "1 year ago"), (800, "2 years ago"),
    ],
)  # fmt: skip
def test_relative_dates(days: int, text: str) -> None:
    assert relative_date(NOW - timedelta(days=days), NOW) == text


def test_slugs() -> None:
    assert slugify_title("How does ketamine affect the brain?") == (
        "how-does-ketamine-affect-the-brain"
    )
    assert slugify_title("Kétamine & anxiété") == "ketamine-anxiete"
    assert slugify_title("???") == "post"
