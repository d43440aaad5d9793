"""Storing statements: ids, stored times, authority, voiding, duplicates, index rows.

`store_statements` takes statements already validated (validation.py) and
writes all of them, or none; concurrent requests share transactions
(group_commit.py). The rules it keeps, from the xAPI
specification (Data 2.3 and Communication 2.1):

- a statement without an id gets one; stored and authority are the LRS's own;
  timestamp defaults to stored; version to the request's version;
- an id already stored with the same statement is accepted and nothing is
  written; with a different statement the request is refused (409); a request
  that names one id twice is refused (400);
- a voiding statement voids its target, now or when the target arrives later
  (by sync); a voiding statement that targets another voiding statement is
  kept and does nothing;
- a statement that targets another (StatementRef) is found by its target's
  filter values, recursively, including targets that arrive later.
"""

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction

from kalan.accounts.models import User
from kalan.accounts.xapi import user_id_of
from kalan.core import sql
from kalan.core.bulk import column_at, insert_rows, insert_values, row_values
from kalan.core.stamps import instance_id
from kalan.lrs import keys
from kalan.lrs.group_commit import GroupCommit
from kalan.lrs.indexing import CONTEXT_ACTIVITY_KINDS, index_keys
from kalan.lrs.models import Activity, AttachmentContent, Statement, StatementIndex
from kalan.lrs.projections import StoredStatement, project, voided_statements
from kalan.lrs.validation import Version, parse_timestamp
from kalan.sync import counter

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
# With a StatementRef object: a grade of that statement (a teacher's, kalan/assessments).
SCORED = "http://adlnet.gov/expapi/verbs/scored"
# Properties the LRS sets or may set, ignored when two statements with one id are compared.
_NOT_COMPARED = frozenset({"stored", "authority", "version"})
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SEQ_AT = column_at(Statement, "seq")


class StatementConflict(Exception):
    """A statement id is already stored with other content, or named twice (409)."""


class StatementRefused(ValueError):
    """A request the LRS refuses as a whole (400), e.g. one that names an id twice."""


@dataclass(frozen=True)
class AttachmentBytes:
    sha2: str
    content_type: str
    content: bytes


@dataclass
class _Pending:
    statement: dict[str, Any]
    row: Statement
    keys: set[int]
    values: tuple[Any, ...] = ()  # the row's database values, made before the transaction


