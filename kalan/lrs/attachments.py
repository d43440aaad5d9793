"""Statement attachments carried in multipart/mixed bodies (xAPI Communication 1.5.2).

A request body that carries attachment data is a multipart/mixed document (RFC 2046):
the first part holds the statement(s) as application/json, every other part holds the
raw octets of one attachment, named by the SHA-2 of those octets in its
X-Experience-API-Hash header. `parse_mixed` reads such a body, `check_attachments`
matches its parts with the statements' Attachment Objects, and `build_mixed` writes the
same format for GET responses with ``attachments=true``.

What is refused, each with its own reason (400 Bad Request for the caller):

- a Content-Type that is not multipart/mixed or has no valid boundary (XAPI-00131);
- a body whose parts are not framed by the boundary, that ends before the closing
  boundary, or that has text other than blank lines before the first boundary or after
  the last one (XAPI-00130);
- a first part that is not application/json (Communication 1.5.2.s2.b2.b1, XAPI-00134);
- an attachment part without X-Experience-API-Hash, or whose octets do not have that
  SHA-2 (1.5.2.s2.b2.b3, 1.5.2.s1.b4, XAPI-00132), or whose Content-Transfer-Encoding is
  not binary (1.5.2.s2.b2.b4, XAPI-00135); a part without that header is taken as
  binary (1.5.2.s3.b6);
- an attachment without fileUrl whose data is in no part (1.5.2.s3.b5, XAPI-00129), and
  a part that is the data of no attachment (XAPI-00128). Statements that share one
  attachment need one part (1.5.2.s2.b2.b5). The "length" property is not compared with
  the part: the conformance suite itself sends parts whose length differs from it.

The parser works on the bytes with `bytes.find`, without the standard `email` package:
that package is lenient by design (it records defects instead of failing and accepts
bare-LF line ends), so it cannot give a precise reason for a refusal, and it rebuilds
bodies line by line, which is slow for large binary parts.
"""

import hashlib
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CRLF = b"\r\n"
_PADDING = b" \t"
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAMETER = re.compile(rf"\s*;\s*({_TCHARS})\s*=\s*(?:\"((?:[^\"\\\r\n]|\\.)*)\"|([^;\s\"]+))\s*")
# RFC 2046 section 5.1.1: 1 to 70 characters, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(r"[0-9a-f]+")
# SHA-2 digests by the length of their hex form (Communication 1.5.2.s4.b4).
_SHA2_BY_LENGTH = {
    56: ("sha224", "sha512_224"),
    64: ("sha256", "sha512_256"),
    96: ("sha384",),
    128: ("sha512",),
}


class AttachmentsInvalid(ValueError):
    """A multipart body or its attachments break the xAPI rules; the message says which."""


@dataclass(frozen=True)
class Part:
    """The data of one attachment: its SHA-2 (lower-case hex), media type and octets.

    `content_type` is the part's Content-Type header as sent, or "" when the part had none.
    """

    sha2: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class MixedBody:
    """A parsed multipart/mixed request: the statements' JSON and the attachment parts by sha2."""

    statements_json: bytes
    parts: dict[str, Part]


def parse_mixed(body: bytes, content_type_header: str) -> MixedBody:
    """Read a multipart/mixed statement request, checking every part's hash."""
    boundary = _boundary_of(content_type_header)
    ranges = _part_ranges(body, boundary.encode("ascii"))
    statements_json = b""
    parts: dict[str, Part] = {}
    for number, (start, end) in enumerate(ranges, 1):
        headers, content = _read_part(body, start, end, number)
        if number == 1:
            _check_statements_part(headers)
            statements_json = content
            continue
        part = _attachment_part(headers, content, number)
        parts.setdefault(part.sha2, part)
    return MixedBody(statements_json=statements_json, parts=parts)


