"""Every kind of token that opens something without signing in, in one table:
questionnaire links, portal invitations, calendar feeds, password set-up links,
appointment-message opt-out links and FHIR client tokens.

For each: at least 128 secret bits and no two alike; guesses and near misses
refused (never a 500); the token is not kept in the clear anywhere in the
database; it expires; it can be revoked; and no secret is compared with `==`.
"""

import ast
import hashlib
import re
import secrets
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.fhir.auth import revoke_client
from kapcare.lib import tokens
from kapcare.measures import services as measures
from kapcare.measures.models import QuestionnaireLink
from kapcare.patients import services as patients
from kapcare.patients.models import Patient
from kapcare.scheduling import notices
from kapcare.scheduling import services as scheduling
from tests.conftest import make_staff
from tests.factories import PatientFactory
from tests.fhir.test_api import api, token_for
from tests.treatment.conftest import request_by

pytestmark = pytest.mark.django_db
KAPCARE = Path(__file__).resolve().parents[2] / "kapcare"
BASE64URL = string.ascii_letters + string.digits + "-_"


@dataclass
class Issued:
    token: str
    revoke: Callable[[], None] | None = None


@dataclass(frozen=True)
class TokenKind:
    """`issue(n)` makes a token (the n-th of its kind in this test); `opens` says
    whether a token opens its page; `secret` is the part nobody can derive."""

    issue: Callable[[int], Issued]
    opens: Callable[[str], bool]
    refused: Callable[[str], bool]
    secret: Callable[[str], str]
    lifetime: timedelta | None
    stored_as_hash: bool


def _whole(token: str) -> str:
    return token


@contextmanager
def _recording_tokens(module: object) -> Iterator[list[str]]:
    """The link tokens `module` makes, as they are made (they are only emailed)."""
    issued: list[str] = []

    def recording() -> tuple[str, str]:
        pair = tokens.new_link_token()
        issued.append(pair[0])
        return pair

    with mock.patch.object(module, "new_link_token", recording):
        yield issued


def _questionnaire_link(n: int) -> Issued:
    patient = Patient.objects.get(legal_family_name="Tokenholder")
    nurse = User.objects.get(email="nurse@tokens.example")
    with _recording_tokens(measures) as issued:
        link = measures.send_questionnaire_link(
            request=None, patient=patient, instrument="phq9", sent_by=nurse
        )

    def withdraw() -> None:
        assert measures.withdraw_questionnaire_link(request=None, link=link, by=nurse)

    return Issued(issued[0], withdraw)


def _link_page(name: str) -> Callable[[str], int]:
    return lambda token: Client().get(reverse(name, args=[token])).status_code


def _portal_invitation(n: int) -> Issued:
    patient = PatientFactory.create(email=f"invited{n}@tokens.example")
    front_desk = User.objects.get(email="front@tokens.example")
    with _recording_tokens(patients) as issued:
        patients.invite_patient_to_portal(
            request=request_by(front_desk), patient=patient, invited_by=front_desk
        )

    def reinvite() -> None:  # a new invitation revokes the old link
        patients.invite_patient_to_portal(
            request=request_by(front_desk), patient=patient, invited_by=front_desk
        )

    return Issued(issued[0], reinvite)


def _calendar_feed(n: int) -> Issued:
    nurse = make_staff(Role.NURSE)
    token = scheduling.issue_calendar_feed(request=None, user=nurse)
    return Issued(
        token, lambda: scheduling.revoke_calendar_feed(request=None, user=nurse)
    )


def _password_setup(n: int) -> Issued:
    user = make_staff(Role.THERAPIST)
    token = default_token_generator.make_token(user)

    def choose_password() -> None:  # the link works once: a new password ends it
        user.set_password(secrets.token_urlsafe(16))
        user.save()

    return Issued(
        f"{urlsafe_base64_encode(force_bytes(user.pk))}/{token}", choose_password
    )


def _reset_page(token: str) -> Client:
    uid, _, secret = token.partition("/")
    client = Client()
    client.answer = client.get(  # type: ignore[attr-defined]
        reverse("accounts:password_reset_confirm", args=[uid, secret])
    )
    return client


def _reset_opens(token: str) -> bool:
    answer = _reset_page(token).answer  # type: ignore[attr-defined]
    return bool(answer.status_code == 302 and "set-password" in answer["Location"])


def _reset_refused(token: str) -> bool:
    answer = _reset_page(token).answer  # type: ignore[attr-defined]
    return bool(
        answer.status_code == 200 and b"This link no longer works" in answer.content
    )


