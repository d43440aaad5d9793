"""Launching a cmi5 AU (cmi5 spec, section 8): the launch URL and its one-time fetch URL.

An AU is a page inside the course's zip, served by the zip server to a
sandboxed frame (an opaque origin). The launch URL adds the five parameters of
section 8.1 to the AU's own URL:

- endpoint: this hub's xAPI endpoint (/xapi/);
- fetch: a URL the AU POSTs to once to get its authorization token (8.2);
- actor: the learner's Agent (accounts.xapi.actor_for): an account named by the
  learner's id, never their name, which is personal data the AU has no need of;
- registration: the learner's enrolment in the course, stable across launches
  (a UUIDv5 of the learner and the resource);
- activityId: generated here, stable for an AU across registrations and hubs,
  and never the publisher's AU id (8.1: the LMS MUST generate it).

The fetch URL carries a signed ticket naming the learner, the resource, the
registration, the AU and a new session id; it answers {"auth-token": ...}
once. Later calls, expired and forged tickets get the JSON errors of 8.2.3 with
status 200. Which sessions have fetched their token is kept with the learner's
run-time data of the resource (RuntimeState), so the rule holds across server
processes. The token is an HTTP Basic credential (":" + a signed value,
base64) that the LRS will read with read_auth_token().

The session starts when its token is fetched, not when the page is shown: an
AU can do nothing before, and a page shown but never opened (an OwnWindow
link not followed) starts nothing. In the transaction that marks the fetch,
`runtime_hooks.cmi5_launched()` tells the LRS, which records the "launched"
statement and writes LMS.LaunchData (cmi5 9.3.1, 10) before the token is
returned; for that the ticket also carries the hub's address and the AU's
URL without the launch parameters.
"""

import base64
import json
import posixpath
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from kalan.accounts.xapi import actor_for
from kalan.content import runtime_hooks
from kalan.content.models import ContentNode, RuntimeState

FETCH_SALT = "kalan.content.cmi5.fetch"
AUTH_SALT = "kalan.content.cmi5.auth"
SESSION_MAX_AGE = 60 * 60 * 12  # a session lasts at most as long as a sign-in
ENDPOINT_PATH = "/xapi/"
# Registrations are UUIDv5 of (learner, resource) in this namespace; activity ids
# UUIDv5 of the AU's id in the namespace of the resource's id.
REGISTRATION_NAMESPACE = uuid.UUID("0b6f7c52-3a5e-5d7e-9c1e-6b616c616e35")
STATE_KEY = "cmi5_fetched"  # RuntimeState.data[STATE_KEY]: {session id: unix time}

# Error codes of the cmi5 spec, 8.2.3.2.
ALREADY_USED_OR_EXPIRED = "1"
SECURITY_ERROR = "2"
APPLICATION_ERROR = "3"


@dataclass(frozen=True)
class Launch:
    url: str  # path of the AU in the zip server, with the launch parameters
    registration: uuid.UUID
    session: uuid.UUID
    activity_id: str
    actor: dict[str, Any]
    fetch_url: str
    endpoint: str


@dataclass(frozen=True)
class _Ticket:
    """What a fetch URL's signed ticket names."""

    user_id: uuid.UUID
    node_id: uuid.UUID
    session: uuid.UUID
    activity_id: str
    hub_url: str  # this hub's absolute URL ending in "/" ("" in tickets of older versions)
    launch_path: str  # the AU's path and own query string on this hub


@dataclass(frozen=True)
class Cmi5Session:
    """What an auth token stands for: one learner's session in one AU."""

    user_id: uuid.UUID
    node_id: uuid.UUID
    registration: uuid.UUID
    session: uuid.UUID
    activity_id: str


def packaged_member(au_url: str) -> str | None:
    """The zip member an AU url opens, or None when it leaves the package.

    A url with a scheme or a host (another site) and a path that climbs out of
    the package are both refused: Kalan plays only what the package holds.
    """
    parts = urlsplit(au_url.strip())
    if parts.scheme or parts.netloc:
        return None
    member = posixpath.normpath(unquote(parts.path))
    if member in {"", ".", ".."} or member.startswith(("../", "/")):
        return None
    return member


