"""What the trust primitives share: TrustError, messages, protocol constants, encodings.

Signed material is always `_encode(domain, *fields)`: a domain string, then each
field, each preceded by its length (4 bytes, big-endian), so that no field can be
moved into another and no signature made for one purpose is accepted for another.
"""

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext

from kalan.core.errors import KalanError

Lookup = Callable[[str], Ed25519PublicKey | None]
"""Finds the public key this instance trusts for a key id, or None."""

BUNDLE_FORMAT = "kalan-sync-bundle/1"
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 10  # 50 bits

_PAIR_REQUEST = "kalan-pair-request-v1"
_PAIR_ANSWER = "kalan-pair-answer-v1"
_SESSION = "kalan-sync-session-v1"
_REQUEST = "kalan-sync-request-v1"
_BUNDLE = "kalan-sync-bundle-v1"
_VERIFIER_PREFIX = "kalan-pair-v1$"
# The hub must derive the pairing key from the code alone, before it knows anything of
# the upstream, so the salt is fixed by the protocol; scrypt makes each guess of a
# code captured on the LAN cost tens of milliseconds (2**50 guesses: out of reach).
_CODE_SALT = b"kalan-pairing-v1"
_SCRYPT_COST = 2**14  # 16 MiB of memory, about 0.1 s

_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_CODE_SEPARATORS = re.compile(r"[\s-]+")
_CODE_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CHUNK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_SIGNATURE_FIELDS = ("signature", "signer", "public_key")


class TrustError(KalanError):
    """Authentication failed or trust material is malformed; nothing was accepted."""


def _(message: str) -> str:
    """The message in the active language; as written where Django is not set up."""
    return gettext(message) if settings.configured else message


def gettext_noop(message: str) -> str:
    """Marks a message for translation, translated where it is used (needs no settings)."""
    return message


# ---------------------------------------------------------------- encodings


def _encode(domain: str, *fields: bytes) -> bytes:
    """Domain-separated, length-prefixed concatenation: the bytes that get signed."""
    return b"".join(len(part).to_bytes(4, "big") + part for part in (domain.encode(), *fields))


def _canonical(value: object) -> bytes:
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: object, size: int | None) -> bytes | None:
    """The bytes `text` encodes, if it is exactly how `_b64` writes them (and of `size`)."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if (size is not None and len(raw) != size) or _b64(raw) != text:
        return None  # a different length, or spare bits set: one value, one text
    return raw


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise TrustError(_("a sync message field is not valid text")) from error


def _challenge(challenge: bytes) -> bytes:
    if not isinstance(challenge, bytes) or not 16 <= len(challenge) <= 1024:
        raise TrustError(_("a challenge must be 16 to 1024 random bytes"))
    return challenge


def _raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key().public_bytes_raw()
    if isinstance(key, Ed25519PublicKey):
        return key.public_bytes_raw()
    raise TrustError(_("an Ed25519 key was expected"))


def _public_from_raw(raw: bytes) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as error:
        raise TrustError(_("this is not a valid Ed25519 public key")) from error


def _verifies(public: Ed25519PublicKey, signature: bytes, material: bytes) -> bool:
    try:
        public.verify(signature, material)
    except InvalidSignature:
        return False
    return True


def _text_fields(message: object, names: tuple[str, ...], malformed: str) -> dict[str, str]:
    if not isinstance(message, dict) or not all(isinstance(message.get(n), str) for n in names):
        raise TrustError(malformed)
    return {name: message[name] for name in names}


def _is_uuid(value: object, version: int | None = None) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    if version is not None and (parsed.version != version or parsed.variant != uuid.RFC_4122):
        return False
    return str(parsed) == value


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
