"""Stale forms in treatment records (reference T16): a course's status, a
protocol's limits, a lot count and an integration draft saved from a page that no
longer shows what is saved are refused, with who changed it, and write nothing;
the page then carries the current version, so saving again works."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.treatment import services
from kapcare.treatment.forms import ProtocolForm
from kapcare.treatment.models import (
    DosingSession,
    IntegrationSession,
    KetamineLot,
    Protocol,
    RegisterEntry,
    TreatmentCourse,
)
from tests.conftest import ClientFor, make_staff, seen_in
from tests.factories import PASSWORD
from tests.treatment.conftest import IV, request_by

pytestmark = pytest.mark.django_db


def test_a_course_stopped_by_one_physician_is_not_reopened_by_a_stale_page(
    client_for: ClientFor, physician: User, iv_course: TreatmentCourse
) -> None:
    other = make_staff(Role.PHYSICIAN)
    first, second = client_for(physician), client_for(other)
    url = iv_course.get_absolute_url()
    status = reverse(
        "treatment:course_status", args=[iv_course.patient_id, iv_course.pk]
    )
    first_seen, second_seen = seen_in(first.get(url)), seen_in(second.get(url))
    first.post(status, {"status": "stopped", "seen": first_seen})
    page = second.post(status, {"status": "active", "seen": second_seen}, follow=True)
    assert (
        f"This course&#x27;s status was changed by {physician.display_name}"
        in page.content.decode()
    )
    iv_course.refresh_from_db()
    assert iv_course.status == "stopped" and iv_course.ended_on is not None
    # reopened on purpose, from the current page: the end date goes with it
    second.post(status, {"status": "active", "seen": seen_in(page)})
    assert TreatmentCourse.objects.filter(
        pk=iv_course.pk, status="active", ended_on=None, ended_at=None
    ).exists()


def _protocol_post(protocol: Protocol, **changes: object) -> dict[str, object]:
    """The edit form as the page fills it in, with `changes`."""
    form = ProtocolForm(instance=protocol)
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif (shown := field.widget.format_value(value)) is not None:
            data[name] = shown
    return {**data, **changes}


def test_a_stale_protocol_form_cannot_put_a_limit_back(
    client_for: ClientFor, physician: User
) -> None:
    protocol = Protocol.objects.get(name=IV)
    other = make_staff(Role.PHYSICIAN)
    url = reverse("treatment:protocol_edit", args=[protocol.pk])
    first, second = client_for(physician), client_for(other)
    first_seen, second_seen = seen_in(first.get(url)), seen_in(second.get(url))
    saved = first.post(url, _protocol_post(protocol, systolic_max=150, seen=first_seen))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    stale = second.post(
        url, _protocol_post(protocol, diastolic_max=95, seen=second_seen)
    )
    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"This protocol was changed by {physician.display_name}" in body
    # the limits saved now are in the form, this form's entries noted under them
    assert 'name="systolic_max" value="150"' in body
    assert "Not saved: this form had 95." in body
    assert "Not saved: this form had 140." in body
    protocol.refresh_from_db()
    assert (protocol.systolic_max, protocol.diastolic_max) == (150, 90)
    retry = second.post(
        url, _protocol_post(protocol, diastolic_max=95, seen=seen_in(stale))
    )
    assert retry.status_code == 302
    protocol.refresh_from_db()
    assert (protocol.systolic_max, protocol.diastolic_max) == (150, 95)


def test_a_count_made_before_a_later_draw_is_refused(
    client_for: ClientFor, nurse: User, second_nurse: User, lot: KetamineLot
) -> None:
    url = reverse("treatment:lot_count", args=[lot.pk])
    client = client_for(nurse)
    seen = seen_in(client.get(url))
    services.record_waste(
        request=request_by(second_nurse), lot=lot, amount_mg=Decimal("35"),
        session=None, reason="Vial dropped", witness=nurse, password=PASSWORD,
        by=second_nurse,
    )  # fmt: skip
    count = {
        "counted_mg": "5000", "counted_on": timezone.localdate().isoformat(),
        "explanation": "Recount", "witness": second_nurse.pk,
        "witness_password": PASSWORD, "seen": seen,
    }  # fmt: skip
    stale = client.post(url, count)
    body = stale.content.decode()
    assert stale.status_code == 400
    assert (
        "This lot&#x27;s register balance was changed by "
        f"{second_nurse.display_name}" in body
    )
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("4965.0")
    assert not RegisterEntry.objects.filter(kind="count_adjustment").exists()
    matches = client.post(
        url, {**count, "counted_mg": "4965", "explanation": "", "seen": seen_in(body)}
    )
    assert matches.status_code == 302


def test_an_integration_draft_from_another_tab_is_not_overwritten(
    client_for: ClientFor, therapist: User, dosed_session: DosingSession
) -> None:
    session = IntegrationSession.objects.create(
        patient=dosed_session.patient, dosing_session=dosed_session,
        therapist=therapist, held_on=timezone.localdate(), homework="Walk",
        psychotherapy_note="First thoughts",
    )  # fmt: skip
    edit = reverse("treatment:integration_edit", args=[session.patient_id, session.pk])
    client = client_for(therapist)
    tab_one, tab_two = seen_in(client.get(edit)), seen_in(client.get(edit))
    form = {
        "held_on": timezone.localdate().isoformat(), "intentions": "", "insights": "",
        "themes": "", "goals": "", "homework": "Walk",
    }  # fmt: skip
    client.post(
        edit, {**form, "psychotherapy_note": "Long careful note", "seen": tab_one}
    )
    stale = client.post(
        edit, {**form, "psychotherapy_note": "Old tab", "seen": tab_two}
    )
    assert stale.status_code == 400
    assert "This draft was changed by you" in stale.content.decode()
    assert "Old tab" in stale.content.decode()
    session.refresh_from_db()
    assert session.psychotherapy_note == "Long careful note"


def test_a_stale_protocol_form_with_a_mistake_is_still_stale_once_corrected(
    client_for: ClientFor, physician: User
) -> None:
    """Fixing a validation error does not make a stale form current: the page shown
    with the error still carries the version the form was opened with."""
    protocol = Protocol.objects.get(name=IV)
    url = reverse("treatment:protocol_edit", args=[protocol.pk])
    first, second = client_for(physician), client_for(make_staff(Role.PHYSICIAN))
    first_seen, second_seen = seen_in(first.get(url)), seen_in(second.get(url))
    first.post(url, _protocol_post(protocol, systolic_max=150, seen=first_seen))
    mistake = second.post(
        url, _protocol_post(protocol, usual_dose="5", max_dose="1", seen=second_seen)
    )
    assert mistake.status_code == 200 and seen_in(mistake) == second_seen
    corrected = second.post(url, _protocol_post(protocol, seen=seen_in(mistake)))
    assert corrected.status_code == 409
    protocol.refresh_from_db()
    assert protocol.systolic_max == 150
