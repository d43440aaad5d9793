"""cmi5 (the Quartz specification) on the LMS's side: its vocabulary, a course, moveOn.

What the launch (cmi5_sessions.py), the rules of statements (cmi5_rules.py)
and the rules of documents (cmi5_documents.py) share: the ids cmi5 defines,
a Kalan cmi5 resource seen as a course (its AUs are listed in the resource's
options["aus"], content/inspect/cmi5.py), what a learner's statements say of
one registration, which blocks and course moveOn now satisfies (9.3.9), and
the statements Kalan itself makes, "satisfied" among them.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from kalan.accounts.xapi import actor_for
from kalan.content.activities import resource_activity_id
from kalan.content.cmi5_launch import activity_id_for
from kalan.content.models import ContentNode
from kalan.lrs.models import Statement
from kalan.lrs.statements import iso

CMI5_CATEGORY: Final = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVE_ON_CATEGORY: Final = "https://w3id.org/xapi/cmi5/context/categories/moveon"
_EXTENSIONS: Final = "https://w3id.org/xapi/cmi5/context/extensions/"
SESSION_ID: Final = _EXTENSIONS + "sessionid"
MASTERY_SCORE: Final = _EXTENSIONS + "masteryscore"
LAUNCH_MODE: Final = _EXTENSIONS + "launchmode"
LAUNCH_URL: Final = _EXTENSIONS + "launchurl"
MOVE_ON: Final = _EXTENSIONS + "moveon"
LAUNCH_PARAMETERS: Final = _EXTENSIONS + "launchparameters"
COURSE_TYPE: Final = "https://w3id.org/xapi/cmi5/activitytype/course"
BLOCK_TYPE: Final = "https://w3id.org/xapi/cmi5/activitytype/block"

ADL: Final = "http://adlnet.gov/expapi/verbs/"
LAUNCHED: Final = ADL + "launched"
INITIALIZED: Final = ADL + "initialized"
COMPLETED: Final = ADL + "completed"
PASSED: Final = ADL + "passed"
FAILED: Final = ADL + "failed"
TERMINATED: Final = ADL + "terminated"
ABANDONED: Final = "https://w3id.org/xapi/adl/verbs/abandoned"
SATISFIED: Final = "https://w3id.org/xapi/adl/verbs/satisfied"
# The verbs of cmi5 defined statements an AU may send (9.3); the others are the LMS's.
AU_VERBS: Final = frozenset({INITIALIZED, COMPLETED, PASSED, FAILED, TERMINATED})
JUDGED: Final = frozenset({COMPLETED, PASSED, FAILED})

LAUNCH_DATA: Final = "LMS.LaunchData"
LEARNER_PREFERENCES: Final = "cmi5LearnerPreferences"
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
VERB_DISPLAY: Final = {
    LAUNCHED: "launched",
    ABANDONED: "abandoned",
    SATISFIED: "satisfied",
    INITIALIZED: "initialized",
    COMPLETED: "completed",
    PASSED: "passed",
    FAILED: "failed",
    TERMINATED: "terminated",
}


class Cmi5Refused(Exception):
    """Statements that break a rule of cmi5 section 9; nothing was stored (403)."""


# ---------------------------------------------------------------- reading statements


def context_of(statement: dict[str, Any]) -> dict[str, Any]:
    context = statement.get("context")
    return context if isinstance(context, dict) else {}


def context_ids(statement: dict[str, Any], kind: str) -> set[str]:
    """The ids of the statement's context activities of one kind ("category", "grouping")."""
    groups = context_of(statement).get("contextActivities")
    activities = groups.get(kind) if isinstance(groups, dict) else None
    if isinstance(activities, dict):
        activities = [activities]
    return {str(a.get("id")) for a in activities or () if isinstance(a, dict)}


def is_defined(statement: dict[str, Any]) -> bool:
    """A "cmi5 defined" statement: one in the cmi5 category (9.6.2.1)."""
    return CMI5_CATEGORY in context_ids(statement, "category")


def verb_of(statement: dict[str, Any]) -> str:
    return str(statement["verb"]["id"])


# ---------------------------------------------------------------- the course


@dataclass(frozen=True)
class Course:
    """A cmi5 resource as its rules see it: its AUs, blocks and generated ids."""

    node_id: uuid.UUID
    options: dict[str, Any]
    title: str
    language: str

    @property
    def activity_id(self) -> str:
        return resource_activity_id(self.node_id)

    @property
    def aus(self) -> list[dict[str, Any]]:
        aus = self.options.get("aus")
        return [au for au in aus if isinstance(au, dict)] if isinstance(aus, list) else []

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.options.get("blocks")
        return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []

    def au_activity_id(self, au: dict[str, Any]) -> str:
        return activity_id_for(self.node_id, str(au.get("id", "")))

    def block_activity_id(self, block_id: str) -> str:
        """The LMS's id of a block: a part of the resource, never the publisher's id (9.3.9)."""
        return f"{self.activity_id}/blocks/{uuid.uuid5(self.node_id, block_id)}"

    def block_members(self) -> dict[str, set[str]]:
        """Block id -> the activity ids of the AUs in it or in the blocks inside it."""
        parents = {str(block.get("id")): block.get("parent") for block in self.blocks}
        members: dict[str, set[str]] = {block_id: set() for block_id in parents}
        for au in self.aus:
            activity_id = self.au_activity_id(au)
            block = au.get("block")
            while isinstance(block, str) and block in members and activity_id not in members[block]:
                members[block].add(activity_id)
                block = parents[block]
        return members


