"""cmi5's two documents through HTTP: LMS.LaunchData (cmi5 10) and the learner's preferences (11).

The AU, with its launch token, may read LMS.LaunchData and never change it
(10.2.1.0-5); the learner's cmi5LearnerPreferences keep the form of section
11, and an AU's document out of form is refused with 403 as the cmi5 test
suite expects (11.0.0.0-5, 11.1.0.0-1). Kalan's own launch code writes both.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from kalan.accounts.models import User
from kalan.accounts.xapi import actor_for
from kalan.lrs import cmi5
from kalan.lrs.documents import (
    Body,
    Conditions,
    DocumentRef,
    DocumentSet,
    UnconditionalPut,
    put_document,
)
from kalan.lrs.models import Document
from kalan.lrs.tests.cmi5_au import (
    Played,
    accepted,
    au_entry,
    initialized,
    make_course,
    play,
    terminated,
)
from kalan.lrs.tests.xapi_client import Xapi
from kalan.lrs.validation import agent_key
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

STATE = "activities/state"
PROFILE = "agents/profile"
JSON_TYPE = "application/json"


@pytest.fixture
def learner() -> User:
    return make_person(school=make_school())


@pytest.fixture
def played(learner: User) -> Played:
    return play(learner, make_course([au_entry()]))


def pages_of(learner: User) -> Xapi:
    """Kalan's own pages: the learner's session, no credentials."""
    client = Client()
    client.force_login(learner)
    return Xapi(client, version="1.0.3", authorization="")


def refused(response: Any, status: int, requirement: str) -> None:
    assert response.status_code == status, response.content
    assert f"cmi5 {requirement}:" in response.content.decode()


def without_id(params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if name != "stateId"}


# ---------------------------------------------------------------- LMS.LaunchData


@pytest.mark.parametrize("with_etag", [False, True], ids=["unconditional", "if-match"])
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_the_au_reads_the_launch_data_and_never_changes_it(
    played: Played, method: str, with_etag: bool
) -> None:
    before = played.request("GET", STATE, played.state_params())
    headers = {"If-Match": before["ETag"]} if with_etag else {}
    body = None if method == "DELETE" else {"launchMode": "Browse"}
    response = played.request(method, STATE, played.state_params(), body, headers=headers)
    refused(response, 403, "10.2.1.0-5")
    after = played.request("GET", STATE, played.state_params())
    assert (after.content, after["ETag"]) == (before.content, before["ETag"])


def test_the_au_writes_no_launch_data_in_any_registration(played: Played) -> None:
    params = {**played.state_params(), "registration": str(uuid.uuid4())}
    refused(played.request("PUT", STATE, params, {"launchMode": "Normal"}), 403, "10.2.1.0-5")
    assert not Document.objects.filter(registration=params["registration"]).exists()


def test_the_au_keeps_the_use_of_its_own_state_documents(played: Played) -> None:
    own = played.state_params("au.bookmark")
    assert played.request("PUT", STATE, own, {"page": 3}).status_code == 204
    assert played.request("POST", STATE, own, {"done": True}).status_code == 204
    assert json.loads(played.request("GET", STATE, own).content) == {"page": 3, "done": True}
    assert played.request("DELETE", STATE, own).status_code == 204
    assert played.request("GET", STATE, own).status_code == 404


def test_deleting_every_state_document_with_the_launch_data_is_refused(played: Played) -> None:
    own = played.state_params("au.bookmark")
    assert played.request("PUT", STATE, own, {"page": 3}).status_code == 204
    refused(played.request("DELETE", STATE, without_id(own)), 403, "10.2.1.0-5")
    every_registration = {k: v for k, v in without_id(own).items() if k != "registration"}
    refused(played.request("DELETE", STATE, every_registration), 403, "10.2.1.0-5")
    assert played.request("GET", STATE, own).status_code == 200
    assert played.launch_data()["launchMode"] == "Normal"
    # A set without launch data is the AU's to delete.
    elsewhere = {**own, "registration": str(uuid.uuid4())}
    assert played.request("PUT", STATE, elsewhere, {"page": 1}).status_code == 204
    assert played.request("DELETE", STATE, without_id(elsewhere)).status_code == 204
    assert played.request("GET", STATE, elsewhere).status_code == 404


def test_kalans_pages_read_the_launch_data_of_a_launch_but_do_not_change_it(
    learner: User, played: Played
) -> None:
    pages = pages_of(learner)
    params = played.state_params()
    assert pages.request("GET", STATE, params=params).status_code == 200
    changed = pages.request("PUT", STATE, params=params, body={"launchMode": "Browse"})
    refused(changed, 403, "10.1.0.0-1")
    refused(pages.request("DELETE", STATE, params=params), 403, "10.1.0.0-1")
    refused(pages.request("DELETE", STATE, params=without_id(params)), 403, "10.1.0.0-1")
    assert played.launch_data()["launchMode"] == "Normal"
    # Outside the registrations of cmi5 launches it is an ordinary state id (cmi5 4.0).
    elsewhere = {**params, "registration": str(uuid.uuid4())}
    assert pages.request("PUT", STATE, params=elsewhere, body={"mine": 1}).status_code == 204
    assert pages.request("DELETE", STATE, params=elsewhere).status_code == 204


def test_an_outside_tool_keeps_the_xapi_rules_for_launch_data(played: Played) -> None:
    tool = Xapi(Client(), version="1.0.3")
    params = played.state_params()
    assert tool.request("PUT", STATE, params=params, body={"launchMode": "Review"}).status_code == (
        204
    )
    assert played.launch_data() == {"launchMode": "Review"}
    other_lms = {
        **params,
        "activityId": "https://lms.example.org/aus/1",
        "registration": str(uuid.uuid4()),
    }
    assert tool.request(
        "PUT", STATE, params=other_lms, body={"launchMode": "Normal"}
    ).status_code == (204)


def test_each_launch_writes_its_launch_data_again(learner: User) -> None:
    node = make_course([au_entry(mastery_score=None, move_on="Completed")])
    first = play(learner, node)
    refused(first.request("DELETE", STATE, first.state_params()), 403, "10.2.1.0-5")
    accepted(first, initialized, terminated)
    second = play(learner, node)
    data = second.launch_data()
    assert data["contextTemplate"]["extensions"][cmi5.SESSION_ID] == second.session
    assert "masteryScore" not in data


# ---------------------------------------------------------------- cmi5LearnerPreferences


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass(frozen=True)
class OutOfForm:
    requirement: str
    body: bytes
    content_type: str = JSON_TYPE


OUT_OF_FORM = {
    "not JSON": OutOfForm("11.0.0.0-5", b"just some text", "text/plain"),
    "no content type": OutOfForm(
        "11.0.0.0-5", _json({"languagePreference": "en", "audioPreference": "on"}), ""
    ),
    "declared JSON, not JSON": OutOfForm("11.0.0.0-5", b'{"languagePreference": '),
    "not an object": OutOfForm("11.0.0.0-5", _json(["en", "on"])),
    "no languagePreference": OutOfForm("11.0.0.0-5", _json({"audioPreference": "on"})),
    "no audioPreference": OutOfForm("11.0.0.0-5", _json({"languagePreference": "en"})),
    "words, not tags": OutOfForm(
        "11.1.0.0-1", _json({"languagePreference": "not comma separated", "audioPreference": "on"})
    ),
    "no language": OutOfForm(
        "11.1.0.0-1", _json({"languagePreference": "", "audioPreference": "on"})
    ),
    "a space after a comma": OutOfForm(
        "11.1.0.0-1", _json({"languagePreference": "en-US, fr-FR", "audioPreference": "on"})
    ),
    "an empty item": OutOfForm(
        "11.1.0.0-1", _json({"languagePreference": "en,,fr", "audioPreference": "on"})
    ),
    "a list of languages": OutOfForm(
        "11.1.0.0-1", _json({"languagePreference": ["en"], "audioPreference": "on"})
    ),
    "audio neither on nor off": OutOfForm(
        "11.0.0.0-5", _json({"languagePreference": "en", "audioPreference": "loud"})
    ),
    "audio as a boolean": OutOfForm(
        "11.0.0.0-5", _json({"languagePreference": "en", "audioPreference": True})
    ),
}


@pytest.mark.parametrize("method", ["PUT", "POST"])
@pytest.mark.parametrize("case", OUT_OF_FORM.values(), ids=OUT_OF_FORM.keys())
def test_the_au_writing_preferences_out_of_form_is_refused(
    played: Played, case: OutOfForm, method: str
) -> None:
    params = played.preferences_params()
    before = played.request("GET", PROFILE, params)
    response = played.request(
        method,
        PROFILE,
        params,
        case.body,
        content_type=case.content_type,
        headers={"If-Match": before["ETag"]},
    )
    refused(response, 403, case.requirement)
    after = played.request("GET", PROFILE, params)
    assert (after.content, after["ETag"]) == (before.content, before["ETag"])


def test_the_au_replaces_the_preferences_whole_and_never_deletes_them(played: Played) -> None:
    params = played.preferences_params()
    current = played.request("GET", PROFILE, params)
    mine = {"languagePreference": "fr-ML,bm", "audioPreference": "off", "captions": "on"}
    replaced = played.request("PUT", PROFILE, params, mine, headers={"If-Match": current["ETag"]})
    assert replaced.status_code == 204, replaced.content
    assert played.preferences() == mine
    # A POST carries the whole document too (11.0.0.0-5), then merges as xAPI says.
    refused(played.request("POST", PROFILE, params, {"audioPreference": "on"}), 403, "11.0.0.0-5")
    whole = {"languagePreference": "en-US,fr-FR,fr-BE", "audioPreference": "on"}
    assert played.request("POST", PROFILE, params, whole).status_code == 204
    assert played.preferences() == {**whole, "captions": "on"}
    refused(played.request("DELETE", PROFILE, params), 403, "11.0")
    assert played.preferences() == {**whole, "captions": "on"}


@pytest.mark.parametrize("who", ["pages", "tool"])
def test_other_callers_writing_preferences_out_of_form_get_400(
    learner: User, played: Played, who: str
) -> None:
    caller = pages_of(learner) if who == "pages" else Xapi(Client(), version="1.0.3")
    params = played.preferences_params()
    headers = {"If-Match": caller.request("GET", PROFILE, params=params)["ETag"]}
    spaced = {"languagePreference": "en-US, fr-FR", "audioPreference": "on"}
    refused(
        caller.request("PUT", PROFILE, params=params, body=spaced, headers=headers),
        400,
        "11.1.0.0-1",
    )
    good = {"languagePreference": "en-US,fr-FR", "audioPreference": "off"}
    assert caller.request(
        "PUT", PROFILE, params=params, body=good, headers=headers
    ).status_code == (204)
    assert caller.request("DELETE", PROFILE, params=params).status_code == 204


def test_a_launch_keeps_the_learners_own_preferences(learner: User) -> None:
    learner.language = "fr"
    learner.save(update_fields=["language"])
    node = make_course([au_entry(mastery_score=None, move_on="Completed")])
    first = play(learner, node)
    params = first.preferences_params()
    current = first.request("GET", PROFILE, params)
    assert json.loads(current.content) == {"languagePreference": "fr", "audioPreference": "on"}
    mine = {"languagePreference": "bm,fr", "audioPreference": "off"}
    replaced = first.request("PUT", PROFILE, params, mine, headers={"If-Match": current["ETag"]})
    assert replaced.status_code == 204
    accepted(first, initialized, terminated)
    second = play(learner, node)
    assert second.preferences() == mine


def _store_preferences(learner: User, body: Body) -> None:
    """A document written before Kalan checked the form, as an older version could."""
    profile = DocumentSet(kind=Document.Kind.AGENT_PROFILE, agent=agent_key(actor_for(learner.id)))
    put_document(
        ref=DocumentRef(set=profile, document_id=cmi5.LEARNER_PREFERENCES),
        body=body,
        conditions=Conditions(),
        unconditional=UnconditionalPut.OVERWRITE,
        school_id=learner.school_id,
    )


def test_a_launch_mends_preferences_out_of_form_and_keeps_what_holds(learner: User) -> None:
    node = make_course([au_entry()])
    kept = {"languagePreference": "fr", "audioPreference": "loud", "captions": "on"}
    _store_preferences(learner, Body(_json(kept), JSON_TYPE))
    assert play(learner, node).preferences() == {**kept, "audioPreference": "on"}
    _store_preferences(learner, Body(b"French, please", "text/plain"))
    assert play(learner, node).preferences() == {
        "languagePreference": "en",
        "audioPreference": "on",
    }


# ---------------------------------------------------------------- the form, as a rule


@pytest.mark.parametrize(
    "languages", ["en-US,fr-FR,fr-BE", "bm", "zh-Hans-CN,sgn-BE-FR", "es-419,en-GB-oed"]
)
def test_lists_of_language_tags_have_the_form(languages: str) -> None:
    body = Body(_json({"languagePreference": languages, "audioPreference": "off"}), JSON_TYPE)
    assert cmi5.preferences_problem(body) is None
    assert cmi5.mended_preferences(body, language="en") is None


def test_the_default_language_is_undetermined_when_the_learners_is_no_tag() -> None:
    assert cmi5.mended_preferences(None, language="fr") == {
        "languagePreference": "fr",
        "audioPreference": "on",
    }
    assert cmi5.mended_preferences(None, language="en_US") == {
        "languagePreference": "und",
        "audioPreference": "on",
    }
