"""Trust primitives: pairing codes, their verifiers, and the exchange of keys by code.

Pure unit tests: no database. The wire format is pinned by re-deriving it here from
docs/architecture/sync-trust.md, independently of kalan.sync.trust.
"""

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kalan.sync.tests.trust_helpers import _b64, _encode, _flip, _refused
from kalan.sync.trust import (
    CODE_ALPHABET,
    TrustError,
    check_pairing_answer,
    check_pairing_request,
    code_matches,
    code_verifier,
    key_id,
    new_challenge,
    new_pairing_code,
    normalise_code,
    pairing_answer,
    pairing_request,
    public_text,
)

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
