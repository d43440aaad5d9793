"""The player pages (/play/<id>/) and what they serve, through HTTP, for every kind.

The channel is the demo channel (kalan.content.demo) plus an H5P activity, a
cmi5 course (both made here, with no third-party content) and the corpus's
small.zim, built by `build_channel` and imported by `import_channel`: the rows
and files are exactly what a hub holds after an import.
"""

import base64
import io
import json
import re
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kalan.accounts.models import User
from kalan.accounts.xapi import ACCOUNT_HOMEPAGE
from kalan.content import cmi5_launch
from kalan.content.builder import build_channel
from kalan.content.demo import DEMO_CHANNEL_ID, write_demo_folder
from kalan.content.importer import import_channel
from kalan.content.kinds import RESOURCE_KINDS, FileRole, Kind
from kalan.content.models import ContentNode, NodeFile, RuntimeState
from kalan.content.sources import DirectorySource
from kalan.content.store import LibraryFolder
from kalan.content.views import zim as zim_views
from kalan.content.views.zipcontent import SANDBOX_CSP, scorm_token
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 60 * 1024
SANDBOX = "allow-scripts allow-forms allow-popups allow-modals"
REPOSITORY = Path(__file__).resolve().parents[3]

# ---------------------------------------------------------------- packages made here

H5P_TEXT = "Hello from a Kalan H5P library."
H5P_LIBRARY_JS = """H5P.KalanTest = (function () {
  function KalanTest(params, contentId) {
    this.params = params;
    this.contentId = contentId;
  }
  KalanTest.prototype.attach = function ($container) {
    var root = $container.get(0);
    var text = document.createElement("p");
    text.id = "kalan-h5p-text";
    text.textContent = this.params.text;
    var button = document.createElement("button");
    button.type = "button";
    button.id = "kalan-h5p-button";
    button.textContent = "Press me";
    var said = document.createElement("p");
    said.id = "kalan-h5p-said";
    button.addEventListener("click", function () {
      said.textContent = "Pressed.";
    });
    root.appendChild(text);
    root.appendChild(button);
    root.appendChild(said);
  };
  return KalanTest;
})();
"""

CMI5_XML = """<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://kalan.example/courses/players-test">
    <title><langstring lang="en">Kalan cmi5 test</langstring></title>
    <description><langstring lang="en">Two parts that fetch a token.</langstring></description>
  </course>
  <au id="https://kalan.example/courses/players-test/au/1" moveOn="Completed">
    <title><langstring lang="en">First part</langstring></title>
    <description><langstring lang="en">Runs in a frame.</langstring></description>
    <url>au/start.html?lang=en</url>
  </au>
  <au id="https://kalan.example/courses/players-test/au/2" launchMethod="OwnWindow">
    <title><langstring lang="en">Second part</langstring></title>
    <description><langstring lang="en">Runs in its own window.</langstring></description>
    <url>au/start.html</url>
  </au>
</courseStructure>
"""

