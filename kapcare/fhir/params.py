"""FHIR search parameters: token, date with prefixes, _count, and a signed
cursor for keyset paging (plain Python; the cursor is signed with Django's
signing, salted, so it cannot be forged or replayed on another resource type).

Search rules follow the FHIR R4 specification, "Search"
(http://hl7.org/fhir/R4/search.html): a token is `[system]|[code]`, `code` or
`system|`; a date may carry a prefix (eq, ne, gt, lt, ge, le; eq by default)
and is a range at the precision given (2026, 2026-11, 2026-11-27, or a time).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from datetime import timezone as fixed
from zoneinfo import ZoneInfo

DEFAULT_COUNT = 50
MAX_COUNT = 500
CONTROL = {"_count", "_sort", "_cursor", "_format"}


class ParameterError(ValueError):
    """A search parameter that cannot be understood (HTTP 400)."""


ANY_SYSTEM = None
NO_SYSTEM = ""


@dataclass(frozen=True)
class Token:
    """`code` (any system), `system|code`, `|code` (no system) or `system|`
    (any code in that system)."""

    system: str | None
    code: str | None

    @classmethod
    def parse(cls, name: str, raw: str) -> "Token":
        if not raw or len(raw) > 200 or raw == "|":
            raise ParameterError(f"{name}: give a code, system|code or system|.")
        if "|" in raw:
            system, code = raw.split("|", 1)
            return cls(system or NO_SYSTEM, code or None)
        return cls(ANY_SYSTEM, raw)

    def matches(self, system: str | None, code: str | None) -> bool:
        if self.system == NO_SYSTEM and system:
            return False
        if self.system not in (ANY_SYSTEM, NO_SYSTEM) and self.system != system:
            return False
        return self.code is None or self.code == code


def split_values(raw: str) -> list[str]:
    """A parameter's value split on unescaped commas (FHIR's "or")."""
    parts, current, escaped = [], [], False
    for ch in raw:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class DateRange:
    """The half-open instant range [start, end) a date parameter asks for,
    with its comparison prefix."""

    prefix: str
    start: datetime
    end: datetime

    _PATTERN = re.compile(
        r"^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})"
        r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
    )

    @classmethod
    def parse(cls, name: str, raw: str, zone: ZoneInfo) -> "DateRange":
        match = cls._PATTERN.match(raw)
        if match is None:
            raise ParameterError(
                f"{name}: “{raw[:40]}” is not a FHIR date (e.g. ge2026-01-01)."
            )
        prefix, year, month, day, hour, minute, second, offset = match.groups()
        fraction = re.search(r"\.(\d+)", raw)
        prefix = prefix or "eq"
        if prefix in {"ne", "sa", "eb"}:
            raise ParameterError(f"{name}: the prefix {prefix} is not supported.")
        try:
            if hour is not None:
                tz: tzinfo = zone if offset is None else _offset(offset)
                micro = int((fraction.group(1) + "000000")[:6]) if fraction else 0
                start = datetime(
                    int(year), int(month), int(day), int(hour), int(minute),
                    int(second or 0), micro, tzinfo=tz,
                )  # fmt: skip
                if fraction:
                    step = timedelta(seconds=10 ** -min(len(fraction.group(1)), 6))
                else:
                    step = timedelta(seconds=1 if second is not None else 60)
                end = start + step
            elif day is not None:
                first = date(int(year), int(month), int(day))
                start, end = _days(first, first + timedelta(days=1), zone)
            elif month is not None:
                first = date(int(year), int(month), 1)
                following = date(
                    first.year + first.month // 12, first.month % 12 + 1, 1
                )
                start, end = _days(first, following, zone)
            else:
                start, end = _days(
                    date(int(year), 1, 1), date(int(year) + 1, 1, 1), zone
                )
            return cls(prefix, start.astimezone(UTC), end.astimezone(UTC))
        except (ValueError, OverflowError) as exc:
            raise ParameterError(f"{name}: “{raw[:40]}” is not a real date.") from exc


def _offset(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return fixed(sign * timedelta(hours=hours, minutes=minutes))


def _days(first: date, after: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(after, time(0), tzinfo=zone),
    )


def parse_count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_COUNT:
        raise ParameterError(f"_count: give a whole number from 1 to {MAX_COUNT}.")
    return int(raw)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the resource type, the sort key of the last
    entry sent and its position among rows with that key, so inserts between
    pages neither repeat nor skip anything. Signed; bound to its resource type."""

    resource_type: str
    moment: str
    ident: str

    def encode(self) -> str:
        from django.core import signing

        return signing.dumps(
            [self.resource_type, self.moment, self.ident],
            salt=CURSOR_SALT,
            compress=True,
        )

    @classmethod
    def decode(cls, raw: str, resource_type: str) -> "Cursor":
        from django.core import signing

        try:
            kind, moment, ident = signing.loads(raw, salt=CURSOR_SALT)
        except (signing.BadSignature, ValueError, TypeError) as exc:
            raise ParameterError(
                "_cursor: this paging link is not valid; search again."
            ) from exc
        if kind != resource_type:
            raise ParameterError(
                f"_cursor: this paging link belongs to a {kind} search."
            )
        return cls(str(kind), str(moment), str(ident))


CURSOR_SALT = "kapcare.fhir.cursor"
