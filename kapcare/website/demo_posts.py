"""Six original articles for the demo clinic's blog, written for Kapcare.

Clinical figures are from ../shared/clinical/clinical-rules.md (§1, §6, §9) or the
primary sources named at the end of each article."""

from typing import Any

POSTS: list[dict[str, Any]] = [
    {
        "slug": "how-does-ketamine-affect-the-brain",
        "title": "How does ketamine affect the brain?",
        "category": "Understanding treatment",
        "tags": "ketamine, neuroscience, depression",
        "days_ago": 5,
        "excerpt": "Ketamine works differently from the antidepressants most people "
        "have tried. Here is what researchers think happens in the brain, and what "
        "is still unknown.",
        "alt": "Abstract teal and blue waves suggesting connections between nerve cells",
        "body": """\
Most antidepressants, such as SSRIs, act on serotonin and take several weeks to
help. Ketamine acts on a different messenger, **glutamate**, the brain's main
"go" signal, and in studies some people notice a change within hours or days.

## Blocking a receptor, releasing a signal

Ketamine blocks the **NMDA receptor**, one of the doors through which glutamate
acts on nerve cells. The leading explanation is that blocking these receptors on
certain inhibitory cells briefly *increases* glutamate release elsewhere, which
activates another receptor (AMPA) and switches on growth signals such as BDNF.

## New connections

In laboratory studies this cascade encourages nerve cells to grow new
connections (synapses) in brain regions that shrink with chronic stress and
depression. Many researchers think this "re-wiring window" is why the effect can
outlast the medicine itself, and why psychotherapy during that window may help
people make lasting changes.

## What we do not know

- Which of these steps matters most in people is still debated; ketamine also
  acts on other receptors, and one of its breakdown products is active too.
- The benefit of a single dose usually fades over days to weeks, which is why a
  course of treatments, and follow-up, is planned.

## What it means for your treatment

Because ketamine changes perception for an hour or so, every dose in our clinic is
given with a nurse present, with blood pressure and breathing checked, and you
go home with someone. The aim is not the experience itself, but the weeks after
it.

*Sources: Zanos P, Gould TD. Mechanisms of ketamine action as an antidepressant.
Mol Psychiatry. 2018;23(4):801-811. Murrough JW et al. Biol Psychiatry. 2013.*
""",
    },
    {
        "slug": "is-ketamine-therapy-right-for-you",
        "title": "Is ketamine therapy right for you?",
        "category": "Understanding treatment",
        "tags": "ketamine, treatment-resistant depression, assessment",
        "days_ago": 12,
        "excerpt": "Ketamine is considered when depression has not improved with "
        "other treatments. Here is who it is for, who should not have it, and how we "
        "decide together.",
        "alt": "A winding path through soft green hills under a pale sky",
        "body": """\
Ketamine treatment is usually considered for **treatment-resistant
depression**: depression that has not improved enough after at least two
adequate courses of antidepressant treatment in the current episode. That is the
definition used in the ketamine and esketamine studies.

## It may be worth discussing if

- you have tried two or more antidepressants, at a proper dose and for long
  enough, without enough relief;
- your depression is affecting your work, relationships or safety;
- you are willing to attend several supervised sessions and the psychotherapy
  around them.

## It may not be suitable if

Some conditions make ketamine unsafe or call for extra care, for example
uncontrolled high blood pressure, some heart and blood-vessel conditions, a
history of psychosis, pregnancy, or current misuse of substances. Our physician
reviews your health history and medications at the assessment.

## How we decide

1. A **free consultation** to hear your story.
2. A **physician assessment**, with questionnaires such as the PHQ-9.
3. A plan you agree to, including how we will measure whether it is working.

You can also try our short online self-check. It is not a diagnosis; it helps
you prepare questions for your doctor.
""",
    },
    {
        "slug": "understanding-relapse-after-ketamine",
        "title": "Relapse after ketamine: risks and how to stay well",
        "category": "Staying well",
        "tags": "relapse, maintenance, depression",
        "days_ago": 23,
        "excerpt": "For many people the benefit of a ketamine course fades with time. "
        "Knowing the warning signs, and having a plan, makes a difference.",
        "alt": "A lighthouse on a rocky shore at dusk",
        "body": """\
Ketamine can bring relief quickly, but for many people the effect does not last
on its own. In one study of six infusions, people who responded stayed well for
a median of **18 days** after their last infusion before symptoms returned
(Murrough 2013).

## What the research on maintenance shows

In the SUSTAIN-1 trial of esketamine nasal spray, people in stable remission who
kept taking it relapsed less often than those switched to placebo (**26.7% vs
45.3%**). Continuing treatment, at the lowest frequency that keeps you well, is
often part of the plan.

## Warning signs to watch for

- sleep or appetite changing again;
- losing interest in things you had started enjoying;
- your questionnaire scores rising two times in a row;
- thoughts of death or suicide: **call or text 9-8-8 at any time**, and tell
  your care team.

## How we help you stay well

- **Regular check-ins** with short questionnaires. If your scores worsen
  reliably after you had responded, your care team is alerted and offers a
  review or a booster session.
- **Integration psychotherapy** to turn insights into habits.
- **Mindfulness practice** you can keep up between sessions.

*Sources: Murrough JW et al. Biol Psychiatry. 2013; Daly EJ et al. JAMA
Psychiatry. 2019 (SUSTAIN-1).*
""",
    },
    {
        "slug": "mindfulness-and-ketamine-assisted-psychotherapy",
        "title": "Mindfulness and ketamine-assisted psychotherapy",
        "category": "Staying well",
        "tags": "mindfulness, psychotherapy, integration",
        "days_ago": 40,
        "excerpt": "A few minutes of practice a day can help you prepare for sessions "
        "and carry what you learn into everyday life.",
        "alt": "A smooth stone balanced on a calm lake at sunrise",
        "body": """\
Ketamine sessions can bring up strong feelings, memories or new perspectives.
Mindfulness, paying attention to the present moment on purpose and without
judgment, is a practical way to meet those experiences calmly.

## Before a session

- Spend five minutes noticing your breath, the weight of your body and the
  sounds around you.
- Set a simple intention: a question, a hope, or just "to be curious".

## During a session

If the experience feels intense, return your attention to your breathing and to
the chair beneath you. The nurse is there throughout; you can always ask for
help.

## After a session

Integration sessions with your therapist help you make sense of what came up.
Between sessions, a short daily practice (a body scan, mindful walking, or
noticing three things you are grateful for) keeps the work going.

## Logging your practice

In your patient portal you can log each practice and how you felt before and
after. Over time it shows you, and your therapist, what helps.

Mindfulness is a support, not a replacement for treatment. If you feel unsafe,
call or text 9-8-8.
""",
    },
    {
        "slug": "ketamine-for-anxiety",
        "title": "Ketamine for anxiety: what the evidence says",
        "category": "Research",
        "tags": "anxiety, research, ketamine",
        "days_ago": 68,
        "excerpt": "Ketamine is best studied for depression. Research into anxiety is "
        "earlier and smaller; here is an honest summary.",
        "alt": "Soft light through tall grass, slightly out of focus",
        "body": """\
Anxiety often comes with depression, and many people ask whether ketamine can
help with it too.

## What has been studied

Small studies in people whose anxiety disorders had not improved with standard
treatment found that anxiety scores fell after low doses of ketamine, with
larger doses helping more in some people. These studies were small and often had
no comparison group, so the results are promising but not conclusive.

## What this means in practice

- For **depression with anxiety**, ketamine treatment is assessed as for
  depression, and we track anxiety with the **GAD-7** questionnaire as well.
- For **anxiety alone**, ketamine is not a first treatment. Psychotherapy and
  established medicines come first; we discuss the evidence honestly at
  assessment.

## Feeling anxious about treatment itself

It is normal to feel nervous before a first session. Preparation with your
therapist, a calm room and a nurse beside you make a big difference.

*Source: Glue P et al. Ketamine's dose-related effects on anxiety symptoms in
patients with treatment refractory anxiety disorders. J Psychopharmacol.
2017;31(10):1302-1305.*
""",
    },
    {
        "slug": "measuring-progress-with-questionnaires",
        "title": "Measuring progress: why we ask you to fill in questionnaires",
        "category": "Understanding treatment",
        "tags": "PHQ-9, measurement, progress",
        "days_ago": 120,
        "excerpt": "Short questionnaires like the PHQ-9 show whether treatment is "
        "working, far more reliably than memory alone.",
        "alt": "A simple line chart drawn on paper, trending downward",
        "body": """\
How you felt three weeks ago is hard to remember accurately. Short, validated
questionnaires give you and your care team a reliable record.

## The PHQ-9

Nine questions about the last two weeks, each scored 0 to 3, for a total of 0 to
27. Totals of 5, 10, 15 and 20 mark mild, moderate, moderately severe and severe
depression.

## What we look for

- **Response:** your score falls by at least half from where you started.
- **Remission:** a PHQ-9 score below 5.
- **Reliable change:** a change larger than the questionnaire's normal
  ups and downs, so we do not over-read one good or bad week.

## Question 9

One question asks about thoughts of being better off dead or of hurting
yourself. If you answer anything other than "not at all", your care team is
alerted straight away, and the form shows you crisis numbers. Please answer
honestly; it is how we keep you safe.

## Your chart

In your portal you can see your scores over time, explained in plain words, with
your treatment sessions marked.

*Sources: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9. J Gen Intern Med.
2001;16(9):606-613. Definitions of response and remission as used in ketamine
and esketamine trials.*
""",
    },
]
