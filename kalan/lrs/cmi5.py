"""cmi5 on the LMS's side (the Quartz specification): launches, the rules of statements, moveOn.

A Kalan cmi5 resource is one course; its AUs are listed in the resource's
options["aus"] (content/inspect/cmi5.py).

**Launch** (`record_launch`, called through content.runtime_hooks when an AU
fetches its token, in that transaction). In order:

- every session of the same registration that neither terminated nor was
  abandoned gets an "abandoned" statement, once (9.3.6), with the time from
  its launch to its last statement as duration (9.5.4.2);
- the course's moveOn is evaluated as at registration (9.6.1): blocks and a
  course whose AUs are all met (e.g. all "NotApplicable") are "satisfied",
  under a session id of their own;
- the "launched" statement (9.3.1, 9.6.3), then the LMS.LaunchData state
  document (10) and, when the learner has none, the cmi5LearnerPreferences
  agent profile (11), then the `Cmi5Session` row.

Every statement Kalan makes names the AU's publisher id and the resource's
activity id in contextActivities.grouping, and the contextTemplate asks the
AU to do the same, so every statement of a launch is about the resource.

**Statements** posted with the launch token (`rules`, around the store of
views/statements.py): each statement is checked, in the request's order,
against the rules of section 9 that the LMS must enforce; the first broken
rule refuses the whole request (`Cmi5Refused`, 403) and names its
requirement. Statements whose id is already stored are left to the store
(the same statement again is a no-op, another one a conflict).
"cmi5 defined" statements are those in the cmi5 category (9.6.2.1); other
("cmi5 allowed") statements are accepted between initialized and terminated.

**moveOn** (9.3.9): after statements are stored, an AU completed or passed
in the registration may meet its moveOn; when every AU of a block, or of the
course, is met, Kalan records "satisfied" for it, once per registration, in
the same session. The course's object is the resource's own activity id, so
the progress projection counts the resource completed.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import transaction
from django.utils import timezone

from kalan.accounts.xapi import actor_for
from kalan.content.activities import resource_activity_id
from kalan.content.cmi5_launch import activity_id_for
from kalan.content.models import ContentNode
from kalan.content.runtime_hooks import Cmi5Launch
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.documents import (
    Body,
    Conditions,
    DocumentRef,
    DocumentSet,
    PreconditionFailed,
    UnconditionalPut,
    put_document,
    school_of,
)
from kalan.lrs.models import Cmi5Session, Document, Statement
from kalan.lrs.statements import iso, store_statements
from kalan.lrs.validation import agent_key

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
_UTC = re.compile(r"(?:[Zz]|[+-]00(?::?00)?)$")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_DISPLAY = {
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


def _language_map(text: str, language: str) -> dict[str, str]:
    return {language if _LANGUAGE_TAG.fullmatch(language) else "und": text}


def _activity(activity_id: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": activity_id}


def _grouping(publisher_id: str, course: Course) -> list[dict[str, Any]]:
    return [_activity(publisher_id), _activity(course.activity_id)]


def _statement(
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
        "verb": {"id": verb, "display": {"en-US": _DISPLAY[verb]}},
        "object": target,
        "context": {
            "registration": str(registration),
            "contextActivities": {"category": [_activity(CMI5_CATEGORY)], "grouping": grouping},
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
            definition["name"] = _language_map(title, course.language)
        grouping = [_activity(publisher_id)]
        if object_id != course.activity_id:
            grouping.append(_activity(course.activity_id))
        made.append(
            _statement(
                user_id=user_id,
                verb=SATISFIED,
                target={**_activity(object_id), "definition": definition},
                registration=registration,
                grouping=grouping,
                extensions={SESSION_ID: str(session_id)},
                at=at,
            )
        )
    return made


def _au_target(launch: Cmi5Launch, course: Course) -> dict[str, Any]:
    definition: dict[str, Any] = {}
    title = str(launch.au.get("title") or "")
    if title:
        definition["name"] = _language_map(title, course.language)
    activity_type = str(launch.au.get("activity_type") or "")
    if ":" in activity_type:
        definition["type"] = activity_type
    target = _activity(launch.activity_id)
    return {**target, "definition": definition} if definition else target


def _launch_extensions(launch: Cmi5Launch, session: Cmi5Session) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        SESSION_ID: str(session.session_id),
        LAUNCH_MODE: session.launch_mode,
        MOVE_ON: session.move_on,
    }
    if launch.launch_url:
        extensions[LAUNCH_URL] = launch.launch_url
    if session.mastery_score is not None:
        extensions[MASTERY_SCORE] = session.mastery_score
    parameters = str(launch.au.get("launch_parameters") or "")
    if parameters:
        extensions[LAUNCH_PARAMETERS] = parameters
    return extensions


def _launched(launch: Cmi5Launch, session: Cmi5Session, course: Course) -> dict[str, Any]:
    return _statement(
        user_id=launch.user_id,
        verb=LAUNCHED,
        target=_au_target(launch, course),
        registration=launch.registration,
        grouping=_grouping(session.publisher_id, course),
        extensions=_launch_extensions(launch, session),
        at=session.launched_at,
    )


def _duration(seconds: float) -> str:
    text = f"{max(seconds, 0.0):.2f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def _abandon_open_sessions(
    launch: Cmi5Launch, course: Course, at: dt.datetime
) -> list[dict[str, Any]]:
    """The "abandoned" statements of the registration's sessions still open, now closed."""
    made = []
    open_sessions = Cmi5Session.objects.select_for_update().filter(
        user_id=launch.user_id,
        registration=launch.registration,
        terminated_at=None,
        abandoned_at=None,
    )
    for old in open_sessions:
        last = old.last_statement_at or old.launched_at
        made.append(
            _statement(
                user_id=launch.user_id,
                verb=ABANDONED,
                target=_activity(old.activity_id),
                registration=launch.registration,
                grouping=_grouping(old.publisher_id, course),
                extensions={SESSION_ID: str(old.session_id)},
                at=at,
                result={"duration": _duration((last - old.launched_at).total_seconds())},
            )
        )
        old.abandoned_at = at
        old.save(update_fields=["abandoned_at"])
    return made


