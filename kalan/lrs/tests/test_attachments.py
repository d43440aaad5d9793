"""Multipart/mixed statement bodies: parsing, refusals with their reasons, attachment matching."""

import hashlib
import json
import time

import pytest

from kalan.lrs.attachments import (
    AttachmentsInvalid,
    MixedBody,
    Part,
    build_mixed,
    check_attachments,
    parse_mixed,
)

BOUNDARY = "-------314159265358979323846"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"
TEXT = b"here is a simple attachment"
TEXT_SHA2 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
STATEMENT = {
    "actor": {"mbox": "mailto:sample.agent@example.com", "objectType": "Agent"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
    "object": {"id": "http://www.example.com/tincan/activities/multipart"},
}


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def attachment(sha2: object, **extra: object) -> dict[str, object]:
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": 27,
        "sha2": sha2,
        **extra,
    }


def statement_with(*attachments: dict[str, object]) -> dict[str, object]:
    return {**STATEMENT, "attachments": list(attachments)}


def multipart(*parts: tuple[list[str], bytes], boundary: str = BOUNDARY, end: bytes = b"") -> bytes:
    """A body written by hand: each part is (header lines, content)."""
    chunks = []
    for headers, content in parts:
        head = "".join(f"{line}\r\n" for line in headers).encode("latin-1")
        chunks.append(f"--{boundary}\r\n".encode() + head + b"\r\n" + content + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--".encode() + end


def json_part(statement: object = None) -> tuple[list[str], bytes]:
    body = json.dumps(statement_with(attachment(TEXT_SHA2)) if statement is None else statement)
    return ["Content-Type: application/json"], body.encode()


def text_part(*headers: str, content: bytes = TEXT) -> tuple[list[str], bytes]:
    default = [
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: binary",
        f"X-Experience-API-Hash: {TEXT_SHA2}",
    ]
    return list(headers) if headers else default, content


VALID = multipart(json_part(), text_part())


def refusal(body: bytes, content_type: str = CONTENT_TYPE) -> str:
    with pytest.raises(AttachmentsInvalid) as caught:
        parse_mixed(body, content_type)
    return str(caught.value)


# ---------------------------------------------------------------- accepted bodies


def test_a_valid_body_gives_the_statements_and_a_part_by_sha2():
    mixed = parse_mixed(VALID, CONTENT_TYPE)

    assert json.loads(mixed.statements_json)["attachments"][0]["sha2"] == TEXT_SHA2
    assert mixed.parts == {TEXT_SHA2: Part(TEXT_SHA2, "text/plain", TEXT)}


def test_the_spec_example_with_a_quoted_boundary_and_headers_without_spaces():
    boundary = "abcABC0123'()+_,-./:=?"
    body = (
        f"--{boundary}\r\nContent-Type:application/json\r\n\r\n"
        + json.dumps(statement_with(attachment(TEXT_SHA2, contentType="text/plain; charset=ascii")))
        + f"\r\n--{boundary}\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\n"
        f"X-Experience-API-Hash:{TEXT_SHA2}\r\n\r\nhere is a simple attachment\r\n--{boundary}--"
    ).encode()

    mixed = parse_mixed(body, f'multipart/mixed; boundary="{boundary}"')

    assert mixed.parts[TEXT_SHA2].content == TEXT


def test_a_body_as_the_conformance_suite_signs_it_leading_crlf_no_final_crlf():
    statement = json.dumps(statement_with(attachment(TEXT_SHA2))).encode()
    body = (
        f"\r\n--{BOUNDARY}\r\nContent-Type:application/json\r\n\r\n".encode()
        + statement
        + f"\r\n--{BOUNDARY}\r\nContent-Type:application/octet-stream\r\n"
        f"Content-Transfer-Encoding:binary\r\nX-Experience-API-Hash:{TEXT_SHA2}\r\n\r\n".encode()
        + TEXT
        + f"\r\n--{BOUNDARY}--".encode()
    )

    assert parse_mixed(body, CONTENT_TYPE).statements_json == statement


def test_tolerated_forms():
    body = multipart(
        (["content-type: Application/JSON; charset=utf-8"], b"[]"),
        (
            [
                "x-experience-api-hash: " + TEXT_SHA2.upper(),
                "Content-Disposition: attachment;",
                '  filename="text_data.txt"',
            ],
            TEXT,
        ),
        end=b"\r\n\r\n",
    ).replace(b"--\r\n", b"-- \t\r\n", 1)
    body = body.replace(f"--{BOUNDARY}\r\n".encode(), f"--{BOUNDARY} \t\r\n".encode())

    mixed = parse_mixed(body, f"Multipart/Mixed; charset=x; Boundary={BOUNDARY};")

    assert mixed.parts[TEXT_SHA2] == Part(TEXT_SHA2, "", TEXT)


def test_a_part_without_content_transfer_encoding_is_taken_as_binary():
    mixed = parse_mixed(
        multipart(json_part(), text_part(f"X-Experience-API-Hash: {TEXT_SHA2}")), CONTENT_TYPE
    )

    assert mixed.parts[TEXT_SHA2].content == TEXT


@pytest.mark.parametrize("algorithm", ["sha224", "sha256", "sha384", "sha512"])
def test_every_sha2_length_is_checked(algorithm):
    digest = hashlib.new(algorithm, TEXT).hexdigest()

    mixed = parse_mixed(
        multipart(json_part(), text_part(f"X-Experience-API-Hash: {digest}")), CONTENT_TYPE
    )

    assert list(mixed.parts) == [digest]


def test_the_same_attachment_sent_twice_is_kept_once():
    mixed = parse_mixed(multipart(json_part(), text_part(), text_part()), CONTENT_TYPE)

    assert list(mixed.parts) == [TEXT_SHA2]


def test_a_statements_only_body_has_no_parts():
    mixed = parse_mixed(multipart(json_part({**STATEMENT})), CONTENT_TYPE)

    assert mixed.parts == {}


# ---------------------------------------------------------------- round trip


BINARY = bytes(range(256)) * 3
CRLF_INSIDE = b"\r\n\r\nline\r\n--\r\n--" + b"\r\n"
BOUNDARY_LIKE = f"\r\n--{BOUNDARY}\r\n--{BOUNDARY}--\r\n--".encode()


def test_build_then_parse_returns_every_octet():
    parts = [
        Part(sha256(content), content_type, content)
        for content, content_type in [
            (BINARY, "application/octet-stream"),
            (CRLF_INSIDE, "text/plain; charset=ascii"),
            (BOUNDARY_LIKE, "text/plain"),
            (b"", "application/x-empty"),
        ]
    ]
    statements = json.dumps([statement_with(*(attachment(part.sha2) for part in parts))]).encode()

    body, content_type = build_mixed(statements, parts)
    mixed = parse_mixed(body, content_type)

    assert mixed == MixedBody(statements, {part.sha2: part for part in parts})
    assert content_type.startswith("multipart/mixed; boundary=")


def test_build_writes_a_shared_part_once_and_a_default_content_type():
    part = Part(sha256(TEXT), "", TEXT)

    body, content_type = build_mixed(b"[]", [part, part])

    assert body.count(b"X-Experience-API-Hash") == 1
    assert b"Content-Type: application/octet-stream\r\n" in body
    assert parse_mixed(body, content_type).parts[part.sha2].content == TEXT


def test_build_uses_a_hex_boundary_absent_from_the_contents():
    _, content_type = build_mixed(b"{}", [])
    boundary = content_type.partition("boundary=")[2]

    assert len(boundary) == 32
    assert int(boundary, 16) >= 0


def test_build_refuses_a_content_type_with_a_line_break():
    with pytest.raises(ValueError, match="line break"):
        build_mixed(b"[]", [Part(sha256(TEXT), "text/plain\r\nX-Injected: 1", TEXT)])


def test_fifty_statements_with_a_100_kb_attachment_each_parse_quickly():
    contents = [bytes([n]) * 100_000 for n in range(50)]
    parts = [Part(sha256(content), "image/png", content) for content in contents]
    statements = json.dumps([statement_with(attachment(part.sha2)) for part in parts]).encode()
    body, content_type = build_mixed(statements, parts)

    started = time.perf_counter()
    mixed = parse_mixed(body, content_type)
    elapsed = time.perf_counter() - started

    assert len(mixed.parts) == 50
    assert elapsed < 0.2


# ---------------------------------------------------------------- refused bodies


def test_a_request_content_type_that_is_not_multipart_mixed():
    assert refusal(VALID, f"multipart/form-data; boundary={BOUNDARY}") == (
        "Content-Type is multipart/form-data, not multipart/mixed"
    )


@pytest.mark.parametrize(
    "content_type", ["multipart/mixed;", "multipart/mixed", "multipart/mixed; charset=x"]
)
def test_a_content_type_without_boundary(content_type):
    assert refusal(VALID, content_type) == "Content-Type has no boundary parameter"


@pytest.mark.parametrize("boundary", ["x" * 71, "with%percent", "ends with space ", ""])
def test_a_boundary_that_rfc_2046_does_not_allow(boundary):
    message = refusal(VALID, f'multipart/mixed; boundary="{boundary}"')

    assert message.startswith("boundary ")
    assert message.endswith("is not valid (RFC 2046 section 5.1.1)")


def test_malformed_content_type_parameters():
    assert refusal(VALID, "multipart/mixed; boundary").startswith(
        "Content-Type parameters are malformed"
    )


def test_a_body_without_the_boundary():
    assert refusal(VALID, "multipart/mixed; boundary=other") == "the body has no boundary line"


def test_statements_before_the_first_boundary():
    statement = json_part()[1]
    body = b"Content-Type: application/json\r\n\r\n" + statement + b"\r\n" + multipart(text_part())

    assert refusal(body) == "the body has text before its first boundary line"


def test_a_first_part_that_is_not_json():
    body = multipart((["Content-Type: text/plain"], json_part()[1]), text_part())

    assert refusal(body) == "part 1: Content-Type must be application/json, not 'text/plain'"


def test_a_first_part_without_content_type():
    body = multipart(([], json_part()[1]), text_part())

    assert refusal(body) == "part 1: missing Content-Type header (must be application/json)"


def test_a_missing_boundary_between_parts_leaves_no_statement_json():
    body = VALID.replace(
        f"\r\n--{BOUNDARY}\r\nContent-Type: text".encode(), b"\r\nContent-Type: text"
    )

    mixed = parse_mixed(body, CONTENT_TYPE)

    assert mixed.parts == {}
    with pytest.raises(json.JSONDecodeError, match="Extra data"):
        json.loads(mixed.statements_json)


def test_a_part_without_hash():
    body = multipart(
        json_part(), text_part("Content-Type: text/plain", "Content-Transfer-Encoding: binary")
    )

    assert refusal(body) == "part 2: missing X-Experience-API-Hash header"


def test_a_part_in_base64():
    body = multipart(
        json_part(),
        text_part("Content-Transfer-Encoding: base64", f"X-Experience-API-Hash: {TEXT_SHA2}"),
    )

    assert refusal(body) == "part 2: Content-Transfer-Encoding must be binary, not 'base64'"


def test_a_part_whose_content_is_not_its_hash():
    other = "b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89"
    body = multipart(json_part(), text_part(f"X-Experience-API-Hash: {other}"))

    assert refusal(body) == "part 2: its content does not match its X-Experience-API-Hash"


@pytest.mark.parametrize("declared", ["abc", "z" * 64, TEXT_SHA2[:-1], "sha256:" + TEXT_SHA2])
def test_a_hash_that_is_not_a_sha2_hex_digest(declared):
    body = multipart(json_part(), text_part(f"X-Experience-API-Hash: {declared}"))

    assert refusal(body) == f"part 2: X-Experience-API-Hash {declared!r} is not a SHA-2 hex digest"


def test_a_header_line_without_name():
    body = multipart(json_part(), text_part(), text_part("Content-Type: text/plain", TEXT_SHA2))

    assert refusal(body) == f"part 3: malformed header line {TEXT_SHA2.encode()[:60]!r}"


def test_a_header_twice():
    hash_header = f"X-Experience-API-Hash: {TEXT_SHA2}"
    body = multipart(json_part(), text_part(hash_header, hash_header))

    assert refusal(body) == "part 2: more than one X-Experience-API-Hash header"


def test_a_bare_line_feed_in_headers():
    body = multipart(
        json_part(), text_part(f"Content-Type: text/plain\nX-Experience-API-Hash: {TEXT_SHA2}")
    )

    assert refusal(body) == "part 2: a header line has a bare CR or LF"


def test_a_content_length_that_is_not_the_parts_length():
    body = multipart(
        json_part(), text_part(f"X-Experience-API-Hash: {TEXT_SHA2}", "Content-Length: 26")
    )

    assert refusal(body) == "part 2: Content-Length '26' is not its 27 octets"


def test_headers_without_the_empty_line():
    body = f"--{BOUNDARY}\r\nContent-Type: application/json\r\n--{BOUNDARY}--".encode()

    assert refusal(body) == "part 1: its headers are not ended by an empty line"


def test_a_truncated_body():
    assert refusal(VALID[: VALID.index(TEXT) + 5]) == "part 2: the body ends inside it"


def test_a_body_cut_at_a_boundary_line():
    body = VALID[: VALID.rindex(f"--{BOUNDARY}--".encode())] + f"--{BOUNDARY}".encode()

    assert refusal(body) == "part 3: the body ends at its boundary line"


def test_a_boundary_line_with_more_text():
    body = VALID.replace(
        f"--{BOUNDARY}\r\nContent-Type: text".encode(),
        f"--{BOUNDARY}X\r\nContent-Type: text".encode(),
    )

    assert refusal(body) == "part 2: its boundary line has text after the boundary"


def test_a_first_boundary_line_with_more_text():
    assert refusal(b"--" + BOUNDARY.encode() + b"0" + VALID[len(BOUNDARY) + 2 :]) == (
        "part 1: its boundary line has text after the boundary"
    )


def test_text_after_the_closing_boundary():
    assert refusal(VALID + b"\r\nsomething else") == "the body has text after its closing boundary"
    assert refusal(VALID + b"garbage") == "the body has text after its closing boundary"


def test_a_body_without_parts():
    assert refusal(f"--{BOUNDARY}--\r\n".encode()) == "the body has no parts"


# ---------------------------------------------------------------- attachments and parts


PART = Part(TEXT_SHA2, "text/plain", TEXT)


def check(statements: list[dict[str, object]], parts: dict[str, Part]) -> None:
    check_attachments(statements, parts, version="1.0.3")


def check_refusal(statements: list[dict[str, object]], parts: dict[str, Part]) -> str:
    with pytest.raises(AttachmentsInvalid) as caught:
        check(statements, parts)
    return str(caught.value)


def test_every_attachment_with_its_part():
    check([statement_with(attachment(TEXT_SHA2))], {TEXT_SHA2: PART})


def test_an_attachment_without_part_nor_file_url():
    message = check_refusal([statement_with(attachment(TEXT_SHA2))], {})

    assert message == (
        "statement 1, attachment 1: no part carries its data"
        f" (sha2 {TEXT_SHA2}) and it has no fileUrl"
    )


def test_a_part_that_no_attachment_names():
    other = sha256(b"here is a third simple attachment")
    parts = {
        TEXT_SHA2: PART,
        other: Part(other, "text/plain", b"here is a third simple attachment"),
    }

    assert check_refusal([statement_with(attachment(TEXT_SHA2))], parts) == (
        f"the part with X-Experience-API-Hash {other} is the data of no attachment"
    )


def test_a_part_in_a_request_without_attachments():
    assert check_refusal([{**STATEMENT}], {TEXT_SHA2: PART}).endswith(
        "is the data of no attachment"
    )


def test_file_url_attachments_need_no_part():
    statements = [statement_with(attachment(TEXT_SHA2, fileUrl="http://over.there.com/file.txt"))]

    check(statements, {})
    check(statements, {TEXT_SHA2: PART})


def test_statements_sharing_one_attachment_share_its_part():
    statements = [
        statement_with(attachment(TEXT_SHA2)),
        statement_with(attachment(TEXT_SHA2.upper())),
    ]

    check(statements, {TEXT_SHA2: PART})


def test_the_second_attachment_of_the_second_statement_is_named():
    other = "7063d0a4cfa93373753ad2f5a6ffcf684559fb1df3c2f0473a14ece7d4edb06a"
    statements = [
        statement_with(attachment(TEXT_SHA2)),
        statement_with(attachment(TEXT_SHA2), attachment(other)),
    ]

    assert check_refusal(statements, {TEXT_SHA2: PART}).startswith("statement 2, attachment 2: ")


def test_substatement_attachments_count():
    substatement = {**statement_with(attachment(TEXT_SHA2)), "objectType": "SubStatement"}
    statements = [{**STATEMENT, "object": substatement}]

    check(statements, {TEXT_SHA2: PART})
    assert check_refusal(statements, {}).startswith("statement 1, SubStatement, attachment 1: ")


@pytest.mark.parametrize(
    ("attachments", "message"),
    [
        (attachment(TEXT_SHA2), "statement 1: attachments must be an array"),
        (["text"], "statement 1, attachment 1: must be an object"),
        ([attachment(12345)], "statement 1, attachment 1: sha2 must be a string"),
    ],
)
def test_malformed_attachments(attachments, message):
    assert check_refusal([{**STATEMENT, "attachments": attachments}], {}) == message


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_both_versions_share_the_rules(version):
    with pytest.raises(AttachmentsInvalid):
        check_attachments([statement_with(attachment(TEXT_SHA2))], {}, version=version)
