"""Lost updates between two editors (ASVS 5.0 2.3.4; shared/reference/
security-reliability.md T16): an edit form carries what its editor saw, a
fingerprint of the saved values it shows, and the save compares it with the
row as it is under the row lock. A difference means someone else saved first:
nothing is written and the editor is told who, with their entries kept.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable


class ChangedMeanwhileError(Exception):
    """Someone else saved the record after this form was opened."""

    def __init__(self, what: str, changed_by: str = "") -> None:
        self.what = what
        self.changed_by = changed_by or "someone else"
        super().__init__(
            f"{self.what[:1].upper()}{self.what[1:]} was changed by {self.changed_by} "
            "after you opened this form, so nothing was saved. What is saved now is "
            "shown; check it, then make your change again."
        )


def fingerprint(values: Iterable[object]) -> str:
    """A short stable digest of the values a form shows (order matters)."""
    text = json.dumps([str(value) for value in values], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_unchanged(
    seen: str | None, values: Iterable[object], *, what: str, changed_by: str = ""
) -> None:
    """Raise ChangedMeanwhileError unless `seen` is the fingerprint of `values`.
    A missing `seen` (a form from before this check, or a forged post) is refused."""
    if not seen or not hmac.compare_digest(seen.encode(), fingerprint(values).encode()):
        raise ChangedMeanwhileError(what, changed_by)
