"""factory_boy factories: synthetic people only (Faker)."""

import random
from datetime import date

import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.patients.healthcard import luhn_check_digit
from kapcare.patients.models import Patient
from kapcare.patients.services import allocate_mrns

PASSWORD = "correct horse battery staple"


def _add_roles(user: User, create: bool, roles: list[Role] | None) -> None:
    if create and roles:
        user.groups.add(*Group.objects.filter(name__in=roles))


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name", locale="en_CA")
    kind = User.Kind.STAFF
    password = factory.django.Password(PASSWORD)

    roles = factory.PostGeneration(
        lambda user, create, extracted, **kwargs: _add_roles(user, create, extracted)
    )


class TOTPDeviceFactory(factory.django.DjangoModelFactory[TOTPDevice]):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Test authenticator"
    confirmed = True


def valid_health_number(seed: int) -> str:
    prefix = str(random.Random(seed).randint(100_000_000, 999_999_999))
    return prefix + luhn_check_digit(prefix)


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    mrn = factory.LazyFunction(lambda: allocate_mrns(1)[0])
    legal_given_name = factory.Faker("first_name", locale="en_CA")
    legal_family_name = factory.Faker("last_name", locale="en_CA")
    born_on = factory.Faker(
        "date_between", start_date=date(1950, 1, 1), end_date=date(2005, 12, 31)
    )
    sex_at_birth = Patient.SexAtBirth.FEMALE
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    health_number = factory.Sequence(valid_health_number)
    health_version_code = "AB"
    search_text = factory.LazyAttribute(
        lambda p: f"{p.legal_given_name} {p.legal_family_name}".lower()
    )