# An AU that does what the cmi5 spec asks first: read the launch parameters and
# POST to the fetch URL (twice: the second answer must be an error).
CMI5_AU_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>First part</title></head>
<body><main><h1>First part</h1><p id="token">Fetching...</p><p id="again"></p></main>
<script>
var query = new URLSearchParams(window.location.search);
var fetchUrl = query.get("fetch");
function post() {
  return fetch(fetchUrl, {method: "POST"}).then(function (r) { return r.json(); });
}
post().then(function (first) {
  document.getElementById("token").textContent =
    first["auth-token"] ? "token " + first["auth-token"].length : "error " + first["error-code"];
  return post();
}).then(function (second) {
  document.getElementById("again").textContent = "again " + (second["error-code"] || "none");
}).catch(function (error) {
  document.getElementById("token").textContent = "failed " + error;
});
</script></body></html>
"""


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


def h5p_package() -> bytes:
    """A minimal H5P package whose main library, H5P.KalanTest 1.0, is written here."""
    return _zip(
        {
            "h5p.json": json.dumps(
                {
                    "title": "Kalan H5P test",
                    "language": "en",
                    "mainLibrary": "H5P.KalanTest",
                    "embedTypes": ["div"],
                    "license": "CC BY 4.0",
                    "preloadedDependencies": [
                        {"machineName": "H5P.KalanTest", "majorVersion": 1, "minorVersion": 0}
                    ],
                }
            ),
            "content/content.json": json.dumps({"text": H5P_TEXT}),
            "H5P.KalanTest-1.0/library.json": json.dumps(
                {
                    "title": "Kalan test",
                    "machineName": "H5P.KalanTest",
                    "majorVersion": 1,
                    "minorVersion": 0,
                    "patchVersion": 0,
                    "runnable": 1,
                    "preloadedJs": [{"path": "kalantest.js"}],
                }
            ),
            "H5P.KalanTest-1.0/kalantest.js": H5P_LIBRARY_JS,
        }
    )


def cmi5_package() -> bytes:
    return _zip({"cmi5.xml": CMI5_XML, "au/start.html": CMI5_AU_HTML})


def corpus_zim() -> Path | None:
    import os

    root = Path(os.environ.get("KALAN_CORPUS") or REPOSITORY.parent / "shared" / "corpus")
    path = root / "zim" / "nons" / "small.zim"
    return path if path.is_file() else None


def write_player_folder(folder: Path, *, with_video: bool) -> None:
    """The demo channel's folder plus an H5P activity, a cmi5 course and (with the corpus) a ZIM."""
    write_demo_folder(folder, with_video=with_video)
    more = folder / "06 More"
    more.mkdir()
    (more / "activity.h5p").write_bytes(h5p_package())
    (more / "course.zip").write_bytes(cmi5_package())
    if (zim := corpus_zim()) is not None:
        shutil.copyfile(zim, more / "small.zim")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The channel built once per module (with the video when ffmpeg is here)."""
    work = tmp_path_factory.mktemp("players")
    write_player_folder(work / "source", with_video=shutil.which("ffmpeg") is not None)
    build_channel(work / "source", work / "package", key=Ed25519PrivateKey.generate())
    return work / "package"


@dataclass
class Library:
    nodes: dict[str, ContentNode]  # the first resource of each kind

    def __getitem__(self, kind: str) -> ContentNode:
        if kind not in self.nodes:
            pytest.skip(f"no {kind} resource: needs ffmpeg (video) or the corpus (zim)")
        return self.nodes[kind]


@pytest.fixture
def library(package: Path) -> Library:
    """The channel imported into this test's store and database."""
    import_channel(DirectorySource(LibraryFolder(package)), DEMO_CHANNEL_ID)
    nodes: dict[str, ContentNode] = {}
    for node in ContentNode.objects.select_related("channel").exclude(kind=Kind.TOPIC):
        nodes.setdefault(node.kind, node)
    return Library(nodes)


@pytest.fixture
def learner() -> User:
    return make_person(school=make_school())


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def play_url(node: ContentNode) -> str:
    return reverse("players:play", args=[node.id])


def main_sha(node: ContentNode) -> str:
    return str(NodeFile.objects.get(node=node, role=FileRole.MAIN).sha256)