def registration_for(user_id: uuid.UUID, node_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(REGISTRATION_NAMESPACE, f"{user_id}/{node_id}")


def activity_id_for(node_id: uuid.UUID, au_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(node_id, au_id)}"


def build_launch(
    *, hub_url: str, user_id: uuid.UUID, node_id: uuid.UUID, sha256: str, au: dict[str, Any]
) -> Launch:
    """The launch of `au` (an entry of the resource's options["aus"]) for a learner.

    hub_url is this hub's absolute URL ending in "/". Raises ValueError when the
    AU's url is outside the package (check packaged_member() first).
    """
    url = str(au.get("url", ""))
    member = packaged_member(url)
    if member is None:
        raise ValueError(f"cmi5 AU {url!r} is outside the package")
    parts = urlsplit(url.strip())
    registration = registration_for(user_id, node_id)
    session = uuid.uuid4()
    activity_id = activity_id_for(node_id, str(au.get("id", "")))
    actor = actor_for(user_id)
    own_query = f"?{parts.query}" if parts.query else ""
    path = reverse("players:zip-member", args=[sha256, member])
    ticket = signing.dumps(
        {
            "u": str(user_id),
            "n": str(node_id),
            "s": str(session),
            "a": activity_id,
            "h": hub_url,
            "l": f"{path}{own_query}",
        },
        salt=FETCH_SALT,
        compress=True,
    )
    fetch_url = hub_url.rstrip("/") + reverse("players:cmi5-fetch", args=[ticket])
    endpoint = hub_url.rstrip("/") + ENDPOINT_PATH
    parameters = urlencode(
        {
            "endpoint": endpoint,
            "fetch": fetch_url,
            "actor": json.dumps(actor, separators=(",", ":")),
            "registration": str(registration),
            "activityId": activity_id,
        },
        quote_via=quote,
    )
    query = f"{parts.query}&{parameters}" if parts.query else parameters
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return Launch(
        url=f"{path}?{query}{fragment}",
        registration=registration,
        session=session,
        activity_id=activity_id,
        actor=actor,
        fetch_url=fetch_url,
        endpoint=endpoint,
    )


def _error(code: str, text: str) -> dict[str, str]:
    return {"error-code": code, "error-text": text}


def _read_ticket(ticket: str) -> _Ticket | dict[str, str]:
    """The ticket's content, or the JSON error of 8.2.3 it calls for."""
    try:
        data = signing.loads(ticket, salt=FETCH_SALT, max_age=SESSION_MAX_AGE)
    except signing.SignatureExpired:
        return _error(ALREADY_USED_OR_EXPIRED, "The launch has expired; launch the AU again.")
    except signing.BadSignature:
        return _error(SECURITY_ERROR, "The fetch URL is not valid.")
    try:
        return _Ticket(
            user_id=uuid.UUID(data["u"]),
            node_id=uuid.UUID(data["n"]),
            session=uuid.UUID(data["s"]),
            activity_id=str(data["a"]),
            hub_url=str(data.get("h", "")),
            launch_path=str(data.get("l", "")),
        )
    except (KeyError, TypeError, ValueError):
        return _error(SECURITY_ERROR, "The fetch URL is not valid.")


def redeem_fetch_ticket(ticket: str) -> dict[str, str]:
    """The JSON answer of a fetch URL (cmi5 8.2): the auth token once, errors after."""
    read = _read_ticket(ticket)
    if isinstance(read, dict):
        return read
    first = _mark_fetched(read)
    if first is None:
        return _error(APPLICATION_ERROR, "The course is no longer in the library.")
    if not first:
        return _error(ALREADY_USED_OR_EXPIRED, "The authorization token was already returned.")
    registration = registration_for(read.user_id, read.node_id)
    token = Cmi5Session(read.user_id, read.node_id, registration, read.session, read.activity_id)
    return {"auth-token": auth_token(token)}


def _au_of(options: Any, ticket: _Ticket) -> dict[str, Any] | None:
    """The AU of the resource whose generated activity id the ticket names."""
    aus = options.get("aus") if isinstance(options, dict) else None
    for au in aus if isinstance(aus, list) else ():
        if isinstance(au, dict) and activity_id_for(ticket.node_id, str(au.get("id", ""))) == (
            ticket.activity_id
        ):
            return au
    return None


def _launch_event(
    ticket: _Ticket, node: Mapping[str, Any], learner_language: str, au: dict[str, Any]
) -> runtime_hooks.Cmi5Launch:
    hub = ticket.hub_url.rstrip("/")
    return runtime_hooks.Cmi5Launch(
        user_id=ticket.user_id,
        node_id=ticket.node_id,
        registration=registration_for(ticket.user_id, ticket.node_id),
        session=ticket.session,
        activity_id=ticket.activity_id,
        au=au,
        course=node["options"],
        title=str(node["title"]),
        language=str(node["language"] or ""),
        learner_language=learner_language,
        launch_url=f"{hub}{ticket.launch_path}" if hub and ticket.launch_path else "",
        return_url=f"{hub}{reverse('library:resource', args=[ticket.node_id])}" if hub else "",
    )


def _mark_fetched(ticket: _Ticket) -> bool | None:
    """Record that the ticket's session fetched its token: True the first time.

    None when the learner, the resource or its AU is no longer there. The first
    time, the launch is announced (runtime_hooks.cmi5_launched) in the same
    transaction.
    """
    from kalan.accounts.models import User

    node = (
        ContentNode.objects.filter(id=ticket.node_id)
        .values("channel_id", "options", "title", "language")
        .first()
    )
    user = (
        User.objects.filter(id=ticket.user_id, is_active=True)
        .values("school_id", "language")
        .first()
    )
    au = _au_of(node["options"], ticket) if node is not None else None
    if node is None or user is None or au is None:
        return None
    now = int(time.time())
    with transaction.atomic():
        state, _created = RuntimeState.objects.select_for_update().get_or_create(
            user_id=ticket.user_id,
            node_id=ticket.node_id,
            defaults={"channel_id": node["channel_id"], "school_id": user["school_id"], "data": {}},
        )
        fetched = state.data.get(STATE_KEY)
        fetched = fetched if isinstance(fetched, dict) else {}
        if str(ticket.session) in fetched:
            return False
        # Sessions older than a ticket can live are refused by their signature anyway.
        fetched = {key: at for key, at in fetched.items() if now - int(at) < SESSION_MAX_AGE}
        fetched[str(ticket.session)] = now
        state.data = {**state.data, STATE_KEY: fetched}
        state.save(update_fields=["data"])
        language = str(user["language"] or settings.LANGUAGE_CODE)
        runtime_hooks.cmi5_launched(_launch_event(ticket, node, language, au))
    return True


def auth_token(session: Cmi5Session) -> str:
    """An HTTP Basic credential (empty user name, signed password) standing for `session`."""
    signed = signing.dumps(
        {
            "u": str(session.user_id),
            "n": str(session.node_id),
            "r": str(session.registration),
            "s": str(session.session),
            "a": session.activity_id,
        },
        salt=AUTH_SALT,
        compress=True,
    )
    return base64.b64encode(f":{signed}".encode()).decode("ascii")


def read_auth_token(token: str) -> Cmi5Session | None:
    """The session an auth token stands for; None when forged, damaged or expired."""
    try:
        _user, _colon, signed = base64.b64decode(token, validate=True).decode().partition(":")
        data = signing.loads(signed, salt=AUTH_SALT, max_age=SESSION_MAX_AGE)
        return Cmi5Session(
            user_id=uuid.UUID(data["u"]),
            node_id=uuid.UUID(data["n"]),
            registration=uuid.UUID(data["r"]),
            session=uuid.UUID(data["s"]),
            activity_id=str(data["a"]),
        )
    except (ValueError, signing.BadSignature, KeyError, TypeError):  # binascii.Error too
        return None
