"""State, activity profile and agent profile documents: reading and writing them.

A document is identified by its kind, its context (activity, agent,
registration) and its id; rows are found by their 64-bit keys
(`keys.document_key`, `keys.document_set_key`) and the real columns, so two
identities that share a key never meet. Every write runs in one transaction
that first locks the document's row. Two writers creating the same document
at once meet on the unique `document_key`: the one that loses sees the
IntegrityError, and its request is decided again against the row the other
wrote, as if it had arrived second.

The rules kept here (xAPI Communication 2.2 and 3.1, both versions):

- a document's ETag is the SHA-1 of its bytes; If-Match and If-None-Match are
  evaluated as RFC 7232 describes for PUT, POST and DELETE, and a failed
  precondition changes nothing (`PreconditionFailed`);
- a PUT without either header follows `UnconditionalPut`, which the resource
  and the xAPI version choose (`DocumentConflict` over an existing document,
  `ConditionRequired` for a new one);
- POST stores a new document as PUT would; over an existing one it merges the
  top-level properties of two JSON objects, both stored and posted as
  application/json, and refuses anything else (`DocumentRefused`);
- a body declared application/json must be JSON (a JSON object for POST).
"""

import datetime as dt
import enum
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from kalan.accounts.models import User
from kalan.accounts.xapi import user_id_of
from kalan.lrs import keys
from kalan.lrs.models import Document

JSON_MEDIA_TYPE = "application/json"
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class DocumentError(Exception):
    """A document request the rules refuse; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PreconditionFailed(DocumentError):
    """If-Match or If-None-Match does not hold for the current document (412)."""


class DocumentConflict(DocumentError):
    """A PUT without a precondition over an existing document (409)."""


class ConditionRequired(DocumentError):
    """A PUT that must carry If-Match or If-None-Match and carries neither (400)."""


class DocumentRefused(DocumentError):
    """A body the resource cannot take: bad JSON, or a merge that is not possible (400)."""


class UnconditionalPut(enum.Enum):
    """What a PUT without If-Match and If-None-Match may do."""

    # Replace or create (the state resource in xAPI 1.0.3).
    OVERWRITE = "overwrite"
    # Create only; over an existing document, 409 (the state resource in xAPI 2.0).
    CREATE = "create"
    # Nothing: 409 over an existing document, 400 otherwise (the profile resources).
    REFUSE = "refuse"


@dataclass(frozen=True)
class DocumentSet:
    """The documents of one context: an activity's profiles, an agent's, or a state set.

    `registration` is "" for documents without one; None (state reads and
    deletes of many documents only) stands for every registration.
    """

    kind: str
    activity_id: str = ""
    agent: str = ""  # validation.agent_key() of the agent, "" for activity profiles
    registration: str | None = ""

    def rows(self) -> QuerySet[Document]:
        rows = Document.objects.filter(
            kind=self.kind, activity_id=self.activity_id, agent=self.agent
        )
        if self.registration is None:
            return rows
        key = keys.document_set_key(self.kind, self.activity_id, self.agent, self.registration)
        return rows.filter(set_key=key, registration=self.registration)


@dataclass(frozen=True)
class DocumentRef:
    """One document: its set (with a definite registration) and its id."""

    set: DocumentSet
    document_id: str

    def __post_init__(self) -> None:
        if self.set.registration is None:
            raise ValueError("a single document has a definite registration")

    @property
    def set_key(self) -> int:
        document_set = self.set
        return keys.document_set_key(
            document_set.kind,
            document_set.activity_id,
            document_set.agent,
            document_set.registration or "",
        )

    @property
    def key(self) -> int:
        return keys.document_key(self.set_key, self.document_id)

    def rows(self) -> QuerySet[Document]:
        return self.set.rows().filter(document_key=self.key, document_id=self.document_id)


@dataclass(frozen=True)
class Body:
    """A document's bytes and the Content-Type header they came with."""

    content: bytes
    content_type: str

    @property
    def is_json(self) -> bool:
        return media_type(self.content_type) == JSON_MEDIA_TYPE

    def json_value(self) -> Any:
        """The body as JSON; DocumentRefused when it is not."""
        try:
            return json.loads(self.content)
        except (UnicodeDecodeError, ValueError) as error:
            raise DocumentRefused(
                f"the document is declared application/json but is not JSON: {error}"
            ) from None