class Outline(HTMLParser):
    """The elements of a page, with their attributes and the text of some of them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"h1", "a", "dd", "p"}:
            self.text.setdefault(tag, []).append("")
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            self._open.remove(tag)

    def handle_data(self, data: str) -> None:
        for tag in self._open:
            self.text[tag][-1] += data

    def all(self, tag: str, **attrs: str | None) -> list[dict[str, str | None]]:
        return [
            found
            for name, found in self.tags
            if name == tag
            and all(key in found and found[key] == value for key, value in attrs.items())
        ]

    def one(self, tag: str, **attrs: str | None) -> dict[str, str | None]:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}> elements"
        return found[0]

    def has_attribute(self, tag: str, attribute: str) -> list[dict[str, str | None]]:
        return [found for name, found in self.tags if name == tag and attribute in found]


def open_page(client: Client, node: ContentNode) -> tuple[Outline, str]:
    response = client.get(play_url(node))
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.content) <= PAGE_BUDGET
    return Outline(html), html


# ---------------------------------------------------------------- access


def test_anonymous_people_are_sent_to_sign_in(library: Library) -> None:
    node = library[Kind.DOCUMENT]
    response = Client().get(play_url(node))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:sign-in')}?next={play_url(node)}"


def test_a_resource_that_is_not_installed_or_a_topic_is_not_found(
    library: Library, learner: User
) -> None:
    client = signed_in(learner)
    assert client.get(reverse("players:play", args=[uuid.uuid4()])).status_code == 404
    topic = ContentNode.objects.filter(kind=Kind.TOPIC).first()
    assert topic is not None
    assert client.get(play_url(topic)).status_code == 404


def test_only_get_and_head_are_answered(library: Library, learner: User) -> None:
    response = signed_in(learner).post(play_url(library[Kind.DOCUMENT]))
    assert response.status_code == 405


# ---------------------------------------------------------------- the page around every player


# Exercises are practised on a page of their own (the assessments app).
PLAYED_HERE = sorted(set(RESOURCE_KINDS) - {Kind.EXERCISE})


@pytest.mark.parametrize("kind", PLAYED_HERE)
def test_every_kind_has_a_page_with_one_h1_a_way_back_and_its_credits(
    kind: str, library: Library, learner: User
) -> None:
    node = library[kind]
    outline, html = open_page(signed_in(learner), node)
    assert outline.text["h1"] == [node.title]
    back = reverse("library:resource", args=[node.id])
    assert outline.all("a", href=back), "no link back to the resource page"
    assert "Licence and credits" in html
    assert (node.licence or node.channel.licence) in outline.text["dd"]
    assert node.channel.publisher_name in outline.text["dd"]


# ---------------------------------------------------------------- media


def test_the_video_plays_with_its_poster_and_caption_tracks_named_in_their_language(
    library: Library, learner: User
) -> None:
    node = library[Kind.VIDEO]
    outline, _html = open_page(signed_in(learner), node)
    video = outline.one("video")
    assert "controls" in video
    assert video["preload"] == "metadata"
    thumbnail = NodeFile.objects.get(node=node, role=FileRole.THUMBNAIL)
    assert video["poster"] == reverse("files:file", args=[thumbnail.sha256, thumbnail.ext])
    main = NodeFile.objects.get(node=node, role=FileRole.MAIN)
    source = outline.one("source")
    assert source["src"] == reverse("files:file", args=[main.sha256, "webm"])
    assert source["type"] == "video/webm"
    tracks = {track["srclang"]: track for track in outline.all("track", kind="captions")}
    assert {code: track["label"] for code, track in tracks.items()} == {
        "en": "English",
        "fr": "français",
    }
    # The interface speaks English: the English track is the default.
    assert [code for code, track in tracks.items() if "default" in track] == ["en"]
    figure = outline.one("figure")
    assert "data-media-player" in figure
    assert figure["data-label-captions"] == "Captions"
    assert outline.all("script", src="/static/content/media.js")


def test_the_default_caption_track_follows_the_learners_language(
    library: Library, learner: User
) -> None:
    learner.language = "fr"
    learner.save(update_fields=["language"])
    outline, html = open_page(signed_in(learner), library[Kind.VIDEO])
    tracks = outline.all("track", kind="captions")
    assert [track["srclang"] for track in tracks if "default" in track] == ["fr"]
    assert '<html lang="fr">' in html


def test_the_audio_plays_with_its_captions(library: Library, learner: User) -> None:
    node = library[Kind.AUDIO]
    outline, _html = open_page(signed_in(learner), node)
    audio = outline.one("audio")
    assert audio["preload"] == "metadata"
    assert outline.one("source")["src"] == reverse("files:file", args=[main_sha(node), "wav"])
    track = outline.one("track", kind="captions")
    assert (track["srclang"], track["label"]) == ("en", "English")
    assert "default" in track
    caption = NodeFile.objects.get(node=node, role=FileRole.CAPTION)
    response = signed_in(learner).get(track["src"] or "")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vtt")
    assert body(response).startswith(b"WEBVTT")
    assert caption.sha256 in (track["src"] or "")


# ---------------------------------------------------------------- documents


def test_the_pdf_viewer_gets_its_scripts_and_a_download_link(
    library: Library, learner: User
) -> None:
    node = library[Kind.DOCUMENT]
    outline, _html = open_page(signed_in(learner), node)
    viewer = outline.one("section", **{"data-pdf-viewer": None})
    pdf = reverse("files:file", args=[main_sha(node), "pdf"])
    assert viewer["data-src"] == pdf
    assert viewer["data-lib"] == "/static/vendor/pdfjs/pdf.min.mjs"
    assert viewer["data-worker"] == "/static/vendor/pdfjs/pdf.worker.min.mjs"
    assert viewer["data-wasm-jbig2"] == "/static/vendor/pdfjs/wasm/jbig2.wasm"
    assert viewer["data-wasm-openjpeg"] == "/static/vendor/pdfjs/wasm/openjpeg.wasm"
    assert viewer["data-label-page-of"] == "Page {page} of {total}"
    assert outline.all("a", href=pdf, download=None)
    assert outline.one("script", type="module")["src"] == "/static/content/pdf-viewer.js"


def test_the_epub_reader_gets_the_book(library: Library, learner: User) -> None:
    node = library[Kind.EPUB]
    outline, _html = open_page(signed_in(learner), node)
    reader = outline.one("section", **{"data-epub-reader": None})
    assert reader["data-src"] == reverse("files:file", args=[main_sha(node), "epub"])
    assert reader["data-key"] == str(node.id)
    assert reader["data-label-next"] == "Next page"
    scripts = [script["src"] for script in outline.has_attribute("script", "src")]
    assert scripts[-3:] == [
        "/static/vendor/jszip/jszip.min.js",
        "/static/vendor/epubjs/epub.legacy.min.js",
        "/static/content/epub-reader.js",
    ]


def test_an_exercise_is_practised_on_its_own_page(library: Library, learner: User) -> None:
    node = library[Kind.EXERCISE]
    response = signed_in(learner).get(reverse("players:play", args=[node.id]))
    assert response.status_code == 302
    assert response["Location"] == f"/practice/{node.id}/"


# ---------------------------------------------------------------- zip packages


def frame_of(outline: Outline) -> dict[str, str | None]:
    frame = outline.one("iframe")
    assert frame["sandbox"] == SANDBOX
    assert frame["title"]
    return frame


def body(response: Any) -> bytes:
    """The whole body; a streamed one is read to its end, which closes the zip member."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def assert_sandboxed(response: Any) -> None:
    assert response["Content-Security-Policy"] == SANDBOX_CSP
    assert "allow-same-origin" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_html5_app_plays_in_a_sandbox_with_a_full_screen_link(
    library: Library, learner: User
) -> None:
    node = library[Kind.HTML5]
    client = signed_in(learner)
    outline, _html = open_page(client, node)
    src = frame_of(outline)["src"] or ""
    assert src == reverse("players:zip-member", args=[main_sha(node), "index.html"])
    assert outline.all("a", href=src, target="_blank")
    response = client.get(src)
    assert response.status_code == 200
    assert_sandboxed(response)
    assert b"<h1>Shapes</h1>" in body(response)
    script = client.get(src.replace("index.html", "shapes.js"))
    assert_sandboxed(script)
    assert b"addEventListener" in body(script)
    assert client.get(src.replace("index.html", "missing.js")).status_code == 404


