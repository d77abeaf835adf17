from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group

from kapcare.accounts.models import User, staff_account_values
from kapcare.accounts.roles import STAFF_ROLES, Role
from kapcare.lib.edit_forms import add_seen_field


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        # No autofocus: the first Tab must reach the skip link (WCAG 2.4.1).
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password do not match an active account. "
            "After several failed attempts the account is locked for a while."
        ),
    }

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).lower()


class PasswordResetForm(auth_forms.PasswordResetForm):
    def get_users(self, email: str) -> Iterator[User]:
        """Active accounts with this email, including staff who have not chosen a
        password yet (Django skips those, which would strand a missed welcome link)."""
        yield from User.objects.filter(email__iexact=email.strip(), is_active=True)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = str(self.cleaned_data["token"]).strip()
        if not token.isdigit():
            raise forms.ValidationError(
                "The code is 6 digits, with no letters or spaces."
            )
        return token


class StaffForm(forms.ModelForm[User]):
    roles = forms.MultipleChoiceField(
        choices=[(r.value, r.label) for r in Role if r in STAFF_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Clinical roles (physician, nurse, therapist) see clinical records.",
    )

    class Meta:
        model = User
        fields = ["full_name", "email", "credentials", "is_active"]
        labels = {"is_active": "Account active"}

    def __init__(self, *args: Any, editor: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing_self = editor is not None and editor.pk == self.instance.pk
        if not self.instance._state.adding:
            self.fields["roles"].initial = self.instance.role_names
        # A stale form must not re-activate an account someone deactivated meanwhile.
        add_seen_field(self, staff_account_values)
        if self.editing_self:
            self.fields["roles"].disabled = True
            self.fields["roles"].help_text = (
                "Another clinic admin must change your own roles, so no one can grant "
                "themselves access to clinical records."
            )
            self.fields["is_active"].disabled = True

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).lower()
        clash = User.objects.filter(email=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another account already uses this email.")
        return email

    def selected_groups(self) -> list[Group]:
        return list(Group.objects.filter(name__in=self.cleaned_data["roles"]))
