"""The schedule: the day by chair or by clinician, booking from a chart, and the
front desk's changes (move, cancel, check-in, no-show)."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kapcare.accounts.access import (
    otp_exempt,
    patient_portal_required,
    staff_permission_required,
)
from kapcare.accounts.models import User
from kapcare.audit.services import (
    Action,
    Context,
    Information,
    PendingEvent,
    record_events,
)
from kapcare.intake.models import ConsultationRequest
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import SeenForm, show_saved_values
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.lib.tokens import token_hash
from kapcare.patients.access import (
    get_own_chart,
    get_patient_for_user,
    record_patients_listed,
)
from kapcare.scheduling import notices, services
from kapcare.scheduling.forms import (
    WEEKDAY_NAMES,
    AnswerForm,
    BookingForm,
    CancelForm,
    ConsultationBookingForm,
    HoursFormSet,
    MoveForm,
    PortalRequestForm,
    ResourceForm,
    SeriesForm,
    TimeOffForm,
    clinical_staff,
)
from kapcare.scheduling.ical import appointments_ics
from kapcare.scheduling.models import (
    Appointment,
    AppointmentType,
    BookingRequest,
    CalendarFeed,
    Resource,
    working_hours_values,
)

BOOK = "scheduling.add_appointment"


def _day(value: str | None) -> date:
    """The day asked for, or today for anything unreadable or far out of range."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return timezone.localdate()
    return (
        day if date(2000, 1, 1) <= day <= date(2100, 12, 31) else timezone.localdate()
    )


@staff_permission_required(BOOK)
def day_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One day's appointments in columns: one per chair, or one per clinician."""
    day = _day(request.GET.get("day"))
    by = "clinician" if request.GET.get("by") == "clinician" else "chair"
    start = timezone.make_aware(datetime.combine(day, time.min))
    appointments = list(
        Appointment.objects.on_the_schedule()
        .overlapping(start, start + timedelta(days=1))
        .select_related("patient", "appointment_type", "clinician", "resource")
    )
    columns: list[tuple[str, list[Appointment]]]
    if by == "chair":
        chairs = list(Resource.objects.filter(is_active=True))
        columns = [
            (r.name, [a for a in appointments if a.resource_id == r.pk]) for r in chairs
        ]
        shown = {r.pk for r in chairs}
        elsewhere = [a for a in appointments if a.resource_id not in shown]
        if elsewhere:
            columns.append(("No chair (virtual, rooms)", elsewhere))
    else:
        people = {a.clinician_id: a.clinician for a in appointments}
        staff = list(clinical_staff().filter(working_hours__weekday=day.weekday()))
        people.update({u.pk: u for u in staff})
        columns = [
            (u.display_name, [a for a in appointments if a.clinician_id == u.pk])
            for u in sorted(people.values(), key=lambda u: u.display_name)
        ]
    record_patients_listed(
        request,
        {a.patient for a in appointments},
        summary=f"Listed on the schedule {day}",
    )
    context = {
        "day": day, "by": by, "columns": columns, "count": len(appointments),
        "previous": day - timedelta(days=1), "next": day + timedelta(days=1),
        "today": timezone.localdate(),
    }  # fmt: skip
    return render(request, "scheduling/day_view.html", context)


@staff_permission_required(BOOK)
def appointment_create(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.DEMOGRAPHICS,
        summary="Opened the booking form",
    )  # fmt: skip
    form = BookingForm(request.POST or None, initial={"on": request.GET.get("day")})
    reasons: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.book_appointment(
                request=request, patient=patient, appointment_type=data["appointment_type"],
                clinician=data["clinician"], resource=data["resource"],
                starts_at=form.starts_at(), is_virtual=data["is_virtual"],
                notes=data["notes"], notify=data["notify"], by=request.user,
            )  # fmt: skip
        except services.BookingError as exc:
            reasons = exc.reasons
        else:
            messages.success(request, "Appointment booked.")
            day = timezone.localtime(appointment.starts_at).date()
            return redirect(f"{reverse('scheduling:day_view')}?day={day}")
    context = {
        "patient": patient,
        "tab": "appointments",
        "form": form,
        "reasons": reasons,
    }
    status = 409 if reasons else 200
    return render(request, "scheduling/appointment_form.html", context, status=status)


