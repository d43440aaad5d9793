"""Signed statements: JWS attachments accepted or refused, with the reason, as Data 2.6 says."""

import base64
import copy
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.api_jws import PyJWS

from kalan.lrs.attachments import Part, check_attachments, parse_mixed
from kalan.lrs.signatures import SIGNATURE_USAGE, SignatureInvalid, verify_signed_statement

CORPUS = Path(
    os.environ.get("KALAN_CORPUS")
    or Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
)
STATEMENT: dict[str, Any] = {
    "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
    "actor": {
        "objectType": "Group",
        "name": "Team PB",
        "mbox": "mailto:teampb@example.com",
        "member": [
            {
                "name": "Andrew Downes",
                "account": {"homePage": "http://www.example.com", "name": "13936749"},
            },
            {"name": "Toby Nichols", "openid": "http://toby.openid.example.org/"},
        ],
    },
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
    "object": {"id": "http://www.example.com/meetings/occurances/34534", "objectType": "Activity"},
    "result": {"success": True, "completion": True, "score": {"scaled": 0.95, "raw": 1}},
    "context": {
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "contextActivities": {"parent": [{"id": "http://www.example.com/meetings/series/267"}]},
    },
    "timestamp": "2013-05-18T05:32:34.804+00:00",
}


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(
    key: Any, subject: str, issuer_key: Any = None, issuer: str = ""
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer or subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(issuer_key or key, hashes.SHA256())
    )


def x5c(*certificates: x509.Certificate) -> list[str]:
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates
    ]


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    authority = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "signer": signer,
        "other": other,
        "self-signed": certificate(signer, "signer"),
        "other-self-signed": certificate(other, "other"),
        "authority": certificate(authority, "authority"),
        "issued": certificate(signer, "signer", authority, "authority"),
    }


def jws(
    payload: bytes, key: Any, algorithm: str = "RS256", headers: dict[str, Any] | None = None
) -> str:
    return PyJWS().encode(payload, key, algorithm=algorithm, headers=headers)


def signed(
    statement: dict[str, Any], token: str | bytes, content_type: str = "application/octet-stream"
) -> tuple[dict[str, Any], dict[str, Part]]:
    """The statement with its signature attachment added, and the request's parts."""
    content = token.encode() if isinstance(token, str) else token
    sha2 = hashlib.sha256(content).hexdigest()
    signature = {
        "usageType": SIGNATURE_USAGE,
        "display": {"en-US": "Signed by the Test Suite"},
        "contentType": content_type,
        "length": len(content),
        "sha2": sha2,
    }
    received = copy.deepcopy(statement)
    received["attachments"] = [*received.get("attachments", []), signature]
    return received, {sha2: Part(sha2, content_type, content)}


def payload(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement).encode()


def refusal(statement: dict[str, Any], parts: dict[str, Part]) -> str:
    with pytest.raises(SignatureInvalid) as caught:
        verify_signed_statement(statement, parts)
    return str(caught.value)


PREFIX = "attachment 1 (signature): "


# ---------------------------------------------------------------- accepted


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_a_signature_verified_with_its_x5c_certificate(keys, algorithm):
    token = jws(payload(STATEMENT), keys["signer"], algorithm, {"x5c": x5c(keys["self-signed"])})

    verify_signed_statement(*signed(STATEMENT, token))


def test_a_certificate_chain_is_checked_link_by_link(keys):
    chain = x5c(keys["issued"], keys["authority"])

    verify_signed_statement(
        *signed(STATEMENT, jws(payload(STATEMENT), keys["signer"], headers={"x5c": chain}))
    )


def test_a_signature_without_certificate_as_the_conformance_suite_sends_it(keys):
    verify_signed_statement(*signed(STATEMENT, jws(payload(STATEMENT), keys["other"], "RS384")))


def test_a_statement_without_signature_passes_untouched():
    other = {"usageType": "http://example.com/attachment-usage/test", "sha2": "0" * 64}

    verify_signed_statement({**STATEMENT, "attachments": [other]}, {})
    verify_signed_statement(STATEMENT, {})


