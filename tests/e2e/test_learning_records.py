"""The players record what a learner does, as xAPI statements in the hub's LRS.

A learner of the demo school plays the demo channel's video and audio, reads
its PDF and its book, and opens its HTML5 app in headless Chromium; a second
`kalan start` plays an H5P activity made here whose button emits statements.
After each journey the learner's own statements are read back from the LRS
with their session (GET /xapi/statements from the page), and their shape is
the one docs/architecture/learning-records.md describes. Each test has a
learner of its own, so their records never mix. The recorder survives a hub
that cannot be reached (the statements wait, then go) and drops what the hub
refuses without asking again.
"""

import io
import json
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from kalan.accounts.xapi import ACCOUNT_HOMEPAGE
from kalan.content.activities import resource_activity_id
from kalan.content.builder import build_channel
from tests.e2e.conftest import PASSWORDS, SignIn, submit_sign_in_form
from tests.e2e.test_accessibility import axe_problems
from tests.e2e.test_players import DEMO, open_player, wait_for_book, wait_for_document
from tests.support import serving_demo_with

pytestmark = pytest.mark.browser

VIDEO = "https://w3id.org/xapi/video"
VERB = {
    "initialized": "http://adlnet.gov/expapi/verbs/initialized",
    "played": f"{VIDEO}/verbs/played",
    "paused": f"{VIDEO}/verbs/paused",
    "seeked": f"{VIDEO}/verbs/seeked",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "terminated": "http://adlnet.gov/expapi/verbs/terminated",
    "progressed": "http://adlnet.gov/expapi/verbs/progressed",
    "experienced": "http://adlnet.gov/expapi/verbs/experienced",
    "answered": "http://adlnet.gov/expapi/verbs/answered",
}
PAGES = "https://kalan.invalid/xapi/extensions/pages"
LOCATION = "https://kalan.invalid/xapi/extensions/location"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
DURATION = re.compile(r"^PT(\d+(?:\.\d+)?)S$")
SEGMENTS = re.compile(
    r"^\d+(?:\.\d+)?\[\.\]\d+(?:\.\d+)?(?:\[,\]\d+(?:\.\d+)?\[\.\]\d+(?:\.\d+)?)*$"
)

# The learner's statements about an activity (and its parts), read with the session.
READ_STATEMENTS = """async (activity) => {
  const query = new URLSearchParams({activity, related_activities: "true", ascending: "true"});
  const response = await fetch("/xapi/statements?" + query, {
    headers: {"X-Experience-API-Version": "2.0.0"},
  });
  if (!response.ok) throw new Error("GET /xapi/statements: " + response.status);
  return (await response.json()).statements;
}"""
STORED = "() => Object.keys(localStorage).some((key) => key.startsWith('kalan.records.'))"
# A statement a page could not send before it went, as it leaves it for the next one.
KEEP_LOST = """(statement) => {
  const key = "kalan.records." + statement.actor.account.name;
  const kept = JSON.parse(localStorage.getItem(key) || "[]");
  localStorage.setItem(key, JSON.stringify(kept.concat([statement])));
}"""
MEDIA = "document.querySelector('[data-media-player] video, [data-media-player] audio')"
PLAY = f"() => {{ const media = {MEDIA}; media.muted = true; return media.play(); }}"


def actor_of(page: Page) -> dict[str, Any]:
    settings = json.loads(page.locator("[data-xapi]").first.get_attribute("data-xapi") or "{}")
    actor: dict[str, Any] = settings["actor"]
    assert actor["account"]["homePage"] == ACCOUNT_HOMEPAGE
    return actor


Statements = list[dict[str, Any]]


def statements_until(
    page: Page, activity: str, enough: Callable[[Statements], bool], timeout: float = 20
) -> Statements:
    """The learner's statements about `activity` by timestamp, once `enough` finds them all."""
    deadline = time.monotonic() + timeout
    found: Statements = []
    while time.monotonic() < deadline:
        found = sorted(page.evaluate(READ_STATEMENTS, activity), key=time_of)
        if enough(found):
            return found
        page.wait_for_timeout(300)
    pytest.fail(f"the statements did not arrive in {timeout} s: {json.dumps(found, indent=1)}")


