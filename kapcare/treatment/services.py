"""Every write to a course, a dosing session or the ketamine register. Each is one
transaction with its audit event; a signed session refuses every change but addenda."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, last_changed_by, record_event
from kapcare.lib.concurrency import check_unchanged, fingerprint
from kapcare.measures.schedules import Repeat
from kapcare.measures.services import send_event_questionnaires
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.safety.services import raise_safety_alert
from kapcare.treatment import discharge, dosing
from kapcare.treatment.infusion import (
    InfusionError,
    PumpAction,
    PumpEvent,
    check_action,
)
from kapcare.treatment.models import (
    AdverseEvent,
    DissociationRating,
    DosingSession,
    InfusionEvent,
    KetamineLot,
    Protocol,
    RegisterEntry,
    SessionAddendum,
    SessionNote,
    StockCount,
    TreatmentCourse,
    VitalSign,
    end_of_day,
)
from kapcare.treatment.vitals import blocks_dose
from kapcare.website.mail import send_clinic_email_on_commit
from kapcare.website.models import clinic_zone

PHYSICIAN_PERMISSION = "treatment.sign_dosingsession"
SESSION_PERMISSION = "treatment.add_dosingsession"


class TreatmentError(ValueError):
    """The change cannot be made as asked; the message tells the clinician why."""


def is_physician(user: User) -> bool:
    return user.has_perm(PHYSICIAN_PERMISSION)


def _record(
    request: HttpRequest | None,
    *,
    patient: Patient | None,
    object_type: str,
    object_id: Any,
    summary: str,
    action: str = Action.UPDATE,
    detail: dict[str, Any] | None = None,
    actor: User | None = None,
) -> None:
    record_event(
        request=request,
        actor=actor,
        action=action,
        patient=patient,
        information=Information.CLINICAL if patient is not None else "",
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        detail=detail or {},
    )


# Courses


def create_course(
    *,
    request: HttpRequest | None,
    patient: Patient,
    protocol: Protocol,
    indication: str,
    phase: str,
    prescribed_dose: Decimal,
    planned_sessions: int,
    starts_on: date,
    notes: str,
    by: User,
) -> TreatmentCourse:
    """Prescribe a course. The physician is the prescriber; the protocol must carry a
    sourced maximum dose, and the prescription must respect it."""
    if not is_physician(by):
        raise TreatmentError("Only a physician may prescribe a course.")
    if not protocol.is_active:
        raise TreatmentError("That protocol is retired.")
    if protocol.max_dose is None:
        raise TreatmentError(
            f"“{protocol}” has no maximum dose yet: a physician must complete the "
            "template, with its source, before prescribing from it."
        )
    if prescribed_dose <= 0 or prescribed_dose > protocol.max_dose:
        raise TreatmentError(
            f"The dose must be more than 0 and at most {protocol.max_dose} "
            f"{protocol.dose_unit} for this protocol."
        )
    allowed = protocol.allowed_dose_values
    if allowed and prescribed_dose not in allowed:
        raise TreatmentError(
            "This protocol allows "
            + ", ".join(f"{d.normalize()}" for d in allowed)
            + f" {protocol.dose_unit}."
        )
    with transaction.atomic():
        course = TreatmentCourse.objects.create(
            patient=patient, protocol=protocol, indication=indication, phase=phase,
            prescriber=by, prescribed_dose=prescribed_dose,
            planned_sessions=planned_sessions, starts_on=starts_on, notes=notes,
            created_by=by,
        )  # fmt: skip
        _record(
            request, patient=patient, object_type="treatment_course",
            object_id=course.pk, action=Action.CREATE,
            summary=f"Prescribed a course: {protocol}, {prescribed_dose.normalize()} "
            f"{protocol.dose_unit}, {planned_sessions} sessions",
        )  # fmt: skip
    return course


def refresh_course_end_times() -> int:
    """After the clinic's time zone changes: each ended course's ended_at moves to
    midnight after its ended_on in the new zone. Returns the courses updated."""
    zone = clinic_zone()
    ended = TreatmentCourse.objects.filter(ended_on__isnull=False).only(
        "pk", "ended_on"
    )
    changed = []
    for course in ended.iterator(chunk_size=2000):
        assert course.ended_on is not None  # noqa: S101 - filtered above
        course.ended_at = end_of_day(course.ended_on, zone)
        changed.append(course)
    TreatmentCourse.objects.bulk_update(changed, ["ended_at"], batch_size=1000)
    return len(changed)


def course_status_shows(course: TreatmentCourse) -> list[object]:
    return [course.status, course.ended_on]


def change_course_status(
    *, request: HttpRequest | None, course: TreatmentCourse, status: str, by: User,
    seen: str | None = None,
) -> None:  # fmt: skip
    """A course that ends gets today as its end date; one reopened loses it. `seen`
    (the status form's version) refuses a change made from a stale page."""
    if not is_physician(by):
        raise TreatmentError("Only a physician may change a course's status.")
    with transaction.atomic():
        fresh = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        if seen is not None:
            check_unchanged(
                seen, course_status_shows(fresh), what="this course's status",
                changed_by=last_changed_by("treatment_course", fresh.pk),
            )  # fmt: skip
        old = fresh.status
        fresh.status = status
        if status in (TreatmentCourse.Status.COMPLETED, TreatmentCourse.Status.STOPPED):
            fresh.ended_on = fresh.ended_on or timezone.localdate()
        else:
            fresh.ended_on = None
        fresh.save(update_fields=["status", "ended_on"])
        _record(
            request, patient=course.patient, object_type="treatment_course",
            object_id=course.pk, summary=f"Course status {old} → {status}",
        )  # fmt: skip


def protocol_shows(protocol: Protocol, fields: Iterable[str]) -> list[object]:
    return [getattr(protocol, name) for name in fields]


def save_protocol(
    *, request: HttpRequest | None, form: Any, by: User, seen: str | None = None
) -> Protocol:
    """Save a protocol template edited by a physician; the audit keeps old and new.
    `seen` (the form's version) refuses a save over limits changed meanwhile."""
    with transaction.atomic():
        if seen is not None:
            locked = Protocol.objects.select_for_update().get(pk=form.instance.pk)
            check_unchanged(
                seen, protocol_shows(locked, form.Meta.fields), what="this protocol",
                changed_by=locked.updated_by.display_name if locked.updated_by else "",
            )  # fmt: skip
        protocol: Protocol = form.save(commit=False)
        protocol.updated_at = timezone.now()
        protocol.updated_by = by
        protocol.save()
        changed = {
            name: {
                "old": str(form.initial.get(name)),
                "new": str(form.cleaned_data.get(name)),
            }
            for name in form.changed_data
        }
        _record(
            request, patient=None, object_type="protocol", object_id=protocol.pk,
            summary=f"Changed protocol {protocol.name}", detail=changed,
        )  # fmt: skip
    return protocol


# Dosing sessions


def start_session(
    *, request: HttpRequest | None, course: TreatmentCourse, by: User
) -> DosingSession:
    """Open the next session of a course. A second click returns the session already
    open, and the questionnaires due before dosing are sent to the patient."""
    if not by.has_perm(SESSION_PERMISSION):
        raise TreatmentError("Only nurses and physicians run dosing sessions.")
    with transaction.atomic():
        locked = TreatmentCourse.objects.select_for_update().get(pk=course.pk)
        if locked.status in (
            TreatmentCourse.Status.COMPLETED,
            TreatmentCourse.Status.STOPPED,
        ):
            raise TreatmentError("This course has ended; prescribe a new one.")
        open_session = locked.sessions.filter(
            status=DosingSession.Status.IN_PROGRESS
        ).first()
        if open_session is not None:
            return open_session
        last = locked.sessions.aggregate(n=Max("number"))["n"] or 0
        session = DosingSession.objects.create(
            course=locked, patient_id=locked.patient_id, number=last + 1, opened_by=by,
            infusion_minutes=locked.protocol.infusion_minutes,
        )  # fmt: skip
        if locked.status == TreatmentCourse.Status.PLANNED:
            locked.status = TreatmentCourse.Status.ACTIVE
            locked.save(update_fields=["status"])
        _record(
            request, patient=locked.patient, object_type="dosing_session",
            object_id=session.pk, action=Action.CREATE,
            summary=f"Opened dosing session {session.number}",
        )  # fmt: skip
        send_event_questionnaires(
            patient=locked.patient, event=Repeat.BEFORE_DOSING, on=timezone.localdate()
        )
    return session


def _lock(session: DosingSession, *, open_only: bool = True) -> DosingSession:
    fresh = (
        DosingSession.objects.select_for_update()
        .select_related("course__protocol", "patient")
        .get(pk=session.pk)
    )
    if fresh.is_signed:
        raise TreatmentError("This session is signed; add an addendum instead.")
    if open_only and not fresh.is_open:
        raise TreatmentError(
            "This session is completed and awaiting co-sign; it can no longer change."
        )
    return fresh


def _touch(session: DosingSession, fields: list[str]) -> None:
    session.updated_at = timezone.now()
    session.save(update_fields=[*fields, "updated_at"])


# What each guarded step's form showed: a save is refused if it changed meanwhile
# (a stale checklist must not undo a colleague's entries; a witness or a start must
# be of the dose calculation on screen; an override of the baseline on screen).
STEP_SHOWS: dict[str, tuple[str, Callable[[DosingSession, VitalSign | None], list[object]]]] = {
    "checklist": (
        "the pre-session checklist",
        lambda s, base: [getattr(s, f) for f in CHECKLIST_FIELDS],
    ),
    "override": ("the baseline blood pressure", lambda s, base: [base.pk if base else ""]),
    "witness": ("the calculated dose", lambda s, base: [s.dose_mg, s.dose_calculated_at]),
    "start": (
        "the calculated dose or its double-check",
        lambda s, base: [s.dose_mg, s.dose_calculated_at, s.dose_witness_id, s.dose_witnessed_at],
    ),
}  # fmt: skip


def step_versions(session: DosingSession, base: VitalSign | None) -> dict[str, str]:
    """The version of each guarded step, for its form's hidden `seen` field."""
    return {step: fingerprint(shows(session, base)) for step, (_, shows) in STEP_SHOWS.items()}  # fmt: skip


def _check_seen(fresh: DosingSession, step: str, seen: str | None) -> None:
    """`seen` None: a caller that reads and writes in one go (no form)."""
    if seen is None:
        return
    what, shows = STEP_SHOWS[step]
    base = baseline(fresh) if step == "override" else None
    values = shows(fresh, base)
    if fingerprint(values) == seen:
        return
    if step == "override" and base is not None:
        who = base.recorded_by.display_name  # who took the reading now the baseline
    elif step == "witness" and fresh.dose_calculated_by is not None:
        who = fresh.dose_calculated_by.display_name
    else:
        prefix = "Pre-session checklist" if step == "checklist" else ""
        who = last_changed_by("dosing_session", fresh.pk, prefix)
    check_unchanged(seen, values, what=what, changed_by=who)


CHECKLIST_FIELDS: tuple[str, ...] = (
    "identity_confirmed",
    "fasting_confirmed",
    "no_alcohol_confirmed",
    "escort_name",
    "escort_phone",
    "pregnancy_status",
    "has_medication_changes",
    "medication_changes",
    "predose_questionnaires_done",
)


def checklist_gaps(session: DosingSession) -> list[str]:
    """What the pre-session checklist still lacks."""
    gaps = []
    if not session.identity_confirmed:
        gaps.append("Confirm the patient's identity.")
    if not session.fasting_confirmed:
        gaps.append("Confirm the patient has prepared (fasting) as the protocol asks.")
    if not session.no_alcohol_confirmed:
        gaps.append("Confirm no alcohol today.")
    if not session.escort_name:
        gaps.append("Record who is taking the patient home.")
    if session.course.protocol.asks_pregnancy_status and not session.pregnancy_status:
        gaps.append("Record pregnancy status.")
    if session.has_medication_changes and not session.medication_changes.strip():
        gaps.append("Describe the medication changes.")
    if not session.predose_questionnaires_done:
        gaps.append("Have the patient complete the questionnaires due before dosing.")
    return gaps


def save_checklist(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    values: dict[str, Any],
    by: User,
    seen: str | None = None,
) -> DosingSession:
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.dose_started_at is not None:
            raise TreatmentError("The dose has started; the checklist is closed.")
        _check_seen(fresh, "checklist", seen)
        for field in CHECKLIST_FIELDS:
            setattr(fresh, field, values[field])
        gaps = checklist_gaps(fresh)
        fresh.checklist_done_at = None if gaps else timezone.now()
        fresh.checklist_done_by = None if gaps else by
        _touch(fresh, [*CHECKLIST_FIELDS, "checklist_done_at", "checklist_done_by"])
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary="Pre-session checklist " + ("complete" if not gaps else "saved"),
            detail={f: str(values[f]) for f in CHECKLIST_FIELDS},
        )  # fmt: skip
    return fresh


