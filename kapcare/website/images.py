"""Uploaded pictures resized into the sizes pages ask for (Pillow), so a phone
downloads a 480 px image and a desktop a 1440 px one (srcset)."""

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from kapcare.lib.documents import strict_image_decoding

WIDTHS = (480, 960, 1440)
# MPO: the JPEG variant many phone cameras write (the first frame is used).
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000


def check_picture(upload: UploadedFile) -> None:
    """A real JPEG, PNG or WebP picture under 10 MB (the content is checked, not
    the file name), or a ValidationError saying what is wrong."""
    if upload.size and upload.size > MAX_BYTES:
        raise ValidationError("The picture must be under 10 MB.")
    try:
        upload.seek(0)
        with strict_image_decoding(), Image.open(upload) as picture:
            kind = picture.format
            width, height = picture.size
            if kind not in ACCEPTED_FORMATS:
                raise ValidationError("Upload a JPEG, PNG or WebP picture.")
            if width * height > MAX_PIXELS:
                raise ValidationError("The picture is too large (over 40 megapixels).")
            picture.load()  # decodes every pixel: a cut-off or corrupt file fails here
    except (
        UnidentifiedImageError, OSError, SyntaxError, ValueError,
        Image.DecompressionBombError,
    ) as exc:  # fmt: skip
        raise ValidationError("That file is not a picture we can use.") from exc
    finally:
        upload.seek(0)


def make_renditions(source: object, folder: str) -> dict[str, str]:
    """JPEG copies at each width (never enlarged), saved under `folder`; returns
    {"480": name, ...}. Names are new each time, so they can be cached for ever."""
    stem = uuid.uuid4().hex[:12]
    renditions: dict[str, str] = {}
    with Image.open(source) as opened:  # type: ignore[arg-type]
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    for width in WIDTHS:
        if width > picture.width and renditions:
            break
        copy = picture.copy()
        copy.thumbnail((width, width * 3))
        buffer = io.BytesIO()
        copy.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
        name = default_storage.save(
            f"{folder}/{stem}-{copy.width}.jpg", ContentFile(buffer.getvalue())
        )
        renditions[str(copy.width)] = name
    return renditions
