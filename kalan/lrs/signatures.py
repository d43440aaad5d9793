"""Signed statements (xAPI Data 2.6): the JWS attachment checked before a statement is stored.

A signed statement carries a JSON Web Signature as an attachment whose usageType is
`SIGNATURE_USAGE`. The LRS refuses a malformed signature (2.6.s5.b1), and to find one it
(2.6.s5.b3):

- requires the attachment's contentType to be application/octet-stream (2.6.s4.b1) and
  its data to be in the request (XAPI-00115);
- decodes the JWS, in compact serialization (2.6.s4.b2, a SHOULD* that xAPI 2.0 makes a
  requirement), with an algorithm of RS256, RS384 or RS512 (2.6.s4.b4, XAPI-00117);
- loads its payload, which must be the JSON of a statement (2.6.s4.b3, XAPI-00116);
- when the JWS header has an "x5c" certificate chain, verifies the signature with the
  first certificate's RSA key, and each certificate as issued by the next one;
- requires the payload to be logically equivalent to the statement received, by the
  statement comparison rules (Data 2.3.1): "authority", "stored" and "attachments"
  are not compared; "id", "timestamp" and "version" only when both have them; times as
  instants; group members in any order; UUIDs and e-mail domains in any case; a single
  context activity as a one-item array; numbers by value; durations to 0.01 s.

The x5c check catches mistakes, not forgeries (the note of 2.6.s5): no certificate is
trusted, and expired ones are accepted, since statements outlive their certificates.
"""

import base64
import binascii
import datetime as dt
import itertools
import json
import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.api_jws import PyJWS
from jwt.exceptions import PyJWTError

from kalan.lrs.attachments import media_type

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
ALGORITHMS = ("RS256", "RS384", "RS512")

_JWS = PyJWS(algorithms=list(ALGORITHMS))
# RFC 7515 section 7.1: three base64url segments, without padding.
_COMPACT = re.compile(r"[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")
# Set by the LRS, or not part of the statement (Data 2.3.1.b1, b6).
_NOT_COMPARED = ("authority", "stored", "attachments")
# Assigned by the LRS when absent (Data 2.3.1.b1).
_COMPARED_WHEN_BOTH = ("id", "timestamp", "version")


class SignatureInvalid(ValueError):
    """A signed statement's signature is malformed; the message says how."""


class PartLike(Protocol):
    """The received data of one attachment."""

    @property
    def content(self) -> bytes: ...

    @property
    def content_type(self) -> str: ...


def verify_signed_statement(statement: Mapping[str, Any], parts: Mapping[str, PartLike]) -> None:
    """Check every signature attachment of a statement; one without any passes untouched.

    `parts` are the request's attachment parts by lower-case sha2.
    """
    attachments = statement.get("attachments")
    if not isinstance(attachments, list):
        return
    for index, attachment in enumerate(attachments, 1):
        if isinstance(attachment, Mapping) and attachment.get("usageType") == SIGNATURE_USAGE:
            where = f"attachment {index} (signature)"
            try:
                _verify(statement, attachment, parts)
            except SignatureInvalid as error:
                raise SignatureInvalid(f"{where}: {error}") from None


def _verify(
    statement: Mapping[str, Any], attachment: Mapping[str, Any], parts: Mapping[str, PartLike]
) -> None:
    content_type = attachment.get("contentType")
    if not isinstance(content_type, str) or media_type(content_type) != SIGNATURE_CONTENT_TYPE:
        raise SignatureInvalid(
            f"contentType must be {SIGNATURE_CONTENT_TYPE}, not {content_type!r}"
        )
    sha2 = attachment.get("sha2")
    part = parts.get(sha2.lower()) if isinstance(sha2, str) else None
    if part is None:
        raise SignatureInvalid(f"the request has no part with its data (sha2 {sha2})")
    token = _compact_jws(part.content)
    try:
        decoded = _JWS.decode_complete(token, options={"verify_signature": False})
    except PyJWTError as error:
        raise SignatureInvalid(f"the JWS is malformed: {error}") from None
    header: dict[str, Any] = decoded["header"]
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise SignatureInvalid(
            f"the JWS algorithm must be RS256, RS384 or RS512, not {algorithm!r}"
        )
    original = _payload_statement(decoded["payload"])
    if "x5c" in header:
        key = _certificate_key(header["x5c"])
        signing_input, _, _ = token.rpartition(".")
        verifier = _JWS.get_algorithm_by_name(algorithm)
        if not verifier.verify(signing_input.encode("ascii"), key, decoded["signature"]):
            raise SignatureInvalid("the JWS signature does not verify with its x5c certificate")
    _check_same_statement(original, statement)


