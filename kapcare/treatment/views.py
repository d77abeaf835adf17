"""Chart tab 'Treatment': courses and the dosing-session page the nurse keeps open."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.forms import BaseForm
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Information
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.services import open_links_for
from kapcare.patients.access import get_patient_for_user
from kapcare.patients.models import Patient
from kapcare.treatment import services
from kapcare.treatment.charts import ChartVital, vitals_svg
from kapcare.treatment.forms import (
    AddendumForm,
    AdverseEventForm,
    AldreteForm,
    ChecklistForm,
    CourseForm,
    CourseStatusForm,
    DischargeForm,
    DissociationForm,
    DoseForm,
    NoteForm,
    PumpForm,
    ReasonForm,
    StartDoseForm,
    VitalsForm,
    WasteForm,
    WitnessForm,
    at_time_today,
    latest_at_time,
)
from kapcare.treatment.infusion import PumpAction
from kapcare.treatment.models import (
    DosingSession,
    InfusionEvent,
    Protocol,
    TreatmentCourse,
)
from kapcare.treatment.predicted import session_prediction
from kapcare.treatment.vitals import flags_for, next_vitals_due

CLINICAL = "patients.view_clinical_record"


def _patient(
    request: AuthenticatedHttpRequest, patient_id: str, summary: str
) -> Patient:
    return get_patient_for_user(
        request, patient_id, information=Information.CLINICAL, summary=summary
    )


@staff_permission_required(CLINICAL)
def course_list(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = _patient(request, patient_id, "Viewed treatment courses")
    courses = (
        patient.courses.select_related("protocol", "prescriber")
        .annotate(
            doses_given=Count(
                "sessions", filter=Q(sessions__dose_started_at__isnull=False)
            )
        )
        .order_by("-starts_on", "-created_at")
    )
    context = {"patient": patient, "tab": "treatment", "courses": courses}
    return render(request, "treatment/course_list.html", context)


@staff_permission_required(CLINICAL, "treatment.add_treatmentcourse")
def course_create(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    patient = _patient(request, patient_id, "Opened the prescribe-a-course form")
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.create_course(
                request=request, patient=patient, by=request.user,
                **{k: form.cleaned_data[k] for k in CourseForm.Meta.fields},
            )  # fmt: skip
        except services.TreatmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Course prescribed.")
            return redirect(course)
    context = {
        "patient": patient, "tab": "treatment", "form": form,
        "protocols": Protocol.objects.filter(is_active=True),
    }  # fmt: skip
    return render(request, "treatment/course_form.html", context)


@staff_permission_required(CLINICAL)
def course_detail(
    request: AuthenticatedHttpRequest, patient_id: str, course_id: str
) -> HttpResponse:
    patient = _patient(request, patient_id, "Viewed a treatment course")
    course = get_object_or_404(
        TreatmentCourse.objects.select_related("protocol", "prescriber"),
        pk=course_id, patient=patient,
    )  # fmt: skip
    context = {
        "patient": patient, "tab": "treatment", "course": course,
        "sessions": course.sessions.select_related("opened_by", "signed_by")
        .prefetch_related("integration_sessions")
        .order_by("number"),
        "status_form": CourseStatusForm(initial={"status": course.status}),
        "status_seen": fingerprint(services.course_status_shows(course)),
    }  # fmt: skip
    return render(request, "treatment/course_detail.html", context)


@staff_permission_required(CLINICAL, "treatment.add_treatmentcourse")
@require_POST
def course_status(
    request: AuthenticatedHttpRequest, patient_id: str, course_id: str
) -> HttpResponse:
    patient = _patient(request, patient_id, "Opened a course to change its status")
    course = get_object_or_404(TreatmentCourse, pk=course_id, patient=patient)
    form = CourseStatusForm(request.POST)
    if form.is_valid():
        try:
            services.change_course_status(
                request=request, course=course, status=form.cleaned_data["status"],
                by=request.user, seen=request.POST.get("seen", ""),
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Course status changed.")
    else:
        messages.error(request, "Choose a status.")
    return redirect(course)


@staff_permission_required(CLINICAL, "treatment.add_dosingsession")
@require_POST
def session_start(
    request: AuthenticatedHttpRequest, patient_id: str, course_id: str
) -> HttpResponse:
    patient = _patient(request, patient_id, "Opened a course to start a session")
    course = get_object_or_404(
        TreatmentCourse.objects.select_related("protocol"),
        pk=course_id,
        patient=patient,
    )
    try:
        session = services.start_session(
            request=request, course=course, by=request.user
        )
    except services.TreatmentError as exc:
        messages.error(request, str(exc))
        return redirect(course)
    return redirect(session)


def _session(
    request: AuthenticatedHttpRequest, patient_id: str, session_id: str, summary: str
) -> DosingSession:
    return _session_of(_patient(request, patient_id, summary), session_id)


def _session_of(patient: Patient, session_id: str) -> DosingSession:
    """The session with everyone it names, for a chart already read (and audited)."""
    session = (
        DosingSession.objects.select_related(
            "course__protocol",
            "course__prescriber",
            "opened_by",
            "checklist_done_by",
            "blood_pressure_override_by",
            "dose_calculated_by",
            "dose_witness",
            "dose_lot",
            "discharge_override_by",
            "discharged_by",
            "completed_by",
            "signed_by",
        )
        .prefetch_related(
            Prefetch(
                "infusion_events",
                queryset=InfusionEvent.objects.select_related("recorded_by"),
            )
        )
        .filter(pk=session_id, patient=patient)
        .first()
    )
    if session is None:
        raise Http404("No such session")
    session.patient = patient
    return session


def _session_context(
    request: AuthenticatedHttpRequest,
    session: DosingSession,
    bound: dict[str, BaseForm] | None = None,
) -> dict[str, Any]:
    """Everything the session page shows; a constant number of queries however many
    vitals there are."""
    bound = bound or {}
    protocol = session.course.protocol
    vitals = list(session.vitals.select_related("recorded_by"))
    limits = protocol.limits
    rows = [(v, flags_for(v.reading, limits)) for v in vitals]
    start = session.dose_started_at or session.opened_at
    chart = vitals_svg(
        [
            ChartVital(
                minute=(v.taken_at - start).total_seconds() / 60,
                systolic=v.systolic,
                diastolic=v.diastolic,
                heart_rate=v.heart_rate,
                spo2=v.spo2,
            )
            for v in vitals
        ],
        systolic_limit=protocol.systolic_max,
        chart_id=f"vitals-{session.pk}",
    )
    base = services.baseline_of(vitals)
    bp_hold = services.blood_pressure_hold(session, base)
    user = request.user
    gate = services.discharge_gate_for(session)
    vitals_due = next_vitals_due(
        dose_started_at=session.dose_started_at,
        checkpoints=protocol.checkpoint_minutes,
        interval_minutes=protocol.vitals_interval_minutes,
        taken=[v.taken_at for v in vitals],
    )
    aldrete_initial = {k: str(v) for k, v in session.aldrete.items()}
    aldrete_initial["escort_present"] = session.escort_present  # type: ignore[assignment]
    return {
        "patient": session.patient, "tab": "treatment", "session": session,
        "course": session.course, "protocol": protocol, "vital_rows": rows,
        "chart": chart, "bp_hold": bp_hold,
        "prediction": session_prediction(session, timezone.now()),
        "checklist_gaps": services.checklist_gaps(session),
        "dose_gaps": services.dose_gaps(session, base=base, bp_hold=bp_hold),
        "gate": gate,
        "vitals_due": vitals_due if session.is_open else None,
        "now": timezone.now(),
        "due_links": open_links_for(session.patient) if session.is_open else [],
        "ratings": session.dissociation_ratings.select_related("rated_by"),
        "notes": session.notes.select_related("written_by"),
        "adverse_events": session.adverse_events.select_related("reported_by"),
        "addenda": session.addenda.select_related("author"),
        "register_entries": session.register_entries.select_related(
            "lot", "recorded_by", "witness"
        ).order_by("recorded_at"),
        "is_physician": services.is_physician(user),
        "can_record": user.has_perm(services.SESSION_PERMISSION),
        "editable": session.is_open and user.has_perm(services.SESSION_PERMISSION),
        "step_versions": services.step_versions(session, base),
        "checklist_form": bound.get("checklist") or ChecklistForm(instance=session, prefix="checklist"),
        "vitals_form": bound.get("vitals") or VitalsForm(prefix="vitals"),
        "override_form": bound.get("override") or ReasonForm(prefix="override"),
        "dose_form": bound.get("dose") or DoseForm(
            protocol=protocol, prefix="dose",
            initial={
                "weight_kg": session.weight_kg,
                "concentration_mg_per_ml": session.concentration_mg_per_ml,
                "bag_volume_ml": session.bag_volume_ml,
            },
        ),
        "witness_form": bound.get("witness") or WitnessForm(user=user, prefix="witness"),
        "start_form": bound.get("start") or StartDoseForm(drug=protocol.drug, prefix="start"),
        "pump_forms": {
            str(action): bound.get(f"pump-{action}") or PumpForm(action=action, prefix=f"pump-{action}")
            for action in PumpAction
        },
        "infusion": session.infusion,
        "infusion_events": session.infusion_events.all(),
        "cadss_form": bound.get("cadss") or DissociationForm(prefix="cadss"),
        "note_form": bound.get("note") or NoteForm(prefix="note"),
        "ae_form": bound.get("adverse_event") or AdverseEventForm(prefix="adverse_event"),
        "aldrete_form": bound.get("aldrete") or AldreteForm(initial=aldrete_initial, prefix="aldrete"),
        "discharge_form": bound.get("discharge") or DischargeForm(prefix="discharge"),
        "waste_form": bound.get("waste") or WasteForm(user=user, prefix="waste"),
        "addendum_form": bound.get("addendum") or AddendumForm(prefix="addendum"),
    }  # fmt: skip


@staff_permission_required(CLINICAL)
def session_detail(
    request: AuthenticatedHttpRequest, patient_id: str, session_id: str
) -> HttpResponse:
    session = _session(request, patient_id, session_id, "Viewed a dosing session")
    return render(
        request, "treatment/session_detail.html", _session_context(request, session)
    )


def _checklist(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = ChecklistForm(request.POST, instance=session, prefix="checklist")
    if not form.is_valid():
        return form
    saved = services.save_checklist(
        request=request, session=session,
        values={f: form.cleaned_data[f] for f in services.CHECKLIST_FIELDS},
        by=request.user, seen=request.POST.get("seen", ""),
    )  # fmt: skip
    return "Checklist complete." if saved.checklist_done_at else "Checklist saved."


def _vitals(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = VitalsForm(request.POST, prefix="vitals")
    if not form.is_valid():
        return form
    services.record_vitals(
        request=request, session=session, values=form.values(),
        taken_at=at_time_today(form.cleaned_data["taken_time"]),
        is_baseline=session.dose_started_at is None, by=request.user,
    )  # fmt: skip
    return "Vitals recorded."


def _override(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = ReasonForm(request.POST, prefix="override")
    if not form.is_valid():
        return form
    services.override_blood_pressure(
        request=request, session=session, reason=form.cleaned_data["reason"],
        by=request.user, seen=request.POST.get("seen", ""),
    )  # fmt: skip
    return "Override recorded: the dose may proceed."


def _dose(request: AuthenticatedHttpRequest, session: DosingSession) -> BaseForm | str:
    form = DoseForm(request.POST, protocol=session.course.protocol, prefix="dose")
    if not form.is_valid():
        return form
    data = form.cleaned_data
    result = services.calculate_session_dose(
        request=request, session=session, weight_kg=data.get("weight_kg"),
        concentration_mg_per_ml=data.get("concentration_mg_per_ml"),
        bag_volume_ml=data.get("bag_volume_ml"),
        infusion_minutes=session.course.protocol.infusion_minutes, by=request.user,
    )  # fmt: skip
    return f"Dose calculated: {result.dose_mg} mg. Have it double-checked."


def _witness(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = WitnessForm(request.POST, user=request.user, prefix="witness")
    if not form.is_valid():
        return form
    services.witness_dose(
        request=request, session=session, witness=form.cleaned_data["witness"],
        password=form.cleaned_data["witness_password"], by=request.user,
        seen=request.POST.get("seen", ""),
    )  # fmt: skip
    return "Double-check recorded."


def _start(request: AuthenticatedHttpRequest, session: DosingSession) -> BaseForm | str:
    form = StartDoseForm(
        request.POST, drug=session.course.protocol.drug, prefix="start"
    )
    if not form.is_valid():
        return form
    services.start_dose(
        request=request, session=session, lot=form.cleaned_data["lot"],
        by=request.user, seen=request.POST.get("seen", ""),
    )  # fmt: skip
    return "Dose started; drawn from the register."


PUMP_DONE = {
    PumpAction.PAUSED: "Infusion paused; the predicted curve now follows the pause.",
    PumpAction.RESUMED: "Infusion restarted.",
    PumpAction.RATE_CHANGED: "Pump rate changed.",
    PumpAction.STOPPED: "Infusion stopped. Record the drug left in the bag as waste "
    "in the register.",
}


def _pump(action: PumpAction) -> Callable[[AuthenticatedHttpRequest, DosingSession], BaseForm | str]:  # fmt: skip
    def step(request: AuthenticatedHttpRequest, session: DosingSession) -> BaseForm | str:  # fmt: skip
        form = PumpForm(request.POST, action=action, prefix=f"pump-{action}")
        if not form.is_valid():
            return form
        happened = form.cleaned_data["happened_time"]
        services.record_pump_action(
            request=request, session=session, action=action,
            at=latest_at_time(happened) if happened is not None else None,
            rate_ml_per_h=form.cleaned_data.get("rate_ml_per_h"),
            reason=form.cleaned_data.get("reason", ""), by=request.user,
        )  # fmt: skip
        return PUMP_DONE[action]

    return step


def _cadss(request: AuthenticatedHttpRequest, session: DosingSession) -> BaseForm | str:
    form = DissociationForm(request.POST, prefix="cadss")
    if not form.is_valid():
        return form
    services.rate_dissociation(
        request=request, session=session, total=form.cleaned_data["total"],
        rated_at=at_time_today(form.cleaned_data["rated_time"]),
        notes=form.cleaned_data["notes"], by=request.user,
    )  # fmt: skip
    return "Dissociation rating recorded."


def _note(request: AuthenticatedHttpRequest, session: DosingSession) -> BaseForm | str:
    form = NoteForm(request.POST, prefix="note")
    if not form.is_valid():
        return form
    data = form.cleaned_data
    services.add_session_note(
        request=request, session=session, kind=data["kind"],
        noted_at=at_time_today(data["noted_time"]), text=data["text"],
        drug=data["drug"], dose=data["dose"], by=request.user,
    )  # fmt: skip
    return "Note added."


def _adverse_event(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = AdverseEventForm(request.POST, prefix="adverse_event")
    if not form.is_valid():
        return form
    values = {k: form.cleaned_data[k] for k in AdverseEventForm.Meta.fields}
    values["occurred_at"] = at_time_today(form.cleaned_data["occurred_time"])
    event = services.report_adverse_event(
        request=request, session=session, values=values, by=request.user
    )
    if event.is_serious or event.severity == event.Severity.SEVERE:
        return "Adverse event recorded; the physician has been alerted."
    return "Adverse event recorded."


def _aldrete(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = AldreteForm(request.POST, prefix="aldrete")
    if not form.is_valid():
        return form
    gate = services.score_discharge(
        request=request, session=session, items=form.items(),
        escort_present=form.cleaned_data["escort_present"], by=request.user,
    )  # fmt: skip
    return f"Aldrete score {gate.score} recorded."


def _discharge(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = DischargeForm(request.POST, prefix="discharge")
    if not form.is_valid():
        return form
    services.discharge_patient(
        request=request, session=session,
        override_reason=form.cleaned_data["override_reason"], by=request.user,
    )  # fmt: skip
    return "Patient discharged."


def _waste(request: AuthenticatedHttpRequest, session: DosingSession) -> BaseForm | str:
    form = WasteForm(request.POST, user=request.user, prefix="waste")
    if not form.is_valid():
        return form
    if session.dose_lot is None:
        raise services.TreatmentError("No lot was drawn from in this session.")
    services.record_waste(
        request=request, lot=session.dose_lot, amount_mg=form.cleaned_data["amount_mg"],
        session=session, reason=form.cleaned_data["reason"],
        witness=form.cleaned_data["witness"],
        password=form.cleaned_data["witness_password"], by=request.user,
    )  # fmt: skip
    return "Wastage recorded."


def _complete(request: AuthenticatedHttpRequest, session: DosingSession) -> str:
    services.complete_session(request=request, session=session, by=request.user)
    return "Session completed; awaiting the physician's co-signature."


def _sign(request: AuthenticatedHttpRequest, session: DosingSession) -> str:
    services.sign_session(request=request, session=session, by=request.user)
    return "Session co-signed. It is now read-only."


def _addendum(
    request: AuthenticatedHttpRequest, session: DosingSession
) -> BaseForm | str:
    form = AddendumForm(request.POST, prefix="addendum")
    if not form.is_valid():
        return form
    services.add_session_addendum(
        request=request, session=session, reason=form.cleaned_data["reason"],
        text=form.cleaned_data["text"], by=request.user,
    )  # fmt: skip
    return "Addendum added."


STEPS: dict[
    str, Callable[[AuthenticatedHttpRequest, DosingSession], BaseForm | str]
] = {
    "checklist": _checklist,
    "vitals": _vitals,
    "override": _override,
    "dose": _dose,
    "witness": _witness,
    "start": _start,
    **{f"pump-{action}": _pump(action) for action in PumpAction},
    "cadss": _cadss,
    "note": _note,
    "adverse_event": _adverse_event,
    "aldrete": _aldrete,
    "discharge": _discharge,
    "waste": _waste,
    "complete": _complete,
    "sign": _sign,
    "addendum": _addendum,
}


@staff_permission_required(CLINICAL, "treatment.add_dosingsession")
@require_POST
def session_step(
    request: AuthenticatedHttpRequest, patient_id: str, session_id: str, step: str
) -> HttpResponse:
    """One action on the session page. With htmx, answers the re-drawn session body
    (the flowsheet, the gates and the register all move together); without, redirects."""
    handler = STEPS.get(step)
    if handler is None:
        raise Http404("No such step")
    session = _session(request, patient_id, session_id, "Recorded in a dosing session")
    bound: dict[str, BaseForm] = {}
    try:
        outcome = handler(request, session)
    except (services.TreatmentError, ChangedMeanwhileError) as exc:
        messages.error(request, str(exc))
    else:
        if isinstance(outcome, str):
            messages.success(request, outcome)
        else:
            bound[step] = outcome
            messages.error(request, "Check the entries marked below.")
    if not request.htmx and not bound:
        return redirect(session)
    # The step's chart read (audited above) covers the page it answers with.
    session = _session_of(session.patient, session_id)
    template = (
        "treatment/partials/session_body.html"
        if request.htmx
        else "treatment/session_detail.html"
    )
    context = _session_context(request, session, bound)
    if step in bound and step in context["step_versions"]:
        # entries shown again for correction: still checked against what they saw
        context["step_versions"][step] = request.POST.get("seen", "")
    response = render(request, template, context)
    if bound and not request.htmx:
        response.status_code = 400
    return response
