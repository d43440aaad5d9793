"""What a learner sees of their progress: the home page's "continue" section, and roll-ups."""

import datetime as dt
import uuid
from typing import Any

import pytest
from django.test import Client

from kalan.accounts.xapi import actor_for
from kalan.content.activities import resource_activity_id
from kalan.content.models import Channel, ContentNode
from kalan.lrs.auth import KALAN_AUTHORITY
from kalan.lrs.statements import store_statements
from kalan.progress.folding import MEDIA_LENGTH, MEDIA_TIME, PLAYED_SEGMENTS
from kalan.progress.selectors import channel_roll_up, topic_roll_up
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture
def channel() -> dict[str, Any]:
    """A channel: topic 0001 with two videos, topic 0002 with one document."""
    made = Channel.objects.create(
        id=uuid.uuid4(), version=1, title="Sciences", public_key="k", manifest_sha256="0" * 64
    )

    def node(path: str, kind: str, title: str, parent: ContentNode | None = None) -> ContentNode:
        return ContentNode.objects.create(
            id=uuid.uuid4(),
            channel=made,
            path=path,
            kind=kind,
            title=title,
            parent=parent,
            duration=100,
        )

    water = node("0001", "topic", "L'eau")
    plants = node("0002", "topic", "Les plantes")
    return {
        "channel": made,
        "water": water,
        "plants": plants,
        "cycle": node("0001.0001", "video", "Le cycle de l'eau", water),
        "rain": node("0001.0002", "video", "La pluie", water),
        "leaf": node("0002.0001", "document", "La feuille", plants),
    }


def _watch(learner: Any, node: ContentNode, until: float, minute: int = 0) -> dict[str, Any]:
    return {
        "actor": actor_for(learner.id),
        "verb": {"id": "https://w3id.org/xapi/video/verbs/paused"},
        "object": {"id": resource_activity_id(node.id)},
        "timestamp": (
            dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
        ).isoformat(),
        "result": {
            "duration": "PT1M",
            "extensions": {PLAYED_SEGMENTS: f"0[.]{until}", MEDIA_TIME: until},
        },
        "context": {"extensions": {MEDIA_LENGTH: 100}},
    }


def _done(learner: Any, node: ContentNode) -> dict[str, Any]:
    return {
        "actor": actor_for(learner.id),
        "verb": {"id": COMPLETED},
        "object": {"id": resource_activity_id(node.id)},
    }


def test_the_home_page_offers_to_continue_at_the_resume_point(channel: dict[str, Any]) -> None:
    learner = make_person(school=make_school())
    client = Client()
    client.force_login(learner)
    assert "Continue where you left off" not in client.get("/learn/").content.decode()
    store_statements(
        [_watch(learner, channel["cycle"], 42.5, minute=1), _done(learner, channel["leaf"])],
        version="2.0.0",
        authority=KALAN_AUTHORITY,
    )
    html = client.get("/learn/").content.decode()
    assert "Continue where you left off" in html
    assert f'href="/play/{channel["cycle"].id}/?t=42"' in html
    assert 'value="42"' in html  # the progress bar: 42.5 of 100 seconds watched
    assert "Finished lately" in html
    assert "La feuille" in html


def test_roll_ups_of_topics_and_channels(channel: dict[str, Any]) -> None:
    learner = make_person(school=make_school())
    store_statements(
        [
            _watch(learner, channel["cycle"], 95.0),
            _watch(learner, channel["rain"], 20.0),
            _done(learner, channel["leaf"]),
        ],
        version="2.0.0",
        authority=KALAN_AUTHORITY,
    )
    water = topic_roll_up(learner.id, channel["water"])
    assert (water.resources, water.started, water.completed) == (2, 2, 1)
    assert water.percent_completed == 50
    assert water.time_spent_ms == 120_000
    whole = channel_roll_up(learner.id, channel["channel"].id)
    assert (whole.resources, whole.started, whole.completed) == (3, 3, 2)
    other = make_person(school=make_school())
    assert channel_roll_up(other.id, channel["channel"].id).started == 0


def test_a_book_resumes_at_its_place() -> None:
    from kalan.progress.selectors import _resume_url

    node_id = uuid.uuid4()
    url = _resume_url(node_id, {"location": "epubcfi(/6/8[chapter_2]!/4/2/1:0)"})
    assert url == f"/play/{node_id}/?cfi=epubcfi%28%2F6%2F8%5Bchapter_2%5D%21%2F4%2F2%2F1%3A0%29"
    assert _resume_url(node_id, {"location": "somewhere"}) == f"/play/{node_id}/"
