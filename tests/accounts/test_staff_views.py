import pytest
from django.contrib.sessions.models import Session
from django.core.mail import EmailMessage
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django import DjangoCaptureOnCommitCallbacks

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from tests.conftest import ClientFor, make_staff, seen_in
from tests.factories import UserFactory
from tests.page_forms import form_as_shown

pytestmark = pytest.mark.django_db


def test_the_admin_creates_a_staff_member_who_gets_a_password_link(
    client_for: ClientFor,
    clinic_admin: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    mailoutbox: list[EmailMessage],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clinic_admin).post(
            reverse("accounts:staff_create"),
            {
                "full_name": "Casey Moreau",
                "email": "Casey@Example.com",
                "credentials": "RN",
                "roles": ["Nurse"],
                "is_active": "on",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="casey@example.com")
    assert user.role_names == ["Nurse"]
    assert not user.has_usable_password()
    assert "/accounts/password-reset/" in mailoutbox[0].body
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_id=str(user.pk)
    ).exists()


def test_a_duplicate_email_is_refused(
    client_for: ClientFor, clinic_admin: User, nurse: User
) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:staff_create"),
        {
            "full_name": "Dup",
            "email": nurse.email,
            "roles": ["Nurse"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert b"already uses this email" in response.content


def test_a_role_is_required(client_for: ClientFor, clinic_admin: User) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:staff_create"),
        {"full_name": "No Role", "email": "n@example.com", "is_active": "on"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="n@example.com").exists()


def test_deactivating_ends_the_members_sessions(
    client_for: ClientFor, clinic_admin: User, nurse: User
) -> None:
    nurse_client = client_for(nurse)
    assert nurse_client.get(reverse("patients:patient_list")).status_code == 200
    admin = client_for(clinic_admin)
    url = reverse("accounts:staff_edit", args=[nurse.pk])
    response = admin.post(
        url,
        {
            "full_name": nurse.full_name,
            "email": nurse.email,
            "credentials": "",
            "roles": ["Nurse"],
            "seen": seen_in(admin.get(url).content),
        },
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert nurse_client.get(reverse("patients:patient_list")).status_code == 302
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(nurse.pk)
        for s in Session.objects.all()
    )


def test_admins_cannot_deactivate_themselves(
    client_for: ClientFor, clinic_admin: User
) -> None:
    client = client_for(clinic_admin)
    page = client.get(reverse("accounts:staff_edit", args=[clinic_admin.pk]))
    assert page.context["form"].fields["is_active"].disabled
    client.post(
        reverse("accounts:staff_edit", args=[clinic_admin.pk]),
        {
            "full_name": "Renamed Admin",
            "email": clinic_admin.email,
            "roles": [Role.CLINIC_ADMIN],
            "seen": seen_in(page.content),
        },
    )
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active
    assert clinic_admin.full_name == "Renamed Admin"


def test_role_changes_are_recorded_with_old_and_new(
    client_for: ClientFor, clinic_admin: User, front_desk: User
) -> None:
    admin = client_for(clinic_admin)
    url = reverse("accounts:staff_edit", args=[front_desk.pk])
    admin.post(
        url,
        {
            "full_name": front_desk.full_name,
            "email": front_desk.email,
            "roles": ["Nurse"],
            "is_active": "on",
            "seen": seen_in(admin.get(url).content),
        },
    )
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.UPDATE, object_id=str(front_desk.pk)
    )
    assert event.detail["changes"]["roles"] == [["Front desk"], ["Nurse"]]


def test_resetting_two_step_removes_the_device(
    client_for: ClientFor, clinic_admin: User, nurse: User
) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:staff_reset_two_factor", args=[nurse.pk])
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=nurse).exists()


def test_the_staff_list_searches_and_shows_enrolment(
    client_for: ClientFor, clinic_admin: User, nurse: User, unenrolled_nurse: User
) -> None:
    response = client_for(clinic_admin).get(
        reverse("accounts:staff_list"), {"q": nurse.email}
    )
    assert list(response.context["page"]) == [nurse]
    response = client_for(clinic_admin).get(reverse("accounts:staff_list"))
    assert b"Not set up" in response.content


def test_patients_are_not_listed_as_staff(
    client_for: ClientFor, clinic_admin: User, patient_user: User
) -> None:
    response = client_for(clinic_admin).get(reverse("accounts:staff_list"))
    assert patient_user not in list(response.context["page"])


def test_a_patient_account_cannot_be_edited_as_staff(
    client_for: ClientFor, clinic_admin: User, patient_user: User
) -> None:
    assert (
        client_for(clinic_admin)
        .get(reverse("accounts:staff_edit", args=[patient_user.pk]))
        .status_code
        == 404
    )


