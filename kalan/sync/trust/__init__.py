"""Trust between Kalan instances: keys, pairing, signed sync sessions, signed bundles.

Pure functions over bytes and keys: no database, no network, no clock. Every failure
is a TrustError with one line for a person, never a secret. The protocol, and what it
does and does not protect, is described in docs/architecture/sync-trust.md.

Signed material is always `_encode(domain, *fields)`: a domain string, then each
field, each preceded by its length (4 bytes, big-endian), so that no field can be
moved into another and no signature made for one purpose is accepted for another.

One module per part: `keys`, `pairing`, `sessions` and `bundles`, on `_common`
(TrustError, protocol constants, encodings). Import the public names from here.
"""

from kalan.sync.trust._common import (
    BUNDLE_FORMAT,
    CODE_ALPHABET,
    CODE_LENGTH,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    Lookup,
    TrustError,
    gettext_noop,
)
from kalan.sync.trust.bundles import check_chunk, read_manifest, sign_manifest
from kalan.sync.trust.keys import (
    default_key_path,
    instance_key,
    key_id,
    public_from_text,
    public_text,
)
from kalan.sync.trust.pairing import (
    check_pairing_answer,
    check_pairing_request,
    code_matches,
    code_verifier,
    new_pairing_code,
    normalise_code,
    pairing_answer,
    pairing_request,
)
from kalan.sync.trust.sessions import (
    SessionCounter,
    challenge_from_text,
    challenge_text,
    check_message,
    check_session_proof,
    new_challenge,
    session_proof,
    sign_message,
)

__all__ = [
    "BUNDLE_FORMAT",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "MANIFEST_NAME",
    "MAX_MANIFEST_BYTES",
    "Lookup",
    "SessionCounter",
    "TrustError",
    "challenge_from_text",
    "challenge_text",
    "check_chunk",
    "check_message",
    "check_pairing_answer",
    "check_pairing_request",
    "check_session_proof",
    "code_matches",
    "code_verifier",
    "default_key_path",
    "gettext_noop",
    "instance_key",
    "key_id",
    "new_challenge",
    "new_pairing_code",
    "normalise_code",
    "pairing_answer",
    "pairing_request",
    "public_from_text",
    "public_text",
    "read_manifest",
    "session_proof",
    "sign_manifest",
    "sign_message",
]
