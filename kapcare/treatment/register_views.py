"""The ketamine register (narcotic, CDSA Schedule I): lots, receipts, wastage, counts,
the printable monthly report; and the protocol template library."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from kapcare.accounts.access import staff_permission_required
from kapcare.audit.services import Action, record_event
from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint
from kapcare.lib.edit_forms import show_saved_values
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import record_patients_listed
from kapcare.patients.models import Patient
from kapcare.treatment import services
from kapcare.treatment.forms import CountForm, ProtocolForm, ReceiptForm, WasteForm
from kapcare.treatment.models import KetamineLot, Protocol, RegisterEntry

VIEW = "treatment.view_ketaminelot"
ADD = "treatment.add_ketaminelot"


def _month(value: str | None) -> date:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def _list_patients_of(
    request: AuthenticatedHttpRequest, entries: list[RegisterEntry], summary: str
) -> None:
    """Register lines name the session's patient (by MRN): that is a read of each."""
    ids = {e.session.patient_id for e in entries if e.session is not None}
    if ids:
        record_patients_listed(
            request, Patient.objects.filter(pk__in=ids), summary=summary
        )


@staff_permission_required(VIEW)
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    show_empty = request.GET.get("show") == "all"
    lots = KetamineLot.objects.all()
    if not show_empty:
        lots = lots.filter(balance_mg__gt=0)
    record_event(
        request=request, action=Action.VIEW, object_type="ketamine_register",
        summary="Viewed the ketamine register",
    )  # fmt: skip
    context = {
        "lots": lots, "show_empty": show_empty, "today": timezone.localdate(),
        "month": timezone.localdate().strftime("%Y-%m"),
    }  # fmt: skip
    return render(request, "treatment/register.html", context)


@staff_permission_required(VIEW, ADD)
def lot_receive(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReceiptForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lot = services.receive_stock(
                request=request,
                receipt=services.Receipt(
                    **{k: data[k] for k in services.Receipt.__dataclass_fields__}
                ),
                witness=data["witness"], password=data["witness_password"],
                by=request.user,
            )  # fmt: skip
        except services.TreatmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Lot {lot.lot_number} received: {lot.balance_mg} mg."
            )
            return redirect("treatment:lot_detail", lot_id=lot.pk)
    return render(request, "treatment/lot_receive.html", {"form": form})


@staff_permission_required(VIEW)
def lot_detail(request: AuthenticatedHttpRequest, lot_id: str) -> HttpResponse:
    lot = get_object_or_404(KetamineLot, pk=lot_id)
    entries = Paginator(
        lot.entries.select_related("session__patient", "recorded_by", "witness"), 50
    ).get_page(request.GET.get("page"))
    record_event(
        request=request, action=Action.VIEW, object_type="ketamine_lot",
        object_id=lot.pk, summary=f"Viewed register lot {lot.lot_number}",
    )  # fmt: skip
    _list_patients_of(
        request, list(entries), f"Listed in register lot {lot.lot_number}"
    )
    context = {
        "lot": lot, "page": entries, "counts": lot.counts.select_related(
            "counted_by", "witness"
        )[:12],
        "waste_form": WasteForm(user=request.user),
        "count_form": CountForm(user=request.user),
    }  # fmt: skip
    return render(request, "treatment/lot_detail.html", context)


@staff_permission_required(VIEW, ADD)
def lot_waste(request: AuthenticatedHttpRequest, lot_id: str) -> HttpResponse:
    lot = get_object_or_404(KetamineLot, pk=lot_id)
    form = WasteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_waste(
                request=request, lot=lot, amount_mg=data["amount_mg"], session=None,
                reason=data["reason"], witness=data["witness"],
                password=data["witness_password"], by=request.user,
            )  # fmt: skip
        except services.TreatmentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Wastage recorded.")
            return redirect("treatment:lot_detail", lot_id=lot.pk)
    context = {
        "lot": lot,
        "form": form,
        "title": "Record wastage",
        "button": "Record wastage",
    }
    return render(
        request, "treatment/lot_form.html", context, status=400 if form.errors else 200
    )


