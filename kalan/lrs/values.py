"""The values of xAPI statements: IRIs, UUIDs, language tags and maps, timestamps, durations.

Pure functions shared by validation.py (the walk of a statement) and the LRS's
parameter checks. A refused value raises `StatementInvalid`, whose message
names the JSON path of the value. Valid IRIs, language tags and offsets are
remembered in small bounded caches: the same few recur in every statement.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import Final, Literal, NoReturn

Version = Literal["1.0.3", "2.0.0"]

VOIDED: Final = "http://adlnet.gov/expapi/verbs/voided"
IFI_KEYS: Final = ("mbox", "mbox_sha1sum", "openid", "account")


class StatementInvalid(ValueError):
    """One precise reason, with the JSON path (str(error) is the message)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = message.partition(": ")[0] if path is None else path


def fail(path: str, reason: str) -> NoReturn:
    raise StatementInvalid(f"{path}: {reason}", path=path)


def path_in(base: str, key: str) -> str:
    """The path of `key` ("name", "[3]" or "") inside the object at path `base`."""
    if not key:
        return base
    return f"{base}{key}" if key[0] == "[" else f"{base}.{key}"


def quoted_key(key: object) -> str:
    """A free-form key (extension IRI, language tag, unknown property) as a path step."""
    return f"[{json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False)}]"


# ---------------------------------------------------------------- formats

_UUID: Final = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\Z")
_IRI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f-\x9f]*\Z")
_BAD_PERCENT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
MAILTO: Final = re.compile(r"mailto:[^@\s]+@[^@\s]+\Z")
SHA1: Final = re.compile(r"[0-9a-fA-F]{40}\Z")
SHA2: Final = re.compile(r"(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})\Z")
MEDIA_TYPE: Final = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:[ \t]*;.*)?\Z"
)
STATEMENT_VERSIONS: Final[Mapping[str, tuple[re.Pattern[str], str]]] = {
    "1.0.3": (re.compile(r"1\.0(?:\.\d+)?\Z"), '"1.0" or "1.0.x"'),
    "2.0.0": (re.compile(r"[12]\.0(?:\.\d+)?\Z"), '"1.0.x" or "2.0.x"'),
}
_LANGUAGE_TAG: Final = re.compile(
    # Language and extended language subtags; four letters are reserved, never assigned.
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{5,8})"
    r"(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?"  # script, region
    r"(?P<variants>(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*)"
    r"(?P<extensions>(?:-[a-wyz\d](?:-[a-z\d]{2,8})+)*)"
    r"(?:-x(?:-[a-z\d]{1,8})+)?"
    r"|x(?:-[a-z\d]{1,8})+",
    re.IGNORECASE,
)
_IRREGULAR_TAGS: Final = frozenset(
    {"en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux"}
    | {"i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-be-fr", "sgn-be-nl"}
    | {"sgn-ch-de"}
)
_NUMBER: Final = r"\d+(?:[.,]\d+)?"
_DURATION: Final = re.compile(
    rf"P(?:(?:({_NUMBER})Y)?(?:({_NUMBER})M)?(?:({_NUMBER})D)?"
    rf"(?:T(?:({_NUMBER})H)?(?:({_NUMBER})M)?(?:({_NUMBER})S)?)?|({_NUMBER})W)\Z"
)
_TIMESTAMP_EXTENDED: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})([Tt ])(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?\Z"
)
_TIMESTAMP_BASIC: Final = re.compile(
    r"(\d{4})(\d{2})(\d{2})([Tt])(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?"
    r"([Zz]|[+-]\d{2}(?:\d{2})?)?\Z"
)
_TIMESTAMP_HINT: Final = "must be an ISO 8601 timestamp such as 2024-05-01T12:30:00.000Z"

# Values already found valid; bounded, cleared when full.
_known_iris: set[str] = set()
_known_tags: set[str] = set()
_known_offsets: dict[str, datetime.timezone] = {}
_CACHE_LIMIT: Final = 16384


def _remember(cache: set[str], value: str) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache.add(value)


def is_uuid(value: object) -> bool:
    """Whether `value` is a UUID in its canonical 8-4-4-4-12 text form (either case)."""
    return isinstance(value, str) and _UUID.match(value) is not None