def _opt_out(n: int) -> Issued:
    return Issued(notices.opt_out_token(PatientFactory.create()))


def _fhir_client(n: int) -> Issued:
    admin = User.objects.get(email="admin@tokens.example")
    client, token = token_for(admin)
    return Issued(
        token, lambda: revoke_client(request=request_by(admin), client=client)
    )


def _fhir_status(token: str) -> int:
    return api(token).get("/fhir/Patient").status_code


KINDS: dict[str, TokenKind] = {
    "questionnaire link": TokenKind(
        _questionnaire_link,
        opens=lambda t: _link_page("measures:link_fill")(t) == 200,
        refused=lambda t: _link_page("measures:link_fill")(t) in (404, 410),
        secret=_whole,
        lifetime=settings.QUESTIONNAIRE_LINK_LIFETIME,
        stored_as_hash=True,
    ),
    "portal invitation": TokenKind(
        _portal_invitation,
        opens=lambda t: _link_page("portal:invitation_accept")(t) == 200,
        refused=lambda t: _link_page("portal:invitation_accept")(t) in (404, 410),
        secret=_whole,
        lifetime=settings.PORTAL_INVITATION_LIFETIME,
        stored_as_hash=True,
    ),
    "calendar feed": TokenKind(
        _calendar_feed,
        opens=lambda t: _link_page("scheduling:calendar_ics")(t) == 200,
        refused=lambda t: _link_page("scheduling:calendar_ics")(t) == 404,
        secret=_whole,
        lifetime=settings.CALENDAR_FEED_LIFETIME,
        stored_as_hash=True,
    ),
    "password set-up link": TokenKind(
        _password_setup,
        opens=_reset_opens,
        refused=_reset_refused,
        secret=lambda t: t.rsplit("-", 1)[1],
        lifetime=timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        stored_as_hash=False,
    ),
    "appointment-message opt-out": TokenKind(
        _opt_out,
        opens=lambda t: _link_page("scheduling:opt_out")(t) == 200,
        refused=lambda t: _link_page("scheduling:opt_out")(t) == 404,
        secret=lambda t: t.rsplit(":", 1)[1],
        lifetime=notices.OPT_OUT_MAX_AGE,
        stored_as_hash=False,
    ),
    "FHIR client token": TokenKind(
        _fhir_client,
        opens=lambda t: _fhir_status(t) == 200,
        refused=lambda t: _fhir_status(t) == 401,
        secret=lambda t: t.removeprefix("kc_"),
        lifetime=None,
        stored_as_hash=True,
    ),
}
REVOCABLE = [name for name in KINDS if name != "appointment-message opt-out"]
EXPIRING = [name for name, kind in KINDS.items() if kind.lifetime is not None]


@pytest.fixture(autouse=True)
def people(db: None) -> None:
    PatientFactory.create(legal_family_name="Tokenholder", email="t@tokens.example")
    for role, email in [
        (Role.NURSE, "nurse@tokens.example"),
        (Role.FRONT_DESK, "front@tokens.example"),
        (Role.CLINIC_ADMIN, "admin@tokens.example"),
    ]:
        User.objects.filter(pk=make_staff(role).pk).update(email=email)


def _bits(secret: str) -> float:
    """Secret bits by the token's alphabet: hex, else base64url."""
    if re.fullmatch(r"[0-9a-f]+", secret):
        return 4.0 * len(secret)
    assert set(secret) <= set(BASE64URL), secret
    return 6.0 * len(secret)


def _near_misses(token: str, secret: str, count: int) -> list[str]:
    """Random secrets of the same shape, then the real one altered by a little."""
    alphabet = "0123456789abcdef" if re.fullmatch(r"[0-9a-f]+", secret) else BASE64URL
    head = token[: len(token) - len(secret)]
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    guesses = [
        head + "".join(secrets.choice(alphabet) for _ in secret) for _ in range(count)
    ]
    return [*guesses, head + flipped, head + secret[:-1], token + "x", token.upper()]


def _database_text() -> str:
    """Every value in every table, as text (the test database is small)."""
    quote = connection.ops.quote_name
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608
            parts.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(parts)


@pytest.mark.parametrize("kind", list(KINDS))
def test_tokens_carry_128_secret_bits_and_never_repeat(kind: str) -> None:
    made = [KINDS[kind].issue(n).token for n in range(12)]
    secrets_ = [KINDS[kind].secret(token) for token in made]
    assert len(set(secrets_)) == len(made)
    assert min(_bits(secret) for secret in secrets_) >= 128
    for token in made[-1:]:
        assert KINDS[kind].opens(token)