@dataclass(frozen=True)
class Conditions:
    """The If-Match and If-None-Match headers of a request (None when absent)."""

    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def absent(self) -> bool:
        return self.if_match is None and self.if_none_match is None


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    content_type: str
    content: bytes
    etag: str  # SHA-1 hex, without quotes
    modified: dt.datetime


@dataclass(frozen=True)
class DocumentIds:
    ids: list[str]
    last_modified: dt.datetime | None  # of the most recently modified of them


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


# ---------------------------------------------------------------- reading


def get_document(ref: DocumentRef) -> StoredDocument | None:
    row = ref.rows().only("document_id", "content_type", "content", "etag", "modified").first()
    return _stored(row) if row is not None else None


def list_document_ids(
    document_set: DocumentSet, *, since: dt.datetime | None = None
) -> DocumentIds:
    """The ids of a set's documents changed strictly after `since`, oldest change first."""
    rows = document_set.rows()
    if since is not None:
        rows = rows.filter(modified__gt=since)
    found = list(rows.order_by("modified", "document_id").values_list("document_id", "modified"))
    return DocumentIds(
        ids=[document_id for document_id, _modified in found],
        last_modified=max((modified for _id, modified in found), default=None),
    )


def school_of(agent: dict[str, Any]) -> uuid.UUID | None:
    """The school of the Kalan person an agent names; None for anyone else."""
    user_id = user_id_of(agent)
    if user_id is None:
        return None
    return User.objects.filter(id=user_id).values_list("school_id", flat=True).first()


def _stored(row: Document) -> StoredDocument:
    return StoredDocument(
        document_id=row.document_id,
        content_type=row.content_type,
        content=bytes(row.content),
        etag=row.etag,
        modified=row.modified,
    )


# ---------------------------------------------------------------- writing


def put_document(
    *,
    ref: DocumentRef,
    body: Body,
    conditions: Conditions,
    unconditional: UnconditionalPut,
    school_id: uuid.UUID | None,
) -> StoredDocument:
    """Store `body` as the document, replacing any other.

    Raises PreconditionFailed, DocumentConflict, ConditionRequired or
    DocumentRefused (a body declared application/json that is not JSON).
    """
    if body.is_json:
        body.json_value()

    def decide(current: Document | None) -> Body:
        _check_conditions(current, conditions)
        if conditions.absent and unconditional is not UnconditionalPut.OVERWRITE:
            if current is not None:
                raise DocumentConflict(
                    "the document already exists: get it to learn its current ETag, "
                    "then send If-Match with that ETag to replace it"
                )
            if unconditional is UnconditionalPut.REFUSE:
                raise ConditionRequired(
                    "a PUT to this resource needs an If-Match header (the ETag of the "
                    'document it replaces) or "If-None-Match: *" (to create it)'
                )
        return body

    return _write(ref, decide, school_id=school_id)


def merge_document(
    *, ref: DocumentRef, body: Body, conditions: Conditions, school_id: uuid.UUID | None
) -> StoredDocument:
    """Store `body` as a new document, or merge it into the existing one (Communication 2.2).

    The merge sets each top-level property of the posted JSON object on the
    stored JSON object. Raises PreconditionFailed or DocumentRefused.
    """
    posted = _posted_object(body)

    def decide(current: Document | None) -> Body:
        _check_conditions(current, conditions)
        if current is None:
            return body
        if posted is None:
            raise DocumentRefused(
                "a document exists here: a POST merges into it and must be a JSON object "
                "sent as application/json"
            )
        merged = {**_stored_object(current), **posted}
        return Body(content=_JSON.encode(merged).encode(), content_type=body.content_type)

    return _write(ref, decide, school_id=school_id)