def is_iri(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value in _known_iris:
        return True
    if _IRI.match(value) is None or ("%" in value and _BAD_PERCENT.search(value) is not None):
        return False
    _remember(_known_iris, value)
    return True


def validate_iri(value: object, *, path: str) -> str:
    """Return `value` if it is an absolute IRI (scheme ":" ...), else raise StatementInvalid."""
    if not isinstance(value, str) or not is_iri(value):
        fail(path, "must be an absolute IRI")
    return value


def _distinct(subtags: str, *, singletons: bool) -> bool:
    parts = [part for part in subtags.lower().split("-")[1:] if not singletons or len(part) == 1]
    return len(parts) == len(set(parts))


def is_language_tag(tag: object) -> bool:
    """Whether `tag` is a well-formed RFC 5646 tag with no repeated variant or extension."""
    if not isinstance(tag, str):
        return False
    if tag in _known_tags:
        return True
    match = _LANGUAGE_TAG.fullmatch(tag)
    if match is None:
        valid = tag.lower() in _IRREGULAR_TAGS
    else:
        variants, extensions = match["variants"] or "", match["extensions"] or ""
        valid = _distinct(variants, singletons=False) and _distinct(extensions, singletons=True)
    if valid:
        _remember(_known_tags, tag)
    return valid


def language_map_problem(value: object) -> tuple[str, str] | None:
    """(path step, reason) of the first problem of a language map, or None."""
    if not isinstance(value, dict):
        return "", "must be a language map (an object from RFC 5646 language tags to strings)"
    if not value:
        return "", "must have at least one entry"
    for tag, text in value.items():
        if not is_language_tag(tag):
            return quoted_key(tag), "key is not a valid RFC 5646 language tag"
        if not isinstance(text, str):
            return quoted_key(tag), "must be a string"
    return None


def validate_language_map(value: object, *, path: str) -> None:
    """A language map: at least one entry, RFC 5646 tags as keys, strings as values."""
    problem = language_map_problem(value)
    if problem is not None:
        fail(path + problem[0], problem[1])


def duration_problem(value: object) -> str | None:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        return "must be an ISO 8601 duration such as PT1H30M or P3DT4.5S"
    parts = [part for part in match.groups() if part is not None]
    if not parts or match.string.endswith("T"):
        return "must be an ISO 8601 duration with a number after P (and after T)"
    if any("." in part or "," in part for part in parts[:-1]):
        return "may have a decimal fraction in its smallest unit only"
    return None


def validate_duration(value: object, *, path: str) -> None:
    """An ISO 8601 duration, PnYnMnDTnHnMnS or PnW, with only its last number fractional."""
    problem = duration_problem(value)
    if problem is not None:
        fail(path, problem)


def _utc_offset(text: str | None) -> datetime.timezone | str:
    """The zone of an offset ("Z", "+02:00", "-0530", none for UTC), or why it is refused."""
    if text is None:
        return datetime.UTC
    zone = _known_offsets.get(text)
    if zone is not None:
        return zone
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2] or "0"), int(digits[2:] or "0")
    if text[0] == "-" and hours == 0 and minutes == 0:
        return "must not use the offset -00:00 (write Z or +00:00 for UTC)"
    if hours > 23 or minutes > 59:
        return "has an invalid UTC offset"
    delta = datetime.timedelta(hours=hours, minutes=minutes)
    zone = datetime.timezone(-delta if text[0] == "-" else delta)
    _known_offsets[text] = zone
    return zone


def read_timestamp(value: object, version: str) -> datetime.datetime | str:
    """The aware datetime a timestamp denotes, or why it is refused."""
    match = None
    if isinstance(value, str):
        match = _TIMESTAMP_EXTENDED.match(value) or _TIMESTAMP_BASIC.match(value)
    if match is None:
        return _TIMESTAMP_HINT
    year, month, day, separator, hour, minute, second, fraction, offset = match.groups()
    if separator == " " and version != "2.0.0":
        return 'must separate date and time with "T" in xAPI 1.0.3'
    zone = _utc_offset("+00:00" if offset in ("Z", "z") else offset)
    if isinstance(zone, str):
        return zone
    micro = int((fraction or "").ljust(6, "0")[:6])
    try:
        return datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, zone
        )
    except ValueError:
        return "is not a valid calendar date and time of day"


def parse_timestamp(value: object, *, version: Version, path: str) -> datetime.datetime:
    """Parse an ISO 8601 timestamp as `version` allows it, as an aware datetime in UTC.

    Both versions accept the extended and basic ISO 8601 forms and refuse the offsets "-00:00",
    "-0000" and "-00"; xAPI 2.0 also accepts the RFC 3339 space between date and time. A
    timestamp without an offset is read as UTC.
    """
    moment = read_timestamp(value, version)
    if isinstance(moment, str):
        fail(path, moment)
    return moment.astimezone(datetime.UTC)
