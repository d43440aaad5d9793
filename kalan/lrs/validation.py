"""Validation and normalisation of xAPI statements for the Learning Record Store.

The rules are those an LRS must enforce under xAPI 1.0.3 and xAPI 2.0 (IEEE 9274.1.1), as
exercised by the ADL LRS conformance test suite. A refused statement raises one
`StatementInvalid` whose message names the JSON path of the offending value, for example
``statement.actor.mbox: must be a "mailto:" IRI``.

Each object type is a `_Spec`: the checker of every property it may hold and the properties it
requires; `_check` walks a JSON object against its spec. Rules that join several properties (one
identifier per Agent, score bounds, interaction components, voiding, ...) are small functions of
their own. A checker receives the value, the path of the object holding it and its key, and
builds the value's path only when it reports a problem or descends into the value.

Pure Python: no Django, no database, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn

from kalan.lrs.values import (
    IFI_KEYS,
    MAILTO,
    MEDIA_TYPE,
    SHA1,
    SHA2,
    STATEMENT_VERSIONS,
    VOIDED,
    StatementInvalid,
    Version,
    duration_problem,
    fail,
    is_iri,
    is_language_tag,
    is_uuid,
    language_map_problem,
    parse_timestamp,
    path_in,
    quoted_key,
    read_timestamp,
    validate_duration,
    validate_iri,
    validate_language_map,
)

__all__ = [
    "StatementInvalid",
    "Version",
    "agent_key",
    "is_uuid",
    "normalize_statement",
    "parse_timestamp",
    "validate_agent",
    "validate_duration",
    "validate_iri",
    "validate_language_map",
    "validate_statement",
    "validate_statements",
]

# ---------------------------------------------------------------- walking objects


class _Ctx:
    """What checkers need beyond the value: the xAPI version, whether inside a SubStatement."""

    __slots__ = ("in_sub", "sub", "v2", "version")

    def __init__(self, version: Version, *, in_sub: bool) -> None:
        self.version: Version = version
        self.v2 = version == "2.0.0"
        self.in_sub = in_sub
        self.sub = self


def _make_contexts() -> dict[str, _Ctx]:
    contexts: dict[str, _Ctx] = {}
    versions: tuple[Version, ...] = ("1.0.3", "2.0.0")
    for version in versions:
        contexts[version] = _Ctx(version, in_sub=False)
        contexts[version].sub = _Ctx(version, in_sub=True)
    return contexts


_CONTEXTS: Final = _make_contexts()


def _ctx_for(version: str) -> _Ctx:
    ctx = _CONTEXTS.get(version)
    if ctx is None:
        raise ValueError(f"unsupported xAPI version {version!r}")
    return ctx


Checker = Callable[[Any, str, str, _Ctx], None]


class _Spec:
    """An object type: how messages name it, its properties' checkers, its required names."""

    __slots__ = ("fields", "required", "what")

    def __init__(self, what: str, fields: dict[str, Checker], required: tuple[str, ...]) -> None:
        self.what = what
        self.fields = fields
        self.required = required


def _bad_property(path: str, key: object, spec: _Spec) -> NoReturn:
    if key not in spec.fields:
        for name in spec.fields:
            if name.lower() == str(key).lower():
                fail(path + quoted_key(key), f'is not allowed; names are case-sensitive ("{name}")')
        fail(path + quoted_key(key), f"is not an allowed property of {spec.what}")
    fail(f"{path}.{key}", "must not be null")


def _check(value: object, path: str, ctx: _Ctx, spec: _Spec) -> dict[str, Any]:
    """Check that `value` is a JSON object of type `spec`; return it."""
    if not isinstance(value, dict):
        fail(path, f"must be {spec.what}")
    for name in spec.required:
        if name not in value:
            fail(f"{path}.{name}", "is required")
    fields = spec.fields
    for key, item in value.items():
        checker = fields.get(key)
        if checker is None or item is None:
            _bad_property(path, key, spec)
        checker(item, path, key, ctx)
    return value


def _object_of(spec: _Spec) -> Checker:
    def check(value: object, base: str, key: str, ctx: _Ctx) -> None:
        _check(value, path_in(base, key), ctx, spec)

    return check


