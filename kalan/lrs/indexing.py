"""What a statement can be found by: the index keys of one statement (pure).

See `models.StatementIndex`. A statement is found by the agent filter through
its actor and an Agent or Group object; with related_agents also through its
authority, instructor, team, context agents and groups, and the same inside a
SubStatement object. It is found by the activity filter through an Activity
object; with related_activities also through its context activities and a
SubStatement's. Anonymous groups have no identifier and are found through
nothing of their own.
"""

from collections.abc import Iterator
from typing import Any

from kalan.lrs import keys
from kalan.lrs.validation import agent_key

CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")


def _identified(agent: Any) -> str | None:
    if not isinstance(agent, dict):
        return None
    if not any(ifi in agent for ifi in ("mbox", "mbox_sha1sum", "openid", "account")):
        return None
    return agent_key(agent)


def _agents_of_context(context: dict[str, Any]) -> Iterator[Any]:
    yield context.get("instructor")
    yield context.get("team")
    for entry in context.get("contextAgents") or ():
        yield entry.get("agent")
    for entry in context.get("contextGroups") or ():
        yield entry.get("group")


def _context_activities(context: dict[str, Any]) -> Iterator[str]:
    groups = context.get("contextActivities") or {}
    for kind in CONTEXT_ACTIVITY_KINDS:
        value = groups.get(kind) or ()
        for activity in [value] if isinstance(value, dict) else value:
            yield str(activity["id"])


def _is_activity(thing: dict[str, Any]) -> bool:
    return bool(thing.get("objectType", "Activity") == "Activity")


def _is_agent(thing: dict[str, Any]) -> bool:
    return thing.get("objectType") in {"Agent", "Group"}


def _substatement_keys(sub: dict[str, Any]) -> Iterator[tuple[str, str]]:
    related = [sub.get("actor")]
    sub_object = sub.get("object") or {}
    if _is_agent(sub_object):
        related.append(sub_object)
    elif _is_activity(sub_object):
        yield keys.RELATED_ACTIVITY, str(sub_object["id"])
    context = sub.get("context") or {}
    related.extend(_agents_of_context(context))
    for identified in map(_identified, related):
        if identified:
            yield keys.RELATED_AGENT, identified
    for activity_id in _context_activities(context):
        yield keys.RELATED_ACTIVITY, activity_id


def _object_keys(statement_object: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if _is_activity(statement_object):
        activity_id = str(statement_object["id"])
        yield keys.ACTIVITY, activity_id
        yield keys.RELATED_ACTIVITY, activity_id
    elif _is_agent(statement_object):
        identified = _identified(statement_object)
        if identified:
            yield keys.AGENT, identified
            yield keys.RELATED_AGENT, identified
    elif statement_object.get("objectType") == "SubStatement":
        yield from _substatement_keys(statement_object)


def statement_keys(statement: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs of a validated statement; may repeat a pair."""
    actor = _identified(statement["actor"])
    if actor:
        yield keys.AGENT, actor
        yield keys.RELATED_AGENT, actor
    yield keys.VERB, str(statement["verb"]["id"])
    yield from _object_keys(statement["object"])
    context = statement.get("context") or {}
    registration = context.get("registration")
    if registration:
        yield keys.REGISTRATION, str(registration).lower()
    for identified in map(_identified, [statement.get("authority"), *_agents_of_context(context)]):
        if identified:
            yield keys.RELATED_AGENT, identified
    for activity_id in _context_activities(context):
        yield keys.RELATED_ACTIVITY, activity_id


def index_keys(statement: dict[str, Any]) -> set[int]:
    return {keys.index_key(kind, value) for kind, value in statement_keys(statement)}
