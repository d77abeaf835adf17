import uuid
from functools import cached_property

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, email: str, password: str | None = None, **fields: object
    ) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **fields: object
    ) -> "User":
        fields.setdefault("is_superuser", True)
        fields.setdefault("is_staff", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a staff member, or a patient using the portal."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        PATIENT = "patient", "Patient"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    credentials = models.CharField(
        max_length=100, blank=True, help_text="For example MD, FRCPC; RN; MSW, RSW."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STAFF)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May use the Django admin site (developers only)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        permissions = [("manage_staff", "Can manage staff accounts")]
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.full_name or self.email
        return f"{name}, {self.credentials}" if self.credentials else name

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_patient(self) -> bool:
        return self.kind == self.Kind.PATIENT

    @property
    def is_clinic_staff(self) -> bool:
        return self.kind == self.Kind.STAFF

    def is_verified(self) -> bool:
        """Whether this session passed TOTP; django_otp's OTPMiddleware replaces this
        per request, so without the middleware the answer is a safe "no"."""
        return False

    @cached_property
    def role_names(self) -> list[str]:
        return sorted(self.groups.values_list("name", flat=True))

    @property
    def role_label(self) -> str:
        return ", ".join(self.role_names) or self.get_kind_display()


def staff_account_values(user: User) -> list[object]:
    """What the staff account form shows of a saved account, in a fixed order: the
    form's `seen` fingerprint and the save's lost-update check both use this list."""
    roles = sorted(user.groups.values_list("name", flat=True))
    return [user.full_name, user.email, user.credentials, user.is_active, roles]
