"""Trust primitives: signed bundle manifests and the check of their chunks.

Pure unit tests: no database. The wire format is pinned by re-deriving it here from
docs/architecture/sync-trust.md, independently of kalan.sync.trust.
"""

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.sync.tests.trust_helpers import (
    SENDER,
    STRANGER,
    TRUSTED,
    _b64,
    _canonical,
    _encode,
    _lookup,
    _refused,
)
from kalan.sync.trust import (
    BUNDLE_FORMAT,
    TrustError,
    check_chunk,
    key_id,
    public_text,
    read_manifest,
    sign_manifest,
)
from kalan.sync.trust import bundles as trust_bundles
from kalan.sync.trust import keys as trust_keys


def _signed_as_documented(key: Ed25519PrivateKey, manifest: dict[str, Any]) -> bytes:
    """A manifest signed by the documented format, without sign_manifest's checks."""
    signature = key.sign(_encode("kalan-sync-bundle-v1", _canonical(manifest)))
    public = key.public_key().public_bytes_raw()
    return _canonical(
        {
            **manifest,
            "signature": _b64(signature),
            "signer": hashlib.sha256(public).hexdigest()[:16],
            "public_key": _b64(public),
        }
    )


def _manifest(**changes: object) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "bundle_id": "0b6f3c52-9a0e-4d51-8f47-3f1e8a6c2d90",
        "sender": "6f1c2b8e-0d3a-4c5e-9b7a-1e2d3c4b5a69",
        "receiver": None,
        "created_hlc": 7_391_822_113_792,
        "chunks": [
            {"name": "0001.jsonl.zst", "sha256": "ab" * 32, "size": 1200},
            {"name": "0002.jsonl.zst", "sha256": "cd" * 32, "size": 0},
        ],
        "positions": {"school-é": {"6f1c2b8e": 41}},
    }
    manifest.update(changes)
    return manifest


SIGNED = sign_manifest(SENDER, _manifest())


# ---------------------------------------------------------------- bundles


def test_a_signed_manifest_reads_back_with_its_signer():
    assert _canonical(json.loads(SIGNED)) == SIGNED
    document = read_manifest(SIGNED, _lookup(TRUSTED))
    assert document["signer"] == key_id(SENDER)
    assert document["public_key"] == public_text(SENDER)
    assert {
        k: v for k, v in document.items() if k not in ("signer", "public_key", "signature")
    } == (_manifest())


def test_sign_manifest_writes_the_documented_format():
    assert _signed_as_documented(SENDER, _manifest()) == SIGNED


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_single_byte_change_of_a_signed_manifest_is_refused(data):
    position = data.draw(st.integers(min_value=0, max_value=len(SIGNED) - 1), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != SIGNED[position]), label="byte")
    changed = SIGNED[:position] + bytes([byte]) + SIGNED[position + 1 :]
    with pytest.raises(TrustError):
        read_manifest(changed, _lookup(TRUSTED))


@pytest.mark.parametrize(
    "changed",
    [
        SIGNED[:-1],
        SIGNED + b"\n",
        b" " + SIGNED,
        SIGNED.replace(b":", b": ", 1),
        b"",
        b"[]",
        b"\xef\xbb\xbf" + SIGNED,
        json.dumps(json.loads(SIGNED), sort_keys=True).encode(),
    ],
)
def test_a_truncated_extended_or_rewritten_manifest_is_refused(changed):
    _refused(read_manifest, changed, _lookup(TRUSTED))


def test_a_manifest_with_a_field_written_twice_is_refused():
    duplicated = SIGNED[:-1] + b',"sender":"' + str(uuid.uuid4()).encode() + b'"}'
    _refused(read_manifest, duplicated, _lookup(TRUSTED))


REQUIRED = ["format", "bundle_id", "sender", "receiver", "created_hlc", "chunks", "positions"]


@pytest.mark.parametrize("field", REQUIRED)
def test_a_manifest_missing_a_field_is_neither_signed_nor_read(field):
    manifest = {k: v for k, v in _manifest().items() if k != field}
    with pytest.raises(TrustError, match=f"the field {field} is missing"):
        sign_manifest(SENDER, manifest)
    message = _refused(read_manifest, _signed_as_documented(SENDER, manifest), _lookup(TRUSTED))
    assert f"the field {field} is missing" in message


