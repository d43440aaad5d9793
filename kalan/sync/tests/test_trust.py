"""Trust primitives: keys, pairing, session proofs, signed messages and signed bundles.

Pure unit tests: no database. The wire format is pinned by re-deriving it here from
docs/architecture/sync-trust.md, independently of kalan.sync.trust.
"""

import base64
import errno
import hashlib
import hmac
import json
import os
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kalan.core.keys
from kalan.core.errors import KalanError
from kalan.core.keys import load_or_create_ed25519
from kalan.sync import trust
from kalan.sync.trust import (
    BUNDLE_FORMAT,
    CODE_ALPHABET,
    SessionCounter,
    TrustError,
    challenge_from_text,
    challenge_text,
    check_chunk,
    check_message,
    check_pairing_answer,
    check_pairing_request,
    check_session_proof,
    code_matches,
    code_verifier,
    instance_key,
    key_id,
    new_challenge,
    new_pairing_code,
    normalise_code,
    pairing_answer,
    pairing_request,
    public_from_text,
    public_text,
    read_manifest,
    session_proof,
    sign_manifest,
    sign_message,
)

# Module-level keys: Hypothesis tests cannot use function-scoped fixtures.
SENDER = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()
TRUSTED = {key_id(SENDER): SENDER.public_key()}
BODY = hashlib.sha256(b'{"positions":{}}').hexdigest()


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


# ---------------------------------------------------------------- keys


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


# ---------------------------------------------------------------- codes