def baseline_of(vitals: Iterable[VitalSign]) -> VitalSign | None:
    """The latest baseline with a blood pressure: the label asks for BP before dosing
    (clinical-rules.md §9), so a baseline without one does not count."""
    counted = [v for v in vitals if v.is_baseline and v.systolic is not None]
    return max(counted, key=lambda v: (v.taken_at, v.recorded_at), default=None)


def baseline(session: DosingSession) -> VitalSign | None:
    return baseline_of(session.vitals.filter(is_baseline=True, systolic__isnull=False))


def blood_pressure_hold(session: DosingSession, base: VitalSign | None) -> bool:
    """The baseline BP is above the protocol's limit and no physician has overridden
    the hold since (a new baseline clears an earlier override)."""
    if base is None or session.blood_pressure_override_at is not None:
        return False
    return blocks_dose(base.reading, session.course.protocol.limits)


def dose_blocked_by_blood_pressure(session: DosingSession) -> bool:
    return blood_pressure_hold(session, baseline(session))


def record_vitals(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    values: dict[str, Any],
    taken_at: datetime,
    is_baseline: bool,
    by: User,
) -> VitalSign:
    now = timezone.now()
    if taken_at > now + timedelta(minutes=2):
        raise TreatmentError("Vitals cannot be recorded for a time in the future.")
    with transaction.atomic():
        fresh = _lock(session)
        if taken_at < fresh.opened_at - timedelta(hours=2):
            raise TreatmentError("That time is before this session was opened.")
        if is_baseline and fresh.dose_started_at is not None:
            raise TreatmentError("The dose has started; later vitals are not baseline.")
        vital = VitalSign.objects.create(
            session=fresh, taken_at=taken_at, is_baseline=is_baseline,
            recorded_by=by, recorded_at=now, **values,
        )  # fmt: skip
        cleared = (
            is_baseline
            and vital.systolic is not None
            and (fresh.blood_pressure_override_at is not None)
        )
        if cleared:
            # The override answered an earlier reading; a new one is judged afresh.
            fresh.blood_pressure_override_at = None
            fresh.blood_pressure_override_by = None
            fresh.blood_pressure_override_reason = ""
        _touch(
            fresh,
            [
                "blood_pressure_override_at",
                "blood_pressure_override_by",
                "blood_pressure_override_reason",
            ]
            if cleared
            else [],
        )
        late = " (entered late)" if vital.is_late_entry else ""
        _record(
            request, patient=fresh.patient, object_type="vital_sign",
            object_id=vital.pk, action=Action.CREATE,
            summary=f"Recorded {'baseline ' if is_baseline else ''}vitals at "
            f"{timezone.localtime(taken_at):%H:%M}{late}",
            detail={k: str(v) for k, v in values.items() if v is not None},
        )  # fmt: skip
    return vital


