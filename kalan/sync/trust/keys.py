"""This instance's sync key, and public keys as text with their short ids."""

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kalan.core.errors import KalanError
from kalan.core.keys import load_or_create_ed25519
from kalan.core.paths import kalan_home
from kalan.sync.trust._common import (
    Lookup,
    TrustError,
    _,
    _b64,
    _public_from_raw,
    _raw_public,
    _unb64,
)


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