def verbs(statements: Statements) -> list[str]:
    names = {iri: name for name, iri in VERB.items()}
    return [names.get(s["verb"]["id"], s["verb"]["id"]) for s in statements]


def has(*wanted: str) -> Callable[[Statements], bool]:
    def enough(statements: Statements) -> bool:
        found = verbs(statements)
        return all(found.count(verb) >= wanted.count(verb) for verb in wanted)

    return enough


def seconds(statement: dict[str, Any]) -> float:
    match = DURATION.match(statement["result"]["duration"])
    assert match, statement["result"]
    return float(match[1])


def assert_own(statements: Statements, actor: dict[str, Any], activity: str) -> None:
    """Every statement is the learner's, about the resource, stored by Kalan's players."""
    for statement in statements:
        assert statement["actor"] == actor
        assert statement["object"]["id"].startswith(activity)
        assert statement["authority"]["account"] == {
            "homePage": "https://kalan.invalid/lrs",
            "name": "kalan",
        }
        uuid.UUID(statement["id"])


def assert_durations_add_up(statements: Statements) -> None:
    """After the first, each statement's duration is the time since the previous one."""
    stamps = [time_of(s) for s in statements]
    for before, statement, at in zip(stamps, statements[1:], stamps[1:], strict=False):
        assert abs(seconds(statement) - (at - before)) < 0.5, (statement, at - before)


def time_of(statement: dict[str, Any]) -> float:
    return datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00")).timestamp()


def leave(page: Page) -> None:
    """Go to another page: the player's page is hidden, and records its last statements."""
    page.goto("/learn/")


@pytest.fixture
def warnings_of() -> Callable[[Page], list[str]]:
    def watch(page: Page) -> list[str]:
        said: list[str] = []

        def heard(message: ConsoleMessage) -> None:
            if message.type in {"warning", "error"}:
                said.append(message.text)

        page.on("console", heard)
        return said

    return watch


# ---------------------------------------------------------------- video and audio


def test_watching_the_video_is_recorded_with_the_video_profile(
    sign_in: SignIn, warnings_of: Callable[[Page], list[str]]
) -> None:
    page = sign_in("learner21").new_page()
    said = warnings_of(page)
    open_player(page, DEMO["video"])
    activity = resource_activity_id(DEMO["video"])
    actor = actor_of(page)
    page.wait_for_function(f"{MEDIA}.readyState >= 1")
    page.evaluate(PLAY)
    page.wait_for_function(f"{MEDIA}.currentTime > 1.5")
    page.evaluate(f"{MEDIA}.pause()")
    # They go out as they happen, before the learner leaves.
    first = statements_until(page, activity, has("initialized", "played", "paused"))
    assert verbs(first) == ["initialized", "played", "paused"]

    page.evaluate(f"{MEDIA}.currentTime = 1")
    statements_until(page, activity, has("seeked"))
    page.evaluate(PLAY)
    page.wait_for_function(f"{MEDIA}.ended")
    statements_until(page, activity, has("completed", "paused", "paused"))
    leave(page)
    statements = statements_until(page, activity, has("terminated"))
    assert verbs(statements) == [
        "initialized",
        "played",
        "paused",
        "seeked",
        "played",
        "completed",
        "paused",
        "terminated",
    ]
    assert_own(statements, actor, activity)
    assert all(s["object"]["id"] == activity for s in statements)
    assert statements[0]["object"]["definition"]["type"] == f"{VIDEO}/activity-type/video"
    sessions = {s["context"]["extensions"][f"{VIDEO}/extensions/session-id"] for s in statements}
    assert len(sessions) == 1
    uuid.UUID(sessions.pop())
    for statement in statements:
        context = statement["context"]
        assert context["contextActivities"]["category"][0]["id"] == VIDEO
        assert context["extensions"][f"{VIDEO}/extensions/length"] == pytest.approx(6, abs=0.2)
    by_verb = dict(zip(verbs(statements), statements, strict=True))
    assert "duration" not in by_verb["initialized"].get("result", {})
    assert_durations_add_up(statements)

    paused = first[2]["result"]["extensions"]
    assert paused[f"{VIDEO}/extensions/time"] > 1.5
    assert SEGMENTS.match(paused[f"{VIDEO}/extensions/played-segments"])
    assert paused[f"{VIDEO}/extensions/played-segments"].startswith("0[.]")
    seeked = by_verb["seeked"]["result"]["extensions"]
    assert seeked[f"{VIDEO}/extensions/time-from"] > 1.5
    assert seeked[f"{VIDEO}/extensions/time-to"] == 1
    completed = by_verb["completed"]["result"]
    assert completed["completion"] is True
    assert completed["extensions"][f"{VIDEO}/extensions/progress"] >= 0.9
    assert verbs(statements).count("completed") == 1  # once, though the end was reached after
    ended = statements[6]["result"]["extensions"]
    assert ended[f"{VIDEO}/extensions/time"] == pytest.approx(6, abs=0.2)
    assert SEGMENTS.match(ended[f"{VIDEO}/extensions/played-segments"])
    assert not said, said