def override_blood_pressure(
    *, request: HttpRequest | None, session: DosingSession, reason: str, by: User,
    seen: str | None = None,
) -> None:  # fmt: skip
    """A physician accepts the risk of dosing above the blood-pressure guide."""
    if not is_physician(by):
        raise TreatmentError("Only a physician may override the blood-pressure hold.")
    if not reason.strip():
        raise TreatmentError("Give the reason for the override.")
    with transaction.atomic():
        fresh = _lock(session)
        _check_seen(fresh, "override", seen)
        if not dose_blocked_by_blood_pressure(fresh):
            raise TreatmentError("There is no blood-pressure hold to override.")
        fresh.blood_pressure_override_reason = reason.strip()
        fresh.blood_pressure_override_by = by
        fresh.blood_pressure_override_at = timezone.now()
        _touch(
            fresh,
            [
                "blood_pressure_override_reason",
                "blood_pressure_override_by",
                "blood_pressure_override_at",
            ],
        )
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk, summary="Physician overrode the blood-pressure hold",
            detail={"reason": reason.strip()},
        )  # fmt: skip


def calculate_session_dose(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    weight_kg: Decimal | None,
    concentration_mg_per_ml: Decimal | None,
    bag_volume_ml: Decimal | None,
    infusion_minutes: int | None,
    by: User,
) -> dosing.DoseCalculation:
    """Work out today's dose from the course's prescription and store it with its
    working. A new calculation clears an earlier witness."""
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.dose_started_at is not None:
            raise TreatmentError("The dose has started; it cannot be recalculated.")
        protocol = fresh.course.protocol
        if infusion_minutes != protocol.infusion_minutes:
            raise TreatmentError(
                f"This protocol infuses over {protocol.infusion_minutes} min."
                if protocol.infusion_minutes
                else "This protocol has no infusion time."
            )
        per_kg = fresh.course.prescribed_dose if protocol.is_per_kg else None
        try:
            result = dosing.calculate_dose(
                dosing.DoseInput(
                    weight_kg=weight_kg,
                    dose_mg_per_kg=per_kg,
                    fixed_dose_mg=None if per_kg else fresh.course.prescribed_dose,
                    concentration_mg_per_ml=concentration_mg_per_ml,
                    bag_volume_ml=bag_volume_ml,
                    infusion_minutes=infusion_minutes,
                    max_mg_per_kg=protocol.max_dose if per_kg else None,
                    max_dose_mg=None if per_kg else protocol.max_dose,
                )
            )
        except dosing.DoseError as exc:
            raise TreatmentError(str(exc)) from exc
        fresh.weight_kg = weight_kg
        fresh.dose_mg_per_kg = per_kg
        fresh.concentration_mg_per_ml = concentration_mg_per_ml
        fresh.bag_volume_ml = bag_volume_ml
        fresh.infusion_minutes = infusion_minutes
        fresh.dose_mg = result.dose_mg
        fresh.draw_volume_ml = result.draw_volume_ml
        fresh.pump_rate_ml_per_h = result.pump_rate_ml_per_h
        fresh.dose_working = list(result.working)
        fresh.dose_calculated_by = by
        fresh.dose_calculated_at = timezone.now()
        fresh.dose_witness = None
        fresh.dose_witnessed_at = None
        _touch(
            fresh,
            [
                "weight_kg", "dose_mg_per_kg", "concentration_mg_per_ml",
                "bag_volume_ml", "infusion_minutes", "dose_mg", "draw_volume_ml",
                "pump_rate_ml_per_h", "dose_working", "dose_calculated_by",
                "dose_calculated_at", "dose_witness", "dose_witnessed_at",
            ],
        )  # fmt: skip
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk, summary=f"Calculated the dose: {result.dose_mg} mg",
            detail={"working": list(result.working)},
        )  # fmt: skip
    return result