def test_an_html5_entry_keeps_its_query_string(library: Library, learner: User) -> None:
    node = library[Kind.HTML5]
    node.entry = "index.html?level=2#start"
    node.save(update_fields=["entry"])
    src = frame_of(open_page(signed_in(learner), node)[0])["src"]
    package = reverse("players:zip-member", args=[main_sha(node), "index.html"])
    assert src == f"{package}?level=2#start"


def scorm_token_of(src: str) -> str:
    match = re.fullmatch(r"/play/scorm/([^/]+)/index\.html", src)
    assert match, src
    return match[1]


def test_the_scorm_launch_token_opens_only_that_learners_data(
    library: Library, learner: User
) -> None:
    node = library[Kind.SCORM]
    other = make_person(school=make_school())
    mine = scorm_token_of(frame_of(open_page(signed_in(learner), node)[0])["src"] or "")
    theirs = scorm_token_of(frame_of(open_page(signed_in(other), node)[0])["src"] or "")
    assert mine != theirs
    assert signing.loads(mine, salt="kalan.content.scorm") == {
        "u": str(learner.id),
        "n": str(node.id),
    }
    anonymous = Client()  # the SCO sends no cookie: the token is the credential
    state_url = reverse("players:scorm-state", args=[mine])
    launch = anonymous.get(state_url).json()["launch"]
    assert launch["core"]["student_id"] == str(learner.id)
    page = anonymous.get(reverse("players:scorm-member", args=[mine, "index.html"]))
    assert_sandboxed(page)
    assert state_url.encode() in page.content  # the bridge is told where to save
    forged = mine[:-2] + ("AA" if not mine.endswith("AA") else "BB")
    assert anonymous.get(reverse("players:scorm-state", args=[forged])).status_code == 404
    saved = {"cmi": {"core": {"lesson_status": "completed"}, "suspend_data": "my note"}}
    posted = anonymous.post(state_url, json.dumps(saved), content_type="text/plain")
    assert posted.status_code == 200
    assert anonymous.get(state_url).json()["cmi"]["suspend_data"] == "my note"
    their_state = anonymous.get(reverse("players:scorm-state", args=[theirs])).json()
    assert their_state["cmi"] == {}
    assert scorm_token(learner.id, node.id) != theirs


