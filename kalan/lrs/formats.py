"""The statement formats of GET /xapi/statements: exact, ids and canonical (pure).

"exact" is the statement as stored. "ids" keeps of every agent, group, verb
and activity only what identifies it. "canonical" keeps one language of every
language map: the best match for the request's Accept-Language.
"""

from collections.abc import Callable, Sequence
from typing import Any

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_LANGUAGE_MAP_KEYS = frozenset({"display", "name", "description"})


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {key: agent[key] for key in _IFIS if key in agent}
    if "objectType" in agent:
        kept["objectType"] = agent["objectType"]
    if (
        agent.get("objectType") == "Group"
        and "member" in agent
        and not any(key in agent for key in _IFIS)
    ):
        kept["member"] = [_agent_ids(member) for member in agent["member"]]
    return kept


def _object_ids(thing: dict[str, Any]) -> dict[str, Any]:
    object_type = thing.get("objectType", "Activity")
    if object_type in {"Agent", "Group"}:
        return _agent_ids(thing)
    if object_type == "SubStatement":
        return _statement_ids(thing)
    if object_type == "Activity":  # the id alone identifies it
        return {"id": thing["id"]}
    return {key: thing[key] for key in ("objectType", "id") if key in thing}


def _context_ids(context: dict[str, Any]) -> dict[str, Any]:
    context = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _agent_ids(context[key])
    if "contextActivities" in context:
        context["contextActivities"] = {
            kind: [_object_ids(activity) for activity in activities]
            for kind, activities in context["contextActivities"].items()
        }
    if "contextAgents" in context:
        context["contextAgents"] = [
            {**entry, "agent": _agent_ids(entry["agent"])} for entry in context["contextAgents"]
        ]
    if "contextGroups" in context:
        context["contextGroups"] = [
            {**entry, "group": _agent_ids(entry["group"])} for entry in context["contextGroups"]
        ]
    return context


def _statement_ids(statement: dict[str, Any]) -> dict[str, Any]:
    result = dict(statement)
    result["actor"] = _agent_ids(statement["actor"])
    result["verb"] = {"id": statement["verb"]["id"]}
    result["object"] = _object_ids(statement["object"])
    if "authority" in statement:
        result["authority"] = _agent_ids(statement["authority"])
    if "context" in statement:
        result["context"] = _context_ids(statement["context"])
    return result


def ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    return _statement_ids(statement)


def accepted_languages(header: str) -> list[str]:
    """Accept-Language's tags, best first (q=0 left out)."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _semi, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip().lower()))
    return [tag for _quality, _position, tag in sorted(weighted)]


def _pick(language_map: dict[str, str], languages: Sequence[str]) -> dict[str, str]:
    if not language_map:
        return language_map
    lowered = {key.lower(): key for key in language_map}
    for wanted in languages:
        if wanted == "*":
            break
        for candidate in (wanted, wanted.split("-")[0]):
            if candidate in lowered:
                key = lowered[candidate]
                return {key: language_map[key]}
        for lower, key in lowered.items():
            if lower.split("-")[0] == wanted.split("-")[0]:
                return {key: language_map[key]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def _walk(value: Any, pick: Callable[[dict[str, str]], dict[str, str]]) -> Any:
    if isinstance(value, list):
        return [_walk(item, pick) for item in value]
    if not isinstance(value, dict):
        return value
    walked = {}
    for key, item in value.items():
        if key == "extensions":
            walked[key] = item
        elif key in _LANGUAGE_MAP_KEYS and isinstance(item, dict):
            walked[key] = pick(item)
        else:
            walked[key] = _walk(item, pick)
    return walked


def canonical_format(statement: dict[str, Any], accept_language: str) -> dict[str, Any]:
    languages = accepted_languages(accept_language)
    walked: dict[str, Any] = _walk(statement, lambda language_map: _pick(language_map, languages))
    return walked
