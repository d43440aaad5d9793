"""Signed sync sessions: challenges, session proofs, signed messages and their counters."""

import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kalan.sync.trust._common import (
    _KEY_ID,
    _REQUEST,
    _SESSION,
    _SHA256,
    Lookup,
    TrustError,
    _,
    _b64,
    _challenge,
    _encode,
    _text_fields,
    _unb64,
    _utf8,
    _verifies,
)
from kalan.sync.trust.keys import _trusted, key_id


def new_challenge() -> bytes:
    """32 random bytes, issued by a server for one pairing attempt or one sync session."""
    return secrets.token_bytes(32)


def challenge_text(challenge: bytes) -> str:
    """A challenge as text for JSON (URL-safe base64, no padding)."""
    return _b64(_challenge(challenge))


def challenge_from_text(text: str) -> bytes:
    """The challenge written by `challenge_text`; TrustError for anything else."""
    raw = None
    if isinstance(text, str) and len(text) <= 1400:
        raw = _unb64(text, None)
    if raw is None:
        raise TrustError(_("the sync challenge is malformed: start again"))
    return _challenge(raw)


def session_proof(
    client_key: Ed25519PrivateKey, challenge: bytes, server_key_id: str
) -> dict[str, str]:
    """The client's proof for one session: its key id and a signature over the challenge.

    `server_key_id` must be the id of the server key the client trusts (from its
    pairing), not one the server announced: a proof is then good for that server only.
    """
    client_id = key_id(client_key)
    material = _session_material(challenge, server_key_id, client_id)
    return {"key_id": client_id, "signature": _b64(client_key.sign(material))}


def check_session_proof(
    proof: dict[str, Any], challenge: bytes, server_key_id: str, lookup: Lookup
) -> str:
    """The client's key id, once `proof` is its signature for this challenge and server.

    `lookup` gives the trusted public key of a key id, or None. Raises TrustError
    ("unknown instance ...") for a key this server does not trust, and when the proof
    is malformed or made for another challenge or another server.
    """
    malformed = _("the sync session proof is malformed: is the other side a Kalan instance?")
    fields = _text_fields(proof, ("key_id", "signature"), malformed)
    client_id = fields["key_id"]
    signature = _unb64(fields["signature"], 64)
    if not _KEY_ID.fullmatch(client_id) or signature is None:
        raise TrustError(malformed)
    public = _trusted(lookup, client_id)
    if public is None:
        raise TrustError(
            _("unknown instance (key %(key)s): pair it with this instance first")
            % {"key": client_id}
        )
    if not _verifies(public, signature, _session_material(challenge, server_key_id, client_id)):
        raise TrustError(
            _(
                "the sync session proof of key %(key)s does not match this session: it was"
                " made for another challenge or server; start the sync again"
            )
            % {"key": client_id}
        )
    return client_id


def sign_message(
    key: Ed25519PrivateKey,
    session_id: str,
    counter: int,
    method: str,
    path: str,
    body_sha256: str,
) -> str:
    """The signature (text) of one request or response of a session.

    A request is signed by the client, its response by the server with the same
    counter, method and path (full path with its query string) and the SHA-256 (hex)
    of the response body. The HTTP status and headers are not signed.
    """
    return _b64(key.sign(_message_material(session_id, counter, method, path, body_sha256)))


def check_message(
    public: Ed25519PublicKey,
    signature: str,
    session_id: str,
    counter: int,
    method: str,
    path: str,
    body_sha256: str,
) -> None:
    """Accept a message only if `public` signed exactly these fields; else TrustError.

    This does not check the counter's order: feed it to the session's `SessionCounter`.
    """
    material = _message_material(session_id, counter, method, path, body_sha256)
    raw = _unb64(signature, 64)
    if raw is None or not _verifies(public, raw, material):
        raise TrustError(
            _(
                "a sync message's signature does not match: it was changed on the way or"
                " signed by another key; start the sync again"
            )
        )


class SessionCounter:
    """The message counters of one session: each must be greater than the last one seen.

    Counters start at 1. A counter seen before, or smaller than the last, is a replay
    or a reordering and is refused.
    """

    def __init__(self, last: int = 0) -> None:
        self._last = last

    @property
    def last(self) -> int:
        """The greatest counter accepted (or given by `next`) so far."""
        return self._last

    def next(self) -> int:
        """The counter for the next message this side sends."""
        self._last += 1
        return self._last

    def accept(self, counter: int) -> None:
        """Record `counter`; TrustError if it is not greater than the last one."""
        if isinstance(counter, bool) or not isinstance(counter, int):
            raise TrustError(_("a sync message counter must be a whole number"))
        if counter <= self._last:
            raise TrustError(
                _(
                    "sync message %(counter)s came again or out of order (the last was"
                    " %(last)s): it may be a replay; start the sync again"
                )
                % {"counter": counter, "last": self._last}
            )
        self._last = counter


def _session_material(challenge: bytes, server_key_id: str, client_id: str) -> bytes:
    if not isinstance(server_key_id, str) or not _KEY_ID.fullmatch(server_key_id):
        raise TrustError(_("the server's key id must be 16 hexadecimal digits"))
    return _encode(
        _SESSION, _challenge(challenge), server_key_id.encode("ascii"), client_id.encode("ascii")
    )


def _message_material(
    session_id: str, counter: int, method: str, path: str, body_sha256: str
) -> bytes:
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter < 2**64:
        raise TrustError(_("a sync message counter must be a whole number from 0 to 2**64 - 1"))
    if not isinstance(body_sha256, str) or not _SHA256.fullmatch(body_sha256):
        raise TrustError(_("a sync message's body hash must be 64 lowercase hexadecimal digits"))
    if not all(isinstance(text, str) for text in (session_id, method, path)) or not session_id:
        raise TrustError(_("a sync message needs a session id, a method and a path as text"))
    return _encode(
        _REQUEST,
        _utf8(session_id),
        counter.to_bytes(8, "big"),
        _utf8(method),
        _utf8(path),
        body_sha256.encode("ascii"),
    )