def check_witness(
    *, request: HttpRequest | None, witness: User | None, password: str, by: User
) -> User:
    """A second clinician, present, who confirms with their own password. Through the
    sign-in backends, so django-axes counts wrong passwords and locks the witness's
    account as it would at sign-in; each failure is audited."""
    if witness is None:
        raise TreatmentError("Choose the second clinician who checked it.")
    if witness.pk == by.pk:
        raise TreatmentError("The witness must be a second person.")
    if not (witness.is_active and witness.has_perm(SESSION_PERMISSION)):
        raise TreatmentError("The witness must be a nurse or physician.")
    if request is None:
        confirmed = witness.check_password(password)
    else:
        user = authenticate(request, username=witness.email, password=password)
        if getattr(request, "axes_locked_out", False):
            raise TreatmentError(
                f"{witness.display_name}'s account is locked after repeated wrong "
                "passwords; another clinician must witness."
            )
        confirmed = user is not None and user.pk == witness.pk
    if not confirmed:
        record_event(
            request=request, action=Action.LOGIN_FAILED,
            information=Information.ACCOUNT, object_type="user", object_id=witness.pk,
            summary="Wrong password when witnessing",
        )  # fmt: skip
        raise TreatmentError(f"{witness.display_name}'s password did not match.")
    return witness


def witness_dose(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    witness: User | None,
    password: str,
    by: User,
    seen: str | None = None,
) -> None:
    checked = check_witness(request=request, witness=witness, password=password, by=by)
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.dose_mg is None:
            raise TreatmentError("Calculate the dose first.")
        _check_seen(fresh, "witness", seen)
        fresh.dose_witness = checked
        fresh.dose_witnessed_at = timezone.now()
        _touch(fresh, ["dose_witness", "dose_witnessed_at"])
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary=f"{checked.display_name} double-checked the dose ({fresh.dose_mg} mg)",
        )  # fmt: skip


