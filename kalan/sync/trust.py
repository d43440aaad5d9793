"""Trust between Kalan instances: keys, pairing, signed sync sessions, signed bundles.

Pure functions over bytes and keys: no database, no network, no clock. Every failure
is a TrustError with one line for a person, never a secret. The protocol, and what it
does and does not protect, is described in docs/architecture/sync-trust.md.

Signed material is always `_encode(domain, *fields)`: a domain string, then each
field, each preceded by its length (4 bytes, big-endian), so that no field can be
moved into another and no signature made for one purpose is accepted for another.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext

from kalan.core.errors import KalanError
from kalan.core.keys import load_or_create_ed25519
from kalan.core.paths import kalan_home

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


# ---------------------------------------------------------------- keys


def default_key_path() -> Path:
    """Where this instance keeps its sync key: KALAN_HOME/keys/instance-ed25519.pem."""
    return kalan_home() / "keys" / "instance-ed25519.pem"


def instance_key(path: Path | None = None) -> Ed25519PrivateKey:
    """This instance's sync key (default path: `default_key_path()`), made on first use.

    The file is created complete or not at all, mode 0600. Raises TrustError when it
    cannot be read or created, or does not hold an unencrypted Ed25519 key.
    """
    try:
        return load_or_create_ed25519(path or default_key_path(), "sync key")
    except KalanError as error:
        raise TrustError(str(error)) from error


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as text: URL-safe base64 of its 32 raw bytes, without padding."""
    return _b64(_raw_public(key))


def public_from_text(text: str) -> Ed25519PublicKey:
    """The public key written by `public_text`; TrustError for anything else."""
    raw = _unb64(text, 32)
    if raw is None:
        raise TrustError(_("this is not a Kalan sync public key (43 letters, digits, '-' or '_')"))
    return _public_from_raw(raw)