# ---------------------------------------------------------------- launching


def _session_for(launch: Cmi5Launch, at: dt.datetime) -> Cmi5Session:
    mastery = launch.au.get("mastery_score")
    return Cmi5Session(
        session_id=launch.session,
        user_id=launch.user_id,
        node_id=launch.node_id,
        registration=launch.registration,
        activity_id=launch.activity_id,
        publisher_id=str(launch.au.get("id", "")),
        move_on=str(launch.au.get("move_on") or "NotApplicable"),
        mastery_score=float(mastery) if isinstance(mastery, int | float) else None,
        launch_mode=launch.launch_mode,
        launched_at=at,
    )


def launch_data(launch: Cmi5Launch, session: Cmi5Session, course: Course) -> dict[str, Any]:
    """The LMS.LaunchData state document of a launch (cmi5 10)."""
    data: dict[str, Any] = {
        "contextTemplate": {
            "contextActivities": {"grouping": _grouping(session.publisher_id, course)},
            "extensions": {SESSION_ID: str(session.session_id)},
        },
        "launchMode": session.launch_mode,
        "moveOn": session.move_on,
    }
    if session.mastery_score is not None:
        data["masteryScore"] = session.mastery_score
    if launch.return_url:
        data["returnURL"] = launch.return_url
    parameters = str(launch.au.get("launch_parameters") or "")
    if parameters:
        data["launchParameters"] = parameters
    entitlement = str(launch.au.get("entitlement_key") or "")
    if entitlement:
        data["entitlementKey"] = {"courseStructure": entitlement}
    return data