def dose_gaps(
    session: DosingSession,
    *,
    base: VitalSign | None = None,
    bp_hold: bool | None = None,
) -> list[str]:
    """Why the dose may not start yet (the page passes the baseline it already has)."""
    if bp_hold is None:
        base = baseline(session)
        bp_hold = dose_blocked_by_blood_pressure(session)
    gaps = []
    if session.checklist_done_at is None:
        gaps.append("Complete the pre-session checklist.")
    if session.pregnancy_status == DosingSession.Pregnancy.PREGNANT:
        gaps.append(
            "The patient is or may be pregnant: the dose is not given (may cause "
            "fetal harm, SPRAVATO label, clinical-rules.md §9). If this was entered "
            "in error, correct the checklist."
        )
    if base is None:
        gaps.append("Record baseline vitals, with the blood pressure.")
    elif bp_hold:
        gaps.append(
            "Baseline blood pressure is above the protocol's limit: a physician "
            "must record an override with a reason, or the dose is not given."
        )
    if session.dose_mg is None:
        gaps.append("Calculate the dose.")
    elif session.dose_witness_id is None:
        gaps.append("Have a second clinician double-check the dose.")
    return gaps


def start_dose(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    lot: KetamineLot | None,
    by: User,
    seen: str | None = None,
) -> None:
    """Give the dose: draws it from the chosen lot in the register, in the same
    transaction, so the register and the chart cannot disagree."""
    if lot is None:
        raise TreatmentError("Choose the lot the dose is drawn from.")
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.dose_started_at is not None:
            raise TreatmentError("The dose was already started.")
        _check_seen(fresh, "start", seen)
        gaps = dose_gaps(fresh)
        if gaps:
            raise TreatmentError(" ".join(gaps))
        if fresh.course.status in (
            TreatmentCourse.Status.COMPLETED,
            TreatmentCourse.Status.STOPPED,
        ):
            raise TreatmentError("This course has ended; no dose may be given.")
        if lot.drug != fresh.course.protocol.drug:
            raise TreatmentError(f"That lot is {lot.get_drug_display()}.")
        if (
            fresh.concentration_mg_per_ml is not None
            and lot.strength_mg_per_ml != fresh.concentration_mg_per_ml
        ):
            # The volume to draw was worked out for the typed concentration; another
            # strength would give a different dose (a 5-10x error).
            raise TreatmentError(
                f"Lot {lot.lot_number} is {lot.strength_mg_per_ml} mg/mL but the dose "
                f"was calculated for {fresh.concentration_mg_per_ml} mg/mL: "
                "recalculate with this lot's strength, or choose a matching lot."
            )
        _move_stock(
            lot=lot, change_mg=-(fresh.dose_mg or Decimal(0)), kind=RegisterEntry.Kind.ADMINISTERED,
            session=fresh, reason="", by=by, witness=fresh.dose_witness,
        )  # fmt: skip
        fresh.dose_started_at = timezone.now()
        fresh.dose_lot = lot
        _touch(fresh, ["dose_started_at", "dose_lot"])
        TreatmentCourse.objects.filter(
            pk=fresh.course_id, first_dose_at__isnull=True
        ).update(first_dose_at=fresh.dose_started_at)
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary=f"Started the dose: {fresh.dose_mg} mg from lot {lot.lot_number}",
        )  # fmt: skip


PUMP_SUMMARIES = {
    PumpAction.PAUSED: "Paused the infusion",
    PumpAction.RESUMED: "Restarted the infusion",
    PumpAction.RATE_CHANGED: "Changed the infusion rate",
    PumpAction.STOPPED: "Stopped the infusion",
}


def record_pump_action(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    action: PumpAction,
    at: datetime | None,
    rate_ml_per_h: Decimal | None,
    reason: str,
    by: User,
) -> InfusionEvent:
    """Pause, restart, re-rate or stop the infusion at the time it happened (now
    unless given). Replays what the pump did so far and refuses what that state does
    not allow, so a double click on "Pause" records one pause."""
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.dose_started_at is None:
            raise TreatmentError("The dose has not started.")
        if fresh.discharged_at is not None:
            raise TreatmentError(
                "The patient was discharged; add a note instead of changing the pump record."
            )
        state = fresh.infusion
        if state is None:
            raise TreatmentError("This dose is not an infusion.")
        if action == PumpAction.STOPPED and not reason.strip():
            raise TreatmentError("Give the reason the infusion was stopped early.")
        event = PumpEvent(at or timezone.now(), action, rate_ml_per_h)
        try:
            check_action(
                state, event, started_at=fresh.dose_started_at, now=timezone.now()
            )
        except InfusionError as exc:
            raise TreatmentError(str(exc)) from None
        recorded = InfusionEvent.objects.create(
            session=fresh, action=action, at=event.at, rate_ml_per_h=rate_ml_per_h,
            reason=reason.strip(), recorded_by=by,
        )  # fmt: skip
        changed: list[str] = []
        if action == PumpAction.STOPPED:
            stopped = fresh.infusion
            assert stopped is not None  # noqa: S101 - it was an infusion a moment ago
            fresh.dose_given_mg = Decimal(str(round(stopped.given_mg, 1)))
            changed.append("dose_given_mg")
        _touch(fresh, changed)
        local = timezone.localtime(event.at)
        rate = f" at {rate_ml_per_h} mL/h" if rate_ml_per_h is not None else ""
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary=f"{PUMP_SUMMARIES[action]}{rate} at {local:%H:%M}",
            detail={"action": str(action), "at": event.at.isoformat(),
                    "rate_ml_per_h": str(rate_ml_per_h) if rate_ml_per_h is not None else None,
                    "reason": reason.strip()},
        )  # fmt: skip
        return recorded


