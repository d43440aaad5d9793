"""A cmi5 launch's session starts when its token is fetched: what the content app announces.

The listeners the LRS registers are replaced here by one that keeps what it
hears, so these tests see the content app alone.
"""

import uuid
from urllib.parse import urlsplit

import pytest
from django.test import Client

from kalan.accounts.models import User
from kalan.content import cmi5_launch, runtime_hooks
from kalan.content.models import Channel, ContentNode, RuntimeState
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

HUB = "http://testserver/"
SHA = "ab" * 32
AU = {
    "id": "https://example.org/courses/geology/aus/intro",
    "title": "Introduction",
    "url": "au/start.html?lang=fr",
    "launch_method": "AnyWindow",
    "move_on": "CompletedAndPassed",
    "mastery_score": 0.8,
    "activity_type": "",
    "launch_parameters": '{"level": 2}',
    "block": None,
}


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[runtime_hooks.Cmi5Launch]:
    launches: list[runtime_hooks.Cmi5Launch] = []
    monkeypatch.setattr(runtime_hooks, "_cmi5_listeners", [launches.append])
    return launches


@pytest.fixture
def learner() -> User:
    person = make_person(school=make_school())
    person.language = "fr"
    person.save(update_fields=["language"])
    return person


def _course() -> ContentNode:
    channel = Channel.objects.create(
        id=uuid.uuid4(), version=1, title="Cours", public_key="k", manifest_sha256="0" * 64
    )
    return ContentNode.objects.create(
        id=uuid.uuid4(),
        channel=channel,
        path="0001",
        kind="cmi5",
        title="Géologie",
        language="fr",
        options={"course_id": "https://example.org/courses/geology", "aus": [AU], "blocks": []},
    )


def _fetch(launch: cmi5_launch.Launch) -> dict[str, str]:
    answer: dict[str, str] = Client().post(urlsplit(launch.fetch_url).path).json()
    return answer


def _launch(learner: User, node: ContentNode) -> cmi5_launch.Launch:
    return cmi5_launch.build_launch(
        hub_url=HUB, user_id=learner.id, node_id=node.id, sha256=SHA, au=AU
    )


def test_showing_the_launch_announces_nothing(
    learner: User, heard: list[runtime_hooks.Cmi5Launch]
) -> None:
    _launch(learner, _course())
    assert heard == []


def test_the_first_fetch_announces_the_session_with_what_the_lrs_needs(
    learner: User, heard: list[runtime_hooks.Cmi5Launch]
) -> None:
    node = _course()
    launch = _launch(learner, node)
    assert "auth-token" in _fetch(launch)
    assert len(heard) == 1
    event = heard[0]
    assert (event.user_id, event.node_id, event.session) == (learner.id, node.id, launch.session)
    assert event.registration == launch.registration
    assert event.activity_id == launch.activity_id
    assert event.au == AU
    assert event.course["course_id"] == "https://example.org/courses/geology"
    assert (event.title, event.language, event.learner_language) == ("Géologie", "fr", "fr")
    assert event.launch_mode == "Normal"
    # The AU's URL as launched, with its own query string and without cmi5's parameters.
    assert event.launch_url == f"http://testserver/play/zip/{SHA}/au/start.html?lang=fr"
    assert event.return_url == f"http://testserver/library/resource/{node.id}/"
    # A second fetch is refused and announces nothing.
    assert _fetch(launch)["error-code"] == cmi5_launch.ALREADY_USED_OR_EXPIRED
    assert len(heard) == 1


def test_a_learner_without_a_language_gets_the_hubs(
    learner: User, heard: list[runtime_hooks.Cmi5Launch], settings: pytest.FixtureRequest
) -> None:
    settings.LANGUAGE_CODE = "ru"  # type: ignore[attr-defined]
    learner.language = ""
    learner.save(update_fields=["language"])
    _fetch(_launch(learner, _course()))
    assert heard[0].learner_language == "ru"


def test_an_au_gone_from_the_course_is_an_application_error(
    learner: User, heard: list[runtime_hooks.Cmi5Launch]
) -> None:
    node = _course()
    launch = _launch(learner, node)
    node.options = {**node.options, "aus": [{**AU, "id": "https://example.org/other"}]}
    node.save(update_fields=["options"])
    answer = _fetch(launch)
    assert answer["error-code"] == cmi5_launch.APPLICATION_ERROR
    assert heard == []


def test_when_the_launch_cannot_be_recorded_no_token_is_given(
    learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(launch: runtime_hooks.Cmi5Launch) -> None:
        raise RuntimeError("the records could not be written")

    monkeypatch.setattr(runtime_hooks, "_cmi5_listeners", [refuse])
    node = _course()
    launch = _launch(learner, node)
    with pytest.raises(RuntimeError):
        cmi5_launch.redeem_fetch_ticket(urlsplit(launch.fetch_url).path.split("/")[-2])
    # The fetch was not marked: the same URL can still give the token.
    assert not RuntimeState.objects.filter(user_id=learner.id, node_id=node.id).exists()
    monkeypatch.setattr(runtime_hooks, "_cmi5_listeners", [])
    assert "auth-token" in _fetch(launch)


def test_listeners_are_registered_once() -> None:
    def listener(launch: runtime_hooks.Cmi5Launch) -> None:
        return None

    before = list(runtime_hooks._cmi5_listeners)
    try:
        runtime_hooks.listen_cmi5(listener)
        runtime_hooks.listen_cmi5(listener)
        assert runtime_hooks._cmi5_listeners.count(listener) == 1
    finally:
        runtime_hooks._cmi5_listeners[:] = before