def _write_documents(launch: Cmi5Launch, document: dict[str, Any]) -> None:
    actor = actor_for(launch.user_id)
    agent = agent_key(actor)
    school_id = school_of(actor)
    state = DocumentSet(
        kind=Document.Kind.STATE,
        activity_id=launch.activity_id,
        agent=agent,
        registration=str(launch.registration),
    )
    put_document(
        ref=DocumentRef(set=state, document_id=LAUNCH_DATA),
        body=Body(json.dumps(document).encode(), "application/json"),
        conditions=Conditions(),
        unconditional=UnconditionalPut.OVERWRITE,
        school_id=school_id,
    )
    preferences = {"languagePreference": launch.learner_language, "audioPreference": "on"}
    profile = DocumentSet(kind=Document.Kind.AGENT_PROFILE, agent=agent)
    with suppress(PreconditionFailed):  # the learner's own preferences are kept
        put_document(
            ref=DocumentRef(set=profile, document_id=LEARNER_PREFERENCES),
            body=Body(json.dumps(preferences).encode(), "application/json"),
            conditions=Conditions(if_none_match="*"),
            unconditional=UnconditionalPut.REFUSE,
            school_id=school_id,
        )


def record_launch(launch: Cmi5Launch) -> None:
    """Record a new session of an AU (see the module docstring); runs in the fetch's transaction."""
    course = Course(launch.node_id, launch.course, launch.title, launch.language)
    at = timezone.now()
    with transaction.atomic():
        made = _abandon_open_sessions(launch, course, at)
        found = newly_satisfied(course, registration_facts(launch.user_id, launch.registration))
        made += satisfied_statements(
            course,
            found,
            user_id=launch.user_id,
            registration=launch.registration,
            session_id=uuid.uuid4(),
            at=at,
        )
        session = _session_for(launch, at)
        made.append(_launched(launch, session, course))
        store_statements(made, version="2.0.0", authority=KALAN_AUTHORITY)
        _write_documents(launch, launch_data(launch, session, course))
        session.save(force_insert=True)


# ---------------------------------------------------------------- the rules of statements


def _context(statement: dict[str, Any]) -> dict[str, Any]:
    context = statement.get("context")
    return context if isinstance(context, dict) else {}


def _context_ids(statement: dict[str, Any], kind: str) -> set[str]:
    groups = _context(statement).get("contextActivities")
    activities = groups.get(kind) if isinstance(groups, dict) else None
    if isinstance(activities, dict):
        activities = [activities]
    return {str(a.get("id")) for a in activities or () if isinstance(a, dict)}


def _extensions(statement: dict[str, Any]) -> dict[str, Any]:
    extensions = _context(statement).get("extensions")
    return extensions if isinstance(extensions, dict) else {}