@staff_permission_required(VIEW, ADD)
def lot_count(request: AuthenticatedHttpRequest, lot_id: str) -> HttpResponse:
    lot = get_object_or_404(KetamineLot, pk=lot_id)
    form = CountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            count = services.record_stock_count(
                request=request, lot=lot, counted_mg=data["counted_mg"],
                counted_on=data["counted_on"], explanation=data["explanation"],
                witness=data["witness"], password=data["witness_password"],
                by=request.user, seen=request.POST.get("seen", ""),
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            form.add_error(None, str(exc))
            lot.refresh_from_db()
        except services.TreatmentError as exc:
            form.add_error(None, str(exc))
        else:
            if count.discrepancy_mg:
                messages.warning(
                    request,
                    f"Count recorded with a discrepancy of {count.discrepancy_mg} mg; "
                    "the register was adjusted with your explanation.",
                )
            else:
                messages.success(request, "Count recorded: it matches the register.")
            return redirect("treatment:lot_detail", lot_id=lot.pk)
    context = {
        "lot": lot,
        "form": form,
        "title": "Count this lot",
        "button": "Record the count",
        # what the page shows; a count with errors keeps the balance it was made on
        "seen": fingerprint([lot.balance_mg]),
    }
    return render(
        request, "treatment/lot_form.html", context, status=400 if form.errors else 200
    )


def _balance_before(moment: datetime) -> "QuerySet[RegisterEntry, Any]":
    return (
        RegisterEntry.objects.filter(lot=OuterRef("pk"), recorded_at__lt=moment)
        .order_by("-recorded_at", "-id")
        .values("balance_after_mg")[:1]
    )


@staff_permission_required(VIEW)
def register_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A month of register lines per lot, with opening and closing balances, to print."""
    month = _month(request.GET.get("month"))
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(month, time.min), tz)
    end = timezone.make_aware(datetime.combine(next_month, time.min), tz)
    entries = list(
        RegisterEntry.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("lot", "session__patient", "recorded_by", "witness")
        .order_by("lot__lot_number", "recorded_at", "id")
    )
    by_lot: dict[object, list[RegisterEntry]] = {}
    for entry in entries:
        by_lot.setdefault(entry.lot_id, []).append(entry)
    # Every lot that held stock during the month, moved or not, with its balance
    # from the last line before the month and before its end.
    lots = (
        KetamineLot.objects.annotate(
            opening=Subquery(_balance_before(start)),
            closing=Subquery(_balance_before(end)),
        )
        .filter(Q(opening__gt=0) | Q(closing__gt=0) | Q(pk__in=list(by_lot)))
        .order_by("lot_number")
    )
    sections = [
        {
            "lot": lot,
            "entries": by_lot.get(lot.pk, []),
            "opening": lot.opening or Decimal("0.0"),
            "closing": lot.closing or Decimal("0.0"),
        }
        for lot in lots
    ]
    record_event(
        request=request, action=Action.PRINT, object_type="ketamine_register",
        summary=f"Printed the ketamine register for {month:%Y-%m}",
    )  # fmt: skip
    _list_patients_of(request, entries, f"Listed in the register report {month:%Y-%m}")
    context = {"month": month, "sections": sections}
    return render(request, "treatment/register_report.html", context)


@staff_permission_required("patients.view_clinical_record")
def protocol_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "treatment/protocol_list.html", {"protocols": Protocol.objects.all()}
    )


@staff_permission_required("treatment.change_protocol")
def protocol_edit(request: AuthenticatedHttpRequest, protocol_id: str) -> HttpResponse:
    protocol = get_object_or_404(Protocol, pk=protocol_id)
    form = ProtocolForm(request.POST or None, instance=protocol)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.save_protocol(
                request=request, form=form, by=request.user,
                seen=request.POST.get("seen", ""),
            )  # fmt: skip
        except ChangedMeanwhileError as exc:
            form.add_error(None, str(exc))
            show_saved_values(form)
            status = 409
        else:
            messages.success(request, "Protocol saved.")
            return redirect("treatment:protocol_list")
    saved = Protocol.objects.get(pk=protocol.pk)
    seen = fingerprint(services.protocol_shows(saved, ProtocolForm.Meta.fields))
    if request.method == "POST" and status != 409:
        seen = request.POST.get("seen", "")  # a form with errors: still what it saw
    context = {"form": form, "protocol": protocol, "seen": seen}
    return render(request, "treatment/protocol_form.html", context, status=status)
