"""Every file upload in the project (found from the forms, so a new one must be
listed here) against disguised files (reference T15): HTML, SVG, PHP and a
Windows program named as a PDF or picture, pictures cut short or with a valid
header and garbage after it, a decompression bomb, empty and oversized files.
Each is refused with a message and leaves nothing stored. What is accepted is
stored under a name the server makes, and documents come back only to staff
who may see them, as downloads, never sniffed."""

import importlib
import io
import pkgutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django import forms
from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

import kapcare
from kapcare.accounts.roles import Role
from kapcare.intake.models import ConsentDocument, ConsentSignature, Referral
from kapcare.patients.models import Patient
from kapcare.website.models import Post, StaffProfile, get_clinic_profile
from tests.conftest import make_staff, sign_in
from tests.factories import PatientFactory
from tests.page_forms import PageForm, forms_on

pytestmark = pytest.mark.django_db


def _png(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#1f5f8b").save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )  # fmt: skip


SCRIPT = b"<script>alert(document.cookie)</script>"
DISGUISED: dict[str, tuple[str, bytes, str]] = {
    "HTML named .pdf": ("letter.pdf", b"<!doctype html><html>" + SCRIPT, "application/pdf"),
    "HTML named .png": ("scan.png", b"<html><img src=x onerror=alert(1)>", "image/png"),
    "SVG with script named .png": (
        "logo.png",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>",
        "image/png",
    ),
    "SVG with script": ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'>" + SCRIPT + b"</svg>", "image/svg+xml"),
    "PHP named .php.jpg": ("shell.php.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg"),
    "Windows program named .jpg": ("photo.jpg", b"MZ\x90\x00\x03" + b"\x00" * 512, "image/jpeg"),
    "PNG cut short": ("cut.png", _png((64, 64))[:60], "image/png"),
    "JPEG cut short": ("cut.jpg", _jpeg()[:1500], "image/jpeg"),
    "PNG header then garbage": ("bad.png", b"\x89PNG\r\n\x1a\n" + b"\x07" * 300, "image/png"),
    "decompression bomb (50,000 x 50,000 px)": ("bomb.png", _png_claiming(50_000, 50_000), "image/png"),
    "empty file": ("empty.pdf", b"", "application/pdf"),
}  # fmt: skip


@dataclass
class Upload:
    """Where a form with an upload lives: the page that shows it, who may use it,
    the fields a person would fill in, and how to count what it stores."""

    persona: Role
    page: Callable[[Patient], str]
    fill: Callable[[], dict[str, str]]
    stored: Callable[[], int]
    limit_bytes: int
    extra: dict[str, str] = field(default_factory=dict)


def _today() -> str:
    return timezone.localdate().isoformat()


UPLOADS: dict[tuple[str, str], Upload] = {
    ("kapcare.intake.forms.ReferralForm", "letter"): Upload(
        Role.FRONT_DESK, lambda p: reverse("intake:referral_create"),
        lambda: {"given_name": "Rowan", "family_name": "Testfile", "phone": "416-555-0142",
                 "clinician_name": "Dr. Upload", "reason": "Treatment-resistant depression"},
        lambda: Referral.objects.count(), settings.DOCUMENT_MAX_BYTES,
    ),
    ("kapcare.intake.forms.PaperConsentForm", "scan"): Upload(
        Role.PHYSICIAN, lambda p: reverse("patients:patient_detail", args=[p.pk]),
        lambda: {"version": "1", "signed_on": _today()},
        lambda: ConsentSignature.objects.count(), settings.DOCUMENT_MAX_BYTES,
    ),
    ("kapcare.website.forms.ClinicProfileForm", "logo"): Upload(
        Role.CLINIC_ADMIN, lambda p: reverse("website:clinic_settings"), dict,
        lambda: int(bool(get_clinic_profile().logo)), 1024 * 1024,
    ),
    ("kapcare.website.forms.PostForm", "featured_image"): Upload(
        Role.CLINIC_ADMIN, lambda p: reverse("website:post_create"),
        lambda: {"title": "Upload test", "excerpt": "x", "body": "Text",
                 "featured_image_alt": "A calm room",
                 "author": str(StaffProfile.objects.get_or_create(name="Dr. Author")[0].pk)},
        lambda: Post.objects.count(), 10 * 1024 * 1024,
    ),
    ("kapcare.website.forms.StaffProfileForm", "photo"): Upload(
        Role.CLINIC_ADMIN, lambda p: reverse("website:profile_create"),
        lambda: {"name": "Dr. Photo"},
        lambda: StaffProfile.objects.count(), 10 * 1024 * 1024,
    ),
}  # fmt: skip


def test_every_upload_in_the_project_is_listed() -> None:
    """Every form class in every kapcare module: a new file field fails this test
    until its upload point is listed above (and so swept)."""
    found = set()
    for info in pkgutil.walk_packages(kapcare.__path__, "kapcare."):
        if ".migrations" in info.name or info.name.endswith(".tests"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type) and issubclass(value, forms.BaseForm)
                and value.__module__ == info.name
            ):  # fmt: skip
                found |= {
                    (f"{info.name}.{name}", field_name)
                    for field_name, form_field in getattr(
                        value, "base_fields", {}
                    ).items()
                    if isinstance(form_field, forms.FileField)
                }
    assert found == set(UPLOADS)


