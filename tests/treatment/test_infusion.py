"""The infusion as the pump gave it: pauses, restarts, rate changes and an early
stop, replayed into the dose actually given, the infusion's end (which the
discharge observation counts from) and the predicted plasma curve."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.pharmacokinetics.models import MODELS
from kapcare.pharmacokinetics.simulate import Infusion, concentrations
from kapcare.treatment import services
from kapcare.treatment.infusion import (
    InfusionError,
    PumpAction,
    PumpEvent,
    check_action,
    infusion_state,
)
from kapcare.treatment.models import DosingSession, InfusionEvent
from kapcare.treatment.predicted import given_schedule, session_prediction
from tests.conftest import ClientFor
from tests.treatment.conftest import request_by

START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
RATE = Decimal("152.6")  # (100 mL + 0.7 mL) over 40 min, rounded as the calculator does


def minute(n: float) -> datetime:
    return START + timedelta(minutes=n)


def state_after(*events: PumpEvent, rate: Decimal | None = RATE):  # type: ignore[no-untyped-def]
    return infusion_state(
        started_at=START, dose_mg=35.0, planned_minutes=40,
        planned_rate_ml_per_h=rate, events=list(events),
    )  # fmt: skip


def test_without_pump_actions_the_infusion_runs_as_planned() -> None:
    state = state_after()
    assert state.ends_at == minute(40)
    assert state.given_mg == pytest.approx(35.0)
    assert state.given_mg_by(minute(20)) == pytest.approx(17.5)


def test_a_pause_moves_the_end_by_its_length() -> None:
    state = state_after(
        PumpEvent(minute(10), PumpAction.PAUSED),
        PumpEvent(minute(25), PumpAction.RESUMED),
    )
    assert state.ends_at == minute(55)
    assert state.given_mg_by(minute(20)) == pytest.approx(35 * 10 / 40)
    assert not state.is_running_at(minute(15)) and state.is_running_at(minute(30))
    assert state.given_mg == pytest.approx(35.0)


def test_doubling_the_rate_halves_the_time_left() -> None:
    state = state_after(PumpEvent(minute(10), PumpAction.RATE_CHANGED, RATE * 2))
    # 30 min of the dose left at twice the rate: 15 min
    assert state.ends_at == minute(25)
    assert state.runs[1].mg_per_min == pytest.approx(2 * 35 / 40)
    assert state.given_mg == pytest.approx(35.0)


def test_a_restart_at_a_new_rate_takes_that_rate() -> None:
    state = state_after(
        PumpEvent(minute(20), PumpAction.PAUSED),
        PumpEvent(minute(30), PumpAction.RESUMED, RATE / 2),
    )
    # 20 min of the dose left at half the rate: 40 min from 30
    assert state.ends_at == minute(70)
    assert state.rate_ml_per_h == RATE / 2


def test_a_stop_ends_the_infusion_with_part_of_the_dose() -> None:
    state = state_after(PumpEvent(minute(30), PumpAction.STOPPED))
    assert state.ends_at == state.stopped_at == minute(30)
    assert state.given_mg == pytest.approx(35 * 30 / 40)


def test_while_paused_the_end_is_unknown() -> None:
    state = state_after(PumpEvent(minute(10), PumpAction.PAUSED))
    assert state.ends_at is None and state.paused_since == minute(10)
    assert state.given_mg == pytest.approx(8.75)


@pytest.mark.parametrize(
    ("earlier", "event", "message"),
    [
        ([], PumpEvent(minute(-1), PumpAction.PAUSED), "before the dose started"),
        ([], PumpEvent(minute(200), PumpAction.PAUSED), "in the future"),
        ([], PumpEvent(minute(41), PumpAction.PAUSED), "already finished"),
        ([], PumpEvent(minute(5), PumpAction.RESUMED), "not paused"),
        ([PumpEvent(minute(5), PumpAction.PAUSED)], PumpEvent(minute(6), PumpAction.PAUSED), "already paused"),
        ([PumpEvent(minute(5), PumpAction.PAUSED)], PumpEvent(minute(6), PumpAction.RATE_CHANGED, RATE), "paused: restart"),
        ([PumpEvent(minute(5), PumpAction.PAUSED)], PumpEvent(minute(4), PumpAction.RESUMED), "before the last pump action"),
        ([PumpEvent(minute(5), PumpAction.STOPPED)], PumpEvent(minute(6), PumpAction.PAUSED), "was stopped"),
        ([], PumpEvent(minute(5), PumpAction.RATE_CHANGED), "Enter the new pump rate"),
        ([], PumpEvent(minute(5), PumpAction.RATE_CHANGED, RATE), "already running at"),
        ([], PumpEvent(minute(5), PumpAction.RATE_CHANGED, Decimal(0)), "more than zero"),
    ],
)  # fmt: skip
def test_actions_the_pump_state_does_not_allow_are_refused(
    earlier: list[PumpEvent], event: PumpEvent, message: str
) -> None:
    with pytest.raises(InfusionError, match=message):
        check_action(state_after(*earlier), event, started_at=START, now=minute(100))


def test_no_rate_change_without_a_calculated_pump_rate() -> None:
    with pytest.raises(InfusionError, match="No pump rate was calculated"):
        check_action(
            state_after(rate=None),
            PumpEvent(minute(5), PumpAction.RATE_CHANGED, RATE),
            started_at=START, now=minute(100),
        )  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),
            st.sampled_from(list(PumpAction)),
            st.one_of(st.none(), st.integers(50, 400)),
        ),
        max_size=10,
    )
)  # fmt: skip
def test_any_valid_sequence_gives_the_whole_dose_once_the_bag_is_empty(
    steps: list[tuple[int, PumpAction, int | None]],
) -> None:
    """Whatever the pauses, rates and stops (same-minute actions included), the
    runs never overlap, the pump never gives more than the bag holds, the end is
    the last run's end, and a pump left running ends with exactly the dose."""
    events: list[PumpEvent] = []
    at = START
    for gap, action, rate in steps:
        at += timedelta(minutes=gap)
        event = PumpEvent(at, action, Decimal(rate) if rate is not None else None)
        try:
            check_action(
                state_after(*events), event, started_at=START, now=minute(10_000)
            )
        except InfusionError:
            continue
        events.append(event)
    state = state_after(*events)
    assert all(a.end <= b.start for a, b in pairwise(state.runs))
    assert state.given_mg <= 35.0 * (1 + 1e-6)  # to the microsecond of a datetime
    if state.paused_since is None:
        assert state.ends_at == state.runs[-1].end
    if state.paused_since is None and state.stopped_at is None:
        assert state.given_mg == pytest.approx(35.0)