def check_attachments(
    statements: Sequence[Mapping[str, Any]], parts: Mapping[str, Part], *, version: str
) -> None:
    """Match the statements' Attachment Objects with the parts received.

    `parts` is empty for an application/json request: every attachment must then have a
    fileUrl (Communication 1.5.2.s2.b1). Attachments of a SubStatement count as their
    statement's. `version` is the request's xAPI version; 1.0.3 and 2.0 share these rules.
    """
    referenced: set[str] = set()
    for number, statement in enumerate(statements, 1):
        for where, attachment in _attachments_of(statement, number):
            sha2 = attachment.get("sha2")
            if not isinstance(sha2, str):
                raise AttachmentsInvalid(f"{where}: sha2 must be a string")
            key = sha2.lower()
            referenced.add(key)
            if key not in parts and attachment.get("fileUrl") is None:
                raise AttachmentsInvalid(
                    f"{where}: no part carries its data (sha2 {sha2}) and it has no fileUrl"
                )
    for sha2 in parts:
        if sha2 not in referenced:
            raise AttachmentsInvalid(
                f"the part with X-Experience-API-Hash {sha2} is the data of no attachment"
            )


def build_mixed(statements_json: bytes, parts: Sequence[Part]) -> tuple[bytes, str]:
    """Write statements and attachment data as multipart/mixed; return (body, Content-Type).

    A part whose sha2 was already written is written once. The boundary is hex only, so
    that clients which search it as a regular expression (the conformance suite) find it.
    """
    unique = list({part.sha2: part for part in parts}.values())
    for part in unique:
        if "\r" in part.content_type or "\n" in part.content_type:
            raise ValueError(f"part {part.sha2}: Content-Type has a line break")
    boundary = _fresh_boundary([statements_json, *(part.content for part in unique)])
    dash = b"--" + boundary
    chunks = [dash, b"\r\nContent-Type: application/json\r\n\r\n", statements_json]
    for part in unique:
        content_type = part.content_type or "application/octet-stream"
        chunks += [
            CRLF,
            dash,
            f"\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {part.sha2}\r\n\r\n".encode("latin-1"),
            part.content,
        ]
    chunks += [CRLF, dash, b"--\r\n"]
    return b"".join(chunks), f"multipart/mixed; boundary={boundary.decode('ascii')}"


def media_type(value: str) -> str:
    """The type/subtype of a Content-Type value, lower-case, without its parameters."""
    return value.partition(";")[0].strip().lower()


def _boundary_of(content_type_header: str) -> str:
    essence, semicolon, rest = content_type_header.partition(";")
    kind = essence.strip().lower()
    if kind != "multipart/mixed":
        raise AttachmentsInvalid(f"Content-Type is {kind or 'empty'}, not multipart/mixed")
    parameters = _parameters(semicolon + rest)
    boundary = parameters.get("boundary")
    if boundary is None:
        raise AttachmentsInvalid("Content-Type has no boundary parameter")
    if not _BOUNDARY.fullmatch(boundary):
        raise AttachmentsInvalid(f"boundary {boundary!r} is not valid (RFC 2046 section 5.1.1)")
    return boundary


