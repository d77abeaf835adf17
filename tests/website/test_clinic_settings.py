import io
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.lib.concurrency import fingerprint
from kapcare.patients.models import Patient
from kapcare.website.models import clinic_profile_values, get_clinic_profile
from tests.conftest import ClientFor, make_staff, seen_in

pytestmark = pytest.mark.django_db
URL = reverse("website:clinic_settings")


def _data(**changes: object) -> dict[str, object]:
    """The form as posted, opened on the clinic details as they are now saved."""
    profile = get_clinic_profile()
    data: dict[str, object] = {
        "seen": fingerprint(clinic_profile_values(profile)),
        "name": profile.name, "street_address": "", "city": "Toronto", "province": "ON",
        "postal_code": "", "phone": "", "email": "", "hours": "", "time_zone": "America/Toronto",
        "crisis_resources": profile.crisis_resources,
        "alert_response_statement": profile.alert_response_statement,
        "high_alert_deadline_minutes": 60, "moderate_alert_deadline_business_days": 1,
        "relapse_warning_enabled": "on", "relapse_consecutive_measures": 2,
        "first_contact_business_days": 2, "appointment_reminder_hours": "48,24",
        "portal_booking": "requests",
    }  # fmt: skip
    data.update(changes)
    return data


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#1f5f8b").save(buffer, "PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def test_the_clinic_name_appears_on_every_page(
    client_for: ClientFor, clinic_admin: User, client: Client
) -> None:
    response = client_for(clinic_admin).post(
        URL, _data(name="Lakeshore Ketamine Clinic", phone="416-555-0188")
    )
    assert response.status_code == 302
    assert b"Lakeshore Ketamine Clinic" in client.get(reverse("website:home")).content
    assert b"Lakeshore Ketamine Clinic" in client.get(reverse("accounts:login")).content
    event = AuditEvent.objects.get(information=AuditEvent.Information.CLINIC)
    assert event.detail["changes"]["name"] == [
        "Kapcare Clinic",
        "Lakeshore Ketamine Clinic",
    ]


def test_a_bad_phone_number_is_explained(
    client_for: ClientFor, clinic_admin: User
) -> None:
    response = client_for(clinic_admin).post(URL, _data(phone="555"))
    assert response.status_code == 200
    assert b"phone number" in response.content


def test_the_crisis_text_is_editable_and_shown_to_patients(
    client_for: ClientFor, clinic_admin: User, patient_user: User
) -> None:
    client_for(clinic_admin).post(
        URL,
        _data(crisis_resources="Call 9-8-8 any time. Local crisis line 613-555-0100."),
    )
    response = client_for(patient_user).get(reverse("portal:home"))
    assert b"Local crisis line 613-555-0100" in response.content


def test_times_are_shown_in_the_clinic_time_zone(
    client_for: ClientFor, clinic_admin: User, nurse: User, patient_a: Patient
) -> None:
    client_for(clinic_admin).post(URL, _data(time_zone="America/Vancouver"))
    client_for(nurse).post(
        reverse("patients:patient_edit", args=[patient_a.pk]),
        {
            "legal_given_name": "A",
            "legal_family_name": "B",
            "born_on": "1980-01-01",
            "sex_at_birth": "male",
            "province": "ON",
            "status": "active",
            "loaded_at": patient_a.updated_at.isoformat(),
        },
    )
    event = AuditEvent.objects.get(patient=patient_a, action=AuditEvent.Action.UPDATE)
    local = event.occurred_at.astimezone(zoneinfo.ZoneInfo("America/Vancouver"))
    response = client_for(nurse).get(
        reverse("patients:patient_history", args=[patient_a.pk])
    )
    assert local.strftime("%Y-%m-%d %H:%M").encode() in response.content


def test_an_uploaded_logo_is_served(
    client_for: ClientFor, clinic_admin: User, client: Client
) -> None:
    response = client_for(clinic_admin).post(URL, {**_data(), "logo": _png()})
    assert response.status_code == 302
    logo = client.get(reverse("website:clinic_logo"))
    assert logo.status_code == 200
    assert logo["Content-Type"] == "image/png"


def test_a_file_pretending_to_be_an_image_is_refused(
    client_for: ClientFor, clinic_admin: User
) -> None:
    fake = SimpleUploadedFile(
        "logo.png", b"<script>alert(1)</script>", content_type="image/png"
    )
    response = client_for(clinic_admin).post(URL, {**_data(), "logo": fake})
    assert response.status_code == 200
    assert not get_clinic_profile().logo


def test_alert_deadlines_and_the_response_statement_are_the_clinics_to_set(
    client_for: ClientFor, clinic_admin: User
) -> None:
    client = client_for(clinic_admin)
    refused = client.post(URL, _data(high_alert_deadline_minutes=2))
    assert b"greater than or equal to 5" in refused.content
    client.post(
        URL,
        _data(
            high_alert_deadline_minutes=30,
            alert_response_statement="We call you back within 2 hours, 9 to 5.",
        ),
    )
    profile = get_clinic_profile()
    assert profile.high_alert_deadline_minutes == 30
    assert profile.alert_response_statement.startswith("We call you back")


def test_reminder_hours_and_self_booking_are_the_clinics_to_set(
    client_for: ClientFor, clinic_admin: User
) -> None:
    client = client_for(clinic_admin)
    refused = client.post(URL, _data(appointment_reminder_hours="48,0"))
    assert refused.status_code == 200
    assert "0 h is outside 1 to 336 hours (two weeks)." in refused.content.decode()
    client.post(URL, _data(appointment_reminder_hours="72, 2", portal_booking="self"))
    profile = get_clinic_profile()
    assert profile.reminder_hours == (72, 2)
    assert profile.portal_booking == "self"


def test_a_stale_form_cannot_revert_the_crisis_text(
    client_for: ClientFor, clinic_admin: User
) -> None:
    other_admin = make_staff(Role.CLINIC_ADMIN)
    first, second = client_for(clinic_admin), client_for(other_admin)
    seen_first = seen_in(first.get(URL).content)
    stale_form = _data(hours="Monday 9 to 5", seen=seen_in(second.get(URL).content))
    local_line = "Call 9-8-8 any time. Local crisis line 613-555-0100."
    saved = first.post(URL, _data(crisis_resources=local_line, seen=seen_first))
    assert saved.status_code == 302

    stale = second.post(URL, stale_form)

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(clinic_admin.display_name)}" in body
    assert (
        'Not saved: this form had<span class="kept-text">Monday 9 to 5</span>' in body
    )
    assert f"{local_line}</textarea>" in body  # the crisis text saved now, shown
    profile = get_clinic_profile()
    assert (profile.crisis_resources, profile.hours) == (local_line, "")
    kept = stale.context["form"].data.dict()
    assert kept["seen"] == seen_in(stale.content) != stale_form["seen"]
    kept["hours"] = "Monday 9 to 5"  # the one entry this admin meant, typed again
    again = second.post(URL, kept)
    assert again.status_code == 302
    profile = get_clinic_profile()
    assert (profile.crisis_resources, profile.hours) == (local_line, "Monday 9 to 5")
    assert AuditEvent.objects.filter(object_type="clinic_profile").count() == 2


def test_clinic_details_without_what_the_form_saw_change_nothing(
    client_for: ClientFor, clinic_admin: User
) -> None:
    data = _data(hours="Monday 9 to 5")
    del data["seen"]
    response = client_for(clinic_admin).post(URL, data)
    assert response.status_code == 200
    assert b"does not say what it was opened with" in response.content
    assert get_clinic_profile().hours == ""
