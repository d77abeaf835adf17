"""The appointment types a new clinic starts with (clinic-editable afterwards).

Durations and roles are the clinic's operational defaults, not clinical rules. The
dosing session's three hours hold the chair for the IV protocol's 40-minute infusion
and 2-hour observation (kapcare/treatment/protocols.py, from clinical-rules.md §9)
plus 20 minutes for check-in and the pre-session checklist.
"""

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

RIDE_HOME = (
    "Arrange a ride home: no driving or operating machinery until the next day, "
    "after a restful sleep."
)

TYPES: list[dict[str, Any]] = [
    {"seed_key": "consultation", "name": "Free consultation", "kind": "consultation",
     "duration_minutes": 30, "clinician_role": "Nurse", "may_be_virtual": True,
     "preparation": "Bring a list of your medications and the antidepressants you "
     "have tried."},
    {"seed_key": "assessment", "name": "Physician assessment", "kind": "assessment",
     "duration_minutes": 60, "clinician_role": "Physician", "may_be_virtual": True,
     "preparation": "Bring your medication list and any letters from your doctors."},
    {"seed_key": "dosing", "name": "Dosing session", "kind": "dosing",
     "duration_minutes": 180, "clinician_role": "Nurse", "needs_chair": True,
     "preparation": "Follow the fasting instructions your clinic gave you. "
     + RIDE_HOME},
    {"seed_key": "integration", "name": "Integration session", "kind": "integration",
     "duration_minutes": 60, "clinician_role": "Therapist", "may_be_virtual": True,
     "preparation": "Bring your journal or notes from your dosing session."},
    {"seed_key": "follow_up", "name": "Follow-up", "kind": "follow_up",
     "duration_minutes": 30, "clinician_role": "Physician", "may_be_virtual": True,
     "preparation": ""},
    {"seed_key": "booster", "name": "Booster dosing session", "kind": "booster",
     "duration_minutes": 180, "clinician_role": "Nurse", "needs_chair": True,
     "preparation": "Follow the fasting instructions your clinic gave you. "
     + RIDE_HOME},
]  # fmt: skip


def seed_appointment_types(apps: Apps = global_apps, **kwargs: Any) -> None:
    """post_migrate (and after a flush): create any default type the clinic lacks,
    found by seed key, never overwriting the clinic's edits."""
    try:
        model = apps.get_model("scheduling", "AppointmentType")
    except LookupError:
        return
    for row in TYPES:
        model.objects.get_or_create(seed_key=row["seed_key"], defaults=row)
