"""The patient's own questionnaires and progress, in the portal."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from kapcare.accounts.access import patient_portal_required
from kapcare.audit.services import Information
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse
from kapcare.measures.progress import progress_for
from kapcare.measures.services import open_links_for
from kapcare.measures.views import fill_questionnaire
from kapcare.patients.access import get_own_chart


@patient_portal_required
def questionnaire_fill(request: AuthenticatedHttpRequest, link_id: str) -> HttpResponse:
    patient = get_own_chart(
        request,
        information=Information.CLINICAL,
        summary="Opened a questionnaire in the portal",
    )
    link = get_object_or_404(QuestionnaireLink, pk=link_id, patient=patient)
    if not link.is_usable():
        return render(request, "measures/link_invalid.html", status=410)
    return fill_questionnaire(
        request,
        link,
        source=QuestionnaireResponse.Source.PORTAL,
        save_url=request.path,
    )


@patient_portal_required
def my_progress(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Charts of the patient's own scores, explained in plain words."""
    patient = get_own_chart(
        request,
        information=Information.CLINICAL,
        summary="Viewed their progress charts in the portal",
    )
    context = {
        "patient": patient,
        "progress": progress_for(patient),
        "open_links": open_links_for(patient),
    }
    return render(request, "measures/portal_progress.html", context)
