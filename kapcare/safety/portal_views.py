"""The patient's own safety plan in the portal, on screen and printable."""

from django.http import HttpResponse
from django.shortcuts import render

from kapcare.accounts.access import patient_portal_required
from kapcare.audit.services import Action, Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_own_chart
from kapcare.safety.plans import current_plan


@patient_portal_required
def my_safety_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request, information=Information.CLINICAL, summary="Viewed their safety plan"
    )
    context = {"patient": patient, "plan": current_plan(patient)}
    return render(request, "safety/portal_safety_plan.html", context)


@patient_portal_required
def my_safety_plan_print(request: AuthenticatedHttpRequest) -> HttpResponse:
    patient = get_own_chart(
        request,
        information=Information.CLINICAL,
        summary="Opened their safety plan to print it",
        action=Action.PRINT,
    )
    context = {"patient": patient, "plan": current_plan(patient)}
    return render(request, "safety/safety_plan_print.html", context)
