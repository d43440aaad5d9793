"""What the player pages give their scripts to record learning (content/static/content/records.js).

Video, audio, PDF, EPUB, HTML5 and H5P pages carry `data-xapi` on their
player's root: the LRS endpoint, the CSRF token, the learner as actor and the
resource as activity (docs/architecture/learning-records.md), plus the length,
page count or H5P package the player needs; `data-resume` says where the player
opens. What a page carries is enough for a statement to be stored by the LRS
with the learner's session, and costs no query more.
"""

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kalan.accounts.models import User
from kalan.accounts.xapi import actor_for
from kalan.content.activities import resource_activity_id
from kalan.content.builder import build_channel
from kalan.content.demo import DEMO_CHANNEL_ID
from kalan.content.importer import import_channel
from kalan.content.kinds import Kind
from kalan.content.models import ContentNode
from kalan.content.sources import DirectorySource
from kalan.content.store import LibraryFolder
from kalan.content.tests.test_players import Outline, main_sha, play_url, write_player_folder
from kalan.content.views.players import RECORDED_KINDS
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

RECORDED = sorted(RECORDED_KINDS)
NOT_RECORDED = [Kind.SCORM, Kind.CMI5, Kind.ZIM, Kind.EXERCISE]
RECORDS_JS = "/static/content/records.js"
# The element each kind's script reads data-xapi from.
ROOTS: dict[str, tuple[str, str]] = {
    Kind.VIDEO: ("figure", "data-media-player"),
    Kind.AUDIO: ("figure", "data-media-player"),
    Kind.DOCUMENT: ("section", "data-pdf-viewer"),
    Kind.EPUB: ("section", "data-epub-reader"),
    Kind.HTML5: ("iframe", "data-xapi-visit"),
    Kind.H5P: ("iframe", "data-xapi-h5p"),
}
# The scripts that end each recorded page (the PDF viewer's module comes after them).
SCRIPTS: dict[str, list[str]] = {
    Kind.VIDEO: [RECORDS_JS, "/static/content/media.js"],
    Kind.AUDIO: [RECORDS_JS, "/static/content/media.js"],
    Kind.DOCUMENT: [RECORDS_JS, "/static/content/pdf-viewer.js"],
    Kind.EPUB: [
        RECORDS_JS,
        "/static/vendor/jszip/jszip.min.js",
        "/static/vendor/epubjs/epub.legacy.min.js",
        "/static/content/epub-reader.js",
    ],
    Kind.HTML5: [RECORDS_JS],
    Kind.H5P: [RECORDS_JS, "/static/content/h5p-player.js"],
}
TYPES: dict[str, str] = {
    Kind.VIDEO: "https://w3id.org/xapi/video/activity-type/video",
    Kind.AUDIO: "https://w3id.org/xapi/audio/activity-type/audio",
    Kind.DOCUMENT: "http://id.tincanapi.com/activitytype/document",
    Kind.EPUB: "http://id.tincanapi.com/activitytype/book",
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("player-records")
    write_player_folder(work / "source", with_video=shutil.which("ffmpeg") is not None)
    build_channel(work / "source", work / "package", key=Ed25519PrivateKey.generate())
    return work / "package"


@pytest.fixture
def nodes(package: Path) -> dict[str, ContentNode]:
    """The first resource of each kind, imported into this test's store and database."""
    import_channel(DirectorySource(LibraryFolder(package)), DEMO_CHANNEL_ID)
    found: dict[str, ContentNode] = {}
    for node in ContentNode.objects.select_related("channel").exclude(kind=Kind.TOPIC):
        found.setdefault(node.kind, node)
    return found


def node_of(nodes: dict[str, ContentNode], kind: str) -> ContentNode:
    if kind not in nodes:
        pytest.skip(f"no {kind} resource: needs ffmpeg (video) or the corpus (zim)")
    return nodes[kind]


@pytest.fixture
def learner() -> User:
    return make_person(school=make_school())


def signed_in(user: User, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def open_page(client: Client, node: ContentNode, **query: str) -> Outline:
    response = client.get(play_url(node), query)
    assert response.status_code == 200
    return Outline(response.content.decode())


def player_root(outline: Outline, kind: str) -> dict[str, str | None]:
    tag, marker = ROOTS[kind]
    return outline.one(tag, **{marker: None})


def settings_of(outline: Outline, kind: str) -> dict[str, Any]:
    value = player_root(outline, kind)["data-xapi"]
    assert value, f"the {kind} player has no data-xapi"
    settings: dict[str, Any] = json.loads(value)
    return settings


def script_sources(outline: Outline) -> list[str]:
    return [script["src"] or "" for script in outline.has_attribute("script", "src")]


# ---------------------------------------------------------------- what the pages carry


@pytest.mark.parametrize("kind", RECORDED)
def test_a_recorded_player_names_the_learner_and_the_resource(
    kind: str, nodes: dict[str, ContentNode], learner: User
) -> None:
    node = node_of(nodes, kind)
    settings = settings_of(open_page(signed_in(learner), node), kind)
    assert settings["endpoint"] == "/xapi/statements"
    assert settings["actor"] == actor_for(learner.id)
    assert settings["object"]["objectType"] == "Activity"
    assert settings["object"]["id"] == resource_activity_id(node.id)
    assert settings["object"]["definition"]["name"] == {node.language or "und": node.title}
    assert settings["object"]["definition"].get("type") == TYPES.get(kind)
    assert settings["csrf"]


@pytest.mark.parametrize("kind", RECORDED)
def test_records_js_comes_deferred_before_the_players_script(
    kind: str, nodes: dict[str, ContentNode], learner: User
) -> None:
    outline = open_page(signed_in(learner), node_of(nodes, kind))
    assert "defer" in outline.one("script", src=RECORDS_JS)
    sources = script_sources(outline)
    assert sources[-len(SCRIPTS[kind]) :] == SCRIPTS[kind]


@pytest.mark.parametrize("kind", NOT_RECORDED)
def test_other_players_record_nothing_from_their_page(
    kind: str, nodes: dict[str, ContentNode], learner: User
) -> None:
    response = signed_in(learner).get(play_url(node_of(nodes, kind)))
    html = response.content.decode()
    assert "data-xapi" not in html
    assert RECORDS_JS not in html


def test_media_players_record_without_captions_and_know_their_length(
    nodes: dict[str, ContentNode], learner: User
) -> None:
    node = node_of(nodes, Kind.AUDIO)
    node.duration = 2
    node.save(update_fields=["duration"])
    outline = open_page(signed_in(learner), node)
    assert settings_of(outline, Kind.AUDIO)["length"] == 2
    assert "/static/content/media.js" in script_sources(outline)
    node.files.filter(role="caption").delete()
    outline = open_page(signed_in(learner), node)
    assert not outline.all("track")
    assert script_sources(outline)[-2:] == SCRIPTS[Kind.AUDIO]


def test_the_pdf_knows_its_page_count(nodes: dict[str, ContentNode], learner: User) -> None:
    node = node_of(nodes, Kind.DOCUMENT)
    settings = settings_of(open_page(signed_in(learner), node), Kind.DOCUMENT)
    assert settings["pages"] == node.page_count == 3


def test_the_h5p_page_knows_the_package_the_activity_is_named_after(
    nodes: dict[str, ContentNode], learner: User
) -> None:
    node = node_of(nodes, Kind.H5P)
    outline = open_page(signed_in(learner), node)
    settings = settings_of(outline, Kind.H5P)
    package = reverse("players:zip-member", args=[main_sha(node), ""]).rstrip("/")
    assert settings["source"] == package
    # The host page gives h5p-standalone the same folder: H5P names the activity after it.
    host = Client().get(outline.one("iframe")["src"] or "")
    assert Outline(host.content.decode()).one("div")["data-h5p-json-path"] == package
    assert "data-xapi-visit" not in outline.one("iframe")


def test_an_odd_language_names_the_activity_in_und(
    nodes: dict[str, ContentNode], learner: User
) -> None:
    node = node_of(nodes, Kind.DOCUMENT)
    node.language = "fr_FR"
    node.save(update_fields=["language"])
    settings = settings_of(open_page(signed_in(learner), node), Kind.DOCUMENT)
    assert settings["object"]["definition"]["name"] == {"und": node.title}


# ---------------------------------------------------------------- where the player opens


@pytest.mark.parametrize(
    ("kind", "query", "resume"),
    [
        (Kind.DOCUMENT, {"page": "2"}, "page=2"),
        (Kind.DOCUMENT, {"page": "0"}, None),
        (Kind.DOCUMENT, {"page": "two"}, None),
        (Kind.VIDEO, {"t": "12.5"}, "12.5"),
        (Kind.AUDIO, {"t": "1"}, "1"),
        (Kind.AUDIO, {"t": "-1"}, None),
        (Kind.AUDIO, {"page": "2"}, None),
        (Kind.EPUB, {"cfi": "epubcfi(/6/4!/4/2/1:0)"}, "epubcfi(/6/4!/4/2/1:0)"),
        (Kind.EPUB, {"cfi": "javascript:alert(1)"}, None),
        (Kind.HTML5, {"page": "2"}, None),
    ],
)
def test_the_player_opens_at_the_resume_point_of_its_query(
    kind: str,
    query: dict[str, str],
    resume: str | None,
    nodes: dict[str, ContentNode],
    learner: User,
) -> None:
    outline = open_page(signed_in(learner), node_of(nodes, kind), **query)
    assert player_root(outline, kind).get("data-resume") == resume


# ---------------------------------------------------------------- the LRS takes what the page gives


@pytest.mark.parametrize("kind", [Kind.DOCUMENT, Kind.H5P])
def test_a_statement_made_from_the_page_is_stored_with_the_learners_session(
    kind: str, nodes: dict[str, ContentNode], learner: User
) -> None:
    client = signed_in(learner, enforce_csrf_checks=True)
    settings = settings_of(open_page(client, node_of(nodes, kind)), kind)
    statement = {
        "id": str(uuid.uuid4()),
        "actor": settings["actor"],
        "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
        "object": settings["object"],
        "result": {"duration": "PT12.5S"},
    }
    headers = {"X-Experience-API-Version": "2.0.0"}
    posted = client.post(
        settings["endpoint"],
        json.dumps([statement]),
        content_type="application/json",
        headers={**headers, "X-CSRFToken": settings["csrf"]},
    )
    assert posted.status_code == 200, posted.content
    assert posted.json() == [statement["id"]]
    # The same statement again (a retry after a lost answer) is taken as it is.
    again = client.post(
        settings["endpoint"],
        json.dumps([statement]),
        content_type="application/json",
        headers={**headers, "X-CSRFToken": settings["csrf"]},
    )
    assert again.status_code == 200, again.content
    read = client.get(settings["endpoint"], {"statementId": statement["id"]}, headers=headers)
    assert read.status_code == 200
    assert read.json()["object"]["id"] == resource_activity_id(node_of(nodes, kind).id)
    without_token = client.post(
        settings["endpoint"],
        json.dumps([statement]),
        content_type="application/json",
        headers=headers,
    )
    assert without_token.status_code == 403


def test_the_page_of_one_learner_cannot_record_for_another(
    nodes: dict[str, ContentNode], learner: User
) -> None:
    other = make_person(school=make_school())
    client = signed_in(learner, enforce_csrf_checks=True)
    settings = settings_of(open_page(client, node_of(nodes, Kind.EPUB)), Kind.EPUB)
    statement = {
        "actor": actor_for(other.id),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
        "object": settings["object"],
    }
    posted = client.post(
        settings["endpoint"],
        json.dumps(statement),
        content_type="application/json",
        headers={"X-Experience-API-Version": "2.0.0", "X-CSRFToken": settings["csrf"]},
    )
    assert posted.status_code == 403


# ---------------------------------------------------------------- cost


@pytest.mark.parametrize("kind", RECORDED)
def test_recording_costs_no_query(kind: str, nodes: dict[str, ContentNode], learner: User) -> None:
    node = node_of(nodes, kind)
    client = signed_in(learner)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(play_url(node), {"page": "2", "t": "3", "cfi": "epubcfi(/6/2)"})
    assert response.status_code == 200
    assert len(captured) == 4, [query["sql"] for query in captured]
