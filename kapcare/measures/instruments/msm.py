"""Maudsley Staging Method (MSM) for treatment-resistant depression, clinician-rated.

Sources (clinical-rules.md §8):
- Duration and symptom-severity dimensions and their scores; total 3-15 with
  bands mild 3-6 · moderate 7-10 · severe 11-15: Fekadu et al., BMC Psychiatry
  2018;18:100, Table 3 [V]; Fekadu 2009 J Clin Psychiatry [V].

Provisional [S]: the treatment-failure (antidepressant levels 1-5),
augmentation (0/1) and ECT (0/1) scores are from the psychiatryeducationforum
reproduction; they agree with Table 3's totals [V].

The table has no level for 0 failed antidepressants, so MSM is undefined there
and 0 is not an accepted value. Each answer is the chosen category's score.
Licence/permission: not recorded in the reference (NF). French text: NF.
"""

from kapcare.measures.instruments.base import Band, Instrument, Item, Option

DURATION = (
    Option(value=1, text="Acute (≤12 months)"),
    Option(value=2, text="Sub-acute (13-24 months)"),
    Option(value=3, text="Chronic (>24 months)"),
)
SEVERITY = (
    Option(value=1, text="Subsyndromal"),
    Option(value=2, text="Mild"),
    Option(value=3, text="Moderate"),
    Option(value=4, text="Severe without psychosis"),
    Option(value=5, text="Severe with psychosis"),
)
ANTIDEPRESSANTS = (
    Option(value=1, text="Level 1: 1-2 medications"),
    Option(value=2, text="Level 2: 3-4 medications"),
    Option(value=3, text="Level 3: 5-6 medications"),
    Option(value=4, text="Level 4: 7-10 medications"),
    Option(value=5, text="Level 5: >10 medications"),
)
NOT_USED_USED = (Option(value=0, text="Not used"), Option(value=1, text="Used"))

_DIMENSIONS = (
    ("duration", "Duration of episode", DURATION),
    ("severity", "Symptom severity (at baseline)", SEVERITY),
    ("antidepressants", "Treatment failure: antidepressants", ANTIDEPRESSANTS),
    ("augmentation", "Augmentation", NOT_USED_USED),
    ("ect", "Electroconvulsive therapy", NOT_USED_USED),
)

MSM = Instrument(
    code="msm",
    version="1",
    name="MSM",
    title="Maudsley Staging Method",
    total_range=(3, 15),
    is_clinician_rated=True,
    items=tuple(
        Item(
            number=number,
            link_id=link_id,
            label=f"{text.lower()} (item {number})",
            text=text,
            min_value=options[0].value,
            max_value=options[-1].value,
            options=options,
        )
        for number, (link_id, text, options) in enumerate(_DIMENSIONS, start=1)
    ),
    bands=(Band(3, "mild"), Band(7, "moderate"), Band(11, "severe")),
    source="Fekadu 2018 BMC Psychiatry Table 3; psychiatryeducationforum reproduction",
    provisional=(
        "Antidepressant-failure levels, augmentation and ECT scores are from a "
        "secondary reproduction.",
    ),
)
