"""The patient's side of scheduling beyond requests: how they hear about their
appointments (contact preferences, staff and portal; the one-click "stop
appointment messages" link in every message) and self-booking where allowed."""

from datetime import UTC, date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone

from kapcare.accounts.access import (
    otp_exempt,
    patient_portal_required,
    staff_permission_required,
)
from kapcare.audit.services import Information
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import shown_again
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_own_chart, get_patient_for_user
from kapcare.patients.models import Patient
from kapcare.scheduling import notices, services
from kapcare.scheduling.forms import ContactPreferenceForm
from kapcare.scheduling.models import contact_preference_values

BOOK = "scheduling.add_appointment"


def _preference_form(
    request: HttpRequest, patient: Patient, data: QueryDict | None = None
) -> ContactPreferenceForm:
    preference = notices.preference_for(patient)
    return ContactPreferenceForm(
        data if data is not None else request.POST or None,
        initial={
            "by_email": preference.by_email, "by_sms": preference.by_sms,
            "seen": fingerprint(contact_preference_values(preference)),
        },
    )  # fmt: skip


def _save(
    request: AuthenticatedHttpRequest, patient: Patient, form: ContactPreferenceForm
) -> ContactPreferenceForm | None:
    """Save the choice; None when saved, else the form again (shown_again) with
    why not: someone else saved first."""
    try:
        notices.set_contact_preference(
            request=request, patient=patient, by_email=form.cleaned_data["by_email"],
            by_sms=form.cleaned_data["by_sms"], by=request.user,
            seen=form.cleaned_data["seen"],
        )  # fmt: skip
    except ChangedMeanwhileError as exc:
        fresh = Patient.objects.get(pk=patient.pk)
        return shown_again(
            lambda data: _preference_form(request, fresh, data), request.POST,
            fingerprint(contact_preference_values(notices.preference_for(fresh))), exc,
        )  # fmt: skip
    problem = notices.reach_problem(Patient.objects.get(pk=patient.pk))
    messages.success(request, "Saved. " + problem if problem else "Saved.")
    return None


@staff_permission_required(BOOK)
def contact_preference(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.DEMOGRAPHICS,
        summary="Viewed contact preferences",
    )  # fmt: skip
    form = _preference_form(request, patient)
    status = 200
    if request.method == "POST" and form.is_valid():
        refused = _save(request, patient, form)
        if refused is None:
            return redirect("scheduling:contact_preference", patient_id=patient.pk)
        form, status = refused, 409
    context = {
        "patient": patient, "tab": "appointments", "form": form,
        "reach_problem": notices.reach_problem(patient),
    }  # fmt: skip
    return render(request, "scheduling/contact_preference.html", context, status=status)


@patient_portal_required
def my_contact_preference(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request, information=Information.DEMOGRAPHICS,
        summary="Viewed their contact preferences in the portal",
    )  # fmt: skip
    form = _preference_form(request, patient)
    status = 200
    if request.method == "POST" and form.is_valid():
        refused = _save(request, patient, form)
        if refused is None:
            return redirect("portal:contact_preference")
        form, status = refused, 409
    context = {
        "patient": patient, "form": form, "portal": True,
        "reach_problem": notices.reach_problem(patient),
    }  # fmt: skip
    return render(request, "scheduling/contact_preference.html", context, status=status)


@login_not_required
@otp_exempt
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """The link at the foot of every appointment message. Opening it changes
    nothing (mail scanners open links); the button does."""
    patient = notices.patient_for_opt_out(token)
    if patient is None:
        return render(request, "scheduling/opt_out.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        notices.stop_appointment_messages(request=request, patient=patient)
        done = True
    return render(request, "scheduling/opt_out.html", {"done": done})


@patient_portal_required
def my_booking(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Self-booking, where the clinic allows it: choose the kind of appointment,
    then a free time in the week shown; the slot is checked again on booking."""
    patient = get_own_chart(
        request, information=Information.DEMOGRAPHICS,
        summary="Opened self-booking in the portal",
    )  # fmt: skip
    types = services.self_bookable_types()
    if not types:
        messages.info(request, "Online booking is not offered; ask the clinic below.")
        return redirect("portal:appointments")
    source = request.POST if request.method == "POST" else request.GET
    chosen = next((t for t in types if str(t.pk) == source.get("type")), None)
    is_virtual = bool(
        chosen
        and chosen.may_be_virtual
        and not chosen.needs_chair
        and source.get("virtual") == "1"
    )
    soonest = timezone.localdate(timezone.now() + services.SELF_BOOKING_NOTICE)
    latest = timezone.localdate(timezone.now() + services.SELF_BOOKING_HORIZON)
    try:
        asked = date.fromisoformat(source.get("from", ""))
    except ValueError:
        asked = soonest
    first_day = min(max(asked, soonest), latest)
    status = 200
    if request.method == "POST" and chosen is not None:
        try:
            starts_at = datetime.fromisoformat(request.POST.get("starts_at", ""))
            if starts_at.tzinfo is None:
                raise ValueError
            starts_at.astimezone(UTC)
        except (ValueError, OverflowError):
            messages.error(request, "Choose one of the times shown.")
            status = 400
        else:
            try:
                appointment = services.self_book(
                    request=request, patient=patient, appointment_type=chosen,
                    starts_at=starts_at, is_virtual=is_virtual, by=request.user,
                )  # fmt: skip
            except services.BookingError as exc:
                for reason in exc.reasons:
                    messages.error(request, reason)
                status = 409
            else:
                messages.success(
                    request,
                    f"Booked: {appointment.appointment_type.name}, "
                    f"{timezone.localtime(appointment.starts_at):%A %B %-d, %H:%M}. "
                    "A confirmation is on its way.",
                )
                return redirect("portal:appointments")
    slots = (
        services.open_slots(
            patient=patient, appointment_type=chosen, first_day=first_day
        )
        if chosen is not None
        else {}
    )
    context = {
        "types": types, "chosen": chosen, "is_virtual": is_virtual, "slots": slots,
        "first_day": first_day,
        "next_from": first_day + timedelta(days=services.SELF_BOOKING_DAYS)
        if first_day < latest else None,
        "previous_from": first_day - timedelta(days=services.SELF_BOOKING_DAYS)
        if first_day > soonest else None,
    }  # fmt: skip
    return render(request, "scheduling/portal_booking.html", context, status=status)
