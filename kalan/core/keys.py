"""Ed25519 private keys kept in PEM files under KALAN_HOME/keys (mode 0600).

A key file is created on first use, complete or not at all: it is written to a
temporary file of its own, then linked into place (which fails if another process
created the key first; that key is then used). Failures are KalanError with one line
that names the file, never the key.
"""

import errno
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.core.errors import KalanError

_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}


def load_or_create_ed25519(path: Path, what: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file `path`, created (mode 0600) if absent.

    `what` names the key in messages ("publisher key", "sync key"). Raises KalanError
    when the file cannot be read or created, or is not an unencrypted Ed25519 key.
    """
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        return _create(path, what)
    except OSError as error:
        raise KalanError(f"cannot read the {what} {path}: {error.strerror}") from error
    return _parse(pem, path)


def _parse(pem: bytes, path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise KalanError(f"{path} is not an unencrypted PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KalanError(f"{path} is not an Ed25519 key")
    return key


def _create(path: Path, what: str) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_new(temporary, pem)
        linked = _link_new(temporary, path, pem)
    except OSError as error:
        raise KalanError(f"cannot create the {what} {path}: {error.strerror}") from error
    finally:
        temporary.unlink(missing_ok=True)
    # When another process created the key first, that key is this instance's.
    return key if linked else load_or_create_ed25519(path, what)


def _link_new(source: Path, target: Path, data: bytes) -> bool:
    """Link `source` as `target` (atomic); False if `target` already exists.

    Where the file system has no hard links (FAT, exFAT), `data` is written to `target`
    directly, still refusing to replace an existing file.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        try:
            _write_new(target, data)
        except FileExistsError:
            return False
        except OSError:
            target.unlink(missing_ok=True)  # never leave half a key behind
            raise
    return True


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
