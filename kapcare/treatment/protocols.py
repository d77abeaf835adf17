"""The protocol template library as seeded; the clinic edits its copies afterwards.

Every value is from ../shared/clinical/ with its tag; a value the sources do not
give is left blank and the template says so. Seeded after every migrate (and after
a test database flush) by `seed_protocols`; an existing template, found by its seed
key, is never overwritten, so the clinic's edits and renames stand.
"""

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

BP_ACTION = (
    "Before the dose: weigh the risk of a short-term rise in blood pressure against "
    "the benefit; do not give the dose if a rise in blood pressure or intracranial "
    "pressure poses a serious risk (a physician decides, and records an override "
    "with a reason). After the dose: keep measuring until values are consistently "
    "at a safe level. [SPRAVATO label §2 and monitoring guidance; the 140/90 guide "
    "was read via a secondary page: provisional]"
)
SPO2_ACTION = (
    "Check respiratory status and the oximeter (respiratory status, including pulse "
    "oximetry, is monitored at each session: SPRAVATO guidance). Below the modified "
    "Aldrete room-air level (>92%): tell the physician."
)
SHARED_SOURCES = (
    "Blood pressure 140/90: SPRAVATO label §2 'as a general guide', read via a "
    "secondary page [S, provisional] (clinical-rules.md §9). SpO₂: flagged at 92% or "
    "lower, the modified Aldrete score's room-air level (Aldrete 1995) [V]. Discharge "
    "Aldrete ≥9 [V]. Heart and respiratory rate limits: no source found; set the "
    "clinic's own if wanted."
)

PROTOCOLS: list[dict[str, Any]] = [
    {
        "seed_key": "iv-racemic-0.5",
        "name": "IV racemic ketamine 0.5 mg/kg over 40 min",
        "drug": "ketamine",
        "route": "iv",
        "dose_basis": "per_kg",
        "usual_dose": "0.5",
        "max_dose": "1.0",
        "infusion_minutes": 40,
        "planned_sessions": 6,
        "planned_days": 12,
        "dissociation_rating_minutes": 40,
        "observation_minutes": 120,
        "preparation": "Arrange a ride home: no driving or operating machinery until "
        "the next day, after a restful sleep.",
        "sources": "Dose 0.5 mg/kg over 40 min: Murrough 2013 AJP; Singh 2016 AJP; "
        "Fava 2018 [V]. Maximum 1.0 mg/kg: the highest dose in Fava 2018's "
        "dose-ranging trial [V]. Six infusions over 12 days: Murrough 2013 Biol "
        "Psychiatry [V]. CADSS at 40 min: as rated in PMC4065787 (108 TRD patients) "
        "[V]. Observation 2 h and no driving until the next day: adopted from the "
        "SPRAVATO (esketamine) label §5.1; no IV-specific source was found. Fasting "
        "before IV ketamine and a vital-sign interval: no source found; the clinic "
        "sets its own. " + SHARED_SOURCES,
    },
    {
        "seed_key": "im-racemic",
        "name": "IM racemic ketamine (dose to be set by the clinic)",
        "drug": "ketamine",
        "route": "im",
        "dose_basis": "per_kg",
        "usual_dose": None,
        "max_dose": None,
        "infusion_minutes": None,
        "planned_sessions": None,
        "planned_days": None,
        "dissociation_rating_minutes": None,
        "observation_minutes": 120,
        "preparation": "Arrange a ride home: no driving until the next day.",
        "sources": "No IM ketamine dose for depression was found in the clinical "
        "references (ketamine-pk.md §6.4: adult IM data not found). A physician must "
        "enter the dose and maximum, naming the primary source here, before this "
        "template can be prescribed. Observation 2 h adopted from the SPRAVATO label "
        "§5.1. " + SHARED_SOURCES,
    },
    {
        "seed_key": "sublingual-racemic",
        "name": "Sublingual racemic ketamine (dose to be set by the clinic)",
        "drug": "ketamine",
        "route": "sublingual",
        "dose_basis": "fixed",
        "usual_dose": None,
        "max_dose": None,
        "infusion_minutes": None,
        "planned_sessions": None,
        "planned_days": None,
        "dissociation_rating_minutes": None,
        "observation_minutes": 120,
        "preparation": "Arrange a ride home: no driving until the next day.",
        "sources": "No sublingual ketamine dosing protocol was found in the clinical "
        "references; only its bioavailability (29%, Rolan 2014 [V]). A physician "
        "must enter the dose and maximum, naming the primary source here, before "
        "this template can be prescribed. Observation 2 h adopted from the SPRAVATO "
        "label §5.1. " + SHARED_SOURCES,
    },
    {
        "seed_key": "esketamine-nasal",
        "name": "Esketamine nasal spray 56/84 mg (SPRAVATO)",
        "drug": "esketamine",
        "route": "nasal",
        "dose_basis": "fixed",
        "usual_dose": "56",
        "max_dose": "84",
        "allowed_doses": "28, 56, 84",
        "infusion_minutes": None,
        "planned_sessions": 8,
        "planned_days": 28,
        "vitals_checkpoints": "0, 40",
        "dissociation_rating_minutes": None,
        "observation_minutes": 120,
        "preparation": "Do not eat for 2 hours or drink for 30 minutes before. Use "
        "nasal steroids or decongestants at least 1 hour before. Arrange a ride "
        "home: no driving or machinery until the next day, after a restful sleep.",
        "sources": "Induction twice weekly for weeks 1-4; day 1 56 mg, then 56 or "
        "84 mg; 28 mg for patients 65 and over (HK label) [V]. Devices of 28 mg, "
        "5 min apart [V]. Blood pressure before dosing and about 40 min after [V]. "
        "Observe at least 2 h [V]. No driving until the next day [V]. Food 2 h, "
        "liquids 30 min, nasal steroids 1 h before [S, label as quoted]. All "
        "clinical-rules.md §9. " + SHARED_SOURCES,
    },
]


def seed_protocols(apps: Apps = global_apps, **kwargs: Any) -> None:
    """post_migrate (after migrate, and after a flush, which passes no `apps`):
    create any seeded template the database lacks."""
    try:
        protocol_model = apps.get_model("treatment", "Protocol")
    except LookupError:
        return
    for row in PROTOCOLS:
        values = {
            "systolic_max": 140, "diastolic_max": 90, "spo2_min": 93,
            "blood_pressure_action": BP_ACTION, "spo2_action": SPO2_ACTION,
            "discharge_pass_score": 9, **row,
        }  # fmt: skip
        protocol_model.objects.get_or_create(seed_key=row["seed_key"], defaults=values)
