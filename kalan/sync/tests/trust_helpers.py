"""What the trust tests share: keys, a lookup, and the wire encoding re-derived here.

The encoding follows docs/architecture/sync-trust.md, independently of kalan.sync.trust.
"""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kalan.sync import trust
from kalan.sync.trust import TrustError, key_id, normalise_code

# Module-level keys: Hypothesis tests cannot use function-scoped fixtures.
SENDER = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()
TRUSTED = {key_id(SENDER): SENDER.public_key()}


def _lookup(known: dict[str, Ed25519PublicKey]) -> trust.Lookup:
    return known.get


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _flip(text: str) -> str:
    """The same base64 field, with one bit of its bytes changed."""
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[0] ^= 1
    return _b64(bytes(raw))


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _encode(domain: str, *fields: bytes) -> bytes:
    return b"".join(len(part).to_bytes(4, "big") + part for part in (domain.encode(), *fields))


def _refused(check, *args, secrets=()):
    with pytest.raises(TrustError) as refused:
        check(*args)
    message = str(refused.value)
    assert "\n" not in message
    for secret in secrets:
        assert normalise_code(secret) not in message.replace("-", "")
    return message