def _stored_files() -> set[str]:
    names: set[str] = set()
    for alias in ("default", "private"):
        store = storages[alias]

        def walk(folder: str, store: object = store, alias: str = alias) -> None:
            folders, files = store.listdir(folder)  # type: ignore[attr-defined]
            names.update(f"{alias}:{folder}/{name}" for name in files)
            for sub in folders:
                walk(f"{folder}/{sub}".lstrip("/"))

        walk("")
    return names


@pytest.fixture
def patient() -> Patient:
    ConsentDocument.objects.create(
        version=1, title="Consent", body="Text",
        created_by=make_staff(Role.CLINIC_ADMIN),
    )  # fmt: skip
    return PatientFactory.create()


def _form_with_upload(
    client: Client, upload: Upload, patient: Patient, name: str
) -> PageForm:
    page = client.get(upload.page(patient))
    assert page.status_code == 200
    for form in forms_on(page.content.decode()):
        if name in form.file_fields:
            return form
    raise AssertionError(f"no form with a {name} upload on {upload.page(patient)}")


def _send(key: tuple[str, str], patient: Patient, filename: str, content: bytes,
          content_type: str) -> tuple[Client, str]:  # fmt: skip
    upload = UPLOADS[key]
    client = sign_in(Client(), make_staff(upload.persona))
    form = _form_with_upload(client, upload, patient, key[1])
    data = {**form.data(), **upload.fill()}
    data[key[1]] = SimpleUploadedFile(filename, content, content_type=content_type)  # type: ignore[assignment]
    answer = client.post(form.action or upload.page(patient), data, follow=True)
    assert answer.status_code < 500
    return client, answer.content.decode()


REFUSED = ('class="form-errors"', "message-error")


@pytest.fixture(autouse=True)
def weasyprint_loaded() -> None:
    """As on a server that has made a PDF: WeasyPrint's import switches Pillow to
    accept cut-off images for the whole process; uploads must still be refused."""
    import weasyprint  # type: ignore[import-untyped]  # noqa: F401
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


@pytest.mark.parametrize("key", list(UPLOADS), ids=lambda k: k[1])
def test_disguised_files_are_refused_and_nothing_is_stored(
    key: tuple[str, str], patient: Patient,
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    upload = UPLOADS[key]
    head = b"%PDF-1.4\n" if key[1] in ("letter", "scan") else _png()[:16]
    oversized = head + b"0" * (upload.limit_bytes + 1 - len(head))
    tries = {**DISGUISED, "over the size limit": (f"big.{'pdf' if b'PDF' in head else 'png'}", oversized, "application/pdf" if b"PDF" in head else "image/png")}  # fmt: skip
    before_rows, before_files = upload.stored(), _stored_files()
    for label, (filename, content, content_type) in tries.items():
        _, body = _send(key, patient, filename, content, content_type)
        assert any(marker in body for marker in REFUSED), (label, body[:3000])
        assert upload.stored() == before_rows, label
        assert _stored_files() == before_files, label
    record_property("security: disguised uploads refused", len(tries))


@pytest.mark.parametrize("key", list(UPLOADS), ids=lambda k: k[1])
def test_an_accepted_file_is_stored_under_a_name_the_server_makes(
    key: tuple[str, str], patient: Patient
) -> None:
    upload = UPLOADS[key]
    before, before_rows = _stored_files(), upload.stored()
    _, body = _send(key, patient, "../../etc/passwd<script>.png", _png(), "image/png")
    assert not any(marker in body for marker in REFUSED), body[:3000]
    assert upload.stored() == before_rows + 1
    new = _stored_files() - before
    assert new, "nothing was stored"
    for name in new:
        assert "passwd" not in name and "script" not in name and ".." not in name, name


@pytest.mark.parametrize(
    ("key", "route"),
    [
        (("kapcare.intake.forms.ReferralForm", "letter"), "intake:referral_letter"),
        (("kapcare.intake.forms.PaperConsentForm", "scan"), "intake:consent_scan"),
    ],
    ids=["letter", "scan"],
)
def test_documents_come_back_as_downloads_only_to_clinicians(
    key: tuple[str, str], route: str, patient: Patient, client: Client
) -> None:
    """A PDF that is also HTML (a polyglot) passes the PDF check: it is neutralised
    by being sent as an attachment of type application/pdf, never sniffed."""
    polyglot = b"%PDF-1.4\n<html>" + SCRIPT + b"</html>\n%%EOF"
    _send(key, patient, "letter.html", polyglot, "text/html")
    stored = (
        Referral.objects.get() if key[1] == "letter" else ConsentSignature.objects.get()
    )
    url = reverse(route, args=[stored.request_id if key[1] == "letter" else stored.pk])  # type: ignore[union-attr]
    answer = sign_in(Client(), make_staff(Role.PHYSICIAN)).get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"].startswith("sandbox")
    assert b"".join(answer.streaming_content) == polyglot  # type: ignore[attr-defined]
    assert client.get(url).status_code == 302  # anonymous: to sign in
    front_desk = sign_in(Client(), make_staff(Role.FRONT_DESK))
    assert front_desk.get(url).status_code == 403