def _const(expected: str) -> Checker:
    def check(value: object, base: str, key: str, ctx: _Ctx) -> None:
        if value != expected:
            fail(path_in(base, key), f'must be "{expected}"')

    return check


def _forbidden(reason: str) -> Checker:
    def check(value: object, base: str, key: str, ctx: _Ctx) -> None:
        fail(path_in(base, key), reason)

    return check


def _list_of(item: Checker, what: str, *, non_empty: bool = False) -> Checker:
    expected = f"must be {'a non-empty array' if non_empty else 'an array'} of {what}"

    def check(value: object, base: str, key: str, ctx: _Ctx) -> None:
        if not isinstance(value, list) or (non_empty and not value):
            fail(path_in(base, key), expected)
        path = path_in(base, key)
        for index, element in enumerate(value):
            item(element, path, f"[{index}]", ctx)

    return check


# ---------------------------------------------------------------- scalar checkers


def _string(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, str):
        fail(path_in(base, key), "must be a string")


def _boolean(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, bool):
        fail(path_in(base, key), "must be true or false")


def _number(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(path_in(base, key), "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        fail(path_in(base, key), "must be a finite number")


def _uuid(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not is_uuid(value):
        fail(path_in(base, key), "must be a UUID (8-4-4-4-12 hexadecimal digits)")


def _iri(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not is_iri(value):
        fail(path_in(base, key), "must be an absolute IRI")


def _irl(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not is_iri(value):
        fail(path_in(base, key), "must be an absolute IRL (a resolvable IRI such as https://...)")


def _openid(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not is_iri(value):
        fail(path_in(base, key), "must be an absolute URI")


def _language_map(value: object, base: str, key: str, ctx: _Ctx) -> None:
    problem = language_map_problem(value)
    if problem is not None:
        fail(path_in(base, key) + problem[0], problem[1])


def _language_tag(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not is_language_tag(value):
        fail(path_in(base, key), "must be an RFC 5646 language tag")


def _timestamp(value: object, base: str, key: str, ctx: _Ctx) -> None:
    moment = read_timestamp(value, ctx.version)
    if isinstance(moment, str):
        fail(path_in(base, key), moment)


def _duration(value: object, base: str, key: str, ctx: _Ctx) -> None:
    problem = duration_problem(value)
    if problem is not None:
        fail(path_in(base, key), problem)


def _extensions(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, dict):
        fail(path_in(base, key), "must be an object whose keys are IRIs")
    for name in value:
        if not is_iri(name):
            fail(path_in(base, key) + quoted_key(name), "extension keys must be absolute IRIs")


def _version(value: object, base: str, key: str, ctx: _Ctx) -> None:
    pattern, hint = STATEMENT_VERSIONS[ctx.version]
    if not isinstance(value, str) or pattern.match(value) is None:
        fail(path_in(base, key), f"must be {hint}")


def _mbox(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or not value.startswith("mailto:"):
        fail(path_in(base, key), 'must be a "mailto:" IRI')
    if MAILTO.match(value) is None or not is_iri(value):
        fail(path_in(base, key), 'must be a "mailto:" IRI of one e-mail address (mailto:name@host)')


def _sha1(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or SHA1.match(value) is None:
        fail(path_in(base, key), "must be the 40 hexadecimal digits of a SHA-1 hash")


def _media_type(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or MEDIA_TYPE.match(value) is None:
        fail(path_in(base, key), "must be an Internet media type such as text/plain")


def _length(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(path_in(base, key), "must be a non-negative integer (octets)")


def _sha2(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or SHA2.match(value) is None:
        fail(path_in(base, key), "must be a SHA-2 hash in hexadecimal digits")


_COMPONENTS_OF: Final[Mapping[str, frozenset[str]]] = {
    "true-false": frozenset(),
    "choice": frozenset({"choices"}),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "numeric": frozenset(),
    "other": frozenset(),
}
_NEED_INTERACTION_TYPE: Final = (
    "correctResponsesPattern",
    "choices",
    "scale",
    "source",
    "target",
    "steps",
)
_INTERACTION_KEYS: Final = frozenset({"interactionType", *_NEED_INTERACTION_TYPE})


def _interaction_type(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or value not in _COMPONENTS_OF:
        names = ", ".join(f'"{name}"' for name in _COMPONENTS_OF)
        fail(path_in(base, key), f"must be one of {names}")


# ---------------------------------------------------------------- agents and groups


def _ifis(value: Mapping[str, object]) -> list[str]:
    return [key for key in IFI_KEYS if key in value]


def _ifi_problem(found: list[str], what: str) -> str:
    names = f"{len(found)} ({', '.join(found)})" if found else "none"
    return f"{what} must have exactly one inverse functional identifier; found {names}"


def _agent(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    found = _ifis(_check(value, path, ctx, _AGENT))
    if len(found) != 1:
        fail(path, _ifi_problem(found, "an Agent (mbox, mbox_sha1sum, openid or account)"))


def _group(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    group = _check(value, path, ctx, _GROUP)
    found = _ifis(group)
    if len(found) > 1:
        fail(path, _ifi_problem(found, "an identified Group"))
    if not found and "member" not in group:
        fail(f"{path}.member", "is required in an anonymous Group (a Group with no identifier)")
    if not found and not group["member"]:
        fail(f"{path}.member", "must list at least one Agent in an anonymous Group")


def _members(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    if not isinstance(value, list):
        fail(path, "must be an array of Agent objects")
    for index, member in enumerate(value):
        if isinstance(member, dict) and member.get("objectType") == "Group":
            fail(
                f"{path}[{index}].objectType", 'must be "Agent": the members of a Group are Agents'
            )
        _agent(member, path, f"[{index}]", ctx)


def _actor(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, dict):
        fail(path_in(base, key), "must be an Agent or Group object")
    kind = value.get("objectType", "Agent")
    if kind == "Group":
        _group(value, base, key, ctx)
    elif kind == "Agent" or kind is None:
        _agent(value, base, key, ctx)
    else:
        fail(f"{path_in(base, key)}.objectType", 'must be "Agent" or "Group"')


def _team(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if isinstance(value, dict) and value.get("objectType") != "Group":
        fail(path_in(base, key), 'must be a Group object (with "objectType": "Group")')
    _group(value, base, key, ctx)


def _authority(value: object, base: str, key: str, ctx: _Ctx) -> None:
    if not isinstance(value, dict) or value.get("objectType") != "Group":
        _actor(value, base, key, ctx)
        return
    path = path_in(base, key)
    group = _check(value, path, ctx, _GROUP)
    if _ifis(group):
        fail(path, "a Group authority must be an anonymous Group of two Agents (OAuth)")
    members = group.get("member")
    if not isinstance(members, list) or len(members) != 2:
        fail(f"{path}.member", "must list exactly two Agents in a Group authority")


# ---------------------------------------------------------------- activities and objects


def _activities(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    if isinstance(value, list):
        for index, activity in enumerate(value):
            _check(activity, f"{path}[{index}]", ctx, _ACTIVITY)
    elif isinstance(value, dict):
        _check(value, path, ctx, _ACTIVITY)
    else:
        fail(path, "must be an Activity object or an array of Activity objects")


def _definition(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    definition = _check(value, path, ctx, _DEFINITION)
    if not _INTERACTION_KEYS.isdisjoint(definition):
        _check_interaction(definition, path)


def _check_interaction(definition: Mapping[str, Any], path: str) -> None:
    kind = definition.get("interactionType")
    allowed = _COMPONENTS_OF[kind] if kind else frozenset()
    for key in _NEED_INTERACTION_TYPE:
        if key not in definition:
            continue
        if kind is None:
            fail(f"{path}.{key}", 'requires "interactionType" in the same definition')
        if key != "correctResponsesPattern" and key not in allowed:
            fail(f"{path}.{key}", f'is not allowed when interactionType is "{kind}"')


def _components(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    if not isinstance(value, list):
        fail(path, "must be an array of interaction components")
    seen: set[str] = set()
    for index, item in enumerate(value):
        ident = _check(item, f"{path}[{index}]", ctx, _COMPONENT)["id"]
        if ident in seen:
            fail(f"{path}[{index}].id", f'repeats the id "{ident}" of an earlier component')
        seen.add(ident)


_OBJECT_KINDS: Final = '"Activity", "Agent", "Group", "StatementRef" or "SubStatement"'
_ACTOR_ONLY_KEYS: Final = frozenset({*IFI_KEYS, "member"})


def _statement_object(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    if not isinstance(value, dict):
        fail(path, f"must be an object: {_OBJECT_KINDS}")
    kind = value.get("objectType", "Activity")
    checker = _OBJECT_CHECKERS.get(kind) if isinstance(kind, str) else None
    if checker is None:
        fail(
            f"{path}.objectType", "must not be null" if kind is None else f"must be {_OBJECT_KINDS}"
        )
    if kind == "SubStatement" and ctx.in_sub:
        fail(f"{path}.objectType", "a SubStatement cannot contain another SubStatement")
    if "objectType" not in value and not _ACTOR_ONLY_KEYS.isdisjoint(value):
        fail(f"{path}.objectType", "is required when the object is an Agent or a Group")
    checker(value, base, key, ctx)


def _sub_statement(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    _check_context_needs(_check(value, path, ctx.sub, _SUB_STATEMENT), path)


def _check_context_needs(statement: Mapping[str, Any], path: str) -> None:
    """A context's revision and platform go with an Activity as the object only."""
    context = statement.get("context")
    if not context or ("revision" not in context and "platform" not in context):
        return
    if statement["object"].get("objectType", "Activity") != "Activity":
        key = "revision" if "revision" in context else "platform"
        fail(f"{path}.context.{key}", "is only allowed when the object is an Activity")


def _check_voiding(statement: Mapping[str, Any], path: str) -> None:
    """A voiding statement's object is a StatementRef."""
    if (
        statement["verb"]["id"] == VOIDED
        and statement["object"].get("objectType") != "StatementRef"
    ):
        fail(f"{path}.object", f'must be a StatementRef when the verb is "{VOIDED}"')


# ---------------------------------------------------------------- result and context


def _score(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    score = _check(value, path, ctx, _SCORE)
    scaled, raw, low, high = (score.get(name) for name in ("scaled", "raw", "min", "max"))
    if scaled is not None and not -1 <= scaled <= 1:
        fail(f"{path}.scaled", "must be between -1 and 1")
    if low is not None and high is not None and low >= high:
        fail(f"{path}.min", "must be less than max")
    if raw is not None and low is not None and raw < low:
        fail(f"{path}.raw", "must not be less than min")
    if raw is not None and high is not None and raw > high:
        fail(f"{path}.raw", "must not be greater than max")


def _context(value: object, base: str, key: str, ctx: _Ctx) -> None:
    _check(value, path_in(base, key), ctx, _CONTEXT_2_0 if ctx.v2 else _CONTEXT_1_0)


# ---------------------------------------------------------------- specs

_ACCOUNT: Final = _Spec(
    "an account object", {"homePage": _irl, "name": _string}, ("homePage", "name")
)
_IFI_FIELDS: Final[dict[str, Checker]] = {
    "mbox": _mbox,
    "mbox_sha1sum": _sha1,
    "openid": _openid,
    "account": _object_of(_ACCOUNT),
}
_AGENT: Final = _Spec(
    "an Agent object", {"objectType": _const("Agent"), "name": _string, **_IFI_FIELDS}, ()
)
_GROUP: Final = _Spec(
    "a Group object",
    {"objectType": _const("Group"), "name": _string, "member": _members, **_IFI_FIELDS},
    ("objectType",),
)
_VERB: Final = _Spec("a Verb object", {"id": _iri, "display": _language_map}, ("id",))
_COMPONENT: Final = _Spec(
    "an interaction component", {"id": _string, "description": _language_map}, ("id",)
)
_DEFINITION: Final = _Spec(
    "an Activity Definition object",
    {
        "name": _language_map,
        "description": _language_map,
        "type": _iri,
        "moreInfo": _irl,
        "extensions": _extensions,
        "interactionType": _interaction_type,
        "correctResponsesPattern": _list_of(_string, "strings"),
        **dict.fromkeys(("choices", "scale", "source", "target", "steps"), _components),
    },
    (),
)
_ACTIVITY: Final = _Spec(
    "an Activity object",
    {"objectType": _const("Activity"), "id": _iri, "definition": _definition},
    ("id",),
)
_STATEMENT_REF: Final = _Spec(
    "a StatementRef object",
    {"objectType": _const("StatementRef"), "id": _uuid},
    ("objectType", "id"),
)
_SCORE: Final = _Spec("a Score object", dict.fromkeys(("scaled", "raw", "min", "max"), _number), ())
_RESULT: Final = _Spec(
    "a Result object",
    {
        "score": _score,
        "success": _boolean,
        "completion": _boolean,
        "response": _string,
        "duration": _duration,
        "extensions": _extensions,
    },
    (),
)
_CONTEXT_ACTIVITIES: Final = _Spec(
    "a contextActivities object",
    dict.fromkeys(("parent", "grouping", "category", "other"), _activities),
    (),
)


def _context_activities(value: object, base: str, key: str, ctx: _Ctx) -> None:
    path = path_in(base, key)
    _check(value, path, ctx, _CONTEXT_ACTIVITIES)
    # 1.0.x asks for one or more key/value pairs; 2.0 dropped the rule.
    if not value and not ctx.v2:
        fail(path, "must have at least one of parent, grouping, category, other")


_RELEVANT_TYPES: Final = _list_of(_iri, "Activity type IRIs", non_empty=True)
_CONTEXT_AGENT: Final = _Spec(
    "a contextAgent object",
    {"objectType": _const("contextAgent"), "agent": _agent, "relevantTypes": _RELEVANT_TYPES},
    ("objectType", "agent"),
)
_CONTEXT_GROUP: Final = _Spec(
    "a contextGroup object",
    {"objectType": _const("contextGroup"), "group": _group, "relevantTypes": _RELEVANT_TYPES},
    ("objectType", "group"),
)
_CONTEXT_FIELDS: Final[dict[str, Checker]] = {
    "registration": _uuid,
    "instructor": _actor,
    "team": _team,
    "contextActivities": _context_activities,
    "revision": _string,
    "platform": _string,
    "language": _language_tag,
    "statement": _object_of(_STATEMENT_REF),
    "extensions": _extensions,
}
_ONLY_2_0: Final = _forbidden("is not allowed in xAPI 1.0.3 (it was added in xAPI 2.0)")
_CONTEXT_1_0: Final = _Spec(
    "a Context object",
    {**_CONTEXT_FIELDS, **dict.fromkeys(("contextAgents", "contextGroups"), _ONLY_2_0)},
    (),
)
_CONTEXT_2_0: Final = _Spec(
    "a Context object",
    {
        **_CONTEXT_FIELDS,
        "contextAgents": _list_of(_object_of(_CONTEXT_AGENT), "contextAgent objects"),
        "contextGroups": _list_of(_object_of(_CONTEXT_GROUP), "contextGroup objects"),
    },
    (),
)
_ATTACHMENT: Final = _Spec(
    "an Attachment object",
    {
        "usageType": _iri,
        "display": _language_map,
        "description": _language_map,
        "contentType": _media_type,
        "length": _length,
        "sha2": _sha2,
        "fileUrl": _irl,
    },
    ("usageType", "display", "contentType", "length", "sha2"),
)
_COMMON_FIELDS: Final[dict[str, Checker]] = {
    "actor": _actor,
    "verb": _object_of(_VERB),
    "object": _statement_object,
    "result": _object_of(_RESULT),
    "context": _context,
    "timestamp": _timestamp,
    "attachments": _list_of(_object_of(_ATTACHMENT), "Attachment objects"),
}
_NOT_IN_SUB: Final = _forbidden("is not allowed in a SubStatement")
_SUB_STATEMENT: Final = _Spec(
    "a SubStatement object",
    {
        "objectType": _const("SubStatement"),
        **_COMMON_FIELDS,
        **dict.fromkeys(("id", "stored", "version", "authority"), _NOT_IN_SUB),
    },
    ("objectType", "actor", "verb", "object"),
)
_STATEMENT: Final = _Spec(
    "a Statement object",
    {
        "id": _uuid,
        **_COMMON_FIELDS,
        "stored": _timestamp,
        "authority": _authority,
        "version": _version,
    },
    ("actor", "verb", "object"),
)
_OBJECT_CHECKERS: Final[Mapping[str, Checker]] = {
    "Activity": _object_of(_ACTIVITY),
    "Agent": _agent,
    "Group": _group,
    "StatementRef": _object_of(_STATEMENT_REF),
    "SubStatement": _sub_statement,
}


# ---------------------------------------------------------------- public entry points


def validate_statement(statement: object, *, version: Version, path: str = "statement") -> None:
    """Raise StatementInvalid unless `statement` is valid as sent to the LRS (PUT or POST)."""
    checked = _check(statement, path, _ctx_for(version), _STATEMENT)
    _check_context_needs(checked, path)
    _check_voiding(checked, path)


def validate_statements(payload: object, *, version: Version) -> list[dict[str, Any]]:
    """Validate a POST body (one statement or a non-empty array of them); return the list."""
    if isinstance(payload, dict):
        validate_statement(payload, version=version, path="statement")
        return [payload]
    if not isinstance(payload, list) or not payload:
        fail("statements", "must be a statement object or a non-empty array of statements")
    first_with: dict[str, int] = {}
    for index, statement in enumerate(payload):
        validate_statement(statement, version=version, path=f"statements[{index}]")
        if "id" not in statement:
            continue
        first = first_with.setdefault(statement["id"].lower(), index)
        if first != index:
            fail(f"statements[{index}].id", f"repeats the id of statements[{first}]")
    return payload


def validate_agent(agent: object, *, version: Version, path: str = "agent") -> None:
    """An Agent or identified Group as given in a query parameter: exactly one identifier."""
    ctx = _ctx_for(version)
    if not isinstance(agent, dict) or agent.get("objectType") != "Group":
        _actor(agent, path, "", ctx)
        return
    found = _ifis(_check(agent, path, ctx, _GROUP))
    if len(found) != 1:
        fail(path, _ifi_problem(found, "an identified Group"))


def _account_key(account: object) -> str:
    if not isinstance(account, dict):
        fail("agent.account", "must be an account object")
    home, name = account.get("homePage"), account.get("name")
    if not isinstance(home, str) or not isinstance(name, str):
        fail("agent.account", "must have a homePage and a name, both strings")
    return f"account:{home} {name}"


def agent_key(agent: dict[str, Any]) -> str:
    """A canonical string for the inverse functional identifier of an Agent or identified Group.

    Equal for the same identifier however the JSON is written; the domain of an mbox and the
    digits of an mbox_sha1sum are compared in lower case.
    """
    if not isinstance(agent, dict):
        fail("agent", "must be an Agent or Group object")
    found = _ifis(agent)
    if len(found) != 1:
        fail("agent", _ifi_problem(found, "an Agent or identified Group"))
    kind = found[0]
    value = agent[kind]
    if kind == "account":
        return _account_key(value)
    if not isinstance(value, str):
        fail(f"agent.{kind}", "must be a string")
    if kind == "mbox":
        local, at, domain = value.rpartition("@")
        return f"mbox:{local}{at}{domain.lower()}"
    if kind == "mbox_sha1sum":
        return f"mbox_sha1sum:{value.lower()}"
    return f"openid:{value}"


def _normalize_context(context: dict[str, Any]) -> dict[str, Any]:
    groups = context.get("contextActivities")
    if not isinstance(groups, dict) or not any(isinstance(v, dict) for v in groups.values()):
        return context
    listed = {kind: [v] if isinstance(v, dict) else v for kind, v in groups.items()}
    return {**context, "contextActivities": listed}


def _normalize_object(target: dict[str, Any]) -> dict[str, Any]:
    if "objectType" not in target:
        return {"objectType": "Activity", **target}
    if target["objectType"] != "SubStatement":
        return target
    sub = {**target, "object": _normalize_object(target["object"])}
    if isinstance(sub.get("context"), dict):
        sub["context"] = _normalize_context(sub["context"])
    return sub


def normalize_statement(statement: dict[str, Any], *, version: Version) -> dict[str, Any]:
    """The form the LRS stores and returns as "exact", for a statement already validated.

    Every contextActivities value becomes an array, and an object without an objectType gets
    "objectType": "Activity" (in a SubStatement too). id, stored, authority and version are left
    to the caller. Returns a new dict and never mutates the input; parts that need no change are
    shared with the input.
    """
    _ctx_for(version)
    normalized = dict(statement)
    if isinstance(normalized.get("object"), dict):
        normalized["object"] = _normalize_object(normalized["object"])
    if isinstance(normalized.get("context"), dict):
        normalized["context"] = _normalize_context(normalized["context"])
    return normalized
