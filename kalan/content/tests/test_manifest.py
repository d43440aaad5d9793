"""Signed manifests: what is accepted, and every way a bad one is refused."""

import base64
import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kalan.content.manifest import (
    FORMAT,
    ManifestError,
    dump,
    key_fingerprint,
    parse_signed,
    public_key_text,
    sign,
)

SHA = "a" * 64


def _manifest(key: Ed25519PrivateKey, **changes: object) -> dict[str, Any]:
    data = {
        "format": FORMAT,
        "id": str(uuid.uuid4()),
        "version": 1,
        "title": "Sciences P3",
        "publisher": {"name": "Ministère", "public_key": public_key_text(key)},
        "root": {
            "id": str(uuid.uuid4()),
            "kind": "topic",
            "title": "Sciences",
            "children": [
                {
                    "id": str(uuid.uuid4()),
                    "kind": "document",
                    "title": "L'eau",
                    "files": [{"sha256": SHA, "size": 10, "role": "main"}],
                }
            ],
        },
    }
    data.update(changes)
    return data


def test_a_signed_manifest_is_accepted_with_its_tree_and_files():
    key = Ed25519PrivateKey.generate()
    raw = dump(_manifest(key))
    manifest = parse_signed(raw, sign(raw, key))
    assert manifest.title == "Sciences P3"
    assert [node["title"] for node, _, _ in manifest.nodes()] == ["Sciences", "L'eau"]
    assert [path for _, _, path in manifest.nodes()] == ["0001", "0001.0001"]
    assert manifest.files() == {SHA: 10}


def test_one_changed_byte_breaks_the_signature():
    key = Ed25519PrivateKey.generate()
    raw = dump(_manifest(key))
    signature = sign(raw, key)
    tampered = raw.replace(b"Sciences P3", b"Sciences P4")
    with pytest.raises(ManifestError, match="signature does not match"):
        parse_signed(tampered, signature)


def test_a_signature_by_another_key_is_refused():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    raw = dump(_manifest(key))
    with pytest.raises(ManifestError, match="signature does not match"):
        parse_signed(raw, sign(raw, other))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": "not-a-uuid"}, "channel id is not a UUID"),
        ({"version": 0}, "version is not a positive"),
        ({"title": " "}, "has no title"),
        ({"root": {"kind": "video"}}, "no root topic"),
    ],
)
def test_a_malformed_channel_is_refused_with_its_reason(changes, reason):
    key = Ed25519PrivateKey.generate()
    raw = dump(_manifest(key, **changes))
    with pytest.raises(ManifestError, match=reason):
        parse_signed(raw, sign(raw, key))


def test_every_problem_of_a_resource_is_listed():
    key = Ed25519PrivateKey.generate()
    data = _manifest(key)
    resource = data["root"]["children"][0]
    resource["files"] = [{"sha256": "xyz", "size": -1, "role": "poster"}]
    resource["entry"] = "../../etc/passwd"
    duplicate = dict(resource, title="Copy")
    data["root"]["children"].append(duplicate)
    raw = dump(data)
    with pytest.raises(ManifestError) as caught:
        parse_signed(raw, sign(raw, key))
    problems = " | ".join(caught.value.problems)
    assert "valid SHA-256" in problems
    assert "exactly one main file" in problems
    assert "unsafe entry path" in problems
    assert "repeats the id" in problems


def test_a_signature_that_is_not_base64_is_refused():
    key = Ed25519PrivateKey.generate()
    raw = dump(_manifest(key))
    with pytest.raises(ManifestError, match="malformed"):
        parse_signed(raw, b"%%% not base64 %%%")


def test_the_fingerprint_is_short_and_stable():
    key = Ed25519PrivateKey.generate()
    text = public_key_text(key)
    assert key_fingerprint(text) == key_fingerprint(text)
    assert len(key_fingerprint(text)) == 19
    assert base64.b64decode(text) == key.public_key().public_bytes_raw()


@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_cleanly(raw):
    with pytest.raises(ManifestError):
        parse_signed(raw, b"AAAA")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=10,
    )
)
def test_arbitrary_json_signed_correctly_is_refused_or_accepted_never_crashes(value):
    key = Ed25519PrivateKey.generate()
    data = {"format": FORMAT, "publisher": {"public_key": public_key_text(key)}, "root": value}
    raw = json.dumps(data).encode()
    with pytest.raises(ManifestError):
        parse_signed(raw, sign(raw, key))
