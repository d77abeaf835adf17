"""The public "Is ketamine therapy right for me?" self-check (pure Python, no Django).

Non-diagnostic by design: it sorts answers into "may be a candidate", "talk to your
doctor first" and "not suitable because ...", always telling people to talk to a
clinician. The rules (all in /work/shared/clinical/clinical-rules.md):
- Contraindications are the esketamine label's list (§9, [V]): aneurysmal vascular
  disease or arteriovenous malformation, intracerebral haemorrhage, hypersensitivity
  to esketamine or ketamine. Any "yes" gives "not suitable because ...".
- Precautions from the same label section (§9, [V]): psychosis, substance use
  disorder, pregnancy, breastfeeding, uncontrolled hypertension, CNS depressants,
  psychostimulants and MAOIs. Any "yes" gives "talk to your doctor first".
- Treatment-resistant depression is no response to at least two antidepressants of
  adequate dose and duration (§8, [V]): fewer than two (or unsure) gives "talk to
  your doctor first".
- Current symptoms: PHQ-9 total >= 10, the caseness cut-off (§7, [V]) and the start
  of the "moderate" band (§1, Kroenke 2001). Below it, or not scorable, gives "talk
  to your doctor first". PHQ-9 item 9 > 0 puts crisis resources first (§1); an unanswered item 9 is
"unknown", never "not at all" (§1), so it shows them too.
How the three outcomes combine is Kapcare's policy, not a published rule.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kapcare.measures.scoring import score

CANDIDATE = "candidate"
TALK_TO_DOCTOR = "talk_to_doctor"
NOT_SUITABLE = "not_suitable"

TRIED_CHOICES = (
    ("0", "None"),
    ("1", "One"),
    ("2", "Two"),
    ("3", "Three or more"),
    ("unsure", "I'm not sure"),
)


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    reason: str


CONTRAINDICATIONS = (
    Question(
        "aneurysm",
        "Have you ever been told you have an aneurysm (a bulging blood vessel in the "
        "brain, chest, belly or elsewhere) or an arteriovenous malformation?",
        "an aneurysm or arteriovenous malformation",
    ),
    Question(
        "brain_bleed",
        "Have you ever had bleeding in the brain (an intracerebral haemorrhage)?",
        "bleeding in the brain",
    ),
    Question(
        "allergy",
        "Have you ever had an allergic reaction to ketamine or esketamine?",
        "an allergy to ketamine or esketamine",
    ),
)
PRECAUTIONS = (
    Question(
        "psychosis",
        "Have you ever had psychosis (for example hearing or seeing things others "
        "did not), or been diagnosed with schizophrenia?",
        "a history of psychosis",
    ),
    Question(
        "substance_use",
        "Do you currently have a problem with alcohol or drug use?",
        "current alcohol or drug use problems",
    ),
    Question(
        "pregnancy",
        "Are you pregnant, trying to become pregnant, or breastfeeding?",
        "pregnancy or breastfeeding",
    ),
    Question(
        "blood_pressure",
        "Do you have high blood pressure that is not under control?",
        "high blood pressure that is not under control",
    ),
    Question(
        "interacting_medicines",
        "Do you take an MAOI antidepressant (such as phenelzine or tranylcypromine), "
        "a stimulant, or a sedative such as a benzodiazepine?",
        "medicines that interact with ketamine",
    ),
)
QUESTIONS = CONTRAINDICATIONS + PRECAUTIONS
CASENESS = 10
ADEQUATE_TRIALS = 2


@dataclass(frozen=True)
class SelfCheckResult:
    outcome: str
    crisis: bool
    phq9_total: int | None
    phq9_band: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    suicidality_unknown: bool = False


def assess(
    phq9_answers: Sequence[int | None],
    antidepressants_tried: str,
    screening: Mapping[str, bool],
) -> SelfCheckResult:
    """The summary for one set of answers. ScoringError on bad PHQ-9 values."""
    phq9 = score("phq9", phq9_answers)
    total = int(phq9.total) if phq9.total is not None else None
    crisis = "suicidal_ideation" in phq9.flags
    unknown = "item9_missing" in phq9.flags
    blocked = tuple(q.reason for q in CONTRAINDICATIONS if screening.get(q.code))
    if blocked:
        return SelfCheckResult(NOT_SUITABLE, crisis, total, phq9.band, blocked, unknown)
    reasons = [q.reason for q in PRECAUTIONS if screening.get(q.code)]
    if antidepressants_tried not in {"2", "3"}:
        reasons.append("fewer than two antidepressants tried, or not sure")
    if total is None:
        reasons.append("some depression questions were not answered")
    elif total < CASENESS:
        reasons.append("your answers suggest milder depression right now")
    outcome = TALK_TO_DOCTOR if reasons else CANDIDATE
    return SelfCheckResult(outcome, crisis, total, phq9.band, tuple(reasons), unknown)
