"""The public pages a new clinic starts with, in plain words (clinic-editable
afterwards under "Website"). Clinical statements cite ../shared/clinical/
clinical-rules.md (§6, §8, §9); nothing here promises a result."""

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.utils import timezone

from kapcare.website.content import render_markdown

HOME = """\
## What we offer

- **Ketamine treatment, supervised.** Intravenous (IV), intramuscular and sublingual
  ketamine, and esketamine nasal spray, given in our clinic with a nurse and
  physician watching your blood pressure, breathing and comfort throughout.
- **Psychotherapy around each dose.** A therapist helps you prepare, and meets you
  after each session to make sense of the experience and turn it into change.
- **Progress you can see.** Short questionnaires (such as the PHQ-9 for
  depression) before and during treatment, shown to you as a chart in your portal.

## How ketamine-assisted psychotherapy works

1. **Free consultation.** A short, no-obligation conversation about your history
   and what you hope for.
2. **Assessment.** A physician reviews your health, medications and the
   treatments you have already tried, and tells you whether ketamine is a safe
   option for you.
3. **Preparation.** You meet your therapist and learn what a session feels like.
4. **Treatment series.** Typically several sessions over two to three weeks, each
   followed by an integration session with your therapist.
5. **Follow-up.** We keep measuring how you are doing and plan next steps with you.

## What patients say

*Patient stories will appear here, shared with their written permission.*
"""

SERVICES = """\
## IV ketamine

Ketamine given slowly into a vein, usually over about 40 minutes, at a dose
calculated from your weight. The studied starting course is up to six infusions
over two to three weeks (Murrough 2013). You rest in a reclining chair while a
nurse checks your vital signs, and you stay until you are steady enough to go
home with someone.

## Intramuscular and sublingual ketamine

Other ways of giving ketamine, sometimes used when an intravenous line is not
suitable. Your physician explains the choice and what is known about each.

## Esketamine nasal spray (SPRAVATO)

A nasal spray for adults with treatment-resistant depression, taken together with
an oral antidepressant. It is given in the clinic, and you are watched for at least
two hours afterwards, as the product monograph requires.

## Ketamine-assisted psychotherapy (KAP)

Psychotherapy before, during and after ketamine sessions. Preparation sets your
intentions; integration sessions help you understand what came up and practise
new habits between sessions.

## Mindfulness practice

Short guided practices you can do at home, logged in your portal, to support the
work between sessions.
"""

TEAM = """\
Our physicians, nurses and therapists work together on every treatment plan.
"""

FAQ = """\
## What is treatment-resistant depression?

Depression that has not improved enough after at least two adequate courses of
antidepressant treatment in the current episode (the definition used in ketamine
and esketamine studies).

## Do I need a referral?

No, you can book a free consultation yourself. A letter from your doctor helps us
understand your history, and we keep your doctor informed with your permission.

## What does a session feel like?

Many people feel detached, dreamy or unusual for a while during a dose; in
studies of the esketamine nasal spray most people had such changes. They wear off
as the medicine does. A nurse is with you throughout.

## Can I drive home?

No. Arrange a ride home, and do not drive or operate machinery until the next
day after a restful sleep.

## Will ketamine work for me?

It helps many people, but not everyone. We measure your symptoms before and
during treatment so that you and your physician can judge, together, whether it is
helping.

## Is it covered by OHIP?

Ask us about costs at your consultation; coverage depends on the treatment and
on your insurance.
"""

LOCATIONS = """\
Our clinic has free parking nearby and is close to public transit. The treatment
rooms are quiet, with reclining chairs and dimmable lights.
"""

CONTACT = """\
Call or email us, or book a free consultation online, and we will get back to you
within two business days.

If you are in crisis, do not wait for us: call or text 9-8-8 at any time, or call
9-1-1.
"""

PRIVACY = """\
We collect personal health information only to provide your care, and protect it
as Ontario's *Personal Health Information Protection Act* (PHIPA) requires.

- **What we keep:** your contact details, health history, treatment records and
  the questionnaires you complete.
- **Who sees it:** only the clinic staff whose role needs it. Every time someone
  opens your record, it is logged, and you can see that log in your portal.
- **Sharing:** with other health providers only for your care, or with your
  consent, or where the law requires it.
- **Your rights:** you may ask to see or correct your record, or withdraw consent
  to sharing, by contacting our privacy officer.
- **This website:** it sets no tracking cookies and loads nothing from other
  sites. Forms you send (such as a consultation request) are stored securely and
  used only to contact you.
"""

PAGES: list[dict[str, Any]] = [
    {"key": "home", "title": "Ketamine-assisted psychotherapy",
     "description": "Supervised ketamine treatment and psychotherapy for "
     "treatment-resistant depression, anxiety and PTSD.",
     "lead": "Ketamine-assisted psychotherapy for treatment-resistant depression, "
     "anxiety and PTSD, with a medical team beside you at every dose.",
     "body": HOME},
    {"key": "services", "title": "Services",
     "description": "IV, intramuscular and sublingual ketamine, esketamine nasal "
     "spray and ketamine-assisted psychotherapy.",
     "lead": "Every treatment is supervised by our medical team and paired with "
     "psychotherapy.", "body": SERVICES},
    {"key": "team", "title": "Our team",
     "description": "The physicians, nurses and therapists of the clinic.",
     "lead": "", "body": TEAM},
    {"key": "faq", "title": "Questions",
     "description": "Answers to common questions about ketamine therapy.",
     "lead": "", "body": FAQ},
    {"key": "locations", "title": "Location and hours",
     "description": "Where to find the clinic and when it is open.",
     "lead": "", "body": LOCATIONS},
    {"key": "contact", "title": "Contact",
     "description": "How to reach the clinic.", "lead": "", "body": CONTACT},
    {"key": "privacy", "title": "Privacy policy",
     "description": "How the clinic protects your personal health information.",
     "lead": "", "body": PRIVACY},
]  # fmt: skip


def seed_site_pages(apps: Apps = global_apps, **kwargs: Any) -> None:
    """post_migrate (and after a flush): create any page the clinic lacks, never
    overwriting the clinic's edits."""
    try:
        model = apps.get_model("website", "SitePage")
    except LookupError:
        return
    existing = set(model.objects.values_list("key", flat=True))
    model.objects.bulk_create(
        model(**row, body_html=render_markdown(row["body"]), updated_at=timezone.now())
        for row in PAGES
        if row["key"] not in existing
    )