def _compact_jws(content: bytes) -> str:
    try:
        token = content.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SignatureInvalid("the JWS is not ASCII text") from None
    if not _COMPACT.fullmatch(token):
        raise SignatureInvalid(
            "the JWS is not in compact serialization (three base64url parts joined by '.')"
        )
    return token


def _payload_statement(payload: bytes) -> dict[str, Any]:
    try:
        original = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SignatureInvalid("the JWS payload is not valid JSON") from None
    if not isinstance(original, dict):
        raise SignatureInvalid("the JWS payload is not a JSON object (a statement)")
    return original


def _certificate_key(x5c: Any) -> RSAPublicKey:
    """The RSA key of the first certificate of an x5c chain (RFC 7515 section 4.1.6)."""
    if not isinstance(x5c, list) or not x5c or not all(isinstance(item, str) for item in x5c):
        raise SignatureInvalid("the x5c header must be a non-empty array of base64 certificates")
    chain = [_certificate(text, number) for number, text in enumerate(x5c, 1)]
    for number, (certificate, issuer) in enumerate(itertools.pairwise(chain), 1):
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise SignatureInvalid(
                f"x5c certificate {number} is not issued by certificate {number + 1}"
            ) from None
    key = chain[0].public_key()
    if not isinstance(key, RSAPublicKey):
        raise SignatureInvalid("the x5c certificate does not hold an RSA key")
    return key


def _certificate(text: str, number: int) -> x509.Certificate:
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid(f"x5c certificate {number} is not valid base64") from None
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise SignatureInvalid(f"x5c certificate {number} is not a DER X.509 certificate") from None


def _check_same_statement(original: Mapping[str, Any], received: Mapping[str, Any]) -> None:
    """Refuse a JWS payload that is not the received statement (Data 2.3.1, 2.6.s5.b3.b2)."""
    skipped = set(_NOT_COMPARED)
    skipped.update(key for key in _COMPARED_WHEN_BOTH if key not in original or key not in received)
    keys = sorted((set(original) | set(received)) - skipped)
    for key in keys:
        if key not in original or key not in received:
            side = "the JWS payload" if key not in original else "the statement"
            raise SignatureInvalid(f"the JWS payload is not this statement: {side} lacks {key!r}")
        if _canonical(original[key], key) != _canonical(received[key], key):
            raise SignatureInvalid(f"the JWS payload is not this statement: {key!r} differs")


def _canonical(value: Any, key: str = "") -> Any:
    """A form of a JSON value in which logically equivalent statements are equal."""
    if isinstance(value, Mapping):
        return _canonical_object(value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, str):
        return ("string", _canonical_string(value, key))
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float | Decimal):
        return ("number", _number(value))
    return ("other", repr(value))


def _canonical_object(value: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    items: dict[str, Any] = {}
    for key, item in value.items():
        if key == "contextActivities" and isinstance(item, Mapping):
            item = {kind: acts if isinstance(acts, list) else [acts] for kind, acts in item.items()}
        items[key] = _canonical(item, key)
    if value.get("objectType") == "Group" and "member" in items:
        kind, members = items["member"]
        if kind == "array":
            items["member"] = (kind, tuple(sorted(members, key=repr)))
    return ("object", tuple(sorted(items.items())))


def _canonical_string(value: str, key: str) -> str:
    if _UUID.fullmatch(value):
        return value.lower()
    if key == "mbox":
        address, at, domain = value.rpartition("@")
        return f"{address}{at}{domain.lower()}" if at else value
    if key in ("timestamp", "stored"):
        return _instant(value)
    if key == "duration":
        return _hundredths(value)
    return value


_SECONDS = re.compile(r"(\d+(?:[.,]\d+)?)S\Z")


def _hundredths(duration: str) -> str:
    """A duration's seconds cut to 0.01 s: finer precision is not compared (xAPI 2.0 4.2.7)."""
    match = _SECONDS.search(duration)
    if match is None:
        return duration
    seconds = Decimal(match[1].replace(",", ".")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return f"{duration[: match.start()]}{seconds.normalize():f}S"


def _instant(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.isoformat()


def _number(value: int | float | Decimal) -> str:
    try:
        return str(Decimal(str(value)).normalize())
    except InvalidOperation:
        return repr(value)
