"""PHQ-9, with the (unscored) difficulty item.

Sources (clinical-rules.md §1, §0 traps 1, 2 and 8):
- Items, LOINC codes and answer codes: NLM LHC-Forms PHQ-9 Questionnaire
  (LHNCBC/lforms test/data/R4/phq9.json) [V].
- Total 0-27 and bands 0-4 / 5-9 / 10-14 / 15-19 / 20-27 (cut-points 5, 10, 15,
  20): Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606 [V]; NHS Data
  Dictionary, Patient Health Questionnaire-9 [V]. The band 0-4 is labelled
  "none/minimal" in the reference (LHC's "1-4 = Minimal" is a known error).
- Missing items: NHS Data Dictionary [V], applied in kapcare.measures.scoring.

Licence/permission: not recorded in the clinical reference (NF); confirm before
clinical use. French text: not in the reference (NF), so none is defined.
"""

from kapcare.measures.instruments.base import (
    Band,
    Instrument,
    Item,
    Option,
    frequency_options,
)

OPTIONS = frequency_options(
    ("Not at all", "Several days", "More than half the days", "Nearly every day"),
    ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"),
)

# The source gives these options no ordinal values, and LHC's total leaves the
# item out. Kapcare stores the option's position in display order (0-3); it is
# never scored. The LA codes are not in display order (trap, §1).
DIFFICULTY_OPTIONS = (
    Option(value=0, text="Not difficult at all", loinc="LA6572-7"),
    Option(value=1, text="Somewhat difficult", loinc="LA6573-5"),
    Option(value=2, text="Very difficult", loinc="LA6575-0"),
    Option(value=3, text="Extremely difficult", loinc="LA6574-3"),
)

_ITEMS = (
    ("44250-9", "Little interest or pleasure in doing things?"),
    ("44255-8", "Feeling down, depressed, or hopeless?"),
    ("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
    ("44254-1", "Feeling tired or having little energy"),
    ("44251-7", "Poor appetite or overeating"),
    (
        "44258-2",
        "Feeling bad about yourself-or that you are a failure or have let yourself "
        "or your family down",
    ),
    (
        "44252-5",
        "Trouble concentrating on things, such as reading the newspaper or watching "
        "television",
    ),
    (
        "44253-3",
        "Moving or speaking so slowly that other people could have noticed. Or the "
        "opposite-being so fidgety or restless that you have been moving around a "
        "lot more than usual",
    ),
    (
        "44260-8",
        "Thoughts that you would be better off dead, or of hurting yourself in some "
        "way",
    ),
)

PHQ9 = Instrument(
    code="phq9",
    suicidality_item=9,
    version="1",
    name="PHQ-9",
    title="Patient Health Questionnaire-9",
    loinc="44249-1",
    total_loinc="44261-6",
    total_range=(0, 27),
    items=(
        *(
            Item(
                number=number,
                link_id=f"/{loinc}",
                label=f"item {number}",
                text=text,
                min_value=0,
                max_value=3,
                options=OPTIONS,
                loinc=loinc,
            )
            for number, (loinc, text) in enumerate(_ITEMS, start=1)
        ),
        Item(
            number=10,
            link_id="/69722-7",
            label="item 10 (difficulty)",
            text=(
                "How difficult have these problems made it for you to do your work, "
                "take care of things at home, or get along with other people?"
            ),
            min_value=0,
            max_value=3,
            options=DIFFICULTY_OPTIONS,
            loinc="69722-7",
            is_scored=False,
            is_optional=True,
        ),
    ),
    bands=(
        Band(0, "none/minimal"),
        Band(5, "mild"),
        Band(10, "moderate"),
        Band(15, "moderately severe"),
        Band(20, "severe"),
    ),
    source="Kroenke 2001; NHS Data Dictionary PHQ-9; NLM LHC-Forms PHQ-9 (LOINC)",
)
