"""QIDS-SR16 (Quick Inventory of Depressive Symptomatology, self-report, 16 items).

Sources (clinical-rules.md §5, §0 trap 5):
- Items (short labels), each 0-3 over the past 7 days; total = max(1-4) + 5 +
  max(6-9) + 10 + 11 + 12 + 13 + 14 + max(15, 16), range 0-27: Rush et al.,
  Biol Psychiatry 2003;54:573, scoring as reproduced by ids-qids.org [V].
- Bands 0-5 none · 6-10 mild · 11-15 moderate · 16-20 severe · 21-27 very
  severe: ids-qids.org interpretation table [V].

Only the short item labels are in the reference; the full wording and the
answer-choice text are not (NF), nor is a missing-item rule (NF; scoring treats
a QIDS-SR16 with any missing item as not scorable). Licence/permission: not
recorded in the reference (NF). French text: not in the reference (NF).
"""

from kapcare.measures.instruments.base import Band, Instrument, numbered_items

_LABELS = (
    "Falling asleep",
    "Sleep during the night",
    "Waking up too early",
    "Sleeping too much",
    "Feeling sad",
    "Decreased appetite",
    "Increased appetite",
    "Decreased weight",
    "Increased weight",
    "Concentration/decision making",
    "View of myself",
    "Thoughts of death or suicide",
    "General interest",
    "Energy level",
    "Feeling slowed down",
    "Feeling restless",
)

# The nine symptom domains; a domain scores the highest of its items.
DOMAINS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("sleep", (1, 2, 3, 4)),
    ("feeling_sad", (5,)),
    ("appetite_weight", (6, 7, 8, 9)),
    ("concentration", (10,)),
    ("view_of_myself", (11,)),
    ("thoughts_of_death_or_suicide", (12,)),
    ("general_interest", (13,)),
    ("energy_level", (14,)),
    ("psychomotor", (15, 16)),
)

QIDS_SR16 = Instrument(
    code="qids_sr16",
    suicidality_item=12,
    version="1",
    name="QIDS-SR16",
    title="Quick Inventory of Depressive Symptomatology, self-report (16 items)",
    total_range=(0, 27),
    items=numbered_items(_LABELS, min_value=0, max_value=3),
    bands=(
        Band(0, "none"),
        Band(6, "mild"),
        Band(11, "moderate"),
        Band(16, "severe"),
        Band(21, "very severe"),
    ),
    source="Rush 2003; ids-qids.org scoring and interpretation",
)