def test_the_scorm_page_shows_the_saved_status_as_text(library: Library, learner: User) -> None:
    node = library[Kind.SCORM]
    outline, html = open_page(signed_in(learner), node)
    assert "Your progress" not in html
    RuntimeState.objects.create(
        user=learner,
        node_id=node.id,
        channel_id=node.channel_id,
        data={"cmi": {"core": {"lesson_status": "completed"}}, "terminated": True},
    )
    outline, html = open_page(signed_in(learner), node)
    assert "Your progress:" in " ".join(outline.text["p"])
    assert "<strong>Completed</strong>" in html


# ---------------------------------------------------------------- H5P


def test_h5p_runs_in_a_host_page_under_the_sandbox_policy(library: Library, learner: User) -> None:
    node = library[Kind.H5P]
    client = signed_in(learner)
    outline, _html = open_page(client, node)
    sha = main_sha(node)
    src = frame_of(outline)["src"] or ""
    assert src == reverse("players:h5p-host", args=[sha])
    host = Client().get(src)  # public content: no session needed
    assert host.status_code == 200
    assert_sandboxed(host)
    host_outline = Outline(host.content.decode())
    player = host_outline.one("div", **{"data-h5p-player": None})
    package = reverse("players:zip-member", args=[sha, ""]).rstrip("/")
    assert player["data-h5p-json-path"] == package
    assert player["data-frame-js"] == "/static/vendor/h5p-standalone/frame.bundle.js"
    scripts = [script["src"] for script in host_outline.has_attribute("script", "src")]
    assert scripts == [
        "/static/vendor/h5p-standalone/main.bundle.js",
        "/static/content/h5p-player.js",
    ]
    # What h5p-standalone fetches: all inside the package, all under the sandbox policy.
    fetched = {}
    for member in ("h5p.json", "content/content.json", "H5P.KalanTest-1.0/library.json"):
        response = Client().get(f"{package}/{member}")
        assert response.status_code == 200, member
        assert_sandboxed(response)
        assert response["Access-Control-Allow-Origin"] == "*"
        fetched[member] = json.loads(body(response))
    assert fetched["content/content.json"] == {"text": H5P_TEXT}
    assert fetched["h5p.json"]["mainLibrary"] == "H5P.KalanTest"
    assert Client().get(reverse("players:h5p-host", args=["0" * 64])).status_code == 404
    assert Client().get(f"/play/h5p/{'z' * 64}/").status_code == 404