def stored_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def epoch_us(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _comparable(statement: dict[str, Any], *, keep_timestamp: bool) -> dict[str, Any]:
    ignored = _NOT_COMPARED if keep_timestamp else _NOT_COMPARED | {"timestamp"}
    return {key: value for key, value in statement.items() if key not in ignored}


def _finish(
    statement: dict[str, Any], *, version: Version, authority: dict[str, Any], stored: dt.datetime
) -> dict[str, Any]:
    """The statement as the LRS returns it: with id, stored, timestamp, authority, version."""
    finished = dict(statement)
    finished["id"] = (
        str(uuid.UUID(str(statement["id"]))) if "id" in statement else str(uuid.uuid4())
    )
    finished.setdefault("timestamp", iso(stored))
    finished["stored"] = iso(stored)
    finished["authority"] = authority
    finished.setdefault("version", "2.0.0" if version == "2.0.0" else "1.0.0")
    return finished


def _people(
    statements: Iterable[dict[str, Any]], known: Mapping[uuid.UUID, uuid.UUID | None]
) -> dict[uuid.UUID, uuid.UUID | None]:
    """Kalan people named as actors: id -> school id (`known` ones are not looked up)."""
    ids = {person for s in statements if (person := user_id_of(s["actor"])) is not None}
    people = {person: known[person] for person in ids if person in known}
    missing = ids - set(people)
    if missing:
        people.update(User.objects.filter(id__in=missing).values_list("id", "school_id"))
    return people


def _row(
    statement: dict[str, Any],
    *,
    version: Version,
    stored: dt.datetime,
    people: dict[uuid.UUID, uuid.UUID | None],
    origin: uuid.UUID | None = None,
    seq: int = 0,
) -> Statement:
    context = statement.get("context") or {}
    statement_object = statement["object"]
    object_type = statement_object.get("objectType", "Activity")
    user_id = user_id_of(statement["actor"])
    if user_id not in people:
        user_id = None
    registration = context.get("registration")
    hashes = sorted(
        {
            str(a["sha2"])
            for a in statement.get("attachments") or ()
            if "fileUrl" not in a or a.get("sha2")
        }
    )
    return Statement(
        id=uuid.UUID(statement["id"]),
        origin=origin or instance_id(),
        seq=seq,
        school_id=people.get(user_id) if user_id else None,
        user_id=user_id,
        stored=stored,
        stored_us=epoch_us(stored),
        timestamp=parse_timestamp(
            statement["timestamp"], version=version, path="statement.timestamp"
        ),
        verb_id=str(statement["verb"]["id"]),
        activity_id=str(statement_object["id"]) if object_type == "Activity" else "",
        registration=uuid.UUID(str(registration)) if registration else None,
        target_id=uuid.UUID(str(statement_object["id"])) if object_type == "StatementRef" else None,
        attachment_hashes=" ".join(hashes),
        body=_JSON.encode(statement),
    )


def _same(earlier: dict[str, Any], statement: dict[str, Any], original: dict[str, Any]) -> bool:
    """Whether two statements with one id are the same (Data 2.3.1 comparison)."""
    keep = "timestamp" in original
    return _comparable(earlier, keep_timestamp=keep) == _comparable(statement, keep_timestamp=keep)


def _new_of(
    request: "_Request", stored: dict[uuid.UUID, str], seen: dict[uuid.UUID, _Pending]
) -> list[_Pending]:
    """The request's statements not stored yet; raises when an id is taken by another."""
    new = []
    for item in request.pending:
        body = stored.get(item.row.id)
        earlier = json.loads(body) if body is not None else None
        if earlier is None and item.row.id in seen:
            earlier = seen[item.row.id].statement
        if earlier is None:
            new.append(item)
        elif not _same(earlier, item.statement, request.originals[str(item.row.id)]):
            raise StatementConflict(f"statement {item.row.id} is already stored with other content")
    return new


def _voiding_targets(rows: Iterable[Statement]) -> dict[uuid.UUID, uuid.UUID]:
    """voiding statement id -> target id, for the voiding statements among `rows`."""
    return {row.id: row.target_id for row in rows if row.verb_id == VOIDED and row.target_id}


# (statement id, target id, stored_us, verb id) of a statement that targets another.
Referrer = tuple[uuid.UUID, uuid.UUID, int, str]

# The lookups made for every statement stored are written by hand (kalan/core/sql.py).
_STATEMENTS = Statement._meta.db_table
_INDEX = StatementIndex._meta.db_table


def _by_ids(columns: str, key: str, ids: Sequence[uuid.UUID]) -> list[tuple[Any, ...]]:
    """`columns` of the statements whose `key` column is one of `ids`."""
    if not ids:
        return []
    return sql.fetch(
        f"SELECT {columns} FROM {sql.quote(_STATEMENTS)}"  # noqa: S608
        f" WHERE {sql.quote(key)} IN ({sql.marks(len(ids))})",
        [sql.uuid_param(i) for i in ids],
    )


def _stored_bodies(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    return {sql.as_uuid(i): body for i, body in _by_ids('"id", "body"', "id", ids)}


def _referrers(target_ids: Sequence[uuid.UUID]) -> list[Referrer]:
    rows = _by_ids('"id", "target_id", "stored_us", "verb_id"', "target_id", target_ids)
    return [(sql.as_uuid(i), sql.as_uuid(t), stored_us, verb) for i, t, stored_us, verb in rows]


def _apply_voiding(new_rows: Sequence[Statement], referrers: Sequence[Referrer]) -> set[uuid.UUID]:
    """Void what the new voiding statements target, and new statements already voided.

    `referrers` are the statements that target the new ones. Returns the ids
    of statements voided now.
    """
    voiding = _voiding_targets(new_rows)
    # Earlier voiding statements that target the new ones (they arrived first, by sync).
    for voider, target, _stored_us, verb in referrers:
        if verb == VOIDED:
            voiding.setdefault(voider, target)
    if not voiding:
        return set()
    targets = set(voiding.values())
    # A voiding statement is never voided, and voids nothing when it targets another.
    voiding_targets = set(
        Statement.objects.filter(id__in=targets, verb_id=VOIDED).values_list("id", flat=True)
    )
    now_voided = set(
        Statement.objects.filter(id__in=targets - voiding_targets, voided=False)
        .exclude(verb_id=VOIDED)
        .values_list("id", flat=True)
    )
    Statement.objects.filter(id__in=now_voided).update(voided=True)
    return now_voided


def _inherited_keys(pending: Sequence[_Pending]) -> None:
    """Add to each StatementRef statement the index keys of its target (stored or new)."""
    by_id = {item.row.id: item for item in pending}
    target_ids = {item.row.target_id for item in pending if item.row.target_id}
    if not target_ids:
        return
    stored_keys: dict[uuid.UUID, set[int]] = {}
    earlier = sorted(target_ids - set(by_id))
    if earlier:
        rows = sql.fetch(
            f'SELECT "statement_id", "key" FROM {sql.quote(_INDEX)}'  # noqa: S608
            f' WHERE "statement_id" IN ({sql.marks(len(earlier))})',
            [sql.uuid_param(i) for i in earlier],
        )
        for statement_id, key in rows:
            stored_keys.setdefault(sql.as_uuid(statement_id), set()).add(key)
    # New statements may target new statements: settle in as many rounds as the chain is long.
    for _round in range(len(pending)):
        changed = False
        for item in pending:
            target = item.row.target_id
            if target is None:
                continue
            extra = by_id[target].keys if target in by_id else stored_keys.get(target, set())
            if not extra <= item.keys:
                item.keys |= extra
                changed = True
        if not changed:
            break


def _propagate_to_referrers(pending: Sequence[_Pending], referrers: list[Referrer]) -> None:
    """Statements stored earlier that target a new one inherit its keys (and theirs).

    `referrers` are the statements that target the new ones; those that target
    them are looked up in turn.
    """
    frontier = {item.row.id: item.keys for item in pending}
    visited = set(frontier)
    while referrers:
        rows = [
            (sql.uuid_param(referrer), key, stored_us)
            for referrer, target, stored_us, _verb in referrers
            for key in frontier[target]
        ]
        insert_values(StatementIndex, rows, ignore_conflicts=True)
        frontier = {
            referrer: frontier[target]
            for referrer, target, _stored, _verb in referrers
            if referrer not in visited
        }
        visited |= set(frontier)
        referrers = _referrers(list(frontier)) if frontier else []


@dataclass
class _Request:
    """One request's statements, made ready outside any transaction."""

    pending: list[_Pending]
    originals: dict[str, dict[str, Any]]
    ids: list[str]
    attachments: list[AttachmentBytes]


def _prepare(
    statements: Sequence[dict[str, Any]],
    *,
    version: Version,
    authority: dict[str, Any],
    attachments: Iterable[AttachmentBytes],
    people: Mapping[uuid.UUID, uuid.UUID | None],
) -> _Request:
    stored = stored_now()
    originals: dict[str, dict[str, Any]] = {}
    finished = []
    for statement in statements:
        done = _finish(statement, version=version, authority=authority, stored=stored)
        if done["id"] in originals:
            raise StatementRefused(f"statement id {done['id']} appears twice in the request")
        originals[done["id"]] = statement
        finished.append(done)
    known = _people(finished, people)
    pending = []
    for done in finished:
        row = _row(done, version=version, stored=stored, people=known)
        pending.append(_Pending(done, row, index_keys(done), row_values(row)))
    return _Request(pending, originals, [done["id"] for done in finished], list(attachments))


def _write_together(requests: Sequence[_Request]) -> list[list[str] | Exception]:
    """Store the requests in the caller's transaction; a conflicting one is left out."""
    ids = [item.row.id for request in requests for item in request.pending]
    stored = _stored_bodies(ids)
    seen: dict[uuid.UUID, _Pending] = {}
    accepted: list[_Request] = []
    outcomes: list[list[str] | Exception] = []
    new: list[_Pending] = []
    for request in requests:
        try:
            fresh = _new_of(request, stored, seen)
        except StatementConflict as error:
            outcomes.append(error)
            continue
        seen.update((item.row.id, item) for item in fresh)
        new += fresh
        accepted.append(request)
        outcomes.append(request.ids)
    if new:
        _insert(new, [part for request in accepted for part in request.attachments])
    return outcomes


def _versioned(new: Sequence[_Pending]) -> list[tuple[Any, ...]]:
    """The rows to insert, statements stored here first taking the next counter values
    (their version ids for sync, in commit order: kalan/sync/counter.py)."""
    own = [item for item in new if item.row.seq == 0]
    if own:
        for item, seq in zip(own, counter.take(len(own)), strict=True):
            item.row.seq = seq
            item.values = (*item.values[:_SEQ_AT], seq, *item.values[_SEQ_AT + 1 :])
    return [item.values for item in new]


def _insert(new: Sequence[_Pending], attachments: Sequence[AttachmentBytes]) -> None:
    _inherited_keys(new)
    insert_values(Statement, _versioned(new))
    index_rows = []
    for item in new:
        statement_id, stored_us = sql.uuid_param(item.row.id), item.row.stored_us
        index_rows += [(statement_id, key, stored_us) for key in item.keys]
    insert_values(StatementIndex, index_rows)
    referrers = _referrers([item.row.id for item in new])
    _propagate_to_referrers(new, referrers)
    voided = _apply_voiding([item.row for item in new], referrers)
    _store_attachments(attachments)
    _remember_definitions(item.statement for item in new)
    _project(new, voided)


def _write_batch(requests: Sequence[_Request]) -> list[list[str] | Exception]:
    """One transaction for a batch of requests; each alone if the batch cannot commit."""
    try:
        with transaction.atomic():
            return _write_together(requests)
    except DatabaseError:
        if len(requests) == 1:
            raise
    outcomes: list[list[str] | Exception] = []
    for request in requests:
        try:
            outcomes += _write_batch([request])
        except DatabaseError as error:
            outcomes.append(error)
    return outcomes


_WRITER: GroupCommit[_Request, list[str] | Exception] = GroupCommit(_write_batch)


def store_statements(
    statements: Sequence[dict[str, Any]],
    *,
    version: Version,
    authority: dict[str, Any],
    attachments: Iterable[AttachmentBytes] = (),
    people: Mapping[uuid.UUID, uuid.UUID | None] | None = None,
) -> list[str]:
    """Store validated, normalised statements; returns their ids in order.

    Inside a transaction of the caller's, they are written in it. Otherwise
    they join the statements of other requests of this process in one
    transaction (group_commit.py); either way all of a request's statements
    are stored, or none.
    """
    request = _prepare(
        statements,
        version=version,
        authority=authority,
        attachments=attachments,
        people=people or {},
    )
    outcome: list[str] | BaseException
    if connection.in_atomic_block:
        with transaction.atomic():
            outcome = _write_together([request])[0]
    else:
        outcome = _WRITER.submit(request)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def store_received(received: Sequence[tuple[dict[str, Any], uuid.UUID, int]]) -> int:
    """Statements another instance stored, each with its version id `(origin, seq)`,
    in the caller's transaction; returns how many were new here.

    They keep their stored time and authority. A statement already held is
    skipped; the same id with other content raises StatementConflict. Voiding,
    index rows and projections follow as for statements stored here.
    """
    people = _people([statement for statement, _origin, _seq in received], {})
    pending, originals = [], {}
    for statement, origin, seq in received:
        version: Version = "2.0.0" if str(statement.get("version", "")).startswith("2") else "1.0.3"
        stored = parse_timestamp(statement["stored"], version=version, path="statement.stored")
        row = _row(statement, version=version, stored=stored, people=people, origin=origin, seq=seq)
        pending.append(_Pending(statement, row, index_keys(statement), row_values(row)))
        if statement["id"] in originals:
            raise StatementRefused(f"statement id {statement['id']} appears twice")
        originals[statement["id"]] = statement
    held = _stored_bodies([item.row.id for item in pending])
    outcome = _write_together([_Request(pending, originals, list(originals), [])])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return len(pending) - len(held)


def _project(new: Sequence[_Pending], voided: set[uuid.UUID]) -> None:
    """Hand the projections what they take in (see projections.py)."""
    kept = [
        StoredStatement(
            item.row.id, item.row.user_id, item.row.school_id, item.row.timestamp, item.statement
        )
        for item in new
        if item.row.id not in voided
    ]
    earlier = voided - {item.row.id for item in new}
    project(kept, voided_statements(sorted(earlier)) if earlier else [])


def _activities_of(statement: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for thing in (statement["object"], statement["object"].get("object")):
        if (
            isinstance(thing, dict)
            and thing.get("objectType", "Activity") == "Activity"
            and "id" in thing
        ):
            yield thing
    for holder in (statement, statement["object"]):
        groups = (holder.get("context") or {}).get("contextActivities") or {}
        for kind in CONTEXT_ACTIVITY_KINDS:
            yield from groups.get(kind) or ()


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The newer definition wins, but keeps the languages only the older one had."""
    merged = {**old, **new}
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(old.get(key), dict) and key != "extensions":
            merged[key] = {**old[key], **value}
    return merged


def _remember_definitions(statements: Iterable[dict[str, Any]]) -> None:
    """Keep each activity's latest definition (the activities resource reads it)."""
    definitions: dict[int, tuple[str, dict[str, Any]]] = {}
    for statement in statements:
        for activity in _activities_of(statement):
            definition = activity.get("definition")
            if definition:
                key = keys.index_key(keys.ACTIVITY, str(activity["id"]))
                old = definitions.get(key, ("", {}))[1]
                definitions[key] = (str(activity["id"]), _merged(old, definition))
    if not definitions:
        return
    wanted = sorted(definitions)
    stored = dict(
        sql.fetch(
            f'SELECT "key", "definition" FROM {sql.quote(Activity._meta.db_table)}'  # noqa: S608
            f' WHERE "key" IN ({sql.marks(len(wanted))})',
            wanted,
        )
    )
    rows = [
        Activity(
            key=key,
            activity_id=activity_id,
            definition=_JSON.encode(_merged(json.loads(stored.get(key, "{}")), definition)),
        )
        for key, (activity_id, definition) in definitions.items()
    ]
    # In key order: two transactions upserting the same activities lock them in one order,
    # so they queue instead of deadlocking (PostgreSQL).
    rows.sort(key=lambda row: row.key)
    insert_rows(rows, update_on_conflict=True)


def _store_attachments(attachments: Iterable[AttachmentBytes]) -> None:
    rows = {
        part.sha2: AttachmentContent(
            sha2=part.sha2, content_type=part.content_type, content=part.content
        )
        for part in attachments
    }
    if not rows:
        return
    present = set(AttachmentContent.objects.filter(sha2__in=rows).values_list("sha2", flat=True))
    insert_rows([row for sha2, row in rows.items() if sha2 not in present])


def attachment_contents(hashes: Iterable[str]) -> dict[str, AttachmentBytes]:
    return {
        sha2: AttachmentBytes(sha2, content_type, bytes(content))
        for sha2, content_type, content in AttachmentContent.objects.filter(
            sha2__in=set(hashes)
        ).values_list("sha2", "content_type", "content")
    }