def rate_dissociation(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    total: int,
    rated_at: datetime,
    notes: str,
    by: User,
) -> DissociationRating:
    with transaction.atomic():
        fresh = _lock(session)
        rating = DissociationRating.objects.create(
            session=fresh, total=total, rated_at=rated_at, notes=notes, rated_by=by
        )
        _touch(fresh, [])
        _record(
            request, patient=fresh.patient, object_type="dissociation_rating",
            object_id=rating.pk, action=Action.CREATE,
            summary=f"Rated dissociation: CADSS total {total}",
        )  # fmt: skip
    return rating


def add_session_note(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    kind: str,
    noted_at: datetime,
    text: str,
    drug: str,
    dose: str,
    by: User,
) -> SessionNote:
    with transaction.atomic():
        fresh = _lock(session)
        note = SessionNote.objects.create(
            session=fresh, kind=kind, noted_at=noted_at, text=text, drug=drug,
            dose=dose, written_by=by,
        )  # fmt: skip
        _touch(fresh, [])
        _record(
            request, patient=fresh.patient, object_type="session_note",
            object_id=note.pk, action=Action.CREATE,
            summary=f"Added {note.get_kind_display().lower()}"
            + (f": {drug} {dose}" if drug else ""),
        )  # fmt: skip
    return note


def report_adverse_event(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    values: dict[str, Any],
    by: User,
) -> AdverseEvent:
    """Record an adverse event, also one found after the session closed (appended,
    never changing what was signed). A serious or severe one, or one that needed
    emergency care, raises a high safety alert (which a clinician must acknowledge)
    and emails the prescribing physician."""
    with transaction.atomic():
        fresh = (
            DosingSession.objects.select_for_update()
            .select_related("course__protocol", "course__prescriber", "patient")
            .get(pk=session.pk)
        )
        event = AdverseEvent.objects.create(
            session=fresh, patient=fresh.patient, reported_by=by, **values
        )
        _touch(fresh, [])
        _record(
            request, patient=fresh.patient, object_type="adverse_event",
            object_id=event.pk, action=Action.CREATE,
            summary=f"Reported an adverse event: {event}"
            + (" (serious)" if event.is_serious else ""),
        )  # fmt: skip
        if needs_alert(event):
            _notify_serious_event(request, fresh, event, by)
    return event


def needs_alert(event: AdverseEvent) -> bool:
    return (
        event.is_serious
        or event.severity == AdverseEvent.Severity.SEVERE
        or event.outcome == AdverseEvent.Outcome.TRANSFERRED
    )


def _notify_serious_event(
    request: HttpRequest | None, session: DosingSession, event: AdverseEvent, by: User
) -> None:
    raise_safety_alert(
        request=request,
        patient=session.patient,
        level=SafetyAlert.Level.HIGH,
        trigger=SafetyAlert.Trigger.ADVERSE_EVENT,
        reason=f"{'Severe' if event.severity == 'severe' and not event.is_serious else 'Serious'} adverse event in dosing "
        f"session {session.number}: {event.get_kind_display()}",
        source_type="adverse_event",
        source_id=str(event.pk),
        evidence={
            "session": str(session.pk),
            "severity": event.severity,
            "action": event.action_taken,
            "outcome": event.outcome,
        },
        raised_by=by,
    )
    prescriber = session.course.prescriber
    if prescriber.email:
        send_clinic_email_on_commit(
            "treatment/email/serious_event",
            {"session": session, "event": event, "physician": prescriber},
            prescriber.email,
        )


def score_discharge(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    items: dict[str, int],
    escort_present: bool,
    by: User,
) -> discharge.GateResult:
    with transaction.atomic():
        fresh = _lock(session)
        ends = fresh.dose_ends_at
        if ends is None or timezone.now() < ends:
            raise TreatmentError(
                "Score discharge readiness after the dose (the infusion) has ended."
            )
        if fresh.discharged_at is not None:
            raise TreatmentError("The patient was discharged on this score.")
        fresh.aldrete = dict(items)
        fresh.aldrete_score = discharge.aldrete_total(dict(items))
        fresh.aldrete_scored_at = timezone.now()
        fresh.escort_present = escort_present
        _touch(
            fresh, ["aldrete", "aldrete_score", "aldrete_scored_at", "escort_present"]
        )
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary=f"Scored discharge readiness: Aldrete {fresh.aldrete_score}",
            detail=dict(items),
        )  # fmt: skip
        return discharge_gate_for(fresh)