def test_listening_to_the_audio_to_its_end_completes_it(sign_in: SignIn) -> None:
    page = sign_in("learner22").new_page()
    open_player(page, DEMO["audio"])
    activity = resource_activity_id(DEMO["audio"])
    page.wait_for_function(f"{MEDIA}.readyState >= 1")
    page.evaluate(PLAY)
    statements = statements_until(page, activity, has("completed", "paused"))
    assert verbs(statements)[:2] == ["initialized", "played"]
    assert statements[0]["object"]["definition"]["type"] == (
        "https://w3id.org/xapi/audio/activity-type/audio"
    )
    paused = statements[verbs(statements).index("paused")]["result"]["extensions"]
    assert paused[f"{VIDEO}/extensions/progress"] == pytest.approx(1, abs=0.05)


def test_the_video_opens_at_its_resume_point(sign_in: SignIn) -> None:
    page = sign_in("learner21").new_page()
    page.goto(f"/play/{DEMO['video']}/?t=3.5")
    page.wait_for_function(f"Math.abs({MEDIA}.currentTime - 3.5) < 0.1")


# ---------------------------------------------------------------- documents


def test_reading_the_pdf_is_recorded_page_by_page(
    sign_in: SignIn, warnings_of: Callable[[Page], list[str]]
) -> None:
    page = sign_in("learner23").new_page()
    said = warnings_of(page)
    open_player(page, DEMO["document"])
    wait_for_document(page)
    activity = resource_activity_id(DEMO["document"])
    actor = actor_of(page)
    page.wait_for_timeout(1500)  # a page is seen once it has stayed in view for a second
    next_page = page.get_by_role("button", name="Next page")
    next_page.click()
    page.wait_for_timeout(1500)
    next_page.click()
    expect(page.get_by_role("spinbutton", name="Page")).to_have_value("3")
    statements = statements_until(page, activity, has("completed"))
    leave(page)
    statements = statements_until(page, activity, lambda found: len(found) > len(statements))
    assert_own(statements, actor, activity)
    assert set(verbs(statements)) <= {"progressed", "completed"}
    assert verbs(statements).count("completed") == 1
    seen = [number for s in statements for number in s["result"]["extensions"].get(PAGES, [])]
    assert sorted(seen) == [1, 2, 3]  # each page once: the pages seen since the last statement
    completed = statements[verbs(statements).index("completed")]["result"]
    assert completed["completion"] is True
    assert completed["extensions"][PROGRESS] == 100
    last = statements[-1]["result"]["extensions"]
    assert last[LOCATION] == "page=3"
    # The first statement covers the time since the page opened: nothing is lost.
    assert seconds(statements[0]) > 1
    assert_durations_add_up(statements)
    assert not said, said


