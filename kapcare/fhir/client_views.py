"""Clinic admins register and revoke FHIR API clients."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kapcare.accounts.access import staff_permission_required
from kapcare.fhir.auth import register_client, revoke_client
from kapcare.fhir.models import ApiClient
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.models import Patient

MANAGE = "accounts.manage_staff"


class ClientForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="e.g. Dr. Lee's EMR, or the research registry"
    )
    kind = forms.ChoiceField(choices=ApiClient.Kind.choices, widget=forms.RadioSelect)
    mrn = forms.CharField(
        label="Patient's MRN (for a patient's app)", required=False, max_length=12
    )
    may_submit_responses = forms.BooleanField(
        required=False, label="May send questionnaire responses"
    )

    def clean(self) -> dict[str, object] | None:
        data = super().clean() or {}
        mrn = str(data.get("mrn") or "").strip().upper()
        data["patient"] = None
        if data.get("kind") == ApiClient.Kind.PATIENT:
            patient = Patient.objects.filter(mrn=mrn).first() if mrn else None
            if patient is None:
                self.add_error("mrn", "Give the MRN of the patient whose app this is.")
            data["patient"] = patient
        elif mrn:
            self.add_error(
                "mrn", "A backend system sees all patients; leave the MRN empty."
            )
        return data


@staff_permission_required(MANAGE)
def client_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    token = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        client, token = register_client(
            request=request, name=data["name"], kind=data["kind"],
            patient=data["patient"], may_submit_responses=data["may_submit_responses"],
            by=request.user,
        )  # fmt: skip
        messages.success(
            request, f"Client “{client.name}” registered. Copy its token now."
        )
        form = ClientForm()
    context = {
        "form": form, "token": token,
        "clients": ApiClient.objects.select_related("patient", "created_by")[:200],
    }  # fmt: skip
    return render(request, "fhir/client_list.html", context)


@staff_permission_required(MANAGE)
@require_POST
def client_revoke(request: AuthenticatedHttpRequest, client_id: str) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=client_id)
    revoke_client(request=request, client=client)
    messages.success(request, f"“{client.name}” revoked; its token no longer works.")
    return redirect("fhir:client_list")
