import pytest

from kapcare.treatment.discharge import aldrete_total, discharge_gate
from kapcare.treatment.vitals import Limits, Reading, blocks_dose, flags_for

SEEDED = Limits(systolic_max=140, diastolic_max=90, spo2_min=93,
                blood_pressure_action="Weigh the risk", spo2_action="Check airway")  # fmt: skip
FULL = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2,
        "oxygen_saturation": 2}  # fmt: skip


@pytest.mark.parametrize(
    ("reading", "vitals"),
    [
        (Reading(systolic=140, diastolic=90, spo2=93), []),
        (Reading(systolic=141, diastolic=80), ["blood_pressure"]),
        (Reading(systolic=130, diastolic=91), ["blood_pressure"]),
        (Reading(spo2=92), ["spo2"]),
        (Reading(systolic=150, diastolic=95, spo2=90), ["blood_pressure", "spo2"]),
        (Reading(heart_rate=180, respiratory_rate=40), []),
    ],
)
def test_it_flags_values_beyond_the_protocol_limits(
    reading: Reading, vitals: list[str]
) -> None:
    assert [f.vital for f in flags_for(reading, SEEDED)] == vitals


def test_a_flag_carries_the_protocols_suggested_action() -> None:
    (flag,) = flags_for(Reading(systolic=150, diastolic=80), SEEDED)
    assert flag.action == "Weigh the risk"
    assert "systolic 150 > 140" in flag.message


def test_heart_rate_is_flagged_only_where_the_clinic_set_limits() -> None:
    limits = Limits(heart_rate_min=50, heart_rate_max=110)
    assert [f.vital for f in flags_for(Reading(heart_rate=120), limits)] == [
        "heart_rate"
    ]


def test_only_blood_pressure_blocks_the_dose() -> None:
    assert blocks_dose(Reading(systolic=150, diastolic=80), SEEDED)
    assert not blocks_dose(Reading(systolic=120, diastolic=80, spo2=90), SEEDED)


def test_aldrete_totals_five_items_and_waits_for_all() -> None:
    assert aldrete_total(FULL) == 10
    assert aldrete_total({**FULL, "respiration": None}) is None
    with pytest.raises(ValueError, match="0, 1 or 2"):
        aldrete_total({**FULL, "activity": 3})


def gate(**kw: object) -> list[str]:
    values: dict[str, object] = {
        "aldrete": FULL, "pass_score": 9, "observed_minutes": 120,
        "minimum_minutes": 120, "escort_recorded": True,
    }  # fmt: skip
    values.update(kw)
    return list(discharge_gate(**values).reasons)  # type: ignore[arg-type]


def test_the_gate_opens_when_every_rule_is_met() -> None:
    assert gate() == []
    assert gate(aldrete={**FULL, "activity": 1}) == []


def test_the_gate_needs_a_score_of_nine() -> None:
    assert gate(aldrete={**FULL, "activity": 1, "consciousness": 1}) == [
        "Aldrete score 8 is below 9."
    ]


def test_the_gate_needs_the_minimum_observation_time() -> None:
    (reason,) = gate(observed_minutes=119)
    assert "Observed for 119 min" in reason


def test_the_gate_needs_an_escort_and_a_complete_score() -> None:
    reasons = gate(escort_recorded=False, aldrete={**FULL, "activity": None})
    assert reasons == [
        "Score every item of the modified Aldrete score.",
        "Record who is taking the patient home.",
    ]


def test_the_gate_stays_shut_before_the_dose() -> None:
    assert "observation has not begun" in gate(observed_minutes=None)[0]


def test_the_next_vitals_follow_the_protocols_checkpoints() -> None:
    from datetime import UTC, datetime, timedelta

    from kapcare.treatment.vitals import next_vitals_due

    start = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    due = next_vitals_due(
        dose_started_at=start, checkpoints=(0, 40), interval_minutes=None, taken=[]
    )
    assert due == start
    due = next_vitals_due(
        dose_started_at=start, checkpoints=(0, 40), interval_minutes=None,
        taken=[start - timedelta(minutes=3)],
    )  # fmt: skip
    assert due == start + timedelta(minutes=40)
    assert next_vitals_due(
        dose_started_at=start, checkpoints=(0, 40), interval_minutes=None,
        taken=[start, start + timedelta(minutes=38)],
    ) is None  # fmt: skip


def test_the_next_vitals_follow_an_interval_from_the_latest_reading() -> None:
    from datetime import UTC, datetime, timedelta

    from kapcare.treatment.vitals import next_vitals_due

    start = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    assert next_vitals_due(
        dose_started_at=start, checkpoints=(), interval_minutes=15,
        taken=[start - timedelta(minutes=30), start + timedelta(minutes=20)],
    ) == start + timedelta(minutes=35)  # fmt: skip
    assert (
        next_vitals_due(
            dose_started_at=None, checkpoints=(), interval_minutes=15, taken=[]
        )
        is None
    )
    assert (
        next_vitals_due(
            dose_started_at=start, checkpoints=(), interval_minutes=None, taken=[]
        )
        is None
    )
