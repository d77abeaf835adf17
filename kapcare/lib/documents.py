"""Clinical documents people upload (referral letters, scanned consents).

A file is accepted only if its bytes say it is a PDF, PNG or JPEG (magic numbers;
images also opened by Pillow), whatever its name or the browser's content type,
and only up to DOCUMENT_MAX_BYTES. Files go to the "private" storage, outside any
served folder, under a random name.
"""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageFile, UnidentifiedImageError

_DECODING = threading.Lock()


@contextmanager
def strict_image_decoding() -> Iterator[None]:
    """Decode with Pillow's LOAD_TRUNCATED_IMAGES off. WeasyPrint turns it on for
    the whole process when imported (weasyprint/images.py), after which a picture
    cut off part-way would load, padded, and pass an upload check."""
    with _DECODING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


class DocumentRefusedError(ValueError):
    """The upload is not an accepted type, or too large."""


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


PDF = Kind("application/pdf", "pdf")
PNG = Kind("image/png", "png")
JPEG = Kind("image/jpeg", "jpg")


def sniff(head: bytes) -> Kind | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def check_document(upload: UploadedFile) -> Kind:
    """The upload's real kind, or DocumentRefusedError with a message people understand."""
    size = upload.size or 0
    limit = settings.DOCUMENT_MAX_BYTES
    if size > limit:
        raise DocumentRefusedError(
            f"The file is {filesizeformat(size)}; the limit is {filesizeformat(limit)}. "
            "Scan at a lower resolution or as a PDF."
        )
    if size == 0:
        raise DocumentRefusedError("The file is empty.")
    upload.seek(0)
    kind = sniff(upload.read(8))
    upload.seek(0)
    if kind is None:
        raise DocumentRefusedError(
            "Only PDF, PNG or JPEG files are accepted (this file's contents are "
            "something else, whatever its name)."
        )
    if kind is not PDF:
        try:
            with Image.open(upload) as image:
                image.verify()
            upload.seek(0)
            with strict_image_decoding(), Image.open(upload) as image:
                image.load()  # every pixel: a scan cut off part-way fails here
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            OSError,
            SyntaxError,
        ) as exc:
            raise DocumentRefusedError(
                "The image could not be read; scan it again or send a PDF."
            ) from exc
        finally:
            upload.seek(0)
    return kind


def save_document(upload: UploadedFile, folder: str) -> tuple[str, Kind]:
    """Check and store; returns the private storage name and the kind."""
    kind = check_document(upload)
    name = storages["private"].save(
        f"{folder}/{uuid.uuid4().hex}.{kind.extension}", upload
    )
    return name, kind


def private_file_response(name: str, content_type: str, filename: str) -> FileResponse:
    """Stream a private document as a download, never cached and never run as a
    page (callers check and audit first). A PDF that is also HTML passes the PDF
    check; as an attachment in a sandbox it cannot act as a page of this site
    (shared/reference/security-reliability.md T15; ASVS 5.3)."""
    response = FileResponse(
        storages["private"].open(name, "rb"),
        content_type=content_type,
        as_attachment=True,
        filename=f"{filename}.{name.rsplit('.', 1)[-1]}",
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
