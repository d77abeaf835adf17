"""C-SSRS Screener (Columbia Protocol, screen version, past month).

Sources (clinical-rules.md §4):
- Questions 1-6, the follow-up "Was this within the past 3 months?" and the skip
  logic (ask 1 and 2; if 2 is yes ask 3-6; if 2 is no go to 6): C-SSRS Screen
  Version copy; NINDS CDE page [V].
- High risk (yes to 4 or 5, or behaviour within the past 3 months): Columbia
  "Clinical triage and workflow guidelines for the C-SSRS" [V].

Provisional [S]: the low (yes to 1 and/or 2 only) and moderate (yes to 3, or
behaviour more than 3 months ago) levels come from secondary summaries
(Blueprint, Rula) of Columbia's triage-colour screener, which was not read.

Answers are 1 (yes) or 0 (no); a question the skip logic does not ask is left
unanswered. There is no total. The "since last contact" wording is not in the
reference (NF). Licence/permission: not recorded in the reference (NF). French
text: not in the reference (NF).
"""

from kapcare.measures.instruments.base import Instrument, Item, Option

YES_NO = (Option(value=0, text="No"), Option(value=1, text="Yes"))

_QUESTIONS = (
    (
        "1",
        "question 1",
        "Have you wished you were dead or wished you could go to sleep and not wake up?",
    ),
    ("2", "question 2", "Have you actually had any thoughts of killing yourself?"),
    ("3", "question 3", "Have you been thinking about how you might do this?"),
    (
        "4",
        "question 4",
        "Have you had these thoughts and had some intention of acting on them?",
    ),
    (
        "5",
        "question 5",
        "Have you started to work out or worked out the details of how to kill "
        "yourself? Do you intend to carry out this plan?",
    ),
    (
        "6",
        "question 6",
        "Have you done anything, started to do anything, or prepared to do anything "
        "to end your life?",
    ),
    (
        "6b",
        "question 6 (within the past 3 months)",
        "Was this within the past 3 months?",
    ),
)

CSSRS_SCREENER = Instrument(
    code="cssrs_screener",
    version="1",
    name="C-SSRS screener",
    title="Columbia-Suicide Severity Rating Scale, screen version",
    total_range=None,
    items=tuple(
        Item(
            number=number,
            link_id=link_id,
            label=label,
            text=text,
            min_value=0,
            max_value=1,
            options=YES_NO,
        )
        for number, (link_id, label, text) in enumerate(_QUESTIONS, start=1)
    ),
    source="C-SSRS Screen Version; Columbia clinical triage and workflow guidelines",
    provisional=(
        "Low risk (yes to 1 and/or 2 only) and moderate risk (yes to 3, or "
        "behaviour more than 3 months ago) are from secondary summaries.",
    ),
)
