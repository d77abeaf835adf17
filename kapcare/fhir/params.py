"""FHIR search parameters (pure Python, no Django): token, date with prefixes,
_count, _sort, and a signed cursor for keyset paging.

Search rules follow the FHIR R4 specification, "Search"
(http://hl7.org/fhir/R4/search.html): a token is `[system]|[code]`, `code` or
`system|`; a date may carry a prefix (eq, ne, gt, lt, ge, le; eq by default)
and is a range at the precision given (2026, 2026-11, 2026-11-27, or a time).
"""

import base64
import hashlib
import hmac
import json
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


@dataclass(frozen=True)
class Token:
    system: str | None
    code: str | None

    @classmethod
    def parse(cls, name: str, raw: str) -> "Token":
        if not raw or len(raw) > 200:
            raise ParameterError(f"{name}: give a code, system|code or system|.")
        if "|" in raw:
            system, code = raw.split("|", 1)
            return cls(system or None, code or None)
        return cls(None, raw)

    def matches(self, system: str | None, code: str | None) -> bool:
        if self.system is not None and self.system != system:
            return False
        return self.code is None or self.code == code


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
        prefix = prefix or "eq"
        if prefix in {"ne", "sa", "eb"}:
            raise ParameterError(f"{name}: the prefix {prefix} is not supported.")
        try:
            if hour is not None:
                tz: tzinfo = zone if offset is None else _offset(offset)
                start = datetime(
                    int(year), int(month), int(day), int(hour), int(minute),
                    int(second or 0), tzinfo=tz,
                )  # fmt: skip
                end = start + timedelta(seconds=1)
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
        except (ValueError, OverflowError) as exc:
            raise ParameterError(f"{name}: “{raw[:40]}” is not a real date.") from exc
        return cls(prefix, start.astimezone(UTC), end.astimezone(UTC))

    def admits(self, moment: datetime) -> bool:
        match self.prefix:
            case "eq":
                return self.start <= moment < self.end
            case "gt":
                return moment >= self.end
            case "ge":
                return moment >= self.start
            case "lt":
                return moment < self.start
            case _:  # le
                return moment < self.end


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
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise ParameterError(f"_count: give a whole number from 1 to {MAX_COUNT}.")
    return int(raw)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the sort key and id of the last entry sent,
    so inserts between pages neither repeat nor skip anything."""

    moment: str
    ident: str

    def encode(self, secret: bytes) -> str:
        payload = base64.urlsafe_b64encode(
            json.dumps([self.moment, self.ident]).encode()
        ).decode()
        signature = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{payload}.{signature}"

    @classmethod
    def decode(cls, raw: str, secret: bytes) -> "Cursor":
        payload, _, signature = raw.partition(".")
        expected = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(signature, expected):
            raise ParameterError(
                "_cursor: this paging link is not valid; search again."
            )
        try:
            moment, ident = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except (ValueError, TypeError) as exc:
            raise ParameterError("_cursor: this paging link is damaged.") from exc
        return cls(str(moment), str(ident))