def course_of(node_id: uuid.UUID) -> Course | None:
    node = ContentNode.objects.filter(id=node_id).values("options", "title", "language").first()
    if node is None:
        return None
    options = node["options"] if isinstance(node["options"], dict) else {}
    return Course(node_id, options, str(node["title"]), str(node["language"] or ""))


def move_on_met(move_on: str, verbs: set[str]) -> bool:
    """Whether an AU's moveOn criterion holds, given its cmi5 defined verbs in a registration."""
    if move_on == "Completed":
        return COMPLETED in verbs
    if move_on == "Passed":
        return PASSED in verbs
    if move_on == "CompletedAndPassed":
        return {COMPLETED, PASSED} <= verbs
    if move_on == "CompletedOrPassed":
        return bool({COMPLETED, PASSED} & verbs)
    return True  # NotApplicable


@dataclass
class Registration:
    """What a learner's statements say of one registration (they travel by sync)."""

    # AU activity id -> the verbs of its cmi5 defined completed and passed statements.
    outcomes: dict[str, set[str]] = field(default_factory=dict)
    # Activity ids of the blocks and course already satisfied.
    satisfied: set[str] = field(default_factory=set)


def registration_facts(user_id: uuid.UUID, registration: uuid.UUID) -> Registration:
    facts = Registration()
    rows = Statement.objects.filter(
        user_id=user_id,
        registration=registration,
        voided=False,
        verb_id__in=(COMPLETED, PASSED, SATISFIED),
    ).values_list("activity_id", "verb_id", "body")
    for activity_id, verb, body in rows:
        if verb == SATISFIED:
            facts.satisfied.add(activity_id)
        elif is_defined(json.loads(body)):
            facts.outcomes.setdefault(activity_id, set()).add(verb)
    return facts


def newly_satisfied(course: Course, facts: Registration) -> list[tuple[str, str, str, str]]:
    """(object id, activity type, publisher id, title) of each block and of the course
    whose AUs now all meet their moveOn and that were not satisfied yet: blocks first."""
    met = {
        course.au_activity_id(au)
        for au in course.aus
        if move_on_met(
            str(au.get("move_on", "NotApplicable")),
            facts.outcomes.get(course.au_activity_id(au), set()),
        )
    }
    titles = {str(block.get("id")): str(block.get("title") or "") for block in course.blocks}
    found = [
        (course.block_activity_id(block_id), BLOCK_TYPE, block_id, titles[block_id])
        for block_id, members in course.block_members().items()
        if members and members <= met
    ]
    if course.aus and {course.au_activity_id(au) for au in course.aus} <= met:
        publisher = str(course.options.get("course_id") or course.activity_id)
        found.append((course.activity_id, COURSE_TYPE, publisher, course.title))
    return [item for item in found if item[0] not in facts.satisfied]


# ---------------------------------------------------------------- statements Kalan makes


def language_map(text: str, language: str) -> dict[str, str]:
    return {language if _LANGUAGE_TAG.fullmatch(language) else "und": text}


def activity(activity_id: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": activity_id}


def au_grouping(publisher_id: str, course: Course) -> list[dict[str, Any]]:
    return [activity(publisher_id), activity(course.activity_id)]


def lms_statement(
    *,
    user_id: uuid.UUID,
    verb: str,
    target: dict[str, Any],
    registration: uuid.UUID,
    grouping: list[dict[str, Any]],
    extensions: dict[str, Any],
    at: dt.datetime,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor_for(user_id),
        "verb": {"id": verb, "display": {"en-US": VERB_DISPLAY[verb]}},
        "object": target,
        "context": {
            "registration": str(registration),
            "contextActivities": {"category": [activity(CMI5_CATEGORY)], "grouping": grouping},
            "extensions": extensions,
        },
        "timestamp": iso(at),
    }
    if result is not None:
        made["result"] = result
    return made


def satisfied_statements(
    course: Course,
    found: Sequence[tuple[str, str, str, str]],
    *,
    user_id: uuid.UUID,
    registration: uuid.UUID,
    session_id: uuid.UUID,
    at: dt.datetime,
) -> list[dict[str, Any]]:
    made = []
    for object_id, activity_type, publisher_id, title in found:
        definition: dict[str, Any] = {"type": activity_type}
        if title:
            definition["name"] = language_map(title, course.language)
        grouping = [activity(publisher_id)]
        if object_id != course.activity_id:
            grouping.append(activity(course.activity_id))
        made.append(
            lms_statement(
                user_id=user_id,
                verb=SATISFIED,
                target={**activity(object_id), "definition": definition},
                registration=registration,
                grouping=grouping,
                extensions={SESSION_ID: str(session_id)},
                at=at,
            )
        )
    return made