CHUNK = {"name": "0001.jsonl.zst", "sha256": "ab" * 32, "size": 10}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"format": "kalan-sync-bundle/2"}, "format"),
        ({"bundle_id": str(uuid.uuid1())}, "bundle_id"),
        ({"bundle_id": str(uuid.uuid4()).upper()}, "bundle_id"),
        ({"bundle_id": uuid.uuid4().hex}, "bundle_id"),
        ({"bundle_id": 4}, "bundle_id"),
        ({"sender": ""}, "sender"),
        ({"sender": None}, "sender"),
        ({"receiver": "hub"}, "receiver"),
        ({"created_hlc": -1}, "created_hlc"),
        ({"created_hlc": True}, "created_hlc"),
        ({"created_hlc": "17"}, "created_hlc"),
        ({"created_hlc": 1.5}, "created_hlc"),
        ({"chunks": {}}, "chunks"),
        ({"positions": []}, "positions"),
        ({"chunks": ["0001"]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, name="../0001")]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, name="sub/0001")]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, name=".hidden")]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, name="Manifest.json")]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, name="")]}, "chunk 1"),
        ({"chunks": [CHUNK, dict(CHUNK, sha256="AB" * 32)]}, "chunk 2"),
        ({"chunks": [dict(CHUNK, sha256="ab" * 31)]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, size=-1)]}, "chunk 1"),
        ({"chunks": [dict(CHUNK, size="10")]}, "chunk 1"),
        ({"chunks": [{"name": "0001", "sha256": "ab" * 32}]}, "chunk 1"),
        ({"chunks": [CHUNK, dict(CHUNK, name="0001.JSONL.zst")]}, "listed twice"),
    ],
)
def test_a_manifest_with_a_wrongly_typed_field_is_neither_signed_nor_read(change, named):
    manifest = _manifest(**change)
    with pytest.raises(TrustError, match=f"cannot sign this bundle manifest: .*{named}"):
        sign_manifest(SENDER, manifest)
    message = _refused(read_manifest, _signed_as_documented(SENDER, manifest), _lookup(TRUSTED))
    assert message.startswith("the bundle manifest is not valid: ")
    assert named in message


def test_extra_fields_are_signed_and_read_back():
    manifest = _manifest(scopes=["s1"], receiver=str(uuid.uuid4()), chunks=[], positions={})
    document = read_manifest(sign_manifest(SENDER, manifest), _lookup(TRUSTED))
    assert document["scopes"] == ["s1"]
    assert document["receiver"] == manifest["receiver"]


def test_a_manifest_that_already_holds_signature_fields_or_non_json_is_not_signed():
    for name in ("signature", "signer", "public_key"):
        with pytest.raises(TrustError, match="must not hold signature"):
            sign_manifest(SENDER, _manifest(**{name: "x"}))
    for value in (float("nan"), {1, 2}, b"bytes"):
        with pytest.raises(TrustError, match="JSON values only"):
            sign_manifest(SENDER, _manifest(positions={"p": value}))


def test_a_bundle_from_an_unknown_signer_is_refused():
    message = _refused(read_manifest, sign_manifest(STRANGER, _manifest()), _lookup(TRUSTED))
    assert message == (
        f"this bundle was made by an instance this one does not trust (key {key_id(STRANGER)}):"
        " pair them first"
    )


def test_a_bundle_naming_a_trusted_signer_but_carrying_another_key_is_refused():
    document = json.loads(sign_manifest(STRANGER, _manifest()))
    document["signer"] = key_id(SENDER)  # claims to come from the trusted instance
    _refused(read_manifest, _canonical(document), _lookup(TRUSTED))
    document["public_key"] = public_text(SENDER)  # and carries its key: the signature fails
    assert "was changed or damaged" in _refused(
        read_manifest, _canonical(document), _lookup(TRUSTED)
    )


def test_a_known_key_id_whose_trusted_key_differs_from_the_embedded_one_is_refused(monkeypatch):
    # Two keys with one id (a 64-bit collision, out of reach in practice) must still fail.
    for module in (trust_keys, trust_bundles):  # where key ids are computed
        monkeypatch.setattr(module, "key_id", lambda key: "0" * 16)
    data = sign_manifest(STRANGER, _manifest())
    message = _refused(read_manifest, data, _lookup({"0" * 16: SENDER.public_key()}))
    assert "carries another key than the one trusted for 0000000000000000" in message


# ---------------------------------------------------------------- chunks


def _chunk(tmp_path: Path, content: bytes) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "0001.jsonl.zst"
    path.write_bytes(content)
    entry = {"name": path.name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    return path, entry


@pytest.mark.parametrize("size", [0, 1, 1 << 20, (5 << 19) + 3])
def test_the_right_chunk_is_accepted(tmp_path, size):
    path, entry = _chunk(tmp_path, bytes(i % 251 for i in range(size)))
    check_chunk(path, entry)


def test_truncated_extended_altered_or_missing_chunks_are_refused(tmp_path):
    content = bytes(i % 251 for i in range((5 << 19) + 3))  # several blocks
    path, entry = _chunk(tmp_path, content)
    path.write_bytes(content[:-1])
    message = _refused(check_chunk, path, entry)
    assert message == (
        f"chunk 0001.jsonl.zst is truncated ({len(content) - 1} of {len(content)} bytes):"
        " copy the bundle again"
    )
    path.write_bytes(content + b"\0")
    assert "chunk 0001.jsonl.zst is longer than the manifest says" in _refused(
        check_chunk, path, entry
    )
    for position in (0, len(content) // 2, len(content) - 1):
        altered = bytearray(content)
        altered[position] ^= 0x80
        path.write_bytes(bytes(altered))
        assert "chunk 0001.jsonl.zst was altered" in _refused(check_chunk, path, entry)
    path.unlink()
    assert "chunk 0001.jsonl.zst is missing" in _refused(check_chunk, path, entry)
    path.mkdir()
    assert "cannot read chunk 0001.jsonl.zst" in _refused(check_chunk, path, entry)


@pytest.mark.parametrize(
    "entry",
    [None, {}, dict(CHUNK, name="../x"), dict(CHUNK, sha256="x"), dict(CHUNK, size=True)],
)
def test_check_chunk_refuses_a_malformed_entry(tmp_path, entry):
    path, _ = _chunk(tmp_path, b"0123456789")
    assert _refused(check_chunk, path, entry).startswith("a chunk of the bundle manifest ")