def discharge_gate_for(
    session: DosingSession, now: datetime | None = None
) -> discharge.GateResult:
    protocol = session.course.protocol
    ends = session.dose_ends_at
    observed = None
    if ends is not None:
        observed = max(0, int(((now or timezone.now()) - ends).total_seconds() // 60))
    scored_in_time = (
        ends is not None
        and session.aldrete_scored_at is not None
        and session.aldrete_scored_at >= ends
    )
    return discharge.discharge_gate(
        aldrete=session.aldrete if scored_in_time else {},
        pass_score=protocol.discharge_pass_score,
        observed_minutes=observed,
        minimum_minutes=protocol.observation_minutes,
        escort_recorded=bool(session.escort_name) and session.escort_present,
    )


def discharge_patient(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    override_reason: str,
    by: User,
) -> None:
    """Discharge when the gate is open; otherwise only a physician, with a reason."""
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.dose_started_at is None:
            raise TreatmentError("No dose was given in this session.")
        if fresh.discharged_at is not None:
            raise TreatmentError("The patient was already discharged.")
        if not fresh.infusion_finished:
            raise TreatmentError(
                "The infusion is still running or paused: stop it (with the reason) "
                "before an early discharge."
            )
        gate = discharge_gate_for(fresh)
        if not gate.is_open:
            if not override_reason.strip():
                raise TreatmentError(
                    "Not ready for discharge: " + " ".join(gate.reasons)
                )
            if not is_physician(by):
                raise TreatmentError(
                    "Only a physician may discharge early. " + " ".join(gate.reasons)
                )
            fresh.discharge_override_reason = override_reason.strip()
            fresh.discharge_override_by = by
        fresh.discharged_at = timezone.now()
        fresh.discharged_by = by
        _touch(
            fresh,
            [
                "discharge_override_reason",
                "discharge_override_by",
                "discharged_at",
                "discharged_by",
            ],
        )
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary="Discharged the patient"
            + (" early (physician override)" if not gate.is_open else ""),
            detail={"reasons_overridden": list(gate.reasons)} if not gate.is_open else {},
        )  # fmt: skip


def complete_session(
    *, request: HttpRequest | None, session: DosingSession, by: User
) -> None:
    """The nurse closes the session for the physician's co-signature."""
    with transaction.atomic():
        fresh = _lock(session)
        if fresh.discharged_at is None and fresh.dose_started_at is not None:
            raise TreatmentError("Discharge the patient before completing the session.")
        fresh.status = DosingSession.Status.COMPLETED
        fresh.completed_at = timezone.now()
        fresh.completed_by = by
        _touch(fresh, ["status", "completed_at", "completed_by"])
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk,
            summary="Completed the session"
            + ("" if fresh.dose_started_at else " (no dose given)"),
        )  # fmt: skip
        course = fresh.course
        if (
            course.phase == TreatmentCourse.Phase.INDUCTION
            and fresh.dose_started_at is not None
            and course.sessions.filter(dose_started_at__isnull=False).count()
            >= course.planned_sessions
        ):
            send_event_questionnaires(
                patient=fresh.patient, event=Repeat.END_OF_INDUCTION,
                on=timezone.localdate(),
            )  # fmt: skip


def sign_session(
    *, request: HttpRequest | None, session: DosingSession, by: User
) -> None:
    """The physician co-signs; the session is read-only from then on."""
    if not is_physician(by):
        raise TreatmentError("Only a physician may co-sign a session.")
    with transaction.atomic():
        fresh = _lock(session, open_only=False)
        if fresh.status != DosingSession.Status.COMPLETED:
            raise TreatmentError("The nurse must complete the session first.")
        if fresh.completed_by_id == by.pk:
            raise TreatmentError(
                "A second clinician co-signs: not the one who completed it."
            )
        fresh.status = DosingSession.Status.SIGNED
        fresh.signed_at = timezone.now()
        fresh.signed_by = by
        _touch(fresh, ["status", "signed_at", "signed_by"])
        _record(
            request, patient=fresh.patient, object_type="dosing_session",
            object_id=fresh.pk, summary="Co-signed the session",
        )  # fmt: skip


def add_session_addendum(
    *,
    request: HttpRequest | None,
    session: DosingSession,
    reason: str,
    text: str,
    by: User,
) -> SessionAddendum:
    if not (reason.strip() and text.strip()):
        raise TreatmentError("Give both the reason and the correction.")
    with transaction.atomic():
        fresh = DosingSession.objects.select_for_update().get(pk=session.pk)
        if fresh.status == DosingSession.Status.IN_PROGRESS:
            raise TreatmentError("The session is still open; change it directly.")
        addendum = SessionAddendum.objects.create(
            session=fresh, reason=reason.strip(), text=text.strip(), author=by
        )
        _record(
            request, patient=session.patient, object_type="session_addendum",
            object_id=addendum.pk, action=Action.CREATE,
            summary=f"Added an addendum to session {fresh.number}: {reason.strip()}",
        )  # fmt: skip
    return addendum


# The ketamine register


def _move_stock(
    *,
    lot: KetamineLot,
    change_mg: Decimal,
    kind: str,
    session: DosingSession | None,
    reason: str,
    by: User,
    witness: User | None,
) -> RegisterEntry:
    """Move a lot's balance, inside the caller's transaction, under a row lock so two
    draws cannot both spend the same milligrams. Never below zero; nothing is given
    from an expired lot (wasting it, witnessed, is how it leaves the register)."""
    locked = KetamineLot.objects.select_for_update().get(pk=lot.pk)
    if kind == RegisterEntry.Kind.ADMINISTERED and locked.is_expired():
        raise TreatmentError(
            f"Lot {locked.lot_number} expired on {locked.expires_on:%Y-%m-%d}; "
            "it cannot be used."
        )
    new_balance = locked.balance_mg + change_mg
    if new_balance < 0:
        raise TreatmentError(
            f"Lot {locked.lot_number} holds {locked.balance_mg} mg; "
            f"{-change_mg} mg is more than that."
        )
    KetamineLot.objects.filter(pk=locked.pk).update(
        balance_mg=F("balance_mg") + change_mg
    )
    try:
        with transaction.atomic():
            return RegisterEntry.objects.create(
                lot=locked, kind=kind, change_mg=change_mg,
                balance_after_mg=new_balance, session=session, reason=reason,
                recorded_by=by, witness=witness,
            )  # fmt: skip
    except IntegrityError as exc:
        raise TreatmentError("This session's dose was already drawn.") from exc


@dataclass(frozen=True)
class Receipt:
    drug: str
    product: str
    strength_mg_per_ml: Decimal
    vial_volume_ml: Decimal
    supplier: str
    lot_number: str
    expires_on: date
    received_on: date
    vials_received: int