def _parameters(text: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    position = 0
    while position < len(text):
        if not text[position:].strip(" \t;"):
            break
        found = _PARAMETER.match(text, position)
        if found is None:
            raise AttachmentsInvalid(f"Content-Type parameters are malformed: {text!r}")
        name, quoted, plain = found.groups()
        value = plain if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
        parameters.setdefault(name.lower(), value)
        position = found.end()
    return parameters


def _part_ranges(body: bytes, boundary: bytes) -> list[tuple[int, int]]:
    """Where each part's bytes (headers and content) start and end in `body`."""
    dash = b"--" + boundary
    delimiter = CRLF + dash
    if body.startswith(dash):
        position = len(dash)
    else:
        found = body.find(delimiter)
        if found < 0:
            raise AttachmentsInvalid("the body has no boundary line")
        if body[:found].strip():
            raise AttachmentsInvalid("the body has text before its first boundary line")
        position = found + len(delimiter)
    ranges: list[tuple[int, int]] = []
    while not body.startswith(b"--", position):
        start = _after_boundary_line(body, position, len(ranges) + 1)
        end = body.find(delimiter, start)
        if end < 0:
            raise AttachmentsInvalid(f"part {len(ranges) + 1}: the body ends inside it")
        ranges.append((start, end))
        position = end + len(delimiter)
    if body[position + 2 :].strip():
        raise AttachmentsInvalid("the body has text after its closing boundary")
    if not ranges:
        raise AttachmentsInvalid("the body has no parts")
    return ranges


def _after_boundary_line(body: bytes, position: int, number: int) -> int:
    """Skip the transport padding and CRLF that end a boundary line (RFC 2046)."""
    end = position
    while end < len(body) and body[end] in _PADDING:
        end += 1
    if end >= len(body):
        raise AttachmentsInvalid(f"part {number}: the body ends at its boundary line")
    if not body.startswith(CRLF, end):
        raise AttachmentsInvalid(f"part {number}: its boundary line has text after the boundary")
    return end + len(CRLF)


def _read_part(body: bytes, start: int, end: int, number: int) -> tuple[dict[str, str], bytes]:
    if start == end:
        return {}, b""
    if body.startswith(CRLF, start, end):
        return {}, body[start + len(CRLF) : end]
    split = body.find(CRLF + CRLF, start, end)
    if split < 0:
        raise AttachmentsInvalid(f"part {number}: its headers are not ended by an empty line")
    return _headers(body[start:split], number), body[split + 4 : end]


def _headers(block: bytes, number: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in block.split(CRLF):
        if b"\r" in line or b"\n" in line:
            raise AttachmentsInvalid(f"part {number}: a header line has a bare CR or LF")
        if line[:1] in (b" ", b"\t") and last:
            headers[last] += " " + line.strip(_PADDING).decode("latin-1")
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise AttachmentsInvalid(f"part {number}: malformed header line {line[:60]!r}")
        last = name.decode("ascii").lower()
        if last in headers:
            raise AttachmentsInvalid(f"part {number}: more than one {name.decode('ascii')} header")
        headers[last] = value.strip(_PADDING).decode("latin-1")
    return headers


def _check_statements_part(headers: Mapping[str, str]) -> None:
    content_type = headers.get("content-type")
    if content_type is None:
        raise AttachmentsInvalid("part 1: missing Content-Type header (must be application/json)")
    if media_type(content_type) != "application/json":
        raise AttachmentsInvalid(
            f"part 1: Content-Type must be application/json, not {content_type!r}"
        )


def _attachment_part(headers: Mapping[str, str], content: bytes, number: int) -> Part:
    declared = headers.get("x-experience-api-hash")
    if declared is None:
        raise AttachmentsInvalid(f"part {number}: missing X-Experience-API-Hash header")
    encoding = headers.get("content-transfer-encoding")
    if encoding is not None and encoding.lower() != "binary":
        raise AttachmentsInvalid(
            f"part {number}: Content-Transfer-Encoding must be binary, not {encoding!r}"
        )
    length = headers.get("content-length")
    if length is not None and length != str(len(content)):
        raise AttachmentsInvalid(
            f"part {number}: Content-Length {length!r} is not its {len(content)} octets"
        )
    sha2 = _checked_hash(declared, content, number)
    return Part(sha2=sha2, content_type=headers.get("content-type", ""), content=content)


def _checked_hash(declared: str, content: bytes, number: int) -> str:
    digest = declared.lower()
    names = _SHA2_BY_LENGTH.get(len(digest))
    if names is None or not _HEX.fullmatch(digest):
        raise AttachmentsInvalid(
            f"part {number}: X-Experience-API-Hash {declared!r} is not a SHA-2 hex digest"
        )
    for name in names:
        try:
            actual = hashlib.new(name, content).hexdigest()
        except ValueError:
            continue
        if actual == digest:
            return digest
    raise AttachmentsInvalid(f"part {number}: its content does not match its X-Experience-API-Hash")


def _attachments_of(
    statement: Mapping[str, Any], number: int
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each Attachment Object of a statement and of its SubStatement, with where it is."""
    holders: list[tuple[str, Any]] = [(f"statement {number}", statement)]
    target = statement.get("object")
    if isinstance(target, Mapping) and target.get("objectType") == "SubStatement":
        holders.append((f"statement {number}, SubStatement", target))
    for label, holder in holders:
        attachments = holder.get("attachments")
        if attachments is None:
            continue
        if not isinstance(attachments, list):
            raise AttachmentsInvalid(f"{label}: attachments must be an array")
        for index, attachment in enumerate(attachments, 1):
            where = f"{label}, attachment {index}"
            if not isinstance(attachment, Mapping):
                raise AttachmentsInvalid(f"{where}: must be an object")
            yield where, attachment


def _fresh_boundary(contents: Sequence[bytes]) -> bytes:
    while True:
        boundary = secrets.token_hex(16).encode("ascii")
        if not any(boundary in content for content in contents):
            return boundary
