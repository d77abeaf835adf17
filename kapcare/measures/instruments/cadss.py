"""CADSS (Clinician-Administered Dissociative States Scale), 23-item version.

PROVISIONAL. Sources (clinical-rules.md §5, §11):
- Bremner et al., J Trauma Stress 1998. Item counts differ by version: 28 items
  in Bremner's 2014 instructions, 19 subjective items plus observer items in the
  original table, and 23 items in ketamine/esketamine studies (2023
  psychometric abstract) [V]. The 23-item version is defined here because it is
  the one ketamine studies use.
- Each item rated 0-4 [R], so the 23-item total is 0-92 (derived) [R].

The item wording and rating anchors are not in the reference (NF): items carry
no text, only their number. No severity bands or LOINC codes (NF).
Licence/permission: not recorded in the reference (NF). French text: NF.
"""

from kapcare.measures.instruments.base import Instrument, numbered_items

ITEM_COUNT = 23

CADSS = Instrument(
    code="cadss",
    version="1",
    name="CADSS",
    title="Clinician-Administered Dissociative States Scale (23 items)",
    total_range=(0, 4 * ITEM_COUNT),
    is_clinician_rated=True,
    items=numbered_items([""] * ITEM_COUNT, min_value=0, max_value=4),
    source="Bremner 1998; 23-item CADSS psychometrics (2023)",
    provisional=(
        "Each item rated 0-4 and the 0-92 total range are recalled, not read.",
        "Item wording and anchors are not in the reference.",
    ),
)
