"""Channel manifests: their shape, their signature, and the checks on import.

A manifest is UTF-8 JSON (format "kalan-channel/1", see
docs/architecture/content.md). Its exact bytes are signed with the publisher's
Ed25519 key; the signature travels beside it as base64 text. Nothing from a
manifest is trusted before `parse_signed` has verified the signature and every
field that later code relies on.
"""

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils.translation import gettext as _

from kalan.content.kinds import RESOURCE_KINDS, FileRole, Kind
from kalan.core.errors import ValidationFailed

FORMAT = "kalan-channel/1"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_DEPTH = 50
MAX_MANIFEST_BYTES = 200 * 1024 * 1024


class ManifestError(ValidationFailed):
    """The manifest or its signature is unusable; nothing was imported."""


@dataclass(frozen=True)
class Manifest:
    """A verified manifest: the raw bytes, the parsed data and its tree walked once."""

    raw: bytes
    data: dict[str, Any]

    @property
    def id(self) -> uuid.UUID:
        return uuid.UUID(self.data["id"])

    @property
    def version(self) -> int:
        version: int = self.data["version"]
        return version

    @property
    def title(self) -> str:
        return str(self.data["title"])

    @property
    def public_key(self) -> str:
        return str(self.data["publisher"]["public_key"])

    def nodes(self) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, str]]:
        """Every node with its parent and materialized path, parents first."""
        stack: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = [
            (self.data["root"], None, "0001")
        ]
        while stack:
            node, parent, path = stack.pop()
            yield node, parent, path
            children = node.get("children", [])
            for position in range(len(children) - 1, -1, -1):
                stack.append((children[position], node, f"{path}.{position + 1:04d}"))

    def files(self) -> dict[str, int]:
        """Every file the channel names: sha256 -> size."""
        return {
            f["sha256"]: f["size"] for node, _, _ in self.nodes() for f in node.get("files", [])
        }


# ---------------------------------------------------------------- signing


def public_key_text(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes_raw()).decode("ascii")


def key_fingerprint(public_key: str) -> str:
    """A short, readable form of a publisher key for people to compare."""
    import hashlib

    digest = hashlib.sha256(base64.b64decode(public_key)).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def sign(raw: bytes, key: Ed25519PrivateKey) -> bytes:
    return base64.b64encode(key.sign(raw)) + b"\n"


def dump(data: dict[str, Any]) -> bytes:
    """The bytes of a manifest as written by Kalan (stable order, UTF-8)."""
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def parse_signed(raw: bytes, signature: bytes) -> Manifest:
    """Verify the signature, then the shape of the manifest.

    Raises ManifestError with every problem found; the caller writes nothing.
    """
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError("the channel manifest is too large")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"the channel manifest is not valid JSON ({error})") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ManifestError(f"this is not a Kalan channel manifest (expected format {FORMAT})")
    _verify_signature(raw, signature, data.get("publisher"))
    problems = list(_check_channel(data))
    if problems:
        raise ManifestError(
            f"the channel manifest is invalid: {problems[0]}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            problems,
        )
    return Manifest(raw=raw, data=data)


def _verify_signature(raw: bytes, signature: bytes, publisher: object) -> None:
    if not isinstance(publisher, dict) or not isinstance(publisher.get("public_key"), str):
        raise ManifestError("the channel manifest names no publisher key")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(publisher["public_key"]))
        key.verify(base64.b64decode(signature.strip(), validate=True), raw)
    except (ValueError, binascii.Error) as error:
        raise ManifestError(_("the channel signature or publisher key is malformed")) from error
    except InvalidSignature as error:
        raise ManifestError(
            _(
                "the channel signature does not match its manifest: the package was altered"
                " or damaged"
            )
        ) from error


# ---------------------------------------------------------------- shape


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _check_channel(data: dict[str, Any]) -> Iterator[str]:
    if not _is_uuid(data.get("id")):
        yield "the channel id is not a UUID"
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        yield "the channel version is not a positive whole number"
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        yield "the channel has no title"
    root = data.get("root")
    if not isinstance(root, dict) or root.get("kind") != Kind.TOPIC:
        yield "the channel has no root topic"
        return
    seen: set[str] = set()
    yield from _check_node(root, depth=0, seen=seen)


def _check_node(node: object, *, depth: int, seen: set[str]) -> Iterator[str]:
    if not isinstance(node, dict):
        yield "a node is not an object"
        return
    label = str(node.get("title") or node.get("id"))[:80]
    node_id = node.get("id")
    if not _is_uuid(node_id):
        yield f"{label!r} has no valid id"
    elif node_id in seen:
        yield f"{label!r} repeats the id {node_id}"
    else:
        seen.add(str(node_id))
    if not isinstance(node.get("title"), str) or not node["title"].strip():
        yield f"a node ({node_id}) has no title"
    kind = node.get("kind")
    if kind == Kind.TOPIC:
        children = node.get("children", [])
        if depth >= MAX_DEPTH or not isinstance(children, list):
            yield f"{label!r}: topics are nested too deep or children is not a list"
            return
        for child in children:
            yield from _check_node(child, depth=depth + 1, seen=seen)
    elif kind in RESOURCE_KINDS:
        yield from _check_resource(node, label)
    else:
        yield f"{label!r} has an unknown kind {kind!r}"


def _check_resource(node: dict[str, Any], label: str) -> Iterator[str]:
    for name in ("grade_levels", "subjects", "curriculum_codes", "accessibility"):
        value = node.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            yield f"{label!r}: {name} must be a list of texts"
    files = node.get("files")
    if not isinstance(files, list):
        yield f"{label!r} lists no files"
        return
    roles = FileRole.values
    for entry in files:
        if not isinstance(entry, dict) or not SHA256.match(str(entry.get("sha256", ""))):
            yield f"{label!r} names a file without a valid SHA-256"
            continue
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            yield f"{label!r} names a file without a valid size"
        if entry.get("role") not in roles:
            yield f"{label!r} names a file with an unknown role {entry.get('role')!r}"
    mains = [f for f in files if isinstance(f, dict) and f.get("role") == FileRole.MAIN]
    if len(mains) != 1:
        yield f"{label!r} must have exactly one main file"
    entry_path = node.get("entry", "")
    if not isinstance(entry_path, str) or entry_path.startswith("/") or ".." in entry_path:
        yield f"{label!r} has an unsafe entry path"