@staff_permission_required("patients.view_patient")
def patient_appointments(
    request: AuthenticatedHttpRequest, patient_id: str
) -> HttpResponse:
    patient = get_patient_for_user(
        request, patient_id, information=Information.DEMOGRAPHICS,
        summary="Viewed appointments",
    )  # fmt: skip
    appointments = (
        Appointment.objects.filter(patient=patient)
        .select_related("appointment_type", "clinician", "resource")
        .order_by("-starts_at")[:100]
    )
    context = {
        "patient": patient, "tab": "appointments", "appointments": appointments,
        "now": timezone.now(),
    }  # fmt: skip
    return render(request, "scheduling/patient_appointments.html", context)


def _appointment(
    request: AuthenticatedHttpRequest, appointment_id: str, summary: str
) -> Appointment:
    appointment = get_object_or_404(
        Appointment.objects.select_related("appointment_type", "clinician", "resource"),
        pk=appointment_id,
    )
    appointment.patient = get_patient_for_user(
        request, appointment.patient_id, information=Information.DEMOGRAPHICS,
        summary=summary,
    )  # fmt: skip
    return appointment


@staff_permission_required(BOOK)
def appointment_detail(
    request: AuthenticatedHttpRequest, appointment_id: str
) -> HttpResponse:
    appointment = _appointment(request, appointment_id, "Viewed an appointment")
    start = timezone.localtime(appointment.starts_at)
    context: dict[str, Any] = {
        "appointment": appointment, "patient": appointment.patient,
        "move_form": MoveForm(initial={"on": start.date(), "at": start.time()}),
        "cancel_form": CancelForm(), "now": timezone.now(),
        "sent_messages": notices.messages_about(appointment),
        "reach_problem": notices.reach_problem(appointment.patient),
    }  # fmt: skip
    return render(request, "scheduling/appointment_detail.html", context)


@staff_permission_required(BOOK)
@require_POST
def appointment_change(
    request: AuthenticatedHttpRequest, appointment_id: str, change: str
) -> HttpResponse:
    appointment = _appointment(
        request, appointment_id, "Opened an appointment to change it"
    )
    try:
        if change == "move":
            form = MoveForm(request.POST)
            if not form.is_valid():
                raise services.BookingError(["Give the new date and time."])
            services.move_appointment(
                request=request, appointment=appointment, starts_at=form.starts_at(),
                notify=form.cleaned_data["notify"], by=request.user,
            )  # fmt: skip
            messages.success(request, "Appointment moved.")
        elif change == "cancel":
            cancel = CancelForm(request.POST)
            if not cancel.is_valid():
                raise services.BookingError(
                    ["Give the reason for cancelling (up to 200 characters)."]
                )
            services.cancel_appointment(
                request=request, appointment=appointment,
                reason=cancel.cleaned_data["reason"],
                notify=cancel.cleaned_data["notify"], by=request.user,
            )  # fmt: skip
            messages.success(request, "Appointment cancelled.")
        elif change == "resend":
            if notices.resend_confirmation(appointment, request=request):
                messages.success(request, "Confirmation sent again.")
            else:
                messages.error(
                    request,
                    notices.reach_problem(appointment.patient) or "Nothing to send.",
                )
        elif change == "check-in":
            services.check_in(request=request, appointment=appointment, by=request.user)
            messages.success(request, "Checked in.")
        elif change == "no-show":
            services.mark_no_show(
                request=request, appointment=appointment, by=request.user
            )
            messages.success(request, "Marked as a no-show.")
        else:
            messages.error(request, "Unknown change.")
    except services.BookingError as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    return redirect("scheduling:appointment_detail", appointment_id=appointment.pk)


MANAGE = "accounts.manage_staff"


