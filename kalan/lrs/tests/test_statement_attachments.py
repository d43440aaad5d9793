"""Attachments and signed statements through /xapi/statements (multipart/mixed)."""

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from kalan.lrs.attachments import Part, build_mixed, parse_mixed
from kalan.lrs.models import AttachmentContent, Statement
from kalan.lrs.tests.test_signatures import certificate, jws, signed, x5c
from kalan.lrs.tests.xapi_client import Xapi, new_id, statement

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"


@pytest.fixture
def xapi(client: Client) -> Xapi:
    return Xapi(client)


def _with_attachment(content: bytes = CONTENT) -> tuple[dict[str, Any], Part]:
    sha2 = hashlib.sha256(content).hexdigest()
    made = statement(statement_id=new_id())
    made["attachments"] = [
        {
            "usageType": "http://example.org/attachments/certificate",
            "display": {"en-US": "certificate"},
            "contentType": "application/octet-stream",
            "length": len(content),
            "sha2": sha2,
        }
    ]
    return made, Part(sha2, "application/octet-stream", content)


def _post_mixed(xapi: Xapi, statements: Any, parts: list[Part]) -> Any:
    body, content_type = build_mixed(json.dumps(statements).encode(), parts)
    return xapi.request("POST", "statements", raw=body, content_type=content_type)


def test_an_attachment_is_stored_and_returned_byte_for_byte(xapi: Xapi) -> None:
    made, part = _with_attachment()
    response = _post_mixed(xapi, [made], [part])
    assert response.status_code == 200, response.content
    fetched = xapi.get(statementId=made["id"], attachments="true")
    assert fetched.status_code == 200
    mixed = parse_mixed(fetched.content, fetched["Content-Type"])
    assert json.loads(mixed.statements_json)["id"] == made["id"]
    assert mixed.parts[part.sha2].content == CONTENT
    # Without attachments=true the answer is plain JSON.
    assert xapi.get(statementId=made["id"])["Content-Type"] == "application/json"


def test_a_shared_attachment_is_kept_once(xapi: Xapi) -> None:
    first, part = _with_attachment()
    second = {**first, "id": new_id()}
    assert _post_mixed(xapi, [first, second], [part]).status_code == 200
    assert AttachmentContent.objects.count() == 1
    listed = xapi.get(attachments="true")
    mixed = parse_mixed(listed.content, listed["Content-Type"])
    assert len(json.loads(mixed.statements_json)["statements"]) == 2
    assert list(mixed.parts) == [part.sha2]


def test_an_attachment_without_its_part_is_refused(xapi: Xapi) -> None:
    made, _part = _with_attachment()
    response = xapi.post(made)  # application/json: the data is nowhere
    assert response.status_code == 400
    assert "fileUrl" in json.loads(response.content)["error"]
    _other, other_part = _with_attachment(b"other bytes")
    assert _post_mixed(xapi, [made], [other_part]).status_code == 400
    assert not Statement.objects.exists()


def test_a_damaged_part_is_refused(xapi: Xapi) -> None:
    made, part = _with_attachment()
    body, content_type = build_mixed(json.dumps([made]).encode(), [part])
    damaged = body.replace(CONTENT[:100], b"x" * 100, 1)
    response = xapi.request("POST", "statements", raw=damaged, content_type=content_type)
    assert response.status_code == 400
    truncated = xapi.request("POST", "statements", raw=body[:-50], content_type=content_type)
    assert truncated.status_code == 400
    assert not Statement.objects.exists()


@pytest.fixture(scope="module")
def signer() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_signed_statement_is_verified_and_stored(xapi: Xapi, signer: Any) -> None:
    original = statement(statement_id=new_id())
    token = jws(
        json.dumps(original).encode(), signer, headers={"x5c": x5c(certificate(signer, "tool"))}
    )
    received, parts = signed(original, token)
    response = _post_mixed(xapi, [received], list(parts.values()))
    assert response.status_code == 200, response.content
    fetched = xapi.get(statementId=original["id"], attachments="true")
    mixed = parse_mixed(fetched.content, fetched["Content-Type"])
    assert next(iter(mixed.parts.values())).content == token.encode()


def test_a_signature_of_another_statement_is_refused(xapi: Xapi, signer: Any) -> None:
    original = statement(statement_id=new_id())
    token = jws(
        json.dumps(statement(activity="http://example.org/activities/other")).encode(),
        signer,
        headers={"x5c": x5c(certificate(signer, "tool"))},
    )
    received, parts = signed(original, token)
    response = _post_mixed(xapi, [received], list(parts.values()))
    assert response.status_code == 400
    assert "signature" in json.loads(response.content)["error"]
    assert not Statement.objects.exists()
