"""Signed bundles: the manifest, its signature, and the check of each chunk it lists."""

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.sync.trust._common import (
    _BUNDLE,
    _CHUNK_NAME,
    _KEY_ID,
    _SHA256,
    _SIGNATURE_FIELDS,
    BUNDLE_FORMAT,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    Lookup,
    TrustError,
    _,
    _b64,
    _canonical,
    _encode,
    _is_count,
    _is_uuid,
    _public_from_raw,
    _unb64,
    _verifies,
    gettext_noop,
)
from kalan.sync.trust.keys import _trusted, key_id, public_text


def sign_manifest(key: Ed25519PrivateKey, manifest: dict[str, Any]) -> bytes:
    """The bytes of manifest.json: canonical JSON of `manifest` with its signature.

    Canonical JSON: keys sorted, no spaces, UTF-8. The signature covers the canonical
    manifest; `signature`, `signer` (key id) and `public_key` are added beside its
    fields. Raises TrustError, signing nothing, when a required field is missing or of
    the wrong type, or the manifest already holds one of those three names.
    """
    if any(name in manifest for name in _SIGNATURE_FIELDS):
        raise TrustError(
            _("a bundle manifest to sign must not hold signature, signer or public_key")
        )
    try:
        plain = json.loads(_canonical(manifest))  # exactly what a reader will see
    except (TypeError, ValueError) as error:
        raise TrustError(_("a bundle manifest must hold JSON values only")) from error
    problem = _manifest_problem(plain)
    if problem:
        raise TrustError(_("cannot sign this bundle manifest: %(problem)s") % {"problem": problem})
    signature = key.sign(_encode(_BUNDLE, _canonical(plain)))
    plain.update(signature=_b64(signature), signer=key_id(key), public_key=public_text(key))
    return _canonical(plain)


def read_manifest(data: bytes, lookup: Lookup) -> dict[str, Any]:
    """The manifest in `data`, once it is proven unchanged and signed by a trusted key.

    Checks, in order: canonical JSON as `sign_manifest` writes it (any other byte is a
    change), the signature fields, that `lookup` trusts the signer's key id and holds
    the same public key as the one embedded, the signature, then every required field.
    Returns the whole document (signature fields included). Raises TrustError.

    Left to the caller: that `sender` is the instance of the `signer` key, that
    `receiver` is this instance or null, that `bundle_id` was never applied here (a
    replayed bundle), and `check_chunk` for every chunk before applying any.
    """
    document = _parse_canonical(data)
    signer, embedded, signature = _signature_fields(document)
    public = _trusted(lookup, signer)
    if public is None:
        raise TrustError(
            _(
                "this bundle was made by an instance this one does not trust (key %(key)s):"
                " pair them first"
            )
            % {"key": signer}
        )
    if public.public_bytes_raw() != embedded:
        raise TrustError(
            _(
                "this bundle carries another key than the one trusted for %(key)s: it was"
                " not made by that instance; do not import it"
            )
            % {"key": signer}
        )
    manifest = {name: value for name, value in document.items() if name not in _SIGNATURE_FIELDS}
    if not _verifies(public, signature, _encode(_BUNDLE, _canonical(manifest))):
        raise TrustError(_damaged_manifest())
    problem = _manifest_problem(manifest)
    if problem:
        raise TrustError(_("the bundle manifest is not valid: %(problem)s") % {"problem": problem})
    return document


def check_chunk(path: Path, entry: dict[str, Any]) -> None:
    """Accept the file at `path` only if it has the size and SHA-256 `entry` lists.

    Reads the file in blocks (bounded memory) and stops early when it is too long.
    Raises TrustError naming the chunk when it is missing, truncated, extended or
    altered. Apply the bytes checked here (a copy only this instance writes), not a
    file that could change after the check.
    """
    problem = _chunk_problem(entry)
    if problem:
        raise TrustError(_("a chunk of the bundle manifest %(problem)s") % {"problem": problem})
    name, size, sha256 = entry["name"], entry["size"], entry["sha256"]
    digest, seen = _hash_file(path, name, size)
    if seen < size:
        raise TrustError(
            _("chunk %(name)s is truncated (%(seen)s of %(size)s bytes): copy the bundle again")
            % {"name": name, "seen": seen, "size": size}
        )
    if not hmac.compare_digest(digest, sha256):
        raise TrustError(
            _(
                "chunk %(name)s was altered (its SHA-256 differs from the manifest):"
                " copy the bundle again"
            )
            % {"name": name}
        )


