"""GAD-7.

Sources (clinical-rules.md §2, §0 traps 3 and 4):
- Item and total LOINC codes: LHC-Forms GAD-7 export (lformsVersion 34.3.0) and
  the HL7 PHR format IG, Questionnaire-ScoredAssessment-GAD7.fsh [V].
- Answers: the PHQ-9 LA list, 0-3 [V]. Item 2 may arrive as LA18938-3 "More days
  than not", which means 2 [V].
- Total 0-21; cut-points 5, 10, 15 for mild, moderate, severe: Spitzer et al.,
  Arch Intern Med 2006;166:1092 [V].

Provisional: the "minimal" label for 0-4 is from a secondary source [S].
Not defined because the reference lacks them: the difficulty item's LOINC code
(NF, conflicting public codes) and a missing-item rule (NF; scoring treats a
GAD-7 with any missing item as not scorable). Licence/permission: not recorded in
the reference (NF). French text: not in the reference (NF).
"""

from kapcare.measures.instruments.base import Band, Instrument, Item, Option
from kapcare.measures.instruments.phq9 import OPTIONS

ITEM2_OPTIONS = tuple(
    Option(value=o.value, text=o.text, loinc=o.loinc, also_loinc=("LA18938-3",))
    if o.value == 2
    else o
    for o in OPTIONS
)

_ITEMS = (
    ("69725-0", "Feeling nervous, anxious or on edge"),
    (
        "68509-9",
        "(Over the past 2 weeks have you) not been able to stop or control worrying",
    ),
    ("69733-4", "Worrying too much about different things"),
    ("69734-2", "Trouble relaxing"),
    ("69735-9", "Being so restless that it is hard to sit still"),
    ("69689-8", "Becoming easily annoyed or irritable"),
    ("69736-7", "Feeling afraid as if something awful might happen"),
)

GAD7 = Instrument(
    code="gad7",
    version="1",
    name="GAD-7",
    title="Generalized Anxiety Disorder 7-item scale",
    loinc="69737-5",
    total_loinc="70274-6",
    total_range=(0, 21),
    items=tuple(
        Item(
            number=number,
            link_id=f"/{loinc}",
            label=f"item {number}",
            text=text,
            min_value=0,
            max_value=3,
            options=ITEM2_OPTIONS if number == 2 else OPTIONS,
            loinc=loinc,
        )
        for number, (loinc, text) in enumerate(_ITEMS, start=1)
    ),
    bands=(
        Band(0, "minimal"),
        Band(5, "mild"),
        Band(10, "moderate"),
        Band(15, "severe"),
    ),
    source="Spitzer 2006; LHC-Forms GAD-7 export; HL7 PHR IG (LOINC)",
    provisional=("The label 'minimal' for totals 0-4 is from a secondary source.",),
)