def test_the_pdf_opens_at_its_resume_point(sign_in: SignIn) -> None:
    page = sign_in("learner23").new_page()
    page.goto(f"/play/{DEMO['document']}/?page=2")
    wait_for_document(page)
    expect(page.get_by_role("spinbutton", name="Page")).to_have_value("2")


def test_reading_the_book_is_recorded_with_its_place(sign_in: SignIn) -> None:
    page = sign_in("learner24").new_page()
    open_player(page, DEMO["epub"])
    wait_for_book(page)
    activity = resource_activity_id(DEMO["epub"])
    actor = actor_of(page)
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Next page").click()
    statements = statements_until(page, activity, has("progressed"))
    assert_own(statements, actor, activity)
    moved = statements[0]["result"]["extensions"]
    assert moved[LOCATION].startswith("epubcfi(")
    assert 0 < moved[PROGRESS] <= 100
    assert statements[0]["object"]["definition"]["type"] == (
        "http://id.tincanapi.com/activitytype/book"
    )
    for _turn in range(3):
        page.get_by_role("button", name="Next page").click()
        page.wait_for_timeout(300)
    statements = statements_until(page, activity, has("completed"))
    assert statements[-1]["result"]["extensions"][PROGRESS] >= 90

    # Another device (no place kept in the browser) opens the book where the learner was.
    other = sign_in("learner24").new_page()
    other.goto(f"/play/{DEMO['epub']}/?cfi={quote(moved[LOCATION])}")
    wait_for_book(other)
    other.wait_for_function(
        """() => Array.from(document.querySelectorAll('.epub-area iframe')).some((frame) =>
             frame.contentDocument && frame.contentDocument.body &&
             frame.contentDocument.body.innerText.includes('Awa arrive'))"""
    )


# ---------------------------------------------------------------- HTML5


def test_an_html5_app_is_recorded_as_experienced_then_terminated(sign_in: SignIn) -> None:
    page = sign_in("learner25").new_page()
    open_player(page, DEMO["html5"])
    activity = resource_activity_id(DEMO["html5"])
    actor = actor_of(page)
    statements_until(page, activity, has("experienced"))
    page.wait_for_timeout(1500)
    leave(page)
    statements = statements_until(page, activity, has("experienced", "terminated"))
    assert verbs(statements) == ["experienced", "terminated"]
    assert_own(statements, actor, activity)
    assert "result" not in statements[0]
    assert 1.5 <= seconds(statements[1]) < 10
    assert_durations_add_up(statements)


# ---------------------------------------------------------------- an unreachable or refusing hub


def test_statements_wait_while_the_hub_cannot_be_reached(sign_in: SignIn) -> None:
    context = sign_in("learner26")
    page = context.new_page()
    cut = {"on": True}

    def unreachable(route: Route) -> None:
        if cut["on"] and route.request.method == "POST":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route("**/xapi/statements", unreachable)
    open_player(page, DEMO["html5"])
    activity = resource_activity_id(DEMO["html5"])
    actor = actor_of(page)
    page.wait_for_timeout(1000)
    assert page.evaluate(READ_STATEMENTS, activity) == []
    cut["on"] = False  # the hub is back: the statement goes on the next try
    statements_until(page, activity, has("experienced"))

    # The page's last statement goes with it (keepalive), and also waits in the browser,
    # unanswered, for the next player page: sent again, the LRS takes it as it is.
    leave(page)
    assert page.evaluate(STORED)
    statements_until(page, activity, has("experienced", "terminated"))
    # A statement whose request was lost as its page went arrives from the next one.
    lost = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": VERB["terminated"]},
        "object": {"objectType": "Activity", "id": activity},
        "timestamp": "2025-01-01T12:00:00.000Z",
        "result": {"duration": "PT5S"},
    }
    page.evaluate(KEEP_LOST, lost)
    open_player(page, DEMO["document"])
    statements = statements_until(page, activity, has("experienced", "terminated", "terminated"))
    assert verbs(statements) == ["terminated", "experienced", "terminated"]
    assert statements[0]["id"] == lost["id"]
    page.wait_for_function(f"() => !({STORED})()")


