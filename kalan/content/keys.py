"""This instance's publisher key: the Ed25519 key that signs the channels it builds.

Kept in KALAN_HOME/keys/publisher-ed25519.pem (mode 0600), created on first use.
"""

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.core.keys import load_or_create_ed25519
from kalan.core.paths import kalan_home


def default_key_path() -> Path:
    """Where this instance keeps its publisher key."""
    return kalan_home() / "keys" / "publisher-ed25519.pem"


def load_or_create_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The key at `path` (default: this instance's), created if it does not exist.

    Raises KalanError when the file exists but is not an Ed25519 private key, or
    cannot be read or created.
    """
    return load_or_create_ed25519(path or default_key_path(), "publisher key")