def test_a_new_member_who_missed_the_link_can_ask_for_another(
    client: Client, clinic_admin: User, mailoutbox: list[EmailMessage]
) -> None:
    member = UserFactory.create(roles=[Role.NURSE], password=None)
    User.objects.filter(pk=member.pk).update(password="!unusable")
    client.post(reverse("accounts:password_reset"), {"email": member.email})
    assert [m.to for m in mailoutbox] == [[member.email]]


def test_the_admin_can_email_a_new_set_password_link(
    client_for: ClientFor,
    clinic_admin: User,
    nurse: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    mailoutbox: list[EmailMessage],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clinic_admin).post(
            reverse("accounts:staff_send_setup_link", args=[nurse.pk])
        )
    assert response.status_code == 302
    assert mailoutbox[0].to == [nurse.email]
    assert "/accounts/password-reset/" in str(mailoutbox[0].body)


def test_admins_cannot_change_their_own_roles(
    client_for: ClientFor, clinic_admin: User
) -> None:
    admin = client_for(clinic_admin)
    url = reverse("accounts:staff_edit", args=[clinic_admin.pk])
    response = admin.post(
        url,
        {
            "full_name": clinic_admin.full_name,
            "email": clinic_admin.email,
            "roles": ["Physician"],
            "is_active": "on",
            "seen": seen_in(admin.get(url).content),
        },
    )
    assert response.status_code == 302
    clinic_admin.refresh_from_db()
    assert clinic_admin.role_names == ["Clinic admin"]


def test_the_old_address_hears_about_an_email_change(
    client_for: ClientFor,
    clinic_admin: User,
    nurse: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    mailoutbox: list[EmailMessage],
) -> None:
    old = nurse.email
    admin = client_for(clinic_admin)
    url = reverse("accounts:staff_edit", args=[nurse.pk])
    seen = seen_in(admin.get(url).content)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            url,
            {
                "full_name": nurse.full_name,
                "email": "new@example.com",
                "roles": ["Nurse"],
                "is_active": "on",
                "seen": seen,
            },
        )
    assert [m.to for m in mailoutbox] == [[old]]
    assert "new@example.com" in str(mailoutbox[0].body)


def _member_form(
    member: User, seen: str | None, **changes: object
) -> dict[str, object]:
    """The staff form as posted; a None value leaves the field out."""
    data: dict[str, object] = {
        "full_name": member.full_name, "email": member.email,
        "credentials": member.credentials, "roles": member.role_names,
        "is_active": "on", "seen": seen,
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_stale_form_cannot_reactivate_a_member_someone_deactivated(
    client_for: ClientFor, clinic_admin: User, nurse: User
) -> None:
    other_admin = make_staff(Role.CLINIC_ADMIN)
    url = reverse("accounts:staff_edit", args=[nurse.pk])
    first, second = client_for(clinic_admin), client_for(other_admin)
    seen_first = seen_in(first.get(url).content)
    seen_second = seen_in(second.get(url).content)
    deactivated = first.post(url, _member_form(nurse, seen_first, is_active=None))
    assert deactivated.status_code == 302

    stale = second.post(url, _member_form(nurse, seen_second, credentials="RN, BScN"))

    assert stale.status_code == 409
    body = stale.content.decode()
    assert f"was changed by {escape(clinic_admin.display_name)}" in body
    assert "nothing was saved" in body and 'role="alert"' in body
    # what is saved now is in the form; what this form had is noted under it
    assert "Not saved: this form had RN, BScN." in body
    assert "Not saved: this form had yes." in body  # "Account active"
    assert 'name="credentials" value="RN, BScN"' not in body
    nurse.refresh_from_db()
    assert (nurse.is_active, nurse.credentials) == (False, "")
    # saving the page as shown, with the credentials typed again, keeps her inactive
    again = form_as_shown(body, "credentials")
    again["credentials"] = "RN, BScN"
    assert second.post(url, again).status_code == 302
    nurse.refresh_from_db()
    assert (nurse.is_active, nurse.credentials) == (False, "RN, BScN")


def test_a_staff_edit_without_what_it_saw_changes_nothing(
    client_for: ClientFor, clinic_admin: User, nurse: User
) -> None:
    response = client_for(clinic_admin).post(
        reverse("accounts:staff_edit", args=[nurse.pk]),
        _member_form(nurse, None, is_active=None),
    )
    assert response.status_code == 200
    assert b"does not say what it was opened with" in response.content
    nurse.refresh_from_db()
    assert nurse.is_active
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_id=str(nurse.pk)
    ).exists()