def test_new_codes_are_two_groups_of_five_crockford_characters():
    codes = {new_pairing_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        first, second = code.split("-")
        assert len(first) == len(second) == 5
        assert set(first + second) <= set(CODE_ALPHABET)
        assert normalise_code(code) == first + second


@given(
    code=st.text(alphabet=CODE_ALPHABET, min_size=10, max_size=10),
    lowercase=st.lists(st.booleans(), min_size=10, max_size=10),
    separators=st.lists(st.sampled_from(["", " ", "-", "  ", " - ", "\t"]), min_size=11),
)
def test_a_code_reads_back_whatever_its_case_spaces_and_hyphens(code, lowercase, separators):
    typed = "".join(
        separators[i] + (char.lower() if lower else char)
        for i, (char, lower) in enumerate(zip(code, lowercase, strict=True))
    )
    assert normalise_code(typed + separators[10]) == code


def test_lookalike_letters_read_as_digits():
    assert normalise_code("oOiIl-LABCD") == "001111ABCD"


@pytest.mark.parametrize("typed", ["", "ABCDE-FGHJ", "ABCDE-FGHJKM", "ABCDE-FGHJU", "ABCDÉ-FGHJK"])
def test_a_mistyped_code_is_refused_without_repeating_it(typed):
    with pytest.raises(TrustError) as refused:
        normalise_code(typed)
    assert str(refused.value) == (
        "a pairing code has 10 letters and digits, like 7K3QD-X9M2P: check it and type it again"
    )


def test_the_verifier_matches_its_code_only_and_never_contains_it():
    code = new_pairing_code()
    verifier = code_verifier(code)
    compact = normalise_code(code)
    for spelling in (code, compact, code.lower(), compact.lower()):
        assert spelling not in verifier
        assert code_matches(spelling, verifier)
    assert code_verifier(code.lower()) == verifier
    other = "".join(CODE_ALPHABET[(CODE_ALPHABET.index(c) + 1) % 32] for c in compact)
    assert not code_matches(other, verifier)
    assert not code_matches("too short", verifier)


@pytest.mark.parametrize("damaged", ["", "kalan-pair-v1$", "kalan-pair-v1$abc", "scrypt$x$y"])
def test_a_damaged_verifier_is_a_clear_error(damaged):
    with pytest.raises(TrustError, match="the stored pairing code is damaged"):
        code_matches(new_pairing_code(), damaged)


# ---------------------------------------------------------------- pairing


@pytest.fixture(scope="module")
def pairing():
    """One pairing exchange made honestly, shared by the tests that spoil it."""
    code = new_pairing_code()
    hub, upstream = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    challenge = new_challenge()
    request = json.loads(json.dumps(pairing_request(code, hub, challenge)))
    verifier = code_verifier(code)
    answer = json.loads(json.dumps(pairing_answer(verifier, upstream, challenge, hub.public_key())))
    return {
        "code": code,
        "verifier": verifier,
        "hub": hub,
        "upstream": upstream,
        "challenge": challenge,
        "request": request,
        "answer": answer,
    }


def _refused(check, *args, secrets=()):
    with pytest.raises(TrustError) as refused:
        check(*args)
    message = str(refused.value)
    assert "\n" not in message
    for secret in secrets:
        assert normalise_code(secret) not in message.replace("-", "")
    return message


def test_pairing_round_trip_gives_each_side_the_other_key(pairing):
    p = pairing
    assert set(p["request"]) == {"public_key", "key_id", "mac", "signature"}
    for code in (p["code"], p["verifier"], p["code"].lower()):
        hub = check_pairing_request(p["request"], code, p["challenge"])
        assert hub.public_bytes_raw() == p["hub"].public_key().public_bytes_raw()
    upstream = check_pairing_answer(p["answer"], p["code"], p["challenge"], hub)
    assert upstream.public_bytes_raw() == p["upstream"].public_key().public_bytes_raw()


def test_a_request_or_answer_made_with_another_code_is_refused(pairing):
    p = pairing
    other = new_pairing_code()
    message = _refused(
        check_pairing_request, p["request"], other, p["challenge"], secrets=[p["code"], other]
    )
    assert "does not match an open pairing code" in message
    _refused(check_pairing_request, p["request"], code_verifier(other), p["challenge"])
    message = _refused(
        check_pairing_answer,
        p["answer"],
        other,
        p["challenge"],
        p["hub"].public_key(),
        secrets=[p["code"], other],
    )
    assert "does not match the pairing code" in message


def test_a_request_or_answer_made_for_another_challenge_is_refused(pairing):
    p = pairing
    replayed = new_challenge()
    _refused(check_pairing_request, p["request"], p["verifier"], replayed)
    _refused(check_pairing_answer, p["answer"], p["code"], replayed, p["hub"].public_key())


def test_an_answer_for_another_hub_key_is_refused(pairing):
    p = pairing
    elsewhere = Ed25519PrivateKey.generate().public_key()
    _refused(check_pairing_answer, p["answer"], p["code"], p["challenge"], elsewhere)


@pytest.mark.parametrize("side", ["request", "answer"])
@pytest.mark.parametrize("field", ["mac", "signature"])
def test_a_tampered_mac_or_signature_is_refused(pairing, side, field):
    p = pairing
    message = dict(p[side], **{field: _flip(p[side][field])})
    if side == "request":
        _refused(check_pairing_request, message, p["verifier"], p["challenge"])
    else:
        _refused(check_pairing_answer, message, p["code"], p["challenge"], p["hub"].public_key())


def _with_key_of(message: dict[str, str], key: Ed25519PrivateKey, material: bytes | None):
    """The message with its key swapped for `key` (and re-signed by it if `material`)."""
    swapped = dict(message, public_key=public_text(key), key_id=key_id(key.public_key()))
    if material is not None:
        swapped["signature"] = _b64(key.sign(material))
    return swapped


def test_a_man_in_the_middle_cannot_register_his_key_for_the_hub(pairing):
    p = pairing
    intruder = Ed25519PrivateKey.generate()
    material = _encode(
        "kalan-pair-request-v1", p["challenge"], intruder.public_key().public_bytes_raw()
    )
    for message in (
        _with_key_of(p["request"], intruder, None),
        _with_key_of(p["request"], intruder, material),  # signed by him, MAC copied
        dict(p["request"], key_id=key_id(intruder.public_key())),
    ):
        _refused(check_pairing_request, message, p["verifier"], p["challenge"])


def test_a_man_in_the_middle_cannot_pass_his_key_off_as_the_upstream(pairing):
    p = pairing
    intruder = Ed25519PrivateKey.generate()
    hub_raw = p["hub"].public_key().public_bytes_raw()
    material = _encode(
        "kalan-pair-answer-v1", p["challenge"], hub_raw, intruder.public_key().public_bytes_raw()
    )
    for message in (
        _with_key_of(p["answer"], intruder, None),
        _with_key_of(p["answer"], intruder, material),
    ):
        _refused(check_pairing_answer, message, p["code"], p["challenge"], p["hub"].public_key())


def test_a_request_and_an_answer_cannot_stand_for_each_other(pairing):
    p = pairing
    _refused(check_pairing_request, p["answer"], p["verifier"], p["challenge"])
    _refused(check_pairing_answer, p["request"], p["code"], p["challenge"], p["hub"].public_key())


def test_the_pairing_material_is_the_documented_one(pairing):
    p = pairing
    key = hashlib.scrypt(
        normalise_code(p["code"]).encode(), salt=b"kalan-pairing-v1", n=2**14, r=8, p=1, dklen=32
    )
    assert p["verifier"] == "kalan-pair-v1$" + _b64(key)
    material = _encode(
        "kalan-pair-request-v1", p["challenge"], p["hub"].public_key().public_bytes_raw()
    )
    assert p["request"]["mac"] == _b64(hmac.new(key, material, "sha256").digest())
    p["hub"].public_key().verify(
        base64.urlsafe_b64decode(p["request"]["signature"] + "=="), material
    )


@pytest.mark.parametrize(
    "spoil",
    [
        lambda m: {k: v for k, v in m.items() if k != "mac"},
        lambda m: dict(m, public_key=None),
        lambda m: dict(m, mac=m["mac"] + "="),
        lambda m: dict(m, signature="short"),
        lambda m: [m],
        lambda m: "text",
    ],
)
def test_a_malformed_pairing_message_is_refused(pairing, spoil):
    p = pairing
    message = _refused(check_pairing_request, spoil(p["request"]), p["verifier"], p["challenge"])
    assert "malformed" in message
    _refused(
        check_pairing_answer, spoil(p["answer"]), p["code"], p["challenge"], p["hub"].public_key()
    )


# ---------------------------------------------------------------- sessions

SERVER = Ed25519PrivateKey.generate()
SERVER_ID = key_id(SERVER.public_key())


def test_a_session_proof_names_the_client():
    challenge = new_challenge()
    assert len(challenge) == 32
    proof = json.loads(json.dumps(session_proof(SENDER, challenge, SERVER_ID)))
    assert check_session_proof(proof, challenge, SERVER_ID, _lookup(TRUSTED)) == key_id(SENDER)


def test_a_session_proof_for_another_challenge_or_server_is_refused():
    challenge = new_challenge()
    proof = session_proof(SENDER, challenge, SERVER_ID)
    other_server = key_id(STRANGER.public_key())
    for args in ((new_challenge(), SERVER_ID), (challenge, other_server)):
        message = _refused(check_session_proof, proof, *args, _lookup(TRUSTED))
        assert "start the sync again" in message
    tampered = dict(proof, signature=_flip(proof["signature"]))
    _refused(check_session_proof, tampered, challenge, SERVER_ID, _lookup(TRUSTED))


def test_a_session_proof_from_an_unknown_instance_is_refused():
    challenge = new_challenge()
    proof = session_proof(STRANGER, challenge, SERVER_ID)
    message = _refused(check_session_proof, proof, challenge, SERVER_ID, _lookup(TRUSTED))
    assert message.startswith(f"unknown instance (key {key_id(STRANGER)})")


def test_a_lookup_giving_a_key_of_another_id_is_refused():
    # Peer records that map STRANGER's id to SENDER's key must not let SENDER pass as it.
    challenge = new_challenge()
    claimed = key_id(STRANGER)
    material = _encode("kalan-sync-session-v1", challenge, SERVER_ID.encode(), claimed.encode())
    proof = {"key_id": claimed, "signature": _b64(SENDER.sign(material))}
    wrong = {claimed: SENDER.public_key()}
    message = _refused(check_session_proof, proof, challenge, SERVER_ID, _lookup(wrong))
    assert message == (
        f"the key this instance keeps for {claimed} has another id: its peer records are damaged"
    )


@pytest.mark.parametrize(
    "proof",
    [{}, {"key_id": "ABC", "signature": "x"}, {"key_id": "0" * 16}, ["key_id"], None],
)
def test_a_malformed_session_proof_is_refused(proof):
    assert "malformed" in _refused(
        check_session_proof, proof, new_challenge(), SERVER_ID, _lookup(TRUSTED)
    )


def test_challenges_travel_as_text():
    challenge = new_challenge()
    assert challenge_from_text(challenge_text(challenge)) == challenge
    for text in ("", "short", challenge_text(challenge) + "=", "A" * 5000, None):
        _refused(challenge_from_text, text)


MESSAGE: dict[str, Any] = {
    "session_id": "4f7c",
    "counter": 3,
    "method": "POST",
    "path": "/api/v1/sync/pull?school=1",
    "body_sha256": BODY,
}


def test_a_signed_message_is_accepted_as_signed():
    signature = sign_message(SENDER, **MESSAGE)
    check_message(SENDER.public_key(), signature, **MESSAGE)


@pytest.mark.parametrize(
    "change",
    [
        {"session_id": "4f7d"},
        {"counter": 4},
        {"counter": 2},
        {"method": "GET"},
        {"path": "/api/v1/sync/pull?school=2"},
        {"body_sha256": hashlib.sha256(b"other").hexdigest()},
        # Field boundaries matter: the same bytes cut differently are another message.
        {"method": "POST/api", "path": "/v1/sync/pull?school=1"},
        {"session_id": "4f7cP", "method": "OST"},
    ],
)
def test_a_message_signature_fails_on_any_changed_field(change):
    signature = sign_message(SENDER, **MESSAGE)
    check_message(SENDER.public_key(), signature, **MESSAGE)
    with pytest.raises(TrustError, match="signature does not match"):
        check_message(SENDER.public_key(), signature, **{**MESSAGE, **change})


def test_a_message_signed_by_another_key_or_mangled_is_refused():
    signature = sign_message(STRANGER, **MESSAGE)
    _refused(check_message, SENDER.public_key(), signature, *MESSAGE.values())
    good = sign_message(SENDER, **MESSAGE)
    for spoilt in (_flip(good), good[:-1], good + "A", "", None):
        _refused(check_message, SENDER.public_key(), spoilt, *MESSAGE.values())


@pytest.mark.parametrize(
    "change",
    [
        {"counter": True},
        {"counter": -1},
        {"counter": 2**64},
        {"counter": "3"},
        {"body_sha256": BODY.upper()},
        {"body_sha256": BODY[:-1]},
        {"session_id": ""},
        {"path": None},
        {"path": "/\udc80"},
    ],
)
def test_messages_with_malformed_fields_are_neither_signed_nor_accepted(change):
    fields = {**MESSAGE, **change}
    _refused(sign_message, SENDER, *fields.values())
    _refused(check_message, SENDER.public_key(), "A" * 86, *fields.values())


def test_the_counter_refuses_replays_and_reorders():
    counter = SessionCounter()
    counter.accept(1)
    counter.accept(2)
    counter.accept(5)  # a gap is fine: a lost request is not a replay
    for replay in (5, 2, 3, 0, -1):
        with pytest.raises(TrustError, match=f"sync message {replay} came again or out of order"):
            counter.accept(replay)
    assert counter.last == 5
    assert counter.next() == 6
    with pytest.raises(TrustError):
        counter.accept(6)
    with pytest.raises(TrustError):
        counter.accept(True)


@given(st.lists(st.integers(min_value=-3, max_value=30), max_size=40))
def test_the_counter_accepts_exactly_the_strictly_increasing_ones(counters):
    counter = SessionCounter()
    highest = 0
    for value in counters:
        if value > highest:
            counter.accept(value)
            highest = value
        else:
            with pytest.raises(TrustError):
                counter.accept(value)
        assert counter.last == highest


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
    monkeypatch.setattr(trust, "key_id", lambda key: "0" * 16)
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
