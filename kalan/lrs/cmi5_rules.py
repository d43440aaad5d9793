"""The rules of cmi5 section 9 for an AU's statements, and moveOn after them.

Statements posted with the launch token (`rules`, around the store of
views/statements.py) are checked, in the request's order, against the rules
of section 9 that the LMS must enforce; the first broken rule refuses the
whole request (`Cmi5Refused`, 403) and names its requirement. Statements whose
id is already stored are left to the store (the same statement again is a
no-op, another one a conflict). "cmi5 defined" statements are those in the
cmi5 category (9.6.2.1); other ("cmi5 allowed") statements are accepted
between initialized and terminated.

After the statements are stored, an AU completed or passed in the
registration may meet its moveOn (9.3.9); Kalan then records "satisfied" for
the blocks and the course it completes, in the same session.
"""

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from django.db import transaction
from django.utils import timezone

from kalan.content.activities import resource_activity_id
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.cmi5_course import (
    AU_VERBS,
    COMPLETED,
    FAILED,
    INITIALIZED,
    JUDGED,
    MASTERY_SCORE,
    MOVE_ON_CATEGORY,
    PASSED,
    SESSION_ID,
    TERMINATED,
    VERB_DISPLAY,
    Cmi5Refused,
    context_ids,
    context_of,
    course_of,
    is_defined,
    newly_satisfied,
    registration_facts,
    satisfied_statements,
    verb_of,
)
from kalan.lrs.models import Cmi5Session, Statement
from kalan.lrs.statements import store_statements

_UTC = re.compile(r"(?:[Zz]|[+-]00(?::?00)?)$")


def _extensions(statement: dict[str, Any]) -> dict[str, Any]:
    extensions = context_of(statement).get("extensions")
    return extensions if isinstance(extensions, dict) else {}


def _result(statement: dict[str, Any]) -> dict[str, Any]:
    result = statement.get("result")
    return result if isinstance(result, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


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
        verb = verb_of(statement)
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
    if not check.initialized and not (is_defined(statement) and verb_of(statement) == INITIALIZED):
        return "9.3.0.0-4: a session's first statement is a cmi5 defined initialized statement"
    return None


def _same_registration(check: _Check, statement: dict[str, Any]) -> str | None:
    try:
        registration = uuid.UUID(str(context_of(statement).get("registration")))
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
    if not needed <= context_ids(statement, "grouping"):
        return (
            "10.2.1.0-6: context.contextActivities.grouping must hold the activities of "
            "LMS.LaunchData's contextTemplate"
        )
    return None


def _move_on_category_placed(check: _Check, statement: dict[str, Any]) -> str | None:
    if MOVE_ON_CATEGORY not in context_ids(statement, "category"):
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
    if verb_of(statement) not in AU_VERBS:
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
    if mode != Cmi5Session.Mode.NORMAL and verb_of(statement) in JUDGED:
        number = "10.2.2.0-2" if mode == Cmi5Session.Mode.BROWSE else "10.2.2.0-3"
        return f"{number}: a session launched in {mode} mode records no completed, passed or failed"
    return None


def _completion(check: _Check, statement: dict[str, Any]) -> str | None:
    result, verb = _result(statement), verb_of(statement)
    if verb == COMPLETED and result.get("completion") is not True:
        return "9.5.3.0-1: a completed statement has result.completion true"
    if verb != COMPLETED and "completion" in result:
        return "9.5.3.0-2: only a completed statement has result.completion"
    return None


def _success(check: _Check, statement: dict[str, Any]) -> str | None:
    result, verb = _result(statement), verb_of(statement)
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
    if verb_of(statement) not in {PASSED, FAILED}:
        return "9.5.1.0-2: only passed and failed statements have result.score"
    if "raw" in score and not {"min", "max"} <= set(score):
        return "9.5.1.0-3: a score with raw also has min and max"
    return None


def _duration_given(check: _Check, statement: dict[str, Any]) -> str | None:
    numbers = {TERMINATED: "9.5.4.1-1", COMPLETED: "9.5.4.1-2", PASSED: "9.5.4.1-3"}
    verb = verb_of(statement)
    if verb in {TERMINATED, *JUDGED} and "duration" not in _result(statement):
        return f"{numbers.get(verb, '9.5.4.1-4')}: a {VERB_DISPLAY[verb]} statement has a duration"
    return None


def _move_on_category_needed(check: _Check, statement: dict[str, Any]) -> str | None:
    result = _result(statement)
    if ("success" in result or "completion" in result) and MOVE_ON_CATEGORY not in context_ids(
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
    mastery, verb = check.session.mastery_score, verb_of(statement)
    score = _result(statement).get("score")
    if mastery is None or verb not in {PASSED, FAILED} or not isinstance(score, dict):
        return None
    given = _number(_extensions(statement).get(MASTERY_SCORE))
    if given is None or abs(given - mastery) > 1e-9:
        return f"9.6.3.2-2: a scored {VERB_DISPLAY[verb]} statement carries masteryScore {mastery}"
    scaled = _scaled(score)
    if scaled is not None and verb == PASSED and scaled < mastery:
        return "9.3.4.0-2: a passed statement's scaled score is at least the masteryScore"
    if scaled is not None and verb == FAILED and scaled >= mastery:
        return "9.3.5.0-2: a failed statement's scaled score is below the masteryScore"
    return None


def _once_in_session(check: _Check, statement: dict[str, Any]) -> str | None:
    verb = verb_of(statement)
    if verb == INITIALIZED and verb in check.verbs:
        return "9.3.2.0-3: a session has one initialized statement"
    if verb in check.verbs:
        return f"9.3.0.0-2: this session has already used the verb {VERB_DISPLAY[verb]}"
    if verb in {PASSED, FAILED} and {PASSED, FAILED} & set(check.verbs):
        return "9.3.0.0-3: a session has one passed or failed statement, not both"
    return None


def _once_in_registration(check: _Check, statement: dict[str, Any]) -> str | None:
    verb, done = verb_of(statement), check.registration_verbs
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
    judged = any(is_defined(s) and verb_of(s) in JUDGED for s in statements)
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
    judged = any(is_defined(s) and verb_of(s) in {COMPLETED, PASSED} for s in new)
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
