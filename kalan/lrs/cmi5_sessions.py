"""A cmi5 session's start: what Kalan, as the LMS, records when an AU is launched.

`record_launch` is called through content.runtime_hooks when an AU fetches
its token, in that transaction. In order:

- every session of the same registration that neither terminated nor was
  abandoned gets an "abandoned" statement, once (9.3.6), with the time from
  its launch to its last statement as duration (9.5.4.2);
- the course's moveOn is evaluated as at registration (9.6.1): blocks and a
  course whose AUs are all met (e.g. all "NotApplicable") are "satisfied",
  under a session id of their own;
- the "launched" statement (9.3.1, 9.6.3), then the LMS.LaunchData state
  document (10) and the learner's cmi5LearnerPreferences agent profile (11:
  written when they have none, mended when it lost its form, see
  cmi5_documents.py), then the `Cmi5Session` row.

Every statement Kalan makes names the AU's publisher id and the resource's
activity id in contextActivities.grouping, and the contextTemplate asks the
AU to do the same, so every statement of a launch is about the resource.
"""

import datetime as dt
import json
import uuid
from contextlib import suppress
from typing import Any

from django.db import transaction
from django.utils import timezone

from kalan.accounts.xapi import actor_for
from kalan.content.runtime_hooks import Cmi5Launch
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.cmi5_course import (
    ABANDONED,
    LAUNCH_DATA,
    LAUNCH_MODE,
    LAUNCH_PARAMETERS,
    LAUNCH_URL,
    LAUNCHED,
    LEARNER_PREFERENCES,
    MASTERY_SCORE,
    MOVE_ON,
    SESSION_ID,
    Course,
    activity,
    au_grouping,
    language_map,
    lms_statement,
    newly_satisfied,
    registration_facts,
    satisfied_statements,
)
from kalan.lrs.cmi5_documents import mended_preferences
from kalan.lrs.documents import (
    Body,
    Conditions,
    DocumentRef,
    DocumentSet,
    PreconditionFailed,
    UnconditionalPut,
    get_document,
    put_document,
    school_of,
)
from kalan.lrs.models import Cmi5Session, Document
from kalan.lrs.statements import store_statements
from kalan.lrs.validation import agent_key

_JSON = "application/json"


def _au_target(launch: Cmi5Launch, course: Course) -> dict[str, Any]:
    definition: dict[str, Any] = {}
    title = str(launch.au.get("title") or "")
    if title:
        definition["name"] = language_map(title, course.language)
    activity_type = str(launch.au.get("activity_type") or "")
    if ":" in activity_type:
        definition["type"] = activity_type
    target = activity(launch.activity_id)
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
    return lms_statement(
        user_id=launch.user_id,
        verb=LAUNCHED,
        target=_au_target(launch, course),
        registration=launch.registration,
        grouping=au_grouping(session.publisher_id, course),
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
            lms_statement(
                user_id=launch.user_id,
                verb=ABANDONED,
                target=activity(old.activity_id),
                registration=launch.registration,
                grouping=au_grouping(old.publisher_id, course),
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
            "contextActivities": {"grouping": au_grouping(session.publisher_id, course)},
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
        body=Body(json.dumps(document).encode(), _JSON),
        conditions=Conditions(),
        unconditional=UnconditionalPut.OVERWRITE,
        school_id=school_id,
    )
    _write_preferences(launch, agent, school_id)


def _write_preferences(launch: Cmi5Launch, agent: str, school_id: uuid.UUID | None) -> None:
    """The learner's preferences, written when missing, mended when out of form (cmi5 11)."""
    profile = DocumentSet(kind=Document.Kind.AGENT_PROFILE, agent=agent)
    ref = DocumentRef(set=profile, document_id=LEARNER_PREFERENCES)
    stored = get_document(ref)
    preferences = mended_preferences(
        Body(stored.content, stored.content_type) if stored is not None else None,
        language=launch.learner_language,
    )
    if preferences is None:
        return  # the learner's own preferences are kept
    conditions = (
        Conditions(if_none_match="*") if stored is None else Conditions(if_match=f'"{stored.etag}"')
    )
    with suppress(PreconditionFailed):  # another writer came first: its document is kept
        put_document(
            ref=ref,
            body=Body(json.dumps(preferences).encode(), _JSON),
            conditions=conditions,
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