def test_what_the_lrs_assigns_and_serialisation_differences_are_ignored(keys):
    original = {key: copy.deepcopy(value) for key, value in STATEMENT.items() if key != "id"}
    received = copy.deepcopy(STATEMENT)
    received["actor"]["member"].reverse()
    received["actor"]["mbox"] = "mailto:teampb@EXAMPLE.com"
    received["context"]["registration"] = received["context"]["registration"].upper()
    received["context"]["contextActivities"]["parent"] = {
        "id": "http://www.example.com/meetings/series/267"
    }
    received["timestamp"] = "2013-05-18T07:32:34.804+02:00"
    received["result"]["score"]["raw"] = 1.0
    # Durations are compared to the hundredth of a second (xAPI 2.0, 4.2.7).
    original["result"]["duration"] = "P1DT12H36M0.1237S"
    received["result"]["duration"] = "P1DT12H36M0.12S"
    received.update(
        stored="2024-01-01T00:00:00Z",
        version="1.0.0",
        authority={
            "objectType": "Agent",
            "account": {"homePage": "http://lrs.example", "name": "x"},
        },
    )
    token = jws(payload(original), keys["signer"], headers={"x5c": x5c(keys["self-signed"])})

    verify_signed_statement(*signed(received, token))


def test_a_payload_that_keeps_the_other_attachments(keys):
    other = {
        "usageType": "http://example.com/attachment-usage/test",
        "sha2": "0" * 64,
        "fileUrl": "http://x.example/f",
    }
    statement = {**STATEMENT, "attachments": [other]}
    received, parts = signed(statement, jws(payload(statement), keys["signer"]))

    verify_signed_statement(received, parts)
    received["attachments"].reverse()
    verify_signed_statement(received, parts)


def test_a_signature_followed_by_a_line_break(keys):
    token = jws(payload(STATEMENT), keys["signer"], headers={"x5c": x5c(keys["self-signed"])})

    verify_signed_statement(*signed(STATEMENT, token + "\r\n"))


# ---------------------------------------------------------------- refused


def test_a_signature_attachment_that_is_not_octet_stream(keys):
    received, parts = signed(
        STATEMENT, jws(payload(STATEMENT), keys["signer"]), "text/plain; charset=ascii"
    )

    assert refusal(received, parts) == (
        PREFIX + "contentType must be application/octet-stream, not 'text/plain; charset=ascii'"
    )


def test_a_signature_attachment_without_its_data(keys):
    received, _ = signed(STATEMENT, jws(payload(STATEMENT), keys["signer"]))
    sha2 = received["attachments"][0]["sha2"]

    assert refusal(received, {}) == PREFIX + f"the request has no part with its data (sha2 {sha2})"


def test_an_hmac_algorithm(keys):
    token = jws(payload(STATEMENT), b"a secret shared by both ends, 32+ bytes long", "HS256")

    assert refusal(*signed(STATEMENT, token)) == (
        PREFIX + "the JWS algorithm must be RS256, RS384 or RS512, not 'HS256'"
    )


def test_no_algorithm_at_all():
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(payload(STATEMENT)).rstrip(b"=").decode()

    assert refusal(*signed(STATEMENT, f"{header}.{body}.")) == (
        PREFIX + "the JWS algorithm must be RS256, RS384 or RS512, not 'none'"
    )


def test_a_payload_that_is_not_json(keys):
    broken = json.dumps(STATEMENT).replace('"', "'", 1).encode()

    assert (
        refusal(*signed(STATEMENT, jws(broken, keys["signer"])))
        == PREFIX + "the JWS payload is not valid JSON"
    )


def test_a_payload_that_is_not_a_statement_object(keys):
    token = jws(json.dumps([STATEMENT]).encode(), keys["signer"])

    assert (
        refusal(*signed(STATEMENT, token))
        == PREFIX + "the JWS payload is not a JSON object (a statement)"
    )