# ---------------------------------------------------------------- cmi5


def launch_of(outline: Outline) -> tuple[str, dict[str, str]]:
    src = frame_of(outline)["src"] or ""
    parts = urlsplit(src)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return parts.path, query


def test_the_cmi5_launch_url_carries_the_five_parameters(library: Library, learner: User) -> None:
    node = library[Kind.CMI5]
    path, query = launch_of(open_page(signed_in(learner), node)[0])
    assert path == reverse("players:zip-member", args=[main_sha(node), "au/start.html"])
    assert set(query) == {"lang", "endpoint", "fetch", "actor", "registration", "activityId"}
    assert query["lang"] == "en"  # the AU's own query string is kept
    assert query["endpoint"] == "http://testserver/xapi/"
    assert query["fetch"].startswith("http://testserver/play/cmi5-fetch/")
    assert json.loads(query["actor"]) == {
        "objectType": "Agent",
        "account": {"homePage": ACCOUNT_HOMEPAGE, "name": str(learner.id)},
    }
    publisher_id = node.options["aus"][0]["id"]
    assert query["activityId"] != publisher_id
    assert query["activityId"].startswith("urn:uuid:")
    uuid.UUID(query["registration"])
    # The registration and the activity id stay; the fetch URL (the session) changes.
    _path, again = launch_of(open_page(signed_in(learner), node)[0])
    assert (again["registration"], again["activityId"]) == (
        query["registration"],
        query["activityId"],
    )
    assert again["fetch"] != query["fetch"]
    other = make_person(school=make_school())
    _path, theirs = launch_of(open_page(signed_in(other), node)[0])
    assert theirs["registration"] != query["registration"]
    assert theirs["activityId"] == query["activityId"]


def test_the_cmi5_fetch_url_gives_the_token_once(library: Library, learner: User) -> None:
    node = library[Kind.CMI5]
    _path, query = launch_of(open_page(signed_in(learner), node)[0])
    fetch = urlsplit(query["fetch"]).path
    au = Client()  # the AU runs in an opaque origin: no cookie
    assert au.get(fetch).status_code == 405
    first = au.post(fetch)
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    assert first["Access-Control-Allow-Origin"] == "*"
    token = first.json()["auth-token"]
    assert base64.b64decode(token).startswith(b":")  # an HTTP Basic credential
    session = cmi5_launch.read_auth_token(token)
    assert session is not None
    assert (session.user_id, session.node_id) == (learner.id, node.id)
    assert str(session.registration) == query["registration"]
    assert session.activity_id == query["activityId"]
    second = au.post(fetch)
    assert second.status_code == 200
    assert second.json()["error-code"] == "1"
    forged = au.post(fetch.replace("cmi5-fetch/", "cmi5-fetch/x"))
    assert forged.json()["error-code"] == "2"
    assert cmi5_launch.read_auth_token(token[:-4] + "AAA=") is None
    assert cmi5_launch.read_auth_token("not base64!") is None