def test_a_stop_while_paused_ends_the_infusion_at_the_pause() -> None:
    state = state_after(
        PumpEvent(minute(10), PumpAction.PAUSED),
        PumpEvent(minute(30), PumpAction.STOPPED),
    )
    assert state.ends_at == minute(10) and state.stopped_at == minute(30)
    assert state.given_mg == pytest.approx(8.75)


def test_a_zero_dose_has_no_runs_and_ends_at_its_start() -> None:
    state = infusion_state(
        started_at=START, dose_mg=0.0, planned_minutes=40,
        planned_rate_ml_per_h=RATE, events=[],
    )  # fmt: skip
    assert state.runs == [] and state.ends_at == START


# In a dosing session (the database)


def step(session: DosingSession, name: str) -> str:
    return reverse(
        "treatment:session_step", args=[session.patient_id, session.pk, name]
    )


def _started_minutes_ago(session: DosingSession, minutes: int) -> DosingSession:
    DosingSession.objects.filter(pk=session.pk).update(
        dose_started_at=timezone.now() - timedelta(minutes=minutes)
    )
    session.refresh_from_db()
    return session


def _pump(session: DosingSession, nurse: User, action: PumpAction, at_minute: float,
          *, rate: Decimal | None = None, reason: str = "") -> None:  # fmt: skip
    assert session.dose_started_at is not None
    services.record_pump_action(
        request=request_by(nurse), session=session, action=action,
        at=session.dose_started_at + timedelta(minutes=at_minute),
        rate_ml_per_h=rate, reason=reason, by=nurse,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_nurse_pauses_from_the_page_and_it_is_audited(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    response = client_for(nurse).post(
        step(dosed_session, "pump-paused"),
        {"pump-paused-reason": "Patient asked for a break"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Infusion paused" in body and "<strong>Paused</strong> since" in body
    assert "the curve assumes the pump stays paused" in body
    assert "Restart the infusion" in body and "Pause the infusion" not in body
    event = InfusionEvent.objects.get(session=dosed_session)
    assert event.action == "paused" and event.recorded_by == nurse
    assert event.reason == "Patient asked for a break"
    audit = AuditEvent.objects.filter(summary__startswith="Paused the infusion").get()
    assert audit.patient_id == dosed_session.patient_id and audit.actor == nurse


@pytest.mark.django_db
def test_a_double_clicked_pause_records_one_pause(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    client = client_for(nurse)
    client.post(step(dosed_session, "pump-paused"), {}, headers={"HX-Request": "true"})
    second = client.post(
        step(dosed_session, "pump-paused"), {}, headers={"HX-Request": "true"}
    )
    assert "already paused" in second.content.decode()
    assert InfusionEvent.objects.filter(session=dosed_session).count() == 1


@pytest.mark.django_db
def test_stopping_needs_a_reason_and_bad_input_saves_nothing(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    client = client_for(nurse)
    response = client.post(
        step(dosed_session, "pump-stopped"), {"pump-stopped-reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    bad_rate = client.post(
        step(dosed_session, "pump-rate_changed"),
        {"pump-rate_changed-rate_ml_per_h": "-5"},
    )
    assert bad_rate.status_code == 400
    bad_time = client.post(
        step(dosed_session, "pump-paused"), {"pump-paused-happened_time": "25:99"}
    )
    assert bad_time.status_code == 400
    assert not InfusionEvent.objects.filter(session=dosed_session).exists()


@pytest.mark.django_db
def test_only_dosing_staff_record_pump_actions(
    client_for: ClientFor,
    therapist: User,
    front_desk: User,
    dosed_session: DosingSession,
) -> None:
    for user in (therapist, front_desk):
        response = client_for(user).post(step(dosed_session, "pump-paused"), {})
        assert response.status_code == 403
    assert not InfusionEvent.objects.exists()


@pytest.mark.django_db
def test_the_predicted_curve_follows_a_pause(
    nurse: User, dosed_session: DosingSession
) -> None:
    """Paused from 10 to 30 min: the schedule is two runs of the planned rate with
    the pause between, ending at 60 min, and the curve is that schedule's."""
    session = _started_minutes_ago(dosed_session, 90)
    _pump(session, nurse, PumpAction.PAUSED, 10)
    _pump(session, nurse, PumpAction.RESUMED, 30)
    session = DosingSession.objects.get(pk=session.pk)
    schedule, note = given_schedule(session)
    assert float(session.dose_mg or 0) == 35.0
    assert [(round(d.start_min, 6), round(d.minutes, 6), round(d.mg_per_min, 6)) for d in schedule] == [
        (0, 10, 0.875), (30, 30, 0.875),
    ]  # fmt: skip
    assert note == "Follows the pump's recorded pauses and rate changes."
    started = session.dose_started_at
    assert started is not None
    assert session.dose_ends_at == started + timedelta(minutes=60)

    rates = [MODELS["kamp2020"].rates_for(70)]
    at = np.array([20.0, 40.0])
    paused = concentrations(
        rates, [Infusion(0, 10, 0.875), Infusion(30, 30, 0.875)], at
    )[0]
    planned = concentrations(rates, [Infusion(0, 40, 0.875)], at)[0]
    assert paused[0] < planned[0] / 2  # 10 min into a pause, well below the plan
    prediction = session_prediction(session, timezone.now())
    shown = {minute: values[0][0] for minute, values in prediction.rows}
    assert shown[20] == pytest.approx(paused[0]) and shown[40] == pytest.approx(
        paused[1]
    )


@pytest.mark.django_db
def test_discharge_counts_from_the_real_end_of_the_infusion(
    nurse: User, dosed_session: DosingSession
) -> None:
    """Paused 30 min: readiness cannot be scored while paused, nor at 41 min, and
    the observation period starts at the later end."""
    session = _started_minutes_ago(dosed_session, 0)
    start = session.dose_started_at
    assert start is not None
    items = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2, "colour": 2}  # fmt: skip

    def score() -> None:
        services.score_discharge(
            request=request_by(nurse), session=session, items=items,
            escort_present=True, by=nurse,
        )  # fmt: skip

    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        _pump(session, nurse, PumpAction.PAUSED, 10)
        with pytest.raises(services.TreatmentError, match="after the dose"):
            score()
    with time_machine.travel(start + timedelta(minutes=41), tick=False):
        _pump(session, nurse, PumpAction.RESUMED, 40)
        with pytest.raises(services.TreatmentError, match="after the dose"):
            score()
    fresh = DosingSession.objects.get(pk=session.pk)
    assert fresh.dose_ends_at == start + timedelta(minutes=70)
    with time_machine.travel(start + timedelta(minutes=71), tick=False):
        gate = services.score_discharge(
            request=request_by(nurse), session=fresh, items=items,
            escort_present=True, by=nurse,
        )  # fmt: skip
    assert any("Observed for 1 min" in reason for reason in gate.reasons)


@pytest.mark.django_db
def test_stopping_early_records_the_dose_given(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    session = _started_minutes_ago(dosed_session, 30)
    response = client_for(nurse).post(
        step(session, "pump-stopped"),
        {"pump-stopped-reason": "Blood pressure above the limit"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert "Record the drug left in the bag as waste" in body
    assert "<strong>Stopped</strong>" in body
    fresh = DosingSession.objects.get(pk=session.pk)
    assert fresh.infusion is not None
    assert fresh.infusion.given_mg == pytest.approx(35 * 30 / 40, rel=0.01)
    assert "Stop the infusion early" not in body


@pytest.mark.django_db
def test_a_rate_change_entered_after_the_fact_takes_its_time(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    session = _started_minutes_ago(dosed_session, 15)
    assert session.dose_started_at is not None
    at = timezone.localtime(session.dose_started_at + timedelta(minutes=5)).replace(second=0, microsecond=0)  # fmt: skip
    if at < session.dose_started_at:
        at += timedelta(minutes=1)
    response = client_for(nurse).post(
        step(session, "pump-rate_changed"),
        {"pump-rate_changed-rate_ml_per_h": "76.3",
         "pump-rate_changed-happened_time": at.strftime("%H:%M")},
    )  # fmt: skip
    assert response.status_code == 302
    event = InfusionEvent.objects.get(session=session)
    assert event.at == at and event.rate_ml_per_h == Decimal("76.3")


@pytest.mark.django_db
def test_the_session_page_query_count_does_not_grow_with_pump_actions(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    session = _started_minutes_ago(dosed_session, 100)
    client = client_for(nurse)
    _pump(session, nurse, PumpAction.PAUSED, 1)
    with CaptureQueriesContext(connection) as few:
        client.get(session.get_absolute_url())
    for n in range(2, 20, 2):
        _pump(session, nurse, PumpAction.RESUMED, n)
        _pump(session, nurse, PumpAction.PAUSED, n + 1)
    with django_assert_max_num_queries(len(few)):  # type: ignore[operator]
        response = client.get(session.get_absolute_url())
    assert response.content.decode().count("<td>Paused</td>") == 10


@pytest.mark.django_db
def test_a_missed_pause_can_be_entered_after_the_planned_end(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    """The planned 40 min have passed but the pump was paused 10 min and the nurse
    forgot to record it: the page still offers the pause, with its time, and the
    infusion's end moves."""
    session = _started_minutes_ago(dosed_session, 45)
    assert session.dose_started_at is not None
    body = client_for(nurse).get(session.get_absolute_url()).content.decode()
    assert "The pump has finished" in body and "Pause the infusion" in body
    _pump(session, nurse, PumpAction.PAUSED, 20)
    _pump(session, nurse, PumpAction.RESUMED, 30)
    fresh = DosingSession.objects.get(pk=session.pk)
    assert fresh.dose_ends_at == session.dose_started_at + timedelta(minutes=50)


@pytest.mark.django_db
def test_an_early_discharge_needs_the_pump_stopped_and_nothing_changes_after_discharge(
    nurse: User, physician: User, dosed_session: DosingSession
) -> None:
    session = _started_minutes_ago(dosed_session, 20)
    _pump(session, nurse, PumpAction.PAUSED, 10)
    with pytest.raises(services.TreatmentError, match="still running or paused"):
        services.discharge_patient(
            request=request_by(physician), session=session,
            override_reason="Patient insists on leaving", by=physician,
        )  # fmt: skip
    _pump(session, physician, PumpAction.STOPPED, 15, reason="Patient wants to stop")
    fresh = DosingSession.objects.get(pk=session.pk)
    assert fresh.dose_given_mg == Decimal("8.8")  # 10 of 40 min of 35 mg
    services.discharge_patient(
        request=request_by(physician), session=fresh,
        override_reason="Patient insists on leaving", by=physician,
    )  # fmt: skip
    with pytest.raises(services.TreatmentError, match="was discharged"):
        _pump(fresh, nurse, PumpAction.RESUMED, 16)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now_local", "entered", "expected_local"),
    [
        ("2026-12-08 00:05", "23:55", "2026-12-07 23:55"),
        ("2026-12-08 10:20", "10:05", "2026-12-08 10:05"),
    ],
)
def test_a_time_entered_afterwards_is_its_latest_past_occurrence(
    now_local: str, entered: str, expected_local: str
) -> None:
    from datetime import time as clock

    from kapcare.treatment.forms import latest_at_time

    toronto = timezone.get_default_timezone()
    now = datetime.strptime(now_local, "%Y-%m-%d %H:%M").replace(tzinfo=toronto)
    with time_machine.travel(now, tick=False):
        hour, minute_ = (int(x) for x in entered.split(":"))
        got = latest_at_time(clock(hour, minute_))
    assert timezone.localtime(got).strftime("%Y-%m-%d %H:%M") == expected_local


@pytest.mark.django_db
def test_fhir_reports_a_stopped_infusion_with_the_dose_given(
    nurse: User, dosed_session: DosingSession
) -> None:
    from kapcare.fhir.mapping import medication_administration

    session = _started_minutes_ago(dosed_session, 40)
    _pump(session, nurse, PumpAction.STOPPED, 30, reason="Nausea")
    fresh = DosingSession.objects.select_related("course__protocol").get(pk=session.pk)
    resource = medication_administration(fresh)
    assert resource["status"] == "stopped"
    assert resource["dosage"]["dose"]["value"] == 26.2  # 30 of 40 min of 35 mg
    started = session.dose_started_at
    assert started is not None
    ended = started + timedelta(minutes=30)
    assert resource["effectivePeriod"]["end"].startswith(
        ended.strftime("%Y-%m-%dT%H:%M")
    )