def delete_document(*, ref: DocumentRef, conditions: Conditions) -> bool:
    """Delete the document if it exists (True if it did). Raises PreconditionFailed."""
    with transaction.atomic():
        current = _locked(ref)
        _check_conditions(current, conditions)
        if current is None:
            return False
        Document.objects.filter(pk=current.pk).delete()
        return True


def delete_documents(*, document_set: DocumentSet) -> int:
    """Delete every document of a set; the number deleted."""
    with transaction.atomic():
        deleted, _by_model = document_set.rows().delete()
    return deleted


def _check_conditions(current: Document | None, conditions: Conditions) -> None:
    """RFC 7232 If-Match (strong) and If-None-Match (weak) against the current document."""
    etag = current.etag if current is not None else None
    if conditions.if_match is not None and not _matches(
        conditions.if_match, etag, weak_allowed=False
    ):
        raise PreconditionFailed(
            "If-Match does not hold: the document does not exist"
            if etag is None
            else "If-Match does not hold: the document has changed (its ETag differs)"
        )
    if conditions.if_none_match is not None and _matches(
        conditions.if_none_match, etag, weak_allowed=True
    ):
        raise PreconditionFailed("If-None-Match does not hold: the document already exists")


def _matches(header: str, etag: str | None, *, weak_allowed: bool) -> bool:
    if etag is None:
        return False
    for tag in (part.strip() for part in header.split(",")):
        if tag == "*":
            return True
        weak = tag[:2].upper() == "W/"
        if weak:
            if not weak_allowed:
                continue
            tag = tag[2:]
        if tag.strip('"').lower() == etag:
            return True
    return False


def _posted_object(body: Body) -> dict[str, Any] | None:
    """The posted JSON object; None for a body that is not application/json."""
    if not body.is_json:
        return None
    value = body.json_value()
    if not isinstance(value, dict):
        raise DocumentRefused("a POST sent as application/json must be a JSON object")
    return value


def _stored_object(current: Document) -> dict[str, Any]:
    if media_type(current.content_type) != JSON_MEDIA_TYPE:
        raise DocumentRefused(
            "the stored document is not application/json, so nothing can be merged into it"
        )
    try:
        value = json.loads(bytes(current.content))
    except (UnicodeDecodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise DocumentRefused(
            "the stored document is not a JSON object, so nothing can be merged into it"
        )
    return value


def _write(
    ref: DocumentRef, decide: Callable[[Document | None], Body], *, school_id: uuid.UUID | None
) -> StoredDocument:
    try:
        return _write_once(ref, decide, school_id=school_id)
    except IntegrityError:
        # Another writer created the document after this one looked: decide again, seeing it.
        return _write_once(ref, decide, school_id=school_id)


def _write_once(
    ref: DocumentRef, decide: Callable[[Document | None], Body], *, school_id: uuid.UUID | None
) -> StoredDocument:
    with transaction.atomic():
        current = _locked(ref)
        body = decide(current)
        row = current or _new_row(ref)
        row.school_id = school_id
        row.content = body.content
        row.content_type = body.content_type
        row.etag = etag_of(body.content)
        row.modified = _next_modified(current)
        if current is None:
            row.save(force_insert=True)
        else:
            row.save(update_fields=["school_id", "content", "content_type", "etag", "modified"])
    return _stored(row)


def _locked(ref: DocumentRef) -> Document | None:
    """The document's row, locked until the transaction ends (SQLite: the write lock is held)."""
    return ref.rows().select_for_update().first()


def _new_row(ref: DocumentRef) -> Document:
    document_set = ref.set
    return Document(
        kind=document_set.kind,
        activity_id=document_set.activity_id,
        agent=document_set.agent,
        registration=document_set.registration or "",
        document_id=ref.document_id,
        set_key=ref.set_key,
        document_key=ref.key,
    )


def _next_modified(current: Document | None) -> dt.datetime:
    """Now, and always later than the document's previous time (clocks can step back)."""
    now = dt.datetime.now(dt.UTC)
    if current is not None and current.modified >= now:
        return current.modified + dt.timedelta(microseconds=1)
    return now
