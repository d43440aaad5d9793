"""This instance's publisher key: the Ed25519 key that signs the channels it builds.

Kept in KALAN_HOME/keys/publisher-ed25519.pem (mode 0600), created on first use.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.core.errors import KalanError
from kalan.core.paths import kalan_home


def default_key_path() -> Path:
    return kalan_home() / "keys" / "publisher-ed25519.pem"


def load_or_create_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The key at `path` (default: this instance's), created if it does not exist.

    Raises KalanError when the file exists but is not an Ed25519 private key.
    """
    path = path or default_key_path()
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        return _create(path)
    except OSError as error:
        raise KalanError(f"cannot read the publisher key {path}: {error.strerror}") from error
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise KalanError(f"{path} is not an unencrypted PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KalanError(f"{path} is not an Ed25519 key")
    return key


def _create(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return load_or_create_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key
