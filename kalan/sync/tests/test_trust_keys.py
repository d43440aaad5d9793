"""Trust primitives: the instance key, and public keys as text with their short ids.

Pure unit tests: no database.
"""

import errno
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import kalan.core.keys
from kalan.core.errors import KalanError
from kalan.core.keys import load_or_create_ed25519
from kalan.sync.tests.trust_helpers import SENDER
from kalan.sync.trust import TrustError, instance_key, key_id, public_from_text, public_text


def test_the_instance_key_is_created_once_with_mode_0600_and_reloaded_identically(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("KALAN_HOME", str(tmp_path))
    key = instance_key()
    path = tmp_path / "keys" / "instance-ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_bytes()
    again = instance_key()
    assert public_text(again) == public_text(key)
    assert path.read_bytes() == pem
    assert sorted(p.name for p in path.parent.iterdir()) == ["instance-ed25519.pem"]


def test_a_key_made_by_another_process_first_is_the_one_used(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "instance-ed25519.pem"
    other = Ed25519PrivateKey.generate()
    original = kalan.core.keys._write_new

    def write_then_lose_the_race(temporary: Path, data: bytes) -> None:
        original(temporary, data)
        path.write_bytes(
            other.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    monkeypatch.setattr(kalan.core.keys, "_write_new", write_then_lose_the_race)
    assert public_text(instance_key(path)) == public_text(other)
    assert [p.name for p in path.parent.iterdir()] == ["instance-ed25519.pem"]


def test_a_key_is_created_where_the_file_system_has_no_hard_links(tmp_path, monkeypatch):
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "keys" / "instance-ed25519.pem"
    key = instance_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["instance-ed25519.pem"]
    monkeypatch.undo()
    assert public_text(instance_key(path)) == public_text(key)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"-----BEGIN PRIVATE KEY-----\nbroken\n", "is not an unencrypted PEM private key"),
        (b"", "is not an unencrypted PEM private key"),
        (
            X25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "is not an Ed25519 key",
        ),
    ],
)
def test_a_corrupt_key_file_is_one_clear_error_and_is_left_alone(tmp_path, content, message):
    path = tmp_path / "instance-ed25519.pem"
    path.write_bytes(content)
    with pytest.raises(TrustError, match=message) as refused:
        instance_key(path)
    assert str(path) in str(refused.value)
    assert path.read_bytes() == content


def test_an_unreadable_key_is_a_clear_error(tmp_path):
    (tmp_path / "folder.pem").mkdir()
    with pytest.raises(TrustError, match=r"^cannot read the sync key .*folder\.pem: "):
        instance_key(tmp_path / "folder.pem")
    (tmp_path / "file").write_text("")
    with pytest.raises(TrustError, match=r"^cannot read the sync key .*: Not a directory$"):
        instance_key(tmp_path / "file" / "key.pem")


def test_a_key_that_cannot_be_written_leaves_no_file(tmp_path, monkeypatch):
    def disk_full(temporary: Path, data: bytes) -> None:
        temporary.write_bytes(data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(kalan.core.keys, "_write_new", disk_full)
    path = tmp_path / "keys" / "instance-ed25519.pem"
    with pytest.raises(TrustError, match=r"^cannot create the sync key .*: No space left"):
        instance_key(path)
    assert list(path.parent.iterdir()) == []


def test_the_shared_loader_names_the_key_it_loads(tmp_path):
    path = tmp_path / "keys" / "publisher-ed25519.pem"
    key = load_or_create_ed25519(path, "publisher key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_text(load_or_create_ed25519(path, "publisher key")) == public_text(key)
    path.write_bytes(b"garbage")
    with pytest.raises(KalanError, match="is not an unencrypted PEM private key"):
        load_or_create_ed25519(path, "publisher key")
    path.unlink()
    path.mkdir()
    with pytest.raises(KalanError, match=r"^cannot read the publisher key "):
        load_or_create_ed25519(path, "publisher key")


def test_public_keys_travel_as_text_and_have_a_short_id():
    key = Ed25519PrivateKey.generate()
    text = public_text(key)
    assert len(text) == 43
    assert "=" not in text
    raw = key.public_key().public_bytes_raw()
    assert public_from_text(text).public_bytes_raw() == raw
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


def _spare_bits_set(text: str) -> str:
    """Another spelling of the same 32 bytes: the last character's unused bits set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) | 1]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda text: text + "=",
        lambda text: text[:-1],
        lambda text: text + "A",
        lambda text: text.replace(text[0], "+", 1),
        lambda text: " " + text,
        lambda text: "",
        lambda text: None,
        lambda text: 42,
    ],
)
def test_a_malformed_public_key_text_is_refused(spoil):
    with pytest.raises(TrustError, match="not a Kalan sync public key"):
        public_from_text(spoil(public_text(SENDER)))


def test_a_public_key_written_with_spare_bits_set_is_refused():
    text = public_text(SENDER)
    while _spare_bits_set(text) == text:  # the last character already has them set
        text = public_text(Ed25519PrivateKey.generate())
    with pytest.raises(TrustError):
        public_from_text(_spare_bits_set(text))