def _hash_file(path: Path, name: str, limit: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    seen = 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                seen += len(block)
                if seen > limit:
                    raise TrustError(
                        _("chunk %(name)s is longer than the manifest says: copy the bundle again")
                        % {"name": name}
                    )
                digest.update(block)
    except FileNotFoundError as error:
        raise TrustError(
            _("chunk %(name)s is missing from the bundle: copy the bundle again") % {"name": name}
        ) from error
    except OSError as error:
        raise TrustError(
            _("cannot read chunk %(name)s of the bundle: %(reason)s")
            % {"name": name, "reason": error.strerror or type(error).__name__}
        ) from error
    return digest.hexdigest(), seen


def _damaged_manifest() -> str:
    return _("the bundle manifest was changed or damaged after it was made: copy the bundle again")


def _parse_canonical(data: bytes) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_MANIFEST_BYTES:
        raise TrustError(_("the bundle manifest is too large, or not bytes"))
    try:
        document = json.loads(bytes(data).decode("utf-8"))
        canonical = _canonical(document)
    except (ValueError, TypeError, RecursionError) as error:  # UnicodeError is a ValueError
        raise TrustError(_damaged_manifest()) from error
    if canonical != data or not isinstance(document, dict):
        raise TrustError(_damaged_manifest())
    return document


def _signature_fields(document: dict[str, Any]) -> tuple[str, bytes, bytes]:
    signer = document.get("signer")
    embedded = _unb64(document.get("public_key"), 32)
    signature = _unb64(document.get("signature"), 64)
    if (
        not isinstance(signer, str)
        or not _KEY_ID.fullmatch(signer)
        or embedded is None
        or signature is None
    ):
        raise TrustError(
            _(
                "the bundle manifest is not signed, or its signature fields are damaged:"
                " copy the bundle again"
            )
        )
    if key_id(_public_from_raw(embedded)) != signer:
        raise TrustError(_damaged_manifest())
    return signer, embedded, signature


# (field, check, what it must be) for every required field of a bundle manifest.
_MANIFEST_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("format", lambda value: value == BUNDLE_FORMAT, gettext_noop('"kalan-sync-bundle/1"')),
    ("bundle_id", lambda value: _is_uuid(value, version=4), gettext_noop("a UUID4 as text")),
    ("sender", lambda value: _is_uuid(value), gettext_noop("an instance UUID as text")),
    (
        "receiver",
        lambda value: value is None or _is_uuid(value),
        gettext_noop("an instance UUID as text, or null"),
    ),
    ("created_hlc", lambda value: _is_count(value), gettext_noop("a whole number ≥ 0")),
    ("chunks", lambda value: isinstance(value, list), gettext_noop("a list")),
    ("positions", lambda value: isinstance(value, dict), gettext_noop("an object")),
)


def _manifest_problem(manifest: object) -> str | None:
    if not isinstance(manifest, dict):
        return _("it is not a JSON object")
    for name, valid, wanted in _MANIFEST_RULES:
        if name not in manifest:
            return _("the field %(field)s is missing") % {"field": name}
        if not valid(manifest[name]):
            return _("%(field)s must be %(wanted)s") % {"field": name, "wanted": _(wanted)}
    folded: set[str] = set()
    for position, entry in enumerate(manifest["chunks"], start=1):
        problem = _chunk_problem(entry)
        if problem:
            return _("chunk %(chunk)s %(problem)s") % {"chunk": position, "problem": problem}
        if entry["name"].casefold() in folded:  # USB sticks often ignore case
            return _("chunk %(name)s is listed twice") % {"name": entry["name"]}
        folded.add(entry["name"].casefold())
    return None


def _chunk_problem(entry: object) -> str | None:
    if not isinstance(entry, dict):
        return _("is not an object with name, sha256 and size")
    name = entry.get("name")
    if (
        not isinstance(name, str)
        or not _CHUNK_NAME.fullmatch(name)
        or name.casefold() == MANIFEST_NAME
    ):
        return _("has no plain file name (letters, digits, '.', '_', '-'; not manifest.json)")
    if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
        return _("(%(name)s) has no SHA-256 of 64 lowercase hex digits") % {"name": name}
    if not _is_count(entry.get("size")):
        return _("(%(name)s) has no size in bytes") % {"name": name}
    return None
