"""The two documents cmi5 gives a form and an owner: LMS.LaunchData and the learner's preferences.

**LMS.LaunchData** (section 10). Before a launch the LMS creates or updates
the "LMS.LaunchData" state document of the AU's activity, the learner and the
registration (10.1.0.0-1; Kalan does it in cmi5_sessions.py, through
documents.py, not through /xapi/). "The AU MUST NOT modify or delete the
LMS.LaunchData State document" (10.2.1.0-5); the test suite's derived
requirement asks the LMS to reject the AU's requests for it other than GET.
Kalan answers 403:

- to a launch token (the AU) for every PUT, POST or DELETE of LMS.LaunchData,
  whatever the registration, and for a DELETE of many state documents that
  would take one along;
- to any other caller acting for one learner (Kalan's own pages) in a
  registration where Kalan launched that activity for the learner (its
  "launched" statement, which travels by sync): there the document is the
  LMS's. Elsewhere "LMS.LaunchData" is an ordinary state id: cmi5 governs only
  its own uses of xAPI (4.0), so other clients keep the xAPI rules, as do the
  accounts that act for the whole LRS (outside tools' credentials, superusers:
  the LMS's own account of 4.2).

**cmi5LearnerPreferences** (section 11). The agent profile is a JSON object
with "languagePreference", a comma-separated list of RFC 5646 language tags in
the learner's order (11.1, 11.1.0.0-1), and "audioPreference", "on" or "off"
(11.2); the LMS must reject an AU's document that is not JSON, not an object,
or lacks either property (11.0.0.0-5) or whose list is not one of language
tags (11.1.0.0-1). Both the LMS and the AU may write it, and the LMS may
refuse an AU's change with 403, which the AU must not treat as an error
(11.0, 11.0.0.0-2). Kalan:

- checks the body of every PUT and POST of the document against that form: an
  AU's is refused with 403 and the requirement's id (what the test suite
  expects), anyone else's with 400 (a body the resource cannot take); a POST
  must carry the whole document, as the requirement reads;
- refuses an AU's DELETE (403): the preferences are the learner's own;
- at each launch (`mended_preferences`), writes the document when the learner
  has none and mends one that lost its form: the values that hold are kept,
  the others default to the learner's interface language and audio "on".
"""

import json
import uuid
from typing import Any, Final

from kalan.lrs.auth import Caller
from kalan.lrs.cmi5_course import LAUNCH_DATA, LAUNCHED, LEARNER_PREFERENCES
from kalan.lrs.documents import Body, DocumentError, DocumentRef, DocumentRefused, DocumentSet
from kalan.lrs.models import Document, Statement
from kalan.lrs.values import is_language_tag, is_uuid

LANGUAGE: Final = "languagePreference"
AUDIO: Final = "audioPreference"
AUDIO_VALUES: Final = ("on", "off")
DEFAULT_AUDIO: Final = "on"
# RFC 5646's tag for a language not determined: the AU shows its own default (11.1).
UNDETERMINED: Final = "und"


class Cmi5DocumentRefused(DocumentError):
    """A document request that cmi5 sections 10 and 11 refuse; nothing was written (403)."""


# ---------------------------------------------------------------- the form of the preferences


def _language_problem(value: object) -> str | None:
    """Why `value` is not a languagePreference (11.1); None when it is one."""
    if not isinstance(value, str):
        return f"{LANGUAGE} must be a string: a comma-separated list of RFC 5646 language tags"
    for tag in value.split(","):
        if not is_language_tag(tag):
            return (
                f"{LANGUAGE} must be a comma-separated list of RFC 5646 language tags, "
                f"with no spaces: {json.dumps(tag)} is not one"
            )
    return None