def receive_stock(
    *, request: HttpRequest | None, receipt: Receipt, witness: User | None, password: str,
    by: User,
) -> KetamineLot:  # fmt: skip
    """Record stock received: a new lot, its opening balance, witnessed."""
    checked = check_witness(request=request, witness=witness, password=password, by=by)
    if receipt.expires_on < receipt.received_on:
        raise TreatmentError("That lot had expired when it was received.")
    total = (
        receipt.strength_mg_per_ml * receipt.vial_volume_ml * receipt.vials_received
    ).quantize(Decimal("0.1"))
    with transaction.atomic():
        if KetamineLot.objects.filter(
            lot_number=receipt.lot_number,
            strength_mg_per_ml=receipt.strength_mg_per_ml,
            product=receipt.product,
        ).exists():
            raise TreatmentError(
                f"Lot {receipt.lot_number} is already in the register."
            )
        lot = KetamineLot(
            drug=receipt.drug, product=receipt.product,
            strength_mg_per_ml=receipt.strength_mg_per_ml,
            vial_volume_ml=receipt.vial_volume_ml, supplier=receipt.supplier,
            lot_number=receipt.lot_number, expires_on=receipt.expires_on,
            received_on=receipt.received_on, vials_received=receipt.vials_received,
            balance_mg=0, received_by=by,
        )  # fmt: skip
        try:
            with transaction.atomic():
                lot.save(force_insert=True)
        except IntegrityError as exc:
            raise TreatmentError(
                f"Lot {receipt.lot_number} is already in the register."
            ) from exc
        _move_stock(
            lot=lot, change_mg=total, kind=RegisterEntry.Kind.RECEIPT, session=None,
            reason=f"{receipt.vials_received} vials from {receipt.supplier}", by=by,
            witness=checked,
        )  # fmt: skip
        _record(
            request, patient=None, object_type="ketamine_lot", object_id=lot.pk,
            action=Action.CREATE,
            summary=f"Received {total} mg of {lot.product}, lot {lot.lot_number}",
        )  # fmt: skip
    lot.refresh_from_db()
    return lot


def record_waste(
    *,
    request: HttpRequest | None,
    lot: KetamineLot,
    amount_mg: Decimal,
    session: DosingSession | None,
    reason: str,
    witness: User | None,
    password: str,
    by: User,
) -> RegisterEntry:
    """Wastage needs a second person, who confirms with their password."""
    checked = check_witness(request=request, witness=witness, password=password, by=by)
    if amount_mg <= 0:
        raise TreatmentError("The amount wasted must be more than zero.")
    with transaction.atomic():
        if session is not None:
            session = DosingSession.objects.select_for_update().get(pk=session.pk)
            if session.is_signed:
                raise TreatmentError(
                    "This session is signed; record wastage from the lot page."
                )
        entry = _move_stock(
            lot=lot, change_mg=-amount_mg, kind=RegisterEntry.Kind.WASTED,
            session=session, reason=reason.strip(), by=by, witness=checked,
        )  # fmt: skip
        _record(
            request,
            patient=session.patient if session is not None else None,
            object_type="register_entry", object_id=entry.pk, action=Action.CREATE,
            summary=f"Wasted {amount_mg} mg from lot {lot.lot_number}, witnessed by "
            f"{checked.display_name}",
        )  # fmt: skip
    return entry


def record_stock_count(
    *,
    request: HttpRequest | None,
    lot: KetamineLot,
    counted_mg: Decimal,
    counted_on: date,
    explanation: str,
    witness: User | None,
    password: str,
    by: User,
    seen: str | None = None,
) -> StockCount:
    """Reconcile a lot. When the count differs from the register the difference must
    be explained, and the register is adjusted to the count with that explanation.
    `seen` (the balance the form showed) refuses a count made before a later draw."""
    checked = check_witness(request=request, witness=witness, password=password, by=by)
    if counted_mg < 0:
        raise TreatmentError("A count cannot be negative.")
    if counted_on != timezone.localdate():
        raise TreatmentError(
            "Record a count on the day it is made: the register is compared with "
            "today's balance."
        )
    with transaction.atomic():
        locked = KetamineLot.objects.select_for_update().get(pk=lot.pk)
        expected = locked.balance_mg
        if seen is not None:
            last = (
                locked.entries.select_related("recorded_by")
                .order_by("-recorded_at")
                .first()
            )
            check_unchanged(
                seen, [expected], what="this lot's register balance",
                changed_by=last.recorded_by.display_name if last else "",
            )  # fmt: skip
        if counted_mg != expected and not explanation.strip():
            raise TreatmentError(
                f"The register says {expected} mg and you counted {counted_mg} mg: "
                "explain the discrepancy."
            )
        count = StockCount.objects.create(
            lot=locked, counted_on=counted_on, expected_mg=expected,
            counted_mg=counted_mg, explanation=explanation.strip(), counted_by=by,
            witness=checked,
        )  # fmt: skip
        if counted_mg != expected:
            _move_stock(
                lot=locked, change_mg=counted_mg - expected,
                kind=RegisterEntry.Kind.COUNT_ADJUSTMENT, session=None,
                reason=explanation.strip(), by=by, witness=checked,
            )  # fmt: skip
        _record(
            request, patient=None, object_type="stock_count", object_id=count.pk,
            action=Action.CREATE,
            summary=f"Counted lot {locked.lot_number}: {counted_mg} mg "
            f"(register {expected} mg)",
        )  # fmt: skip
    return count
