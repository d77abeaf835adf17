import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.safety.models import OnCallShift
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_clinic_admin_puts_a_physician_on_call(
    client_for: ClientFor, clinic_admin: User, physician: User
) -> None:
    client = client_for(clinic_admin)
    start = timezone.now().replace(second=0, microsecond=0)
    response = client.post(
        reverse("safety:on_call_add"),
        {
            "physician": physician.pk,
            "starts_at": _local(start),
            "ends_at": _local(start + dt.timedelta(hours=12)),
            "page_phone": "416 555 0199",
        },
    )
    assert response.status_code == 302
    shift = OnCallShift.objects.get()
    assert (shift.physician, shift.page_phone, shift.created_by) == (
        physician,
        "+14165550199",
        clinic_admin,
    )
    page = client.get(reverse("safety:on_call")).content.decode()
    assert f"<strong>{physician.display_name}</strong> until" in page
    assert AuditEvent.objects.filter(
        object_type="on_call_shift", actor=clinic_admin, summary__startswith="Put "
    ).exists()


@pytest.mark.parametrize(
    ("hours", "error"),
    [
        ((2, 1), "The shift must end after it starts."),
        ((-30, -20), "This shift is already over."),
        ((0, 24 * 15), "Enter shifts of at most 14 days."),
    ],
)
def test_bad_shifts_are_explained(
    client_for: ClientFor,
    physician: User,
    hours: tuple[int, int],
    error: str,
) -> None:
    now = timezone.now()
    response = client_for(physician).post(
        reverse("safety:on_call_add"),
        {
            "physician": physician.pk,
            "starts_at": _local(now + dt.timedelta(hours=hours[0])),
            "ends_at": _local(now + dt.timedelta(hours=hours[1])),
        },
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_only_physicians_can_be_put_on_call(
    client_for: ClientFor, clinic_admin: User, nurse: User
) -> None:
    now = timezone.now()
    response = client_for(clinic_admin).post(
        reverse("safety:on_call_add"),
        {
            "physician": nurse.pk,
            "starts_at": _local(now),
            "ends_at": _local(now + dt.timedelta(hours=8)),
        },
    )
    assert "Select a valid choice" in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_removing_a_shift_is_audited_and_nobody_on_call_is_shown(
    client_for: ClientFor, clinic_admin: User, physician: User, nurse: User
) -> None:
    shift = OnCallShift.objects.create(
        physician=physician,
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=8),
        created_by=clinic_admin,
    )
    client_for(clinic_admin).post(reverse("safety:on_call_remove", args=[shift.pk]))
    assert not OnCallShift.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="on_call_shift", summary__startswith="Removed "
    ).exists()
    page = client_for(nurse).get(reverse("safety:on_call")).content.decode()
    assert "Nobody is on call now" in page
    assert "Add a shift" not in page  # nurses see the rota but do not change it


def test_front_desk_sees_who_is_on_call_but_not_their_phone(
    client_for: ClientFor, front_desk: User, physician: User
) -> None:
    OnCallShift.objects.create(
        physician=physician,
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=8),
        page_phone="+14165550199",
        created_by=physician,
    )
    page = client_for(front_desk).get(reverse("safety:on_call")).content.decode()
    assert physician.display_name in page
    assert "+14165550199" not in page
