"""Issue 8's journey at phone and desktop sizes: home -> article -> share link ->
recent posts with relative dates -> the call to action reaches the consultation
form; a screenshot of each step in the test's temporary folder; and axe-core
finds no serious or critical accessibility problem on the home, article and list
pages."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.roles import Role
from kapcare.website import blog
from kapcare.website.demo import demo_picture
from kapcare.website.models import Category, Post, StaffProfile
from tests.e2e.support import CHROMIUM, NO_CHROMIUM, sign_in
from tests.factories import TOTPDeviceFactory, UserFactory

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {
    "phone": {"width": 360, "height": 780},
    "desktop": {"width": 1280, "height": 900},
}


def _publish(author: StaffProfile, title: str, days_ago: int, picture: int) -> Post:
    category, _ = Category.objects.get_or_create(
        slug="understanding-treatment", defaults={"name": "Understanding treatment"}
    )
    post = Post(
        title=title, slug=title.lower().replace(" ", "-").replace("?", ""),
        author=author, excerpt=f"What to know: {title.lower()}",
        body="## Why it matters\n\nPlain words about **ketamine** treatment.\n\n"
        "- one\n- two",
        featured_image_alt="An abstract blue picture", status=Post.Status.PUBLISHED,
        publish_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip
    post.featured_image.save(f"e2e-{picture}.jpg", demo_picture(picture), save=False)
    return blog.save_post(
        request=None, post=post, categories=[category],
        tags=blog.tags_from_text("ketamine"), image_changed=True, by=None,
    )  # fmt: skip


@pytest.fixture
def articles(transactional_db: None) -> list[Post]:
    author = StaffProfile.objects.create(
        name="Dr. Wren Tallis", credentials="MD, FRCPC", role_title="Medical director"
    )
    return [
        _publish(author, "How does ketamine affect the brain", 7, 1),
        _publish(author, "Relapse risks after ketamine", 21, 2),
        _publish(author, "Measuring progress", 61, 3),
    ]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_home_to_article_to_consultation(
    browser: Browser, live_server: LiveServer, articles: list[Post], size: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    context = browser.new_context(
        base_url=live_server.url, viewport=SIZES[size],  # type: ignore[arg-type]
        is_mobile=size == "phone", locale="en-CA", timezone_id="America/Toronto",
    )  # fmt: skip
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    external: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(live_server.url) else external.append(r.url),
    )

    page.goto("/")
    expect(page.get_by_role("heading", name="Latest articles")).to_be_visible()
    page.screenshot(path=tmp_path / f"{size}-1-home.png", full_page=True)

    newest = articles[0]
    page.get_by_role("link", name=newest.title).first.click()
    expect(page.get_by_role("heading", level=1, name=newest.title)).to_be_visible()
    expect(page.get_by_role("img", name="An abstract blue picture")).to_be_visible()
    page.screenshot(path=tmp_path / f"{size}-2-article.png", full_page=True)

    address = settings.SITE_URL + newest.get_absolute_url()
    facebook = page.get_by_role("link", name="Facebook")
    expect(facebook).to_have_attribute(
        "href", f"https://www.facebook.com/sharer/sharer.php?u={quote(address)}"
    )
    linkedin = page.get_by_role("link", name="LinkedIn")
    assert quote(address) in (linkedin.get_attribute("href") or "")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("[data-share-status]")).to_have_text("Link copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == address
    page.screenshot(path=tmp_path / f"{size}-3-share.png")

    recent = page.get_by_role("complementary")
    expect(recent.get_by_role("heading", name="Recent Posts")).to_be_visible()
    expect(recent).to_contain_text("3 weeks ago")
    expect(recent).to_contain_text("2 months ago")
    recent.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / f"{size}-4-recent.png")

    page.locator("section.cta").get_by_role(
        "link", name="Book a free consultation"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/consultation/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=tmp_path / f"{size}-5-consultation.png", full_page=True)

    assert external == [], external
    assert errors == [], errors
    assert len(list(tmp_path.glob(f"{size}-*.png"))) == 5
    context.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed: run make test")
def test_no_serious_accessibility_problems(page: Page, articles: list[Post]) -> None:
    axe = AXE.read_text()
    for path in ("/", articles[0].get_absolute_url(), "/blog/", "/services/"):
        page.goto(path)
        page.evaluate(axe)
        result = page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
            })"""
        )
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(n["target"][0] for n in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert serious == [], f"{path}: {serious}"
        assert result["passes"], path  # axe really ran


def test_a_physician_writes_an_article_with_live_preview_and_schedules_it(
    page: Page, transactional_db: None
) -> None:
    physician = UserFactory.create(roles=[Role.PHYSICIAN], full_name="Dr. Ada Moss")
    device = TOTPDeviceFactory.create(user=physician)
    StaffProfile.objects.create(user=physician, name="Dr. Ada Moss", credentials="MD")
    sign_in(page, physician, device)
    page.get_by_role("link", name="Website").click()
    page.get_by_role("link", name="Write an article").click()
    page.get_by_label("Title").fill("Sleep and recovery")
    page.get_by_label("Excerpt").fill("Why rest matters between sessions.")
    page.get_by_label("Body").fill(
        "## Rest well\n\nSleep **helps**. <script>alert(1)</script>"
    )
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", name="Rest well")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("helps")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text
    page.get_by_label("Status").select_option(
        label="Published (at its publishing time)"
    )
    page.get_by_label("Publishing time").fill("2030-01-15T09:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Sleep and recovery” scheduled.")).to_be_visible()
    page.get_by_role("link", name="Preview as the public sees it").click()
    expect(page.locator("p.alert")).to_contain_text("scheduled for 2030-01-15 09:00")
    expect(
        page.get_by_role("heading", level=1, name="Sleep and recovery")
    ).to_be_visible()
