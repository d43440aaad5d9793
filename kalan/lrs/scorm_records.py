"""A SCORM course's run-time data, as xAPI statements (SCORM 1.2 and 2004).

At each commit the hub compares the data with what was saved before and
records what changed, once: the course completed (verb completed), passed or
failed (with the score), a new progress measure (progressed), and at the end
of a session the time it lasted (terminated, with result.duration from
session_time). A commit that repeats the saved data (a resent beacon)
records nothing.
"""

import datetime as dt
import re
import uuid
from typing import Any, Final

from kalan.accounts.xapi import actor_for
from kalan.content.activities import resource_activity_id
from kalan.content.cmi5_launch import registration_for
from kalan.content.runtime_hooks import ScormCommit
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.statements import iso, store_statements

ADL: Final = "http://adlnet.gov/expapi/verbs/"
SCORM_PROFILE: Final = "https://w3id.org/xapi/scorm"
PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
_SCORM12_TIME = re.compile(r"^(\d{1,4}):([0-5]\d):([0-5]\d(?:\.\d{1,2})?)$")
_DISPLAY = {
    "completed": "completed",
    "passed": "passed",
    "failed": "failed",
    "progressed": "progressed",
    "terminated": "terminated",
}


def _get(cmi: dict[str, Any], *path: str) -> str:
    value: Any = cmi
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _outcome(cmi: dict[str, Any], version: str) -> tuple[bool, str]:
    """(completed, "passed"/"failed"/"")."""
    if version == "2004":
        success = _get(cmi, "success_status")
        return _get(cmi, "completion_status") == "completed", success if success in {
            "passed",
            "failed",
        } else ""
    status = _get(cmi, "core", "lesson_status")
    return status in {"completed", "passed"}, status if status in {"passed", "failed"} else ""


def _score(cmi: dict[str, Any], version: str) -> dict[str, float]:
    base = cmi.get("score") if version == "2004" else (cmi.get("core") or {}).get("score")
    base = base if isinstance(base, dict) else {}
    score = {
        key: value
        for key in ("raw", "min", "max")
        if (value := _number(_get(base, key))) is not None
    }
    scaled = _number(_get(base, "scaled")) if version == "2004" else None
    if scaled is None and {"raw", "max"} <= set(score) and score["max"] > score.get("min", 0):
        scaled = (score["raw"] - score.get("min", 0)) / (score["max"] - score.get("min", 0))
    if scaled is not None and -1 <= scaled <= 1:
        score["scaled"] = round(scaled, 4)
    if "raw" in score and not score.get("min", 0) <= score["raw"] <= score.get("max", score["raw"]):
        score = {key: value for key, value in score.items() if key == "scaled"}
    return score


def session_duration(cmi: dict[str, Any], version: str) -> str | None:
    """The session's length as an ISO 8601 duration, from SCORM's session_time."""
    if version == "2004":
        text = _get(cmi, "session_time")
        return text if text.startswith("P") else None
    match = _SCORM12_TIME.match(_get(cmi, "core", "session_time"))
    if not match:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), float(match[3])
    return f"PT{hours}H{minutes}M{seconds:g}S"


def _statement(commit: ScormCommit, verb: str, result: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor_for(commit.user_id),
        "verb": {"id": ADL + verb, "display": {"en-US": _DISPLAY[verb]}},
        "object": {"objectType": "Activity", "id": resource_activity_id(commit.node_id)},
        "context": {
            "registration": str(registration_for(commit.user_id, commit.node_id)),
            "contextActivities": {"category": [{"id": SCORM_PROFILE}]},
        },
        "timestamp": iso(dt.datetime.now(dt.UTC)),
    }
    if result:
        made["result"] = result
    return made


def statements_for(commit: ScormCommit) -> list[dict[str, Any]]:
    """The statements a commit calls for (see the module docstring)."""
    made = []
    was_completed, was_success = _outcome(commit.before, commit.version)
    completed, success = _outcome(commit.after, commit.version)
    if completed and not was_completed:
        made.append(_statement(commit, "completed", {"completion": True}))
    score = _score(commit.after, commit.version)
    if success and (success != was_success or score != _score(commit.before, commit.version)):
        result: dict[str, Any] = {"success": success == "passed"}
        if completed:
            result["completion"] = True
        if score:
            result["score"] = score
        made.append(_statement(commit, success, result))
    measure = _number(_get(commit.after, "progress_measure")) if commit.version == "2004" else None
    if (
        measure is not None
        and 0 <= measure <= 1
        and measure != _number(_get(commit.before, "progress_measure"))
    ):
        made.append(
            _statement(commit, "progressed", {"extensions": {PROGRESS: round(measure * 100)}})
        )
    repeated = commit.was_terminated and commit.before == commit.after
    if commit.terminated and not repeated:
        duration = session_duration(commit.after, commit.version)
        made.append(_statement(commit, "terminated", {"duration": duration} if duration else {}))
    return made


def record_commit(commit: ScormCommit) -> None:
    statements = statements_for(commit)
    if statements:
        store_statements(statements, version="2.0.0", authority=KALAN_AUTHORITY)
