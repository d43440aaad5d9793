"""Who is calling the LRS, and what they may read and write.

Three kinds of caller:

- an outside tool with HTTP Basic credentials an admin created (`Credential`):
  it reads and writes every record;
- content launched inside Kalan, with the launch token its player gave it
  (HTTP Basic with an empty user name, see content/cmi5_launch.py): it acts
  for one learner only, in one cmi5 session (`Caller.cmi5_session`). The token
  is refused before the session has fetched it and once the session has
  terminated or been abandoned (cmi5 8.1.2);
- Kalan's own pages, with the signed-in person's session: a learner acts for
  themself, whatever their roles (reports read records through their own
  pages); an instance's superuser reads and writes every record.

A caller acting for one learner may store statements whose actor is that
learner, read that learner's statements and write their state and agent
profile documents; never anyone else's.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone

from kalan.accounts.models import User
from kalan.accounts.xapi import actor_for
from kalan.content.cmi5_launch import read_auth_token
from kalan.lrs.models import Cmi5Session, Credential

AUTHORITY_HOMEPAGE = "https://kalan.invalid/lrs"
# The authority of statements that Kalan's own players and launched content store.
KALAN_AUTHORITY: dict[str, Any] = {
    "objectType": "Agent",
    "account": {"homePage": AUTHORITY_HOMEPAGE, "name": "kalan"},
}


@dataclass(frozen=True)
class Caller:
    authority: dict[str, Any]
    # Set when the caller acts for one learner only.
    learner_id: uuid.UUID | None = None
    # True when the caller came with the session cookie (its writes need the CSRF token).
    by_session: bool = False
    # Set for a cmi5 AU's launch token: the session its statements must follow (cmi5.py).
    cmi5_session: Cmi5Session | None = None
    # The learner's school, when learner_id is set (the scope of their records).
    school_id: uuid.UUID | None = None

    @property
    def known_people(self) -> dict[uuid.UUID, uuid.UUID | None]:
        """The person this caller acts for, and their school: no need to look them up."""
        return {self.learner_id: self.school_id} if self.learner_id else {}

    @property
    def learner_actor(self) -> dict[str, Any] | None:
        return actor_for(self.learner_id) if self.learner_id else None


# The caller of public resources (/xapi/about): acts for a learner who does not exist.
NOBODY = Caller(authority={}, learner_id=uuid.UUID(int=0))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_credentials(*, name: str, created_by: User | None = None) -> tuple[Credential, str]:
    """A new key and secret for an outside tool; the secret is shown once, never stored."""
    secret = secrets.token_urlsafe(30)
    credential = Credential.objects.create(
        name=name.strip(),
        key=secrets.token_hex(10),
        secret_hash=_hash(secret),
        created_by=created_by,
    )
    return credential, secret


def credential_authority(credential: Credential) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "name": credential.name,
        "account": {"homePage": f"{AUTHORITY_HOMEPAGE}/credentials", "name": credential.key},
    }


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _space, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, colon, password = (
            base64.b64decode(value.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


def _by_credential(key: str, secret: str) -> Caller | None:
    credential = Credential.objects.filter(key=key, is_active=True).first()
    if credential is None or not hmac.compare_digest(credential.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        Credential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return Caller(authority=credential_authority(credential))


def _by_launch_token(header: str) -> Caller | None:
    session = read_auth_token(header.partition(" ")[2].strip())
    if session is None:
        return None
    school = User.objects.filter(id=session.user_id, is_active=True).values_list("school_id")
    found = school.first()
    if found is None:
        return None
    launched = Cmi5Session.objects.filter(
        session_id=session.session,
        user_id=session.user_id,
        registration=session.registration,
        activity_id=session.activity_id,
    ).first()
    if launched is None or launched.ended:
        return None
    return Caller(
        authority=KALAN_AUTHORITY,
        learner_id=session.user_id,
        cmi5_session=launched,
        school_id=found[0],
    )


def _by_session(user: User | AnonymousUser) -> Caller | None:
    if not isinstance(user, User) or not user.is_active:
        return None
    if user.is_superuser:
        return Caller(authority=KALAN_AUTHORITY, by_session=True)
    return Caller(
        authority=KALAN_AUTHORITY, learner_id=user.id, by_session=True, school_id=user.school_id
    )


def caller_of(request: HttpRequest, authorization: str) -> Caller | None:
    """The caller a request's Authorization header (or session) names; None if none is valid."""
    if authorization:
        pair = _basic(authorization)
        if pair is None:
            return None
        user, password = pair
        return _by_launch_token(authorization) if not user else _by_credential(user, password)
    return _by_session(request.user)
