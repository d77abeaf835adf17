"""PCL-5 (PTSD Checklist for DSM-5), past-month version.

Sources (clinical-rules.md §3):
- 20 items rated 0-4: 0 Not at all · 1 A little bit · 2 Moderately · 3 Quite a
  bit · 4 Extremely; National Center for PTSD, "Using the PCL-5" [V].
- Item content: the short labels used by CamCOPS (server/camcops_server/tasks/
  pcl5.py) [V]. The full item wording is not in the reference (NF), so only the
  short labels are defined.
- Total 0-80; clusters B = items 1-5, C = 6-7, D = 8-14, E = 15-20; provisional
  DSM-5 diagnosis when an item rated >=2 counts as endorsed and there are >=1 B,
  >=1 C, >=2 D and >=2 E: NCPTSD text as quoted by awell-score and
  comorbidityguidelines.org.au; CamCOPS identical [V].

No severity bands: "There are currently no empirically derived severity ranges
for the PCL-5" [V]. The 31-33 cut-point is a range, so no single cut-off is
applied. No LOINC codes (NF). Licence/permission: not recorded in the reference
(NF). French text: not in the reference (NF).
"""

from kapcare.measures.instruments.base import (
    Instrument,
    frequency_options,
    numbered_items,
)

OPTIONS = frequency_options(
    ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
)

_LABELS = (
    "Disturbing memories",
    "Dreams",
    "Reliving",
    "Upset at reminders",
    "Physical reactions",
    "Avoid thoughts/feelings",
    "Avoid activities/situations",
    "Trouble remembering",
    "Negative beliefs",
    "Blaming",
    "Strong negative emotions",
    "Loss of interest",
    "Distant/cut off",
    "Emotionally numb",
    "Irritable/angry/aggressive",
    "Risk-taking/self-harm",
    "Super alert",
    "Jumpy/startled",
    "Difficulty concentrating",
    "Trouble sleeping",
)

# DSM-5 symptom clusters: (name, item numbers, endorsed items required).
CLUSTERS: tuple[tuple[str, tuple[int, ...], int], ...] = (
    ("B", (1, 2, 3, 4, 5), 1),
    ("C", (6, 7), 1),
    ("D", (8, 9, 10, 11, 12, 13, 14), 2),
    ("E", (15, 16, 17, 18, 19, 20), 2),
)

# An item rated "Moderately" or higher counts as an endorsed symptom.
ENDORSED_AT = 2

PCL5 = Instrument(
    code="pcl5",
    version="1",
    name="PCL-5",
    title="PTSD Checklist for DSM-5",
    total_range=(0, 80),
    items=numbered_items(_LABELS, min_value=0, max_value=4, options=OPTIONS),
    source="National Center for PTSD, Using the PCL-5; Blevins 2015; CamCOPS pcl5",
)