def test_an_expired_cmi5_launch_cannot_fetch(
    library: Library, learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _path, query = launch_of(open_page(signed_in(learner), library[Kind.CMI5])[0])
    monkeypatch.setattr(cmi5_launch, "SESSION_MAX_AGE", -1)
    answer = Client().post(urlsplit(query["fetch"]).path).json()
    assert answer["error-code"] == "1"
    assert "auth-token" not in answer


def test_an_own_window_au_opens_in_a_new_window(library: Library, learner: User) -> None:
    node = library[Kind.CMI5]
    response = signed_in(learner).get(play_url(node), {"au": "1"})
    outline = Outline(response.content.decode())
    assert not outline.all("iframe")
    link = outline.one("a", target="_blank", **{"class": "button primary"})
    parts = urlsplit(link["href"] or "")
    assert parts.path == reverse("players:zip-member", args=[main_sha(node), "au/start.html"])
    assert "fetch" in parse_qs(parts.query)
    parts_nav = [a["href"] for a in outline.all("a") if (a["href"] or "").startswith("?au=")]
    assert parts_nav == ["?au=0", "?au=1"]


def test_an_au_outside_the_package_is_refused_with_a_message(
    library: Library, learner: User
) -> None:
    node = library[Kind.CMI5]
    node.options["aus"][0]["url"] = "https://elsewhere.example/au.html"
    node.save(update_fields=["options"])
    outline, html = open_page(signed_in(learner), node)
    assert not outline.all("iframe")
    assert "This part of the course is on another website" in html
    assert "https://elsewhere.example/au.html" in html
    node.options["aus"][0]["url"] = "../../escape.html"
    node.save(update_fields=["options"])
    assert "on another website" in open_page(signed_in(learner), node)[1]


# ---------------------------------------------------------------- ZIM


def test_the_zim_main_page_plays_in_a_sandbox(library: Library, learner: User) -> None:
    node = library[Kind.ZIM]
    client = signed_in(learner)
    src = frame_of(open_page(client, node)[0])["src"] or ""
    sha = main_sha(node)
    assert src == reverse("players:zim-entry", args=[sha, "main.html"])
    page = Client().get(src)
    assert page.status_code == 200
    assert_sandboxed(page)
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert b"Test ZIM file" in page.content
    icon = Client().get(reverse("players:zim-entry", args=[sha, "favicon.png"]))
    assert icon["Content-Type"] == "image/png"
    assert_sandboxed(icon)
    home = Client().get(reverse("players:zim-entry", args=[sha, ""]))
    assert home.status_code == 302
    assert home["Location"] == src
    assert Client().get(reverse("players:zim-entry", args=[sha, "nothing.html"])).status_code == 404
    assert Client().get(reverse("players:zim-entry", args=["0" * 64, "a"])).status_code == 404


def test_without_libzim_the_zim_page_says_so(
    library: Library, learner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = library[Kind.ZIM]
    monkeypatch.setattr(zim_views, "zim_available", lambda: False)
    monkeypatch.setattr("kalan.content.views.players.zim_available", lambda: False)
    outline, html = open_page(signed_in(learner), node)
    assert not outline.all("iframe")
    assert "cannot open Kiwix archives" in html
    entry = Client().get(reverse("players:zim-entry", args=[main_sha(node), "main.html"]))
    assert entry.status_code == 503
    assert "kalan[zim]" in entry.content.decode()


# ---------------------------------------------------------------- cost


@pytest.mark.parametrize(
    ("kind", "queries"),
    [
        (Kind.VIDEO, 4),
        (Kind.AUDIO, 4),
        (Kind.DOCUMENT, 4),
        (Kind.EPUB, 4),
        (Kind.HTML5, 4),
        (Kind.SCORM, 5),  # + the learner's saved state
        (Kind.CMI5, 4),
        (Kind.H5P, 4),
        (Kind.ZIM, 4),
    ],
)
def test_a_player_page_costs_a_fixed_number_of_queries(
    kind: str, queries: int, library: Library, learner: User
) -> None:
    node = library[kind]
    client = signed_in(learner)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(play_url(node))
    assert response.status_code == 200
    assert len(captured) == queries, [query["sql"] for query in captured]