def test_a_refused_statement_is_dropped_and_not_sent_again(
    sign_in: SignIn, warnings_of: Callable[[Page], list[str]]
) -> None:
    context = sign_in("learner26")
    page = context.new_page()
    said = warnings_of(page)
    posts: list[int] = []

    def refuse(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(len(json.loads(route.request.post_data or "[]")))
        route.fulfill(status=400, json={"error": "statement.result: refused here"})

    context.route("**/xapi/statements", refuse)
    open_player(page, DEMO["video"])
    page.wait_for_function(f"{MEDIA}.readyState >= 1")
    page.evaluate(PLAY)  # initialized and played go out together
    page.wait_for_timeout(1000)
    page.evaluate(f"{MEDIA}.pause()")
    page.wait_for_timeout(1000)
    # The batch, then each statement alone; each is logged, then dropped.
    assert posts == [2, 1, 1, 1], posts
    refusals = [text for text in said if "refused a statement (HTTP 400)" in text]
    assert len(refusals) == 3, said
    page.wait_for_timeout(3000)
    assert len(posts) == 4  # never asked again
    assert page.evaluate(f"{MEDIA}.paused")  # the page goes on


# ---------------------------------------------------------------- H5P

H5P_CHANNEL_ID = uuid.UUID("0b8f7d42-33a9-4c4e-9a2e-5c1e7f3d9a10")
H5P_NODE = uuid.uuid5(H5P_CHANNEL_ID, "activity.h5p")
H5P_METADATA = f"""\
channel:
  id: {H5P_CHANNEL_ID}
  version: 1
  title: Learning records checks
  language: en
  licence: CC BY 4.0
  publisher: Kalan project
"""
# An H5P library whose button answers a question inside the activity, then completes it,
# through the H5P core's own xAPI events.
H5P_LIBRARY_JS = """H5P.KalanRecordsTest = (function (EventDispatcher) {
  function KalanRecordsTest(params, contentId) {
    EventDispatcher.call(this);
    this.params = params;
    this.contentId = contentId;
  }
  KalanRecordsTest.prototype = Object.create(EventDispatcher.prototype);
  KalanRecordsTest.prototype.constructor = KalanRecordsTest;
  KalanRecordsTest.prototype.attach = function ($container) {
    var self = this;
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
      var part = {
        contentId: self.contentId,
        subContentId: "kalan-part-1",
        parent: self,
        libraryInfo: {versionedNameNoSpaces: "H5P.KalanRecordsTest-1.0"},
        getTitle: function () { return "First question"; }
      };
      var answered = EventDispatcher.prototype.createXAPIEventTemplate.call(part, "answered");
      answered.setScoredResult(1, 1, part, true, true);
      self.trigger(answered);
      self.triggerXAPICompleted(3, 4, true);
      said.textContent = "Pressed.";
    });
    root.appendChild(text);
    root.appendChild(button);
    root.appendChild(said);
  };
  return KalanRecordsTest;
})(H5P.EventDispatcher);
"""


def h5p_package() -> bytes:
    members = {
        "h5p.json": json.dumps(
            {
                "title": "Kalan records test",
                "language": "en",
                "mainLibrary": "H5P.KalanRecordsTest",
                "embedTypes": ["div"],
                "license": "CC BY 4.0",
                "preloadedDependencies": [
                    {"machineName": "H5P.KalanRecordsTest", "majorVersion": 1, "minorVersion": 0}
                ],
            }
        ),
        "content/content.json": json.dumps({"text": "Press the button to answer."}),
        "H5P.KalanRecordsTest-1.0/library.json": json.dumps(
            {
                "title": "Kalan records test",
                "machineName": "H5P.KalanRecordsTest",
                "majorVersion": 1,
                "minorVersion": 0,
                "patchVersion": 0,
                "runnable": 1,
                "preloadedJs": [{"path": "recordstest.js"}],
            }
        ),
        "H5P.KalanRecordsTest-1.0/recordstest.js": H5P_LIBRARY_JS,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.fixture(scope="module")
def h5p_url(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[str]:
    """A second `kalan start` whose library also holds the H5P activity made here."""
    work = tmp_path_factory.mktemp("kalan-records")
    source, package, home = work / "source", work / "package", work / "home"
    source.mkdir()
    home.mkdir()
    (source / "kalan.yaml").write_text(H5P_METADATA, encoding="utf-8")
    (source / "activity.h5p").write_bytes(h5p_package())
    build_channel(source, package, key=Ed25519PrivateKey.generate(), publisher="Kalan project")
    with serving_demo_with(package, home, "kalan_e2e_records") as url:
        yield url


@pytest.fixture
def h5p_page(browser: Browser, h5p_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=h5p_url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    submit_sign_in_form(page, "learner27", PASSWORDS["learner27"])
    assert "/signin/" not in page.url
    yield page
    context.close()


FORGE_FROM_FRAME = """([other, activity]) => {
  const statement = (id) => ({
    verb: {id: "http://adlnet.gov/expapi/verbs/completed"},
    object: {objectType: "Activity", id: id},
    result: {completion: true},
  });
  parent.postMessage({kalan: "xapi", statement: statement(other)}, "*");
  parent.postMessage({kalan: "xapi", statement: statement("https://elsewhere.example/a")}, "*");
}"""
FORGE_FROM_PAGE = """(activity) => window.postMessage({kalan: "xapi", statement: {
  verb: {id: "http://adlnet.gov/expapi/verbs/passed"},
  object: {objectType: "Activity", id: activity},
}}, "*")"""


def test_the_h5p_activitys_statements_are_recorded_as_the_learners(
    h5p_page: Page, warnings_of: Callable[[Page], list[str]]
) -> None:
    page = h5p_page
    said = warnings_of(page)
    open_player(page, H5P_NODE)
    activity = resource_activity_id(H5P_NODE)
    actor = actor_of(page)
    frame = page.frame_locator("iframe.player-frame")
    expect(frame.locator("#kalan-h5p-text")).to_have_text("Press the button to answer.")
    assert not axe_problems(page)
    frame.locator("#kalan-h5p-button").click()
    expect(frame.locator("#kalan-h5p-said")).to_have_text("Pressed.")
    statements = statements_until(page, activity, has("answered", "completed"))
    assert_own(statements, actor, activity)
    answered, completed = statements
    assert answered["object"]["id"] == f"{activity}?subContentId=kalan-part-1"
    assert answered["object"]["definition"]["name"] == {"en-US": "First question"}
    context = answered["context"]["contextActivities"]
    assert context["parent"] == [{"objectType": "Activity", "id": activity}]
    assert context["category"][0]["id"] == "http://h5p.org/libraries/H5P.KalanRecordsTest-1.0"
    assert answered["result"]["score"] == {"min": 0, "max": 1, "raw": 1, "scaled": 1}
    assert completed["object"]["id"] == activity
    assert completed["result"]["completion"] is True
    assert completed["result"]["success"] is True
    assert completed["result"]["score"]["raw"] == 3
    assert seconds(answered) > 0  # the time since the page opened
    assert_durations_add_up(statements)

    # Nothing else may speak for the activity: not the page itself, nor the
    # activity about another resource or another site.
    other = resource_activity_id(uuid.uuid4())
    page.evaluate(FORGE_FROM_PAGE, activity)
    host = next(f for f in page.frames if "/play/h5p/" in f.url)
    host.evaluate(FORGE_FROM_FRAME, [other, activity])
    page.wait_for_timeout(1000)
    leave(page)
    statements = statements_until(page, activity, has("answered", "completed", "terminated"))
    assert verbs(statements) == ["answered", "completed", "terminated"]
    assert page.evaluate(READ_STATEMENTS, other) == []
    assert not said, said