@pytest.mark.parametrize("kind", list(KINDS))
def test_guesses_and_near_misses_are_refused(
    kind: str, record_property: Callable[[str, object], None]
) -> None:
    token = KINDS[kind].issue(0).token
    tries = _near_misses(token, KINDS[kind].secret(token), 60)
    refused = [guess for guess in tries if KINDS[kind].refused(guess)]
    assert refused == tries
    assert KINDS[kind].opens(token)  # the real one still works
    record_property("security: token guesses refused", len(tries))


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_database_never_holds_a_usable_token(kind: str) -> None:
    """A copy of the database cannot be turned into working links: our tokens are
    kept as SHA-256 only; signed ones are not kept at all."""
    token = KINDS[kind].issue(0).token
    assert KINDS[kind].opens(token)
    text = _database_text()
    assert KINDS[kind].secret(token) not in text
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert (digest in text) == KINDS[kind].stored_as_hash


@pytest.mark.parametrize("kind", EXPIRING)
def test_tokens_expire(kind: str) -> None:
    token = KINDS[kind].issue(0).token
    lifetime = KINDS[kind].lifetime
    assert lifetime is not None
    now = timezone.now()
    # in the clinic's zone: Django's reset tokens count time by the naive local clock
    with time_machine.travel(timezone.localtime(now + lifetime - timedelta(minutes=2))):
        assert KINDS[kind].opens(token)
    with time_machine.travel(timezone.localtime(now + lifetime + timedelta(minutes=2))):
        assert KINDS[kind].refused(token)


@pytest.mark.parametrize("kind", REVOCABLE)
def test_tokens_can_be_revoked(kind: str) -> None:
    issued = KINDS[kind].issue(0)
    assert issued.revoke is not None and KINDS[kind].opens(issued.token)
    issued.revoke()
    assert KINDS[kind].refused(issued.token)


def test_what_cannot_be_revoked_or_expire_is_by_design() -> None:
    """An opt-out link can only turn appointment messages off for its own patient
    and shows nothing about them, so it expires but is not revoked one by one.
    FHIR client tokens belong to systems: they do not expire, the clinic admin
    revokes them (page fhir:client_list)."""
    assert set(KINDS) - set(REVOCABLE) == {"appointment-message opt-out"}
    assert set(KINDS) - set(EXPIRING) == {"FHIR client token"}
    page = Client().get(reverse("scheduling:opt_out", args=[_opt_out(0).token]))
    assert b"Stop all appointment" in page.content and b"born" not in page.content


def test_a_used_questionnaire_link_or_invitation_is_spent() -> None:
    link = _questionnaire_link(0).token
    answers = {f"item_{n}": "0" for n in range(1, 10)}
    assert (
        b"Thank you"
        in Client().post(reverse("measures:link_fill", args=[link]), answers).content
    )
    assert KINDS["questionnaire link"].refused(link)
    assert QuestionnaireLink.objects.get().used_at is not None


SECRET_NAME = re.compile(
    r"token|secret|signature|digest|password|_hash$|^hash|mac$", re.I
)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript | ast.Call):
        return _name(node.value if isinstance(node, ast.Subscript) else node.func)
    return ""


def _plain_secret_comparisons(source: str) -> list[str]:
    """`==`/`!=` with a secret-named side: such a comparison stops at the first
    different character, so its time tells an attacker how much they got right."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            names = [_name(node.left), *(_name(c) for c in node.comparators)]
            if any(SECRET_NAME.search(name) for name in names):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_secrets_are_never_compared_with_equals() -> None:
    """Tokens are found by their SHA-256 in an index (no secret-dependent compare in
    Python); Django checks password-reset tokens and signatures with
    constant_time_compare; everything else must use hmac.compare_digest."""
    assert _plain_secret_comparisons("if given_token == link.token:\n    pass") != []
    assert _plain_secret_comparisons("ok = hmac.compare_digest(a_hash, b)") == []
    found = {
        str(path): hits
        for path in KAPCARE.rglob("*.py")
        if "migrations" not in path.parts
        and (hits := _plain_secret_comparisons(path.read_text()))
    }
    assert found == {}
    lookups = re.findall(
        r"token_hash=([^,)\n]+)",
        "".join(p.read_text() for p in KAPCARE.rglob("*.py")),
    )
    assert lookups and all(
        "token_hash(" in value or value in {"hashed", "digest", "token_hash"}
        for value in lookups
    ), lookups
