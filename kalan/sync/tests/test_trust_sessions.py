"""Trust primitives: session proofs, challenges, signed messages and their counters.

Pure unit tests: no database. The wire format is pinned by re-deriving it here from
docs/architecture/sync-trust.md, independently of kalan.sync.trust.
"""

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kalan.sync.tests.trust_helpers import (
    SENDER,
    STRANGER,
    TRUSTED,
    _b64,
    _encode,
    _flip,
    _lookup,
    _refused,
)
from kalan.sync.trust import (
    SessionCounter,
    TrustError,
    challenge_from_text,
    challenge_text,
    check_message,
    check_session_proof,
    key_id,
    new_challenge,
    session_proof,
    sign_message,
)

BODY = hashlib.sha256(b'{"positions":{}}').hexdigest()
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
