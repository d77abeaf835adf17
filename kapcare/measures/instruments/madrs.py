"""MADRS (Montgomery-Åsberg Depression Rating Scale), clinician-rated.

Sources (clinical-rules.md §5):
- 10 items, each 0-6, total 0-60: Montgomery & Åsberg 1979 (via Wikipedia) [V].
- Bands 0-6 normal/absent · 7-19 mild · 20-34 moderate · 35-60 severe: Snaith
  1986 cut-points, quoted text [V]. The alternative 12/24/35 grading and the
  Müller 2000/2003 cut-offs are not applied.

The item anchor descriptions are not in the reference (NF), so items carry their
names only. No LOINC codes in the reference (NF). Licence/permission: not
recorded in the reference (NF). French text: not in the reference (NF).
"""

from kapcare.measures.instruments.base import Band, Instrument, numbered_items

_NAMES = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)

MADRS = Instrument(
    code="madrs",
    suicidality_item=10,
    version="1",
    name="MADRS",
    title="Montgomery-Åsberg Depression Rating Scale",
    total_range=(0, 60),
    is_clinician_rated=True,
    items=numbered_items(_NAMES, min_value=0, max_value=6),
    bands=(
        Band(0, "normal/absent"),
        Band(7, "mild"),
        Band(20, "moderate"),
        Band(35, "severe"),
    ),
    source="Montgomery & Åsberg 1979; Snaith 1986 cut-points",
)