def test_a_tampered_statement(keys):
    token = jws(payload(STATEMENT), keys["signer"], headers={"x5c": x5c(keys["self-signed"])})
    received, parts = signed(STATEMENT, token)
    received["result"]["success"] = False

    assert (
        refusal(received, parts)
        == PREFIX + "the JWS payload is not this statement: 'result' differs"
    )


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        (lambda s: s["actor"]["member"].pop(), "'actor' differs"),
        (lambda s: s["verb"]["display"].update({"en-US": "left"}), "'verb' differs"),
        (lambda s: s["result"]["score"].update(raw=True), "'result' differs"),
        (lambda s: s.pop("context"), "the statement lacks 'context'"),
        (lambda s: s.update(extra="x"), "the JWS payload lacks 'extra'"),
        (lambda s: s.update(timestamp="2013-05-18T05:32:35.804+00:00"), "'timestamp' differs"),
        (lambda s: s["result"].update(duration="PT1.01S"), "'result' differs"),
    ],
)
def test_every_difference_that_the_lrs_could_not_have_made(keys, change, difference):
    received, parts = signed(STATEMENT, jws(payload(STATEMENT), keys["signer"]))
    change(received)

    assert (
        refusal(received, parts) == PREFIX + "the JWS payload is not this statement: " + difference
    )


def test_the_payload_of_another_statement(keys):
    another = {**STATEMENT, "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}

    assert refusal(*signed(STATEMENT, jws(payload(another), keys["signer"]))) == (
        PREFIX + "the JWS payload is not this statement: 'id' differs"
    )


def test_a_signature_by_another_key_than_the_certificates(keys):
    token = jws(payload(STATEMENT), keys["other"], "RS512", {"x5c": x5c(keys["self-signed"])})

    assert refusal(*signed(STATEMENT, token)) == (
        PREFIX + "the JWS signature does not verify with its x5c certificate"
    )


def test_a_signature_altered_after_signing(keys):
    token = jws(payload(STATEMENT), keys["signer"], headers={"x5c": x5c(keys["self-signed"])})
    header, body, signature = token.split(".")
    forged = f"{header}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"

    assert refusal(*signed(STATEMENT, forged)).endswith("does not verify with its x5c certificate")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b"not a signature",
            "the JWS is not in compact serialization (three base64url parts joined by '.')",
        ),
        (b'{"payload":"e30","signatures":[]}', "the JWS is not in compact serialization"),
        (b"a.b.c.d", "the JWS is not in compact serialization"),
        ("é.b.c".encode(), "the JWS is not ASCII text"),
        (b"a.b.c", "the JWS is malformed: Invalid header padding"),
        (b"e30.!!!!.e30", "the JWS is not in compact serialization"),
        (b"e30=.e30.e30", "the JWS is not in compact serialization"),
        (b"e30.e30.e30", "the JWS algorithm must be RS256, RS384 or RS512, not None"),
        (b"W10.e30.e30", "the JWS is malformed: Invalid header string: must be a json object"),
    ],
)
def test_what_is_not_a_jws(content, reason):
    assert refusal(*signed(STATEMENT, content)).startswith(PREFIX + reason)


@pytest.mark.parametrize(
    ("chain", "reason"),
    [
        ("MIIB", "the x5c header must be a non-empty array of base64 certificates"),
        ([], "the x5c header must be a non-empty array of base64 certificates"),
        ([1], "the x5c header must be a non-empty array of base64 certificates"),
        (["not base64!"], "x5c certificate 1 is not valid base64"),
        (["AAAA"], "x5c certificate 1 is not a DER X.509 certificate"),
    ],
)
def test_a_malformed_certificate_chain(keys, chain, reason):
    token = jws(payload(STATEMENT), keys["signer"], headers={"x5c": chain})

    assert refusal(*signed(STATEMENT, token)) == PREFIX + reason


def test_a_chain_whose_links_do_not_hold(keys):
    chain = x5c(keys["issued"], keys["other-self-signed"])
    token = jws(payload(STATEMENT), keys["signer"], headers={"x5c": chain})

    assert (
        refusal(*signed(STATEMENT, token))
        == PREFIX + "x5c certificate 1 is not issued by certificate 2"
    )


def test_a_certificate_without_rsa_key(keys):
    elliptic = ec.generate_private_key(ec.SECP256R1())
    token = jws(
        payload(STATEMENT), keys["signer"], headers={"x5c": x5c(certificate(elliptic, "ec"))}
    )

    assert (
        refusal(*signed(STATEMENT, token))
        == PREFIX + "the x5c certificate does not hold an RSA key"
    )