def _result(statement: dict[str, Any]) -> dict[str, Any]:
    result = statement.get("result")
    return result if isinstance(result, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def is_defined(statement: dict[str, Any]) -> bool:
    """A "cmi5 defined" statement: one in the cmi5 category (9.6.2.1)."""
    return CMI5_CATEGORY in _context_ids(statement, "category")


def _verb(statement: dict[str, Any]) -> str:
    return str(statement["verb"]["id"])


@dataclass
class _Check:
    """A session's state while a request's statements are checked one after the other."""

    session: Cmi5Session
    initialized: bool
    terminated: bool
    verbs: list[str]  # cmi5 defined verbs of the session
    registration_verbs: set[str]  # this AU's completed and passed in the registration

    def take(self, statement: dict[str, Any]) -> None:
        if not is_defined(statement):
            return
        verb = _verb(statement)
        self.verbs.append(verb)
        self.initialized = self.initialized or verb == INITIALIZED
        self.terminated = self.terminated or verb == TERMINATED
        if verb in {COMPLETED, PASSED}:
            self.registration_verbs.add(verb)


Rule = Callable[[_Check, dict[str, Any]], str | None]


def _has_timestamp(check: _Check, statement: dict[str, Any]) -> str | None:
    timestamp = statement.get("timestamp")
    if not isinstance(timestamp, str):
        return "9.7.0.0-1: every statement needs a timestamp"
    if not _UTC.search(timestamp):
        return "9.7.0.0-2: timestamps must be in UTC (ending in Z or +00:00)"
    return None


def _in_session(check: _Check, statement: dict[str, Any]) -> str | None:
    if check.session.abandoned_at is not None:
        return "9.3.6.0-2: the session was abandoned; it takes no more statements"
    if check.terminated:
        return "9.3.0.0-5: the session has terminated; terminated is its last statement"
    if not check.initialized and not (is_defined(statement) and _verb(statement) == INITIALIZED):
        return "9.3.0.0-4: a session's first statement is a cmi5 defined initialized statement"
    return None


def _same_registration(check: _Check, statement: dict[str, Any]) -> str | None:
    try:
        registration = uuid.UUID(str(_context(statement).get("registration")))
    except ValueError:
        registration = None
    if registration != check.session.registration:
        return "9.6.1.0-1: context.registration must be the registration of the launch URL"
    return None


def _same_session(check: _Check, statement: dict[str, Any]) -> str | None:
    if _extensions(statement).get(SESSION_ID) != str(check.session.session_id):
        return (
            "9.6.3.1-4: the context extension "
            f"{SESSION_ID} must be the session id of LMS.LaunchData"
        )
    return None


def _template_activities(check: _Check, statement: dict[str, Any]) -> str | None:
    needed = {check.session.publisher_id, resource_activity_id(check.session.node_id)}
    if not needed <= _context_ids(statement, "grouping"):
        return (
            "10.2.1.0-6: context.contextActivities.grouping must hold the activities of "
            "LMS.LaunchData's contextTemplate"
        )
    return None


def _move_on_category_placed(check: _Check, statement: dict[str, Any]) -> str | None:
    if MOVE_ON_CATEGORY not in _context_ids(statement, "category"):
        return None
    result = _result(statement)
    if is_defined(statement) and ("success" in result or "completion" in result):
        return None
    return (
        "9.6.2.2-2: only cmi5 defined statements with result.success or result.completion "
        "may have the moveOn category"
    )


def _agent_with_account(check: _Check, statement: dict[str, Any]) -> str | None:
    actor = statement["actor"]
    if actor.get("objectType", "Agent") != "Agent" or "account" not in actor:
        return "9.2.0.0-2: the actor of a cmi5 defined statement is an Agent with an account"
    return None


def _au_verb(check: _Check, statement: dict[str, Any]) -> str | None:
    if _verb(statement) not in AU_VERBS:
        return (
            "9.3.0.0-1: a cmi5 defined statement from an AU uses initialized, completed, "
            "passed, failed or terminated"
        )
    return None


def _object_is_the_au(check: _Check, statement: dict[str, Any]) -> str | None:
    target = statement["object"]
    if target.get("objectType", "Activity") != "Activity" or (
        target.get("id") != check.session.activity_id
    ):
        return "8.1.5.0-6: the object of a cmi5 defined statement is the launch's activityId"
    return None


def _launch_mode(check: _Check, statement: dict[str, Any]) -> str | None:
    mode = check.session.launch_mode
    if mode != Cmi5Session.Mode.NORMAL and _verb(statement) in JUDGED:
        number = "10.2.2.0-2" if mode == Cmi5Session.Mode.BROWSE else "10.2.2.0-3"
        return f"{number}: a session launched in {mode} mode records no completed, passed or failed"
    return None


def _completion(check: _Check, statement: dict[str, Any]) -> str | None:
    result, verb = _result(statement), _verb(statement)
    if verb == COMPLETED and result.get("completion") is not True:
        return "9.5.3.0-1: a completed statement has result.completion true"
    if verb != COMPLETED and "completion" in result:
        return "9.5.3.0-2: only a completed statement has result.completion"
    return None


def _success(check: _Check, statement: dict[str, Any]) -> str | None:
    result, verb = _result(statement), _verb(statement)
    if verb == PASSED and result.get("success") is not True:
        return "9.5.2.0-1: a passed statement has result.success true"
    if verb == FAILED and result.get("success") is not False:
        return "9.5.2.0-2: a failed statement has result.success false"
    if verb not in {PASSED, FAILED} and "success" in result:
        return "9.5.2.0-3: only passed and failed statements have result.success"
    return None


def _score(check: _Check, statement: dict[str, Any]) -> str | None:
    score = _result(statement).get("score")
    if not isinstance(score, dict):
        return None
    if _verb(statement) not in {PASSED, FAILED}:
        return "9.5.1.0-2: only passed and failed statements have result.score"
    if "raw" in score and not {"min", "max"} <= set(score):
        return "9.5.1.0-3: a score with raw also has min and max"
    return None


def _duration_given(check: _Check, statement: dict[str, Any]) -> str | None:
    numbers = {TERMINATED: "9.5.4.1-1", COMPLETED: "9.5.4.1-2", PASSED: "9.5.4.1-3"}
    verb = _verb(statement)
    if verb in {TERMINATED, *JUDGED} and "duration" not in _result(statement):
        return f"{numbers.get(verb, '9.5.4.1-4')}: a {_DISPLAY[verb]} statement has a duration"
    return None


def _move_on_category_needed(check: _Check, statement: dict[str, Any]) -> str | None:
    result = _result(statement)
    if ("success" in result or "completion" in result) and MOVE_ON_CATEGORY not in _context_ids(
        statement, "category"
    ):
        return (
            "9.6.2.2-1: a statement with result.success or result.completion has the "
            "moveOn category"
        )
    return None


def _scaled(score: dict[str, Any]) -> float | None:
    scaled = _number(score.get("scaled"))
    if scaled is not None:
        return scaled
    raw, low, high = (_number(score.get(key)) for key in ("raw", "min", "max"))
    if raw is None or low is None or high is None or high <= low:
        return None
    return (raw - low) / (high - low)


def _mastery(check: _Check, statement: dict[str, Any]) -> str | None:
    mastery, verb = check.session.mastery_score, _verb(statement)
    score = _result(statement).get("score")
    if mastery is None or verb not in {PASSED, FAILED} or not isinstance(score, dict):
        return None
    given = _number(_extensions(statement).get(MASTERY_SCORE))
    if given is None or abs(given - mastery) > 1e-9:
        return f"9.6.3.2-2: a scored {_DISPLAY[verb]} statement carries masteryScore {mastery}"
    scaled = _scaled(score)
    if scaled is not None and verb == PASSED and scaled < mastery:
        return "9.3.4.0-2: a passed statement's scaled score is at least the masteryScore"
    if scaled is not None and verb == FAILED and scaled >= mastery:
        return "9.3.5.0-2: a failed statement's scaled score is below the masteryScore"
    return None


def _once_in_session(check: _Check, statement: dict[str, Any]) -> str | None:
    verb = _verb(statement)
    if verb == INITIALIZED and verb in check.verbs:
        return "9.3.2.0-3: a session has one initialized statement"
    if verb in check.verbs:
        return f"9.3.0.0-2: this session has already used the verb {_DISPLAY[verb]}"
    if verb in {PASSED, FAILED} and {PASSED, FAILED} & set(check.verbs):
        return "9.3.0.0-3: a session has one passed or failed statement, not both"
    return None


def _once_in_registration(check: _Check, statement: dict[str, Any]) -> str | None:
    verb, done = _verb(statement), check.registration_verbs
    if verb == COMPLETED and COMPLETED in done:
        return "9.3.0.0-6: this AU was already completed in this registration"
    if verb == PASSED and PASSED in done:
        return "9.3.0.0-7: this AU was already passed in this registration"
    if verb == FAILED and PASSED in done:
        return "9.3.0.0-8: this AU was already passed in this registration; it cannot fail"
    return None


# Every statement the AU sends, then cmi5 defined statements only.
ALL_STATEMENTS: Final[tuple[Rule, ...]] = (
    _has_timestamp,
    _in_session,
    _same_registration,
    _same_session,
    _template_activities,
    _move_on_category_placed,
)
DEFINED_STATEMENTS: Final[tuple[Rule, ...]] = (
    _agent_with_account,
    _au_verb,
    _object_is_the_au,
    _launch_mode,
    _completion,
    _success,
    _score,
    _duration_given,
    _move_on_category_needed,
    _mastery,
    _once_in_session,
    _once_in_registration,
)


def _broken_rule(check: _Check, statement: dict[str, Any]) -> str | None:
    rules = ALL_STATEMENTS + (DEFINED_STATEMENTS if is_defined(statement) else ())
    for rule in rules:
        problem = rule(check, statement)
        if problem:
            return problem
    return None


def _new_statements(statements: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements whose id is not stored yet; Cmi5Refused when one has no id (9.1.0.0-1)."""
    if any("id" not in statement for statement in statements):
        raise Cmi5Refused("cmi5 9.1.0.0-1: every statement from an AU has an id")
    ids = {uuid.UUID(str(statement["id"])) for statement in statements}
    stored = {str(i) for i in Statement.objects.filter(id__in=ids).values_list("id", flat=True)}
    return [s for s in statements if str(uuid.UUID(str(s["id"]))) not in stored]


def check_statements(session: Cmi5Session, statements: Sequence[dict[str, Any]]) -> _Check:
    """The session's state after `statements`; Cmi5Refused on the first rule one breaks."""
    judged = any(is_defined(s) and _verb(s) in JUDGED for s in statements)
    facts = registration_facts(session.user_id, session.registration) if judged else None
    check = _Check(
        session=session,
        initialized=session.initialized_at is not None,
        terminated=session.terminated_at is not None,
        verbs=list(session.verbs),
        registration_verbs=set(facts.outcomes.get(session.activity_id, ())) if facts else set(),
    )
    for statement in statements:
        problem = _broken_rule(check, statement)
        if problem:
            raise Cmi5Refused(f"cmi5 {problem} (statement {statement.get('id', '')})")
        check.take(statement)
    return check


def _satisfy(session: Cmi5Session, at: dt.datetime) -> None:
    """Record "satisfied" for the blocks and course the session's statements completed."""
    course = course_of(session.node_id)
    if course is None:
        return
    found = newly_satisfied(course, registration_facts(session.user_id, session.registration))
    if found:
        made = satisfied_statements(
            course,
            found,
            user_id=session.user_id,
            registration=session.registration,
            session_id=session.session_id,
            at=at,
        )
        store_statements(made, version="2.0.0", authority=KALAN_AUTHORITY)


def _after(session: Cmi5Session, check: _Check, new: Sequence[dict[str, Any]]) -> None:
    if not new:
        return
    at = timezone.now()
    judged = any(is_defined(s) and _verb(s) in {COMPLETED, PASSED} for s in new)
    session.verbs = check.verbs
    session.last_statement_at = at
    if check.initialized and session.initialized_at is None:
        session.initialized_at = at
    if check.terminated and session.terminated_at is None:
        session.terminated_at = at
    session.save(update_fields=["verbs", "last_statement_at", "initialized_at", "terminated_at"])
    if judged:
        _satisfy(session, at)


@contextmanager
def rules(session: Cmi5Session | None, statements: Sequence[dict[str, Any]]) -> Iterator[None]:
    """Check an AU's statements before the block stores them, and follow them up after.

    Without a session (a caller that is not a cmi5 launch), does nothing. The
    session's row is locked from the check to the follow-up, so two requests
    of one session are decided one after the other.
    """
    if session is None:
        yield
        return
    with transaction.atomic():
        locked = Cmi5Session.objects.select_for_update().get(pk=session.pk)
        new = _new_statements(statements)
        check = check_statements(locked, new)
        yield
        _after(locked, check, new)