def key_id(public: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """A key's short id: the first 16 hex digits of the SHA-256 of its raw public bytes.

    Ids name keys in messages and lookups; they are never trusted alone: every check
    verifies with the full public key the lookup returns.
    """
    return hashlib.sha256(_raw_public(public)).hexdigest()[:16]


# ---------------------------------------------------------------- pairing


def new_pairing_code() -> str:
    """A fresh one-time code of 50 random bits, shown as XXXXX-XXXXX (Crockford base32)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))
    return f"{chars[:5]}-{chars[5:]}"


def normalise_code(text: str) -> str:
    """The 10 characters of a code as typed: any case, spaces and hyphens ignored.

    O is read as 0, I and L as 1. Raises TrustError (without repeating the input) when
    what is left is not 10 characters of the code alphabet.
    """
    if not isinstance(text, str):
        raise TrustError(_("a pairing code must be text"))
    compact = _CODE_SEPARATORS.sub("", text).upper().translate(_CODE_LOOKALIKES)
    if len(compact) != CODE_LENGTH or not all(char in CODE_ALPHABET for char in compact):
        raise TrustError(
            _(
                "a pairing code has 10 letters and digits, like 7K3QD-X9M2P:"
                " check it and type it again"
            )
        )
    return compact


def code_verifier(code: str) -> str:
    """What the upstream keeps instead of the code: its pairing key, never the code.

    The verifier is "kalan-pair-v1$" and the scrypt hash of the code (the salt is fixed
    by the protocol, see `_CODE_SALT`). It lets the upstream check pairing messages,
    so whoever reads it could pair while the code is open: close codes once used, and
    make them expire. Raises TrustError when the code is malformed.
    """
    return _VERIFIER_PREFIX + _b64(_code_key(code))


def code_matches(code: str, verifier: str) -> bool:
    """Whether `code` is the code `verifier` was made from (constant-time comparison).

    A malformed code does not match. Raises TrustError when the verifier is damaged.
    """
    stored = _verifier_key(verifier)
    try:
        candidate = _code_key(code)
    except TrustError:
        return False
    return hmac.compare_digest(candidate, stored)


def pairing_request(code: str, hub_key: Ed25519PrivateKey, challenge: bytes) -> dict[str, str]:
    """The hub's request to be trusted by its upstream: its public key, bound to the code.

    `challenge` is the one the upstream issued for this attempt. The request carries
    `public_key`, `key_id`, `mac` (HMAC-SHA256 keyed by the code over the challenge and
    the hub key) and `signature` (by the hub key over the same material), all as text.
    """
    hub_raw = _raw_public(hub_key)
    material = _encode(_PAIR_REQUEST, _challenge(challenge), hub_raw)
    return _pair_message(_pairing_key(code), hub_key, material)


def check_pairing_request(request: dict[str, Any], code: str, challenge: bytes) -> Ed25519PublicKey:
    """The hub's public key, once the request proves the code and the key's possession.

    `code` is the pairing code or its `code_verifier`; `challenge` the one issued for
    this attempt (use it once). Raises TrustError when the request is malformed, was
    made with another code or for another challenge, or its key was swapped.
    """
    texts = _PairTexts(
        malformed=_("the pairing request is malformed: make it again with this Kalan version"),
        mismatch=_(
            "the pairing request does not match an open pairing code and this challenge:"
            " check the code and try again"
        ),
        unsigned=_("the pairing request was changed on the way: try again"),
    )
    return _check_pair_message(request, code, _PAIR_REQUEST, challenge, (), texts)


def pairing_answer(
    code: str,
    upstream_key: Ed25519PrivateKey,
    challenge: bytes,
    hub_public: Ed25519PublicKey,
) -> dict[str, str]:
    """The upstream's answer to a checked request: its own public key, bound to the code.

    Same fields as the request, the MAC and signature covering the challenge, the hub
    key and the upstream key. `code` may be the code or its verifier.
    """
    material = _encode(
        _PAIR_ANSWER, _challenge(challenge), _raw_public(hub_public), _raw_public(upstream_key)
    )
    return _pair_message(_pairing_key(code), upstream_key, material)


def check_pairing_answer(
    answer: dict[str, Any], code: str, challenge: bytes, hub_public: Ed25519PublicKey
) -> Ed25519PublicKey:
    """The upstream's public key, once its answer proves the code for this hub and challenge.

    Raises TrustError when the answer is malformed, was made without the code, for
    another hub key or another challenge, or its key was swapped: the server answering
    is then not the upstream the code came from.
    """
    texts = _PairTexts(
        malformed=_("the upstream's pairing answer is malformed: is it a Kalan server?"),
        mismatch=_(
            "the upstream's answer does not match the pairing code: it may not be the server"
            " you meant; check its address and the code"
        ),
        unsigned=_("the upstream's pairing answer was changed on the way: try again"),
    )
    hub_raw = _raw_public(hub_public)
    return _check_pair_message(answer, code, _PAIR_ANSWER, challenge, (hub_raw,), texts)


class _PairTexts(NamedTuple):
    malformed: str
    mismatch: str
    unsigned: str


def _code_key(code: str) -> bytes:
    secret = normalise_code(code).encode("ascii")
    return hashlib.scrypt(secret, salt=_CODE_SALT, n=_SCRYPT_COST, r=8, p=1, dklen=32)


def _verifier_key(verifier: str) -> bytes:
    key = None
    if isinstance(verifier, str) and verifier.startswith(_VERIFIER_PREFIX):
        key = _unb64(verifier[len(_VERIFIER_PREFIX) :], 32)
    if key is None:
        raise TrustError(_("the stored pairing code is damaged: make a new pairing code"))
    return key


def _pairing_key(code: str) -> bytes:
    if isinstance(code, str) and code.startswith(_VERIFIER_PREFIX):
        return _verifier_key(code)
    return _code_key(code)


def _pair_message(mac_key: bytes, key: Ed25519PrivateKey, material: bytes) -> dict[str, str]:
    return {
        "public_key": public_text(key),
        "key_id": key_id(key),
        "mac": _b64(hmac.new(mac_key, material, hashlib.sha256).digest()),
        "signature": _b64(key.sign(material)),
    }


def _check_pair_message(
    message: object,
    code: str,
    domain: str,
    challenge: bytes,
    before: tuple[bytes, ...],
    texts: _PairTexts,
) -> Ed25519PublicKey:
    fields = _text_fields(message, ("public_key", "key_id", "mac", "signature"), texts.malformed)
    raw = _unb64(fields["public_key"], 32)
    mac = _unb64(fields["mac"], 32)
    signature = _unb64(fields["signature"], 64)
    if raw is None or mac is None or signature is None:
        raise TrustError(texts.malformed)
    public = _public_from_raw(raw)
    if fields["key_id"] != key_id(public):
        raise TrustError(texts.unsigned)
    material = _encode(domain, _challenge(challenge), *before, raw)
    expected = hmac.new(_pairing_key(code), material, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise TrustError(texts.mismatch)
    if not _verifies(public, signature, material):
        raise TrustError(texts.unsigned)
    return public


# ---------------------------------------------------------------- sessions


def new_challenge() -> bytes:
    """32 random bytes, issued by a server for one pairing attempt or one sync session."""
    return secrets.token_bytes(32)


def challenge_text(challenge: bytes) -> str:
    """A challenge as text for JSON (URL-safe base64, no padding)."""
    return _b64(_challenge(challenge))


def challenge_from_text(text: str) -> bytes:
    """The challenge written by `challenge_text`; TrustError for anything else."""
    raw = None
    if isinstance(text, str) and len(text) <= 1400:
        raw = _unb64(text, None)
    if raw is None:
        raise TrustError(_("the sync challenge is malformed: start again"))
    return _challenge(raw)


def session_proof(
    client_key: Ed25519PrivateKey, challenge: bytes, server_key_id: str
) -> dict[str, str]:
    """The client's proof for one session: its key id and a signature over the challenge.

    `server_key_id` must be the id of the server key the client trusts (from its
    pairing), not one the server announced: a proof is then good for that server only.
    """
    client_id = key_id(client_key)
    material = _session_material(challenge, server_key_id, client_id)
    return {"key_id": client_id, "signature": _b64(client_key.sign(material))}


def check_session_proof(
    proof: dict[str, Any], challenge: bytes, server_key_id: str, lookup: Lookup
) -> str:
    """The client's key id, once `proof` is its signature for this challenge and server.

    `lookup` gives the trusted public key of a key id, or None. Raises TrustError
    ("unknown instance ...") for a key this server does not trust, and when the proof
    is malformed or made for another challenge or another server.
    """
    malformed = _("the sync session proof is malformed: is the other side a Kalan instance?")
    fields = _text_fields(proof, ("key_id", "signature"), malformed)
    client_id = fields["key_id"]
    signature = _unb64(fields["signature"], 64)
    if not _KEY_ID.fullmatch(client_id) or signature is None:
        raise TrustError(malformed)
    public = _trusted(lookup, client_id)
    if public is None:
        raise TrustError(
            _("unknown instance (key %(key)s): pair it with this instance first")
            % {"key": client_id}
        )
    if not _verifies(public, signature, _session_material(challenge, server_key_id, client_id)):
        raise TrustError(
            _(
                "the sync session proof of key %(key)s does not match this session: it was"
                " made for another challenge or server; start the sync again"
            )
            % {"key": client_id}
        )
    return client_id


def sign_message(
    key: Ed25519PrivateKey,
    session_id: str,
    counter: int,
    method: str,
    path: str,
    body_sha256: str,
) -> str:
    """The signature (text) of one request or response of a session.

    A request is signed by the client, its response by the server with the same
    counter, method and path (full path with its query string) and the SHA-256 (hex)
    of the response body. The HTTP status and headers are not signed.
    """
    return _b64(key.sign(_message_material(session_id, counter, method, path, body_sha256)))


def check_message(
    public: Ed25519PublicKey,
    signature: str,
    session_id: str,
    counter: int,
    method: str,
    path: str,
    body_sha256: str,
) -> None:
    """Accept a message only if `public` signed exactly these fields; else TrustError.

    This does not check the counter's order: feed it to the session's `SessionCounter`.
    """
    material = _message_material(session_id, counter, method, path, body_sha256)
    raw = _unb64(signature, 64)
    if raw is None or not _verifies(public, raw, material):
        raise TrustError(
            _(
                "a sync message's signature does not match: it was changed on the way or"
                " signed by another key; start the sync again"
            )
        )


class SessionCounter:
    """The message counters of one session: each must be greater than the last one seen.

    Counters start at 1. A counter seen before, or smaller than the last, is a replay
    or a reordering and is refused.
    """

    def __init__(self, last: int = 0) -> None:
        self._last = last

    @property
    def last(self) -> int:
        """The greatest counter accepted (or given by `next`) so far."""
        return self._last

    def next(self) -> int:
        """The counter for the next message this side sends."""
        self._last += 1
        return self._last

    def accept(self, counter: int) -> None:
        """Record `counter`; TrustError if it is not greater than the last one."""
        if isinstance(counter, bool) or not isinstance(counter, int):
            raise TrustError(_("a sync message counter must be a whole number"))
        if counter <= self._last:
            raise TrustError(
                _(
                    "sync message %(counter)s came again or out of order (the last was"
                    " %(last)s): it may be a replay; start the sync again"
                )
                % {"counter": counter, "last": self._last}
            )
        self._last = counter


def _session_material(challenge: bytes, server_key_id: str, client_id: str) -> bytes:
    if not isinstance(server_key_id, str) or not _KEY_ID.fullmatch(server_key_id):
        raise TrustError(_("the server's key id must be 16 hexadecimal digits"))
    return _encode(
        _SESSION, _challenge(challenge), server_key_id.encode("ascii"), client_id.encode("ascii")
    )


def _message_material(
    session_id: str, counter: int, method: str, path: str, body_sha256: str
) -> bytes:
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter < 2**64:
        raise TrustError(_("a sync message counter must be a whole number from 0 to 2**64 - 1"))
    if not isinstance(body_sha256, str) or not _SHA256.fullmatch(body_sha256):
        raise TrustError(_("a sync message's body hash must be 64 lowercase hexadecimal digits"))
    if not all(isinstance(text, str) for text in (session_id, method, path)) or not session_id:
        raise TrustError(_("a sync message needs a session id, a method and a path as text"))
    return _encode(
        _REQUEST,
        _utf8(session_id),
        counter.to_bytes(8, "big"),
        _utf8(method),
        _utf8(path),
        body_sha256.encode("ascii"),
    )


# ---------------------------------------------------------------- bundles


def sign_manifest(key: Ed25519PrivateKey, manifest: dict[str, Any]) -> bytes:
    """The bytes of manifest.json: canonical JSON of `manifest` with its signature.

    Canonical JSON: keys sorted, no spaces, UTF-8. The signature covers the canonical
    manifest; `signature`, `signer` (key id) and `public_key` are added beside its
    fields. Raises TrustError, signing nothing, when a required field is missing or of
    the wrong type, or the manifest already holds one of those three names.
    """
    if any(name in manifest for name in _SIGNATURE_FIELDS):
        raise TrustError(
            _("a bundle manifest to sign must not hold signature, signer or public_key")
        )
    try:
        plain = json.loads(_canonical(manifest))  # exactly what a reader will see
    except (TypeError, ValueError) as error:
        raise TrustError(_("a bundle manifest must hold JSON values only")) from error
    problem = _manifest_problem(plain)
    if problem:
        raise TrustError(_("cannot sign this bundle manifest: %(problem)s") % {"problem": problem})
    signature = key.sign(_encode(_BUNDLE, _canonical(plain)))
    plain.update(signature=_b64(signature), signer=key_id(key), public_key=public_text(key))
    return _canonical(plain)


def read_manifest(data: bytes, lookup: Lookup) -> dict[str, Any]:
    """The manifest in `data`, once it is proven unchanged and signed by a trusted key.

    Checks, in order: canonical JSON as `sign_manifest` writes it (any other byte is a
    change), the signature fields, that `lookup` trusts the signer's key id and holds
    the same public key as the one embedded, the signature, then every required field.
    Returns the whole document (signature fields included). Raises TrustError.

    Left to the caller: that `sender` is the instance of the `signer` key, that
    `receiver` is this instance or null, that `bundle_id` was never applied here (a
    replayed bundle), and `check_chunk` for every chunk before applying any.
    """
    document = _parse_canonical(data)
    signer, embedded, signature = _signature_fields(document)
    public = _trusted(lookup, signer)
    if public is None:
        raise TrustError(
            _(
                "this bundle was made by an instance this one does not trust (key %(key)s):"
                " pair them first"
            )
            % {"key": signer}
        )
    if public.public_bytes_raw() != embedded:
        raise TrustError(
            _(
                "this bundle carries another key than the one trusted for %(key)s: it was"
                " not made by that instance; do not import it"
            )
            % {"key": signer}
        )
    manifest = {name: value for name, value in document.items() if name not in _SIGNATURE_FIELDS}
    if not _verifies(public, signature, _encode(_BUNDLE, _canonical(manifest))):
        raise TrustError(_damaged_manifest())
    problem = _manifest_problem(manifest)
    if problem:
        raise TrustError(_("the bundle manifest is not valid: %(problem)s") % {"problem": problem})
    return document


def check_chunk(path: Path, entry: dict[str, Any]) -> None:
    """Accept the file at `path` only if it has the size and SHA-256 `entry` lists.

    Reads the file in blocks (bounded memory) and stops early when it is too long.
    Raises TrustError naming the chunk when it is missing, truncated, extended or
    altered. Apply the bytes checked here (a copy only this instance writes), not a
    file that could change after the check.
    """
    problem = _chunk_problem(entry)
    if problem:
        raise TrustError(_("a chunk of the bundle manifest %(problem)s") % {"problem": problem})
    name, size, sha256 = entry["name"], entry["size"], entry["sha256"]
    digest, seen = _hash_file(path, name, size)
    if seen < size:
        raise TrustError(
            _("chunk %(name)s is truncated (%(seen)s of %(size)s bytes): copy the bundle again")
            % {"name": name, "seen": seen, "size": size}
        )
    if not hmac.compare_digest(digest, sha256):
        raise TrustError(
            _(
                "chunk %(name)s was altered (its SHA-256 differs from the manifest):"
                " copy the bundle again"
            )
            % {"name": name}
        )


def _hash_file(path: Path, name: str, limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    seen = 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                seen += len(block)
                if seen > limit:
                    raise TrustError(
                        _("chunk %(name)s is longer than the manifest says: copy the bundle again")
                        % {"name": name}
                    )
                digest.update(block)
    except FileNotFoundError as error:
        raise TrustError(
            _("chunk %(name)s is missing from the bundle: copy the bundle again") % {"name": name}
        ) from error
    except OSError as error:
        raise TrustError(
            _("cannot read chunk %(name)s of the bundle: %(reason)s")
            % {"name": name, "reason": error.strerror or type(error).__name__}
        ) from error
    return digest.hexdigest(), seen


def _damaged_manifest() -> str:
    return _("the bundle manifest was changed or damaged after it was made: copy the bundle again")


def _parse_canonical(data: bytes) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_MANIFEST_BYTES:
        raise TrustError(_("the bundle manifest is too large, or not bytes"))
    try:
        document = json.loads(bytes(data).decode("utf-8"))
        canonical = _canonical(document)
    except (ValueError, TypeError, RecursionError) as error:  # UnicodeError is a ValueError
        raise TrustError(_damaged_manifest()) from error
    if canonical != data or not isinstance(document, dict):
        raise TrustError(_damaged_manifest())
    return document


def _signature_fields(document: dict[str, Any]) -> tuple[str, bytes, bytes]:
    signer = document.get("signer")
    embedded = _unb64(document.get("public_key"), 32)
    signature = _unb64(document.get("signature"), 64)
    if (
        not isinstance(signer, str)
        or not _KEY_ID.fullmatch(signer)
        or embedded is None
        or signature is None
    ):
        raise TrustError(
            _(
                "the bundle manifest is not signed, or its signature fields are damaged:"
                " copy the bundle again"
            )
        )
    if key_id(_public_from_raw(embedded)) != signer:
        raise TrustError(_damaged_manifest())
    return signer, embedded, signature


# (field, check, what it must be) for every required field of a bundle manifest.
_MANIFEST_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("format", lambda value: value == BUNDLE_FORMAT, gettext_noop('"kalan-sync-bundle/1"')),
    ("bundle_id", lambda value: _is_uuid(value, version=4), gettext_noop("a UUID4 as text")),
    ("sender", lambda value: _is_uuid(value), gettext_noop("an instance UUID as text")),
    (
        "receiver",
        lambda value: value is None or _is_uuid(value),
        gettext_noop("an instance UUID as text, or null"),
    ),
    ("created_hlc", lambda value: _is_count(value), gettext_noop("a whole number ≥ 0")),
    ("chunks", lambda value: isinstance(value, list), gettext_noop("a list")),
    ("positions", lambda value: isinstance(value, dict), gettext_noop("an object")),
)


def _manifest_problem(manifest: object) -> str | None:
    if not isinstance(manifest, dict):
        return _("it is not a JSON object")
    for name, valid, wanted in _MANIFEST_RULES:
        if name not in manifest:
            return _("the field %(field)s is missing") % {"field": name}
        if not valid(manifest[name]):
            return _("%(field)s must be %(wanted)s") % {"field": name, "wanted": _(wanted)}
    folded: set[str] = set()
    for position, entry in enumerate(manifest["chunks"], start=1):
        problem = _chunk_problem(entry)
        if problem:
            return _("chunk %(chunk)s %(problem)s") % {"chunk": position, "problem": problem}
        if entry["name"].casefold() in folded:  # USB sticks often ignore case
            return _("chunk %(name)s is listed twice") % {"name": entry["name"]}
        folded.add(entry["name"].casefold())
    return None


def _chunk_problem(entry: object) -> str | None:
    if not isinstance(entry, dict):
        return _("is not an object with name, sha256 and size")
    name = entry.get("name")
    if (
        not isinstance(name, str)
        or not _CHUNK_NAME.fullmatch(name)
        or name.casefold() == MANIFEST_NAME
    ):
        return _("has no plain file name (letters, digits, '.', '_', '-'; not manifest.json)")
    if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
        return _("(%(name)s) has no SHA-256 of 64 lowercase hex digits") % {"name": name}
    if not _is_count(entry.get("size")):
        return _("(%(name)s) has no size in bytes") % {"name": name}
    return None


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


def _trusted(lookup: Lookup, wanted: str) -> Ed25519PublicKey | None:
    """The key `lookup` trusts for `wanted`, checked to really have that id."""
    public = lookup(wanted)
    if public is not None and key_id(public) != wanted:
        raise TrustError(
            _(
                "the key this instance keeps for %(key)s has another id:"
                " its peer records are damaged"
            )
            % {"key": wanted}
        )
    return public


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
