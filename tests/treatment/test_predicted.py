"""The predicted plasma concentration in the dosing session and the model
comparison page (predictions only, labelled as such)."""

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.treatment.models import DosingSession, Protocol
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def page(client_for: ClientFor, user: User, session: DosingSession) -> str:
    url = reverse("treatment:session_detail", args=[session.patient_id, session.pk])
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_dosed_session_shows_the_predicted_curve(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    body = page(client_for, nurse, dosed_session)
    assert "Predicted plasma ketamine" in body
    assert "Predicted, not measured" in body
    assert "Kamp 2020" in body and "Anesthesiology 2020;133:1192" in body
    assert "185 ng/mL: published venous mean" in body
    assert "<polyline" in body
    assert "effect-site" not in body.lower()  # no Ce: no validated ke0


def test_no_curve_before_the_dose_is_calculated_or_for_other_routes(
    client_for: ClientFor, nurse: User, open_session: DosingSession
) -> None:
    assert "appears once the dose is calculated" in page(
        client_for, nurse, open_session
    )
    Protocol.objects.filter(pk=open_session.course.protocol_id).update(
        drug="esketamine", route="nasal"
    )
    body = page(client_for, nurse, open_session)
    assert "No published model is used here for esketamine by nasal spray" in body
    assert "<polyline" not in body.split("pk-title")[1].split("</section>")[0]


def test_physicians_compare_the_models(
    client_for: ClientFor, physician: User, nurse: User, patient_a: Patient
) -> None:
    url = reverse("treatment:pk_compare", args=[patient_a.pk])
    response = client_for(physician).get(
        url, {"weight": "70", "dose": "0.5", "minutes": "40"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("Kamp 2020", "Domino", "Clements and Nimmo 1981"):
        assert name in body
    assert "253 ng/mL" in body and "240 ng/mL" in body and "177 ng/mL" in body
    assert AuditEvent.objects.filter(
        patient=patient_a, summary="Compared predicted ketamine concentrations"
    ).exists()
    bad = client_for(physician).get(url, {"weight": "-3", "dose": "9", "minutes": "0"})
    assert bad.status_code == 400
    assert "Ensure this value is greater than or equal to 40" in bad.content.decode()
    assert client_for(nurse).get(url).status_code == 403