def test_the_failing_signature_is_named_by_its_position(keys):
    statement = {
        **STATEMENT,
        "attachments": [{"usageType": "http://example.com/other", "sha2": "0" * 64}],
    }
    received, parts = signed(statement, b"x")

    assert refusal(received, parts).startswith("attachment 2 (signature): ")


# ---------------------------------------------------------------- shared corpus


def corpus_statements() -> list[Any]:
    folder = CORPUS / "xapi"
    files = sorted(folder.glob("**/*.json")) if folder.is_dir() else []
    if not files:
        reason = f"no xAPI examples in {folder} (set KALAN_CORPUS)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    return [pytest.param(path, id=path.stem) for path in files if path.stem[0] == "A"]


def test_the_corpus_signed_examples(keys):
    folder = CORPUS / "xapi"
    if not folder.is_dir():
        pytest.skip(f"the xAPI corpus is not at {folder} (set KALAN_CORPUS)")
    examples = [
        path
        for path in sorted(folder.glob("**/*.json"))
        if SIGNATURE_USAGE in path.read_text("utf-8")
    ]
    if not examples:
        pytest.skip(f"no signed statement in {folder}: the spec's Appendix D was not extracted")
    for path in examples:
        statement = json.loads(path.read_text("utf-8"))
        attachment = next(a for a in statement["attachments"] if a["usageType"] == SIGNATURE_USAGE)
        with pytest.raises(SignatureInvalid, match="has no part with its data"):
            verify_signed_statement(statement, {})
        assert attachment["contentType"] == "application/octet-stream"


@pytest.mark.parametrize("path", corpus_statements())
def test_the_corpus_statements_signed_and_verified(keys, path):
    statement = json.loads(path.read_text("utf-8"))
    token = jws(payload(statement), keys["signer"], "RS512", {"x5c": x5c(keys["self-signed"])})
    received, parts = signed(statement, token)

    verify_signed_statement(received, parts)
    received["verb"]["id"] += "-changed"
    assert refusal(received, parts).endswith("'verb' differs")


# ---------------------------------------------------------------- a whole request


def suite_request(statement: dict[str, Any], token: bytes, content_type: str) -> tuple[bytes, str]:
    """A request framed as the conformance suite frames its signed statements."""
    received, parts = signed(statement, token, content_type)
    [part] = parts.values()
    boundary = "-------------1234567890"
    body = b"".join(
        [
            f"\r\n--{boundary}\r\nContent-Type:application/json\r\n\r\n".encode(),
            json.dumps(received).encode(),
            f"\r\n--{boundary}\r\nContent-Type:{content_type}\r\nContent-Transfer-Encoding:binary"
            f"\r\nX-Experience-API-Hash:{part.sha2}\r\n\r\n".encode(),
            part.content,
            f"\r\n--{boundary}--".encode(),
        ]
    )
    return body, f"multipart/mixed; boundary={boundary}"


def receive(body: bytes, content_type: str) -> None:
    mixed = parse_mixed(body, content_type)
    statements = [json.loads(mixed.statements_json)]
    check_attachments(statements, mixed.parts, version="2.0.0")
    for statement in statements:
        verify_signed_statement(statement, mixed.parts)


@pytest.mark.parametrize(
    ("algorithm", "broken", "content_type", "reason"),
    [
        ("RS256", False, "application/octet-stream", None),
        ("RS384", False, "application/octet-stream", None),
        ("RS512", False, "application/octet-stream", None),
        ("HS256", False, "application/octet-stream", "the JWS algorithm must be"),
        ("RS256", True, "application/octet-stream", "the JWS payload is not valid JSON"),
        ("RS256", False, "text/plain; charset=ascii", "contentType must be"),
    ],
)
def test_the_conformance_suite_requests(keys, algorithm, broken, content_type, reason):
    statement = {key: value for key, value in STATEMENT.items() if key != "attachments"}
    signed_json = json.dumps(statement).replace('"', "'", 1) if broken else json.dumps(statement)
    key = (
        b"-----BEGIN RSA PRIVATE KEY----- used as an HMAC secret"
        if algorithm[0] == "H"
        else keys["signer"]
    )
    body, header = suite_request(
        statement, jws(signed_json.encode(), key, algorithm).encode(), content_type
    )

    if reason is None:
        receive(body, header)
    else:
        with pytest.raises(SignatureInvalid, match=reason):
            receive(body, header)