def _json_object(body: Body) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is not application/json or not an object."""
    if not body.is_json:
        return None
    try:
        value = json.loads(body.content)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def preferences_problem(body: Body) -> str | None:
    """Why `body` is not a cmi5LearnerPreferences document, led by the requirement's id.

    None when it is one: a JSON object sent as application/json whose
    languagePreference and audioPreference have the form of sections 11.1 and
    11.2. Other properties are left alone; section 11 does not forbid them.
    """
    value = _json_object(body)
    if value is None:
        return f"11.0.0.0-5: {LEARNER_PREFERENCES} must be a JSON object sent as application/json"
    missing = [name for name in (LANGUAGE, AUDIO) if name not in value]
    if missing:
        return f"11.0.0.0-5: {LEARNER_PREFERENCES} needs {' and '.join(missing)}"
    language = _language_problem(value[LANGUAGE])
    if language is not None:
        return f"11.1.0.0-1: {language}"
    if value[AUDIO] not in AUDIO_VALUES:
        return f'11.0.0.0-5: {AUDIO} must be "on" or "off" (section 11.2)'
    return None


def mended_preferences(stored: Body | None, *, language: str) -> dict[str, Any] | None:
    """The learner preferences Kalan writes at a launch; None to keep the stored ones as they are.

    With none stored: languagePreference `language` (or "und" when it is no
    language tag) and audioPreference "on". A stored document in the form of
    section 11 is kept; one that is not keeps its properties that hold, and
    the others take the defaults.
    """
    if stored is not None and preferences_problem(stored) is None:
        return None
    mended = (_json_object(stored) if stored is not None else None) or {}
    if _language_problem(mended.get(LANGUAGE)) is not None:
        mended[LANGUAGE] = language if _language_problem(language) is None else UNDETERMINED
    if mended.get(AUDIO) not in AUDIO_VALUES:
        mended[AUDIO] = DEFAULT_AUDIO
    return mended


# ---------------------------------------------------------------- who may write them


def check_document_write(
    *, caller: Caller, document_set: DocumentSet, ref: DocumentRef | None, body: Body | None
) -> None:
    """Refuse a write that cmi5 sections 10 and 11 forbid, before anything is written.

    `ref` is the document named (None for a DELETE of many state documents);
    `body` what a PUT or POST sends, None for a DELETE. Raises
    Cmi5DocumentRefused (403) and, for a learner preferences document that
    does not have its form and comes from another caller than an AU,
    DocumentRefused (400).
    """
    if document_set.kind == Document.Kind.STATE:
        _check_launch_data(caller, document_set, ref)
    elif (
        ref is not None
        and document_set.kind == Document.Kind.AGENT_PROFILE
        and ref.document_id == LEARNER_PREFERENCES
    ):
        _check_preferences(caller, body)


def _check_launch_data(caller: Caller, document_set: DocumentSet, ref: DocumentRef | None) -> None:
    if caller.learner_id is None:
        return  # an account acting for the whole LRS: the xAPI rules only
    registrations = _launch_data_registrations(document_set, ref)
    if not registrations:
        return
    if caller.cmi5_session is not None:
        raise Cmi5DocumentRefused(
            f"cmi5 10.2.1.0-5: the AU must not modify or delete the {LAUNCH_DATA} state "
            "document; it may only read it"
        )
    if _launched(caller.learner_id, document_set.activity_id, registrations):
        raise Cmi5DocumentRefused(
            f"cmi5 10.1.0.0-1: {LAUNCH_DATA} of a cmi5 launch is written by the LMS before "
            "each launch; it may be read, not changed or deleted"
        )


def _launch_data_registrations(document_set: DocumentSet, ref: DocumentRef | None) -> set[str]:
    """The registrations whose LMS.LaunchData the request would write or delete."""
    if ref is not None:
        return {ref.set.registration or ""} if ref.document_id == LAUNCH_DATA else set()
    found = document_set.rows().filter(document_id=LAUNCH_DATA)
    return set(found.values_list("registration", flat=True))


def _launched(user_id: uuid.UUID, activity_id: str, registrations: set[str]) -> bool:
    """Whether Kalan launched the activity for the learner in one of the registrations."""
    ids = [uuid.UUID(registration) for registration in registrations if is_uuid(registration)]
    return (
        bool(ids)
        and Statement.objects.filter(
            user_id=user_id, activity_id=activity_id, registration__in=ids, verb_id=LAUNCHED
        ).exists()
    )


def _check_preferences(caller: Caller, body: Body | None) -> None:
    au = caller.cmi5_session is not None
    if body is None:
        if au:
            raise Cmi5DocumentRefused(
                f"cmi5 11.0: {LEARNER_PREFERENCES} is the learner's own: an AU may replace it "
                "with a document of section 11, not delete it"
            )
        return
    problem = preferences_problem(body)
    if problem is not None:
        raise (Cmi5DocumentRefused if au else DocumentRefused)(f"cmi5 {problem}")
