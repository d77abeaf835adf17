import re
import uuid
from pathlib import PurePath

from django.utils.deconstruct import deconstructible
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; falls back to plain names before collectstatic."""

    manifest_strict = False


@deconstructible
class GeneratedName:
    """`upload_to` that stores an upload under a random name in `folder`, keeping
    only a plain extension: the uploader's file name (path parts, markup) never
    reaches the disk or a URL (shared/reference/security-reliability.md T15)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder.rstrip("/")

    def __call__(self, instance: object, filename: str) -> str:
        suffix = PurePath(filename).suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
            suffix = ""
        return f"{self.folder}/{uuid.uuid4().hex}{suffix}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GeneratedName) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)
