"""Pairing by one-time code: codes, verifiers, and the request and answer exchanging keys."""

import hashlib
import hmac
import secrets
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kalan.sync.trust._common import (
    _CODE_LOOKALIKES,
    _CODE_SALT,
    _CODE_SEPARATORS,
    _PAIR_ANSWER,
    _PAIR_REQUEST,
    _SCRYPT_COST,
    _VERIFIER_PREFIX,
    CODE_ALPHABET,
    CODE_LENGTH,
    TrustError,
    _,
    _b64,
    _challenge,
    _encode,
    _public_from_raw,
    _raw_public,
    _text_fields,
    _unb64,
    _verifies,
)
from kalan.sync.trust.keys import key_id, public_text


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