@staff_permission_required(MANAGE)
def staff_hours(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who works when, and the clinic's chairs and rooms."""
    staff = list(
        clinical_staff()
        .prefetch_related("working_hours", "time_off")
        .order_by("full_name")
    )
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        resource = services.add_resource(
            request=request, name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
        )  # fmt: skip
        messages.success(request, f"{resource.name} added.")
        return redirect("scheduling:staff_hours")
    context = {
        "staff": staff, "resources": Resource.objects.all(), "form": form,
        "weekdays": WEEKDAY_NAMES, "now": timezone.now(),
    }  # fmt: skip
    return render(request, "scheduling/staff_hours.html", context)


@staff_permission_required(MANAGE)
def staff_hours_edit(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponse:
    member = get_object_or_404(clinical_staff(), pk=user_id)
    # Two forms on one page: only the one whose button was pressed is bound.
    posted_hours = request.method == "POST" and "save_hours" in request.POST
    posted_away = request.method == "POST" and "add_time_off" in request.POST
    hours = HoursFormSet(
        request.POST if posted_hours else None, instance=member, prefix="hours"
    )
    seen = _hours_seen(member, request.POST if posted_hours else None)
    away = TimeOffForm(request.POST if posted_away else None, prefix="away")
    status = 200
    if request.method == "POST":
        if posted_hours and seen.is_valid():
            try:
                if hours.is_valid():
                    services.save_working_hours(
                        request=request, formset=hours, member=member,
                        seen=seen.cleaned_data["seen"],
                    )  # fmt: skip
                    messages.success(request, "Working hours saved.")
                    return redirect("scheduling:staff_hours")
                # Invalid, and perhaps because it is stale: then say that first.
                services.check_working_hours_seen(
                    member=member, seen=seen.cleaned_data["seen"]
                )
            except ChangedMeanwhileError as exc:
                hours, seen = _hours_kept(request, member)
                seen.add_error(None, str(exc))
                status = 409
        if posted_away and away.is_valid():
            services.add_time_off(
                request=request, member=member, starts_at=away.cleaned_data["starts_at"],
                ends_at=away.cleaned_data["ends_at"], reason=away.cleaned_data["reason"],
            )  # fmt: skip
            messages.success(request, "Time off added.")
            return redirect("scheduling:staff_hours_edit", user_id=member.pk)
    context = {
        "member": member, "hours": hours, "seen": seen, "away": away,
        "time_off": member.time_off.filter(ends_at__gte=timezone.now()),
    }  # fmt: skip
    return render(request, "scheduling/staff_hours_edit.html", context, status=status)


def _hours_seen(member: User, data: QueryDict | None) -> SeenForm:
    """The hours page's one `seen`: its fingerprint of the member's saved hours."""
    initial = {"seen": fingerprint(working_hours_values(member))}
    return SeenForm(data, prefix="hours", initial=initial)


def _hours_kept(
    request: AuthenticatedHttpRequest, member: User
) -> tuple[Any, SeenForm]:
    """The hours form again after someone else saved first: each saved block as it
    is now (the form's entries noted under what differs, show_saved_values), new
    blocks as entered, and the hours saved now as `seen`, so saving again goes
    through."""
    posted = request.POST.copy()
    posted["hours-seen"] = fingerprint(working_hours_values(member))
    hours = HoursFormSet(posted, instance=member, prefix="hours")
    for row in hours:
        if not row.instance._state.adding:
            show_saved_values(row)
        elif row["id"].value():
            # A block removed meanwhile: saving it again must be a choice too. This
            # says so instead of the id field's "Select a valid choice".
            row.errors.pop("id", None)
            row.add_error(
                None,
                "Saved now: this block was removed. Tick “Delete” to leave it out, "
                "or enter it again as a new block.",
            )
    return hours, _hours_seen(member, posted)


@patient_portal_required
def my_appointments(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The patient's upcoming appointments with how to prepare, and their requests
    to the clinic (a new appointment, a change, a cancellation)."""
    patient = get_own_chart(
        request, information=Information.DEMOGRAPHICS,
        summary="Viewed their appointments in the portal",
    )  # fmt: skip
    upcoming = (
        Appointment.objects.filter(patient=patient, ends_at__gte=timezone.now())
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("appointment_type", "clinician", "resource")
        .order_by("starts_at")
    )
    form = PortalRequestForm(
        request.POST or None, upcoming=upcoming,
        initial={"submission_key": uuid.uuid4().hex},
    )  # fmt: skip
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.request_booking(
                    request=request, patient=patient, kind=data["kind"],
                    appointment_type=data["appointment_type"],
                    appointment=data["appointment"], preferred=data["preferred"],
                    message=data["message"], submission_key=data["submission_key"],
                )  # fmt: skip
            except services.BookingError as exc:
                form.add_error(None, " ".join(exc.reasons))
            else:
                messages.success(
                    request, "Sent. The clinic will answer here and contact you."
                )
                return redirect("portal:appointments")
        status = 400
    preference = notices.preference_for(patient)
    channels = [
        name
        for name, on in (("email", preference.by_email), ("text", preference.by_sms))
        if on
    ]
    context = {
        "patient": patient, "appointments": upcoming, "form": form,
        "can_self_book": bool(services.self_bookable_types()),
        "reminder_channels": " and ".join(channels) if channels else "off",
        "requests": BookingRequest.objects.filter(patient=patient)
        .select_related("appointment_type", "appointment")
        .order_by("-created_at")[:10],
    }  # fmt: skip
    return render(
        request, "scheduling/portal_appointments.html", context, status=status
    )


def _fingerprint(proposal: services.SeriesProposal) -> str:
    return "|".join(
        f"{s.label}@{s.starts_at.isoformat()}@{s.clinician.pk}@{getattr(s.resource, 'pk', '')}"
        for s in proposal.slots
    )


@staff_permission_required(BOOK)
def series_create(request: AuthenticatedHttpRequest, patient_id: str) -> HttpResponse:
    """Propose an induction series (checked against every calendar), then book it
    in one step; what could not be placed is listed, never dropped silently."""
    patient = get_patient_for_user(
        request, patient_id, information=Information.DEMOGRAPHICS,
        summary="Opened the series booking form",
    )  # fmt: skip
    form = SeriesForm(
        request.POST or None,
        initial={"first_day": timezone.localdate() + timedelta(days=1)},
    )
    proposal = None
    reasons: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        proposal = services.propose_series(
            patient=patient, first_day=data["first_day"], sessions=data["sessions"],
            per_week=data["per_week"], earliest=data["earliest"], nurse=data["nurse"],
            therapist=data["therapist"],
        )  # fmt: skip
        if "book" in request.POST:
            if request.POST.get("fingerprint") != _fingerprint(proposal):
                reasons = [
                    "The calendar changed since you looked: check the new proposal."
                ]
            elif not proposal.slots:
                reasons = ["Nothing to book."]
            else:
                try:
                    booked = services.book_series(
                        request=request, patient=patient, proposal=proposal,
                        by=request.user,
                    )  # fmt: skip
                except services.BookingError as exc:
                    reasons = exc.reasons
                else:
                    messages.success(request, f"{len(booked)} appointments booked.")
                    return redirect(
                        "scheduling:patient_appointments", patient_id=patient.pk
                    )
    context = {
        "patient": patient, "tab": "appointments", "form": form, "proposal": proposal,
        "fingerprint": _fingerprint(proposal) if proposal else "", "reasons": reasons,
    }  # fmt: skip
    return render(request, "scheduling/series_form.html", context)


@staff_permission_required(BOOK)
def week_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A week (Monday to Sunday): one row per chair or clinician, one column a day."""
    day = _day(request.GET.get("day"))
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    start = timezone.make_aware(datetime.combine(monday, time.min))
    appointments = list(
        Appointment.objects.on_the_schedule()
        .overlapping(start, start + timedelta(days=7))
        .select_related("patient", "appointment_type", "clinician", "resource")
    )
    by = "clinician" if request.GET.get("by") == "clinician" else "chair"
    keyed: dict[object, str]
    if by == "chair":
        keyed = {r.pk: r.name for r in Resource.objects.filter(is_active=True)}
        key = "resource_id"
    else:
        keyed = {a.clinician_id: a.clinician.display_name for a in appointments}
        key = "clinician_id"
    rows = [
        (
            name,
            [
                [
                    a for a in appointments
                    if getattr(a, key) == pk
                    and timezone.localtime(a.starts_at).date() == d
                ]
                for d in days
            ],
        )
        for pk, name in sorted(keyed.items(), key=lambda item: item[1])
    ]  # fmt: skip
    record_patients_listed(
        request, {a.patient for a in appointments},
        summary=f"Listed on the schedule, week of {monday}",
    )  # fmt: skip
    context = {
        "monday": monday, "days": days, "rows": rows, "by": by,
        "previous": monday - timedelta(days=7), "next": monday + timedelta(days=7),
        "count": len(appointments),
    }  # fmt: skip
    return render(request, "scheduling/week_view.html", context)


@staff_permission_required(BOOK)
def calendar_feed(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in clinician's private calendar link: create, replace or revoke."""
    token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            services.revoke_calendar_feed(request=request, user=request.user)
            messages.success(
                request, "Calendar link revoked; calendars using it stop updating."
            )
            return redirect("scheduling:calendar_feed")
        token = services.issue_calendar_feed(request=request, user=request.user)
    feed = CalendarFeed.objects.filter(user=request.user).first()
    url = (
        request.build_absolute_uri(reverse("scheduling:calendar_ics", args=[token]))
        if token
        else None
    )
    return render(request, "scheduling/calendar_feed.html", {"feed": feed, "url": url})


FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)


@login_not_required
@otp_exempt
def calendar_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app polls: the token is the credential (no sign-in)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(
            token_hash=token_hash(token),
            user__is_active=True,
            created_at__gt=timezone.now() - settings.CALENDAR_FEED_LIFETIME,
        )
        .first()
    )
    if feed is None:
        raise Http404("No such calendar")
    now = timezone.now()
    appointments = list(
        Appointment.objects.filter(
            clinician=feed.user, starts_at__gte=now - FEED_PAST,
            starts_at__lte=now + FEED_AHEAD,
        ).exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "appointment_type", "resource")
    )  # fmt: skip
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    record_events(
        [
            PendingEvent(
                action=Action.EXPORT,
                patient_id=str(pid),
                information=Information.DEMOGRAPHICS,
                object_type="calendar_feed",
                object_id=str(feed.user_id),
                summary="Appointment sent in the clinician's calendar feed",
            )
            for pid in {a.patient_id for a in appointments}
        ],
        context=Context.from_request(request, feed.user),
    )
    body = appointments_ics(
        appointments, name=f"{feed.user.display_name} · Kapcare",
        host=request.get_host().split(":")[0], now=now,
    )  # fmt: skip
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@staff_permission_required(BOOK)
def request_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Patients' open requests from the portal, oldest first."""
    open_requests = list(
        BookingRequest.objects.filter(status=BookingRequest.Status.OPEN)
        .select_related("patient", "appointment_type", "appointment__appointment_type")
        .order_by("created_at")[:100]
    )
    record_patients_listed(
        request,
        {r.patient for r in open_requests},
        summary="Listed in booking requests",
    )
    context = {"requests": open_requests, "answer_form": AnswerForm()}
    return render(request, "scheduling/request_queue.html", context)


@staff_permission_required(BOOK)
@require_POST
def request_answer(request: AuthenticatedHttpRequest, request_id: str) -> HttpResponse:
    asked = get_object_or_404(
        BookingRequest.objects.select_related("patient"), pk=request_id
    )
    form = AnswerForm(request.POST)
    try:
        if not form.is_valid():
            raise services.BookingError(["Choose done or declined."])
        services.answer_booking_request(
            request=request, booking_request=asked, status=form.cleaned_data["status"],
            answer=form.cleaned_data["answer"], by=request.user,
        )  # fmt: skip
        messages.success(
            request, "Request answered; the patient sees it in the portal."
        )
    except services.BookingError as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
    return redirect("scheduling:request_queue")


@staff_permission_required(BOOK, "patients.add_patient")
def consultation_book(
    request: AuthenticatedHttpRequest, request_id: str
) -> HttpResponse:
    """Book a free consultation straight from a request on the public site."""
    consult = get_object_or_404(
        ConsultationRequest.objects.select_related("patient"), pk=request_id
    )
    record_events(
        [
            PendingEvent(
                action=Action.VIEW,
                patient_id=str(consult.patient_id) if consult.patient_id else None,
                information=Information.DEMOGRAPHICS,
                object_type="consultation_request", object_id=str(consult.pk),
                summary="Opened a consultation request to book it",
            )
        ],
        context=Context.from_request(request),
    )  # fmt: skip
    consultation = AppointmentType.objects.filter(
        kind=AppointmentType.Kind.CONSULTATION, is_active=True
    ).first()
    form = ConsultationBookingForm(
        request.POST or None,
        initial={"on": request.GET.get("day"), "appointment_type": consultation},
        needs_chart=consult.patient_id is None, has_birth_date=consult.born_on is not None,
    )  # fmt: skip
    reasons: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.book_consultation_request(
                request=request, consult=consult,
                person={"born_on": data.get("born_on"), "sex_at_birth": data.get("sex_at_birth")},
                appointment_type=data["appointment_type"], clinician=data["clinician"],
                resource=data["resource"], starts_at=form.starts_at(),
                is_virtual=data["is_virtual"], notify=data["notify"], by=request.user,
            )  # fmt: skip
        except services.BookingError as exc:
            reasons = exc.reasons
        else:
            messages.success(
                request,
                f"Consultation booked for {consult.display_name} "
                f"(chart {appointment.patient.mrn}).",
            )
            return redirect(
                "scheduling:appointment_detail", appointment_id=appointment.pk
            )
    context = {"consult": consult, "form": form, "reasons": reasons}
    return render(
        request, "scheduling/consultation_book.html", context,
        status=409 if reasons else 200,
    )  # fmt: skip
