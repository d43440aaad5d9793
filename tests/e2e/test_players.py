"""Every player of the demo channel, as a learner meets it in headless Chromium.

Each player page passes axe-core (no serious or critical violation) and the
house checks once its player has drawn. The caption switch works from the
keyboard; the PDF draws page 1 with its text layer; the EPUB shows its text; the
HTML5 app works inside its sandbox, which cannot read the hub's cookies; the
SCORM course keeps a learner's note across visits; the video page itself
weighs at most 60 KB before the video is played.

H5P, cmi5 and ZIM are not in the demo channel: a second `kalan start` plays an
H5P activity and a cmi5 course made by kalan/content/tests/test_players.py (no
third-party content) and the corpus's small.zim.
"""

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, Frame, Page, Request, expect
from playwright.sync_api import Error as PlaywrightError

from kalan.content.builder import build_channel
from kalan.content.demo import DEMO_CHANNEL_ID
from kalan.content.tests.test_players import (
    H5P_TEXT,
    cmi5_package,
    corpus_zim,
    h5p_package,
)
from tests.e2e.conftest import (
    PASSWORDS,
    ContextFactory,
    SignIn,
    StateOf,
    submit_sign_in_form,
)
from tests.e2e.test_accessibility import axe_problems, structure_problems
from tests.support import serving_demo_with

pytestmark = pytest.mark.browser

LEARNER = "learner01"
BUDGET = 60 * 1024


def demo_node(path: str) -> uuid.UUID:
    """A demo resource's id: `kalan content build` derives it from the channel and the path."""
    return uuid.uuid5(DEMO_CHANNEL_ID, path)


DEMO = {
    "document": demo_node("01 Reading/counting.pdf"),
    "epub": demo_node("01 Reading/story.epub"),
    "audio": demo_node("02 Listening/greeting.wav"),
    "html5": demo_node("03 Interactive/shapes.zip"),
    "scorm": demo_node("03 Interactive/course.zip"),
    "exercise": demo_node("04 Practice/counting.exercise.json"),
    "video": demo_node("05 Watching/sunrise.webm"),
}
EXTRA_CHANNEL_ID = uuid.UUID("2f0c1b6a-9aaa-4e0c-b4b1-47a3dfaec7ff")
EXTRA = {
    "h5p": uuid.uuid5(EXTRA_CHANNEL_ID, "activity.h5p"),
    "cmi5": uuid.uuid5(EXTRA_CHANNEL_ID, "course.zip"),
    "zim": uuid.uuid5(EXTRA_CHANNEL_ID, "small.zim"),
}
EXTRA_METADATA = f"""\
channel:
  id: {EXTRA_CHANNEL_ID}
  version: 1
  title: Player checks
  language: en
  licence: CC BY 4.0
  publisher: Kalan project
"""

PDF_PAGE_ONE_TEXT = """() => {
  const layer = document.querySelector(".pdf-page .textLayer");
  return layer ? layer.textContent : "";
}"""
COOKIE_IN_FRAME = """() => {
  try { return {cookie: document.cookie, origin: window.origin}; }
  catch (error) { return {threw: error.name, origin: window.origin}; }
}"""
PARENT_IN_FRAME = """() => {
  try { return window.parent.document.title; } catch (error) { return "threw " + error.name; }
}"""
HUB_PAGE_FROM_FRAME = """() => fetch("/learn/", {credentials: "include"})
  .then((response) => "read " + response.status)
  .catch((error) => "refused " + error.name)"""
CAPTION_STATE = """() => {
  const media = document.querySelector("[data-media-player] video, [data-media-player] audio");
  const button = document.querySelector(".media-captions button");
  return {
    focused: document.activeElement === button,
    pressed: button.getAttribute("aria-pressed"),
    modes: Array.from(media.textTracks).map((track) => track.language + ":" + track.mode),
  };
}"""


def open_player(page: Page, node_id: uuid.UUID) -> None:
    response = page.goto(f"/play/{node_id}/")
    assert response is not None
    assert response.status == 200, f"/play/{node_id}/ answered {response.status}"


def player_frame(page: Page) -> Frame:
    """The sandboxed frame of the page's player, once it has loaded its document."""
    handle = page.locator("iframe.player-frame").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    return frame


def wait_for_document(page: Page) -> None:
    page.wait_for_function(f"({PDF_PAGE_ONE_TEXT})().includes('Counting')")


def wait_for_book(page: Page) -> None:
    page.locator(".epub-area iframe").wait_for()
    expect(page.get_by_role("button", name="Next page")).to_be_visible()


def wait_for_captions(page: Page) -> None:
    page.locator(".media-captions button").wait_for()


def wait_for_frame_heading(page: Page) -> None:
    expect(page.frame_locator("iframe.player-frame").locator("h1")).to_be_visible()


def wait_for_nothing(page: Page) -> None:
    pass


READY: dict[str, Callable[[Page], None]] = {
    "document": wait_for_document,
    "epub": wait_for_book,
    "audio": wait_for_captions,
    "video": wait_for_captions,
    "html5": wait_for_frame_heading,
    "scorm": wait_for_frame_heading,
    "exercise": wait_for_nothing,
}


def accessibility_problems(page: Page) -> list[str]:
    return axe_problems(page) + structure_problems(page)


# ---------------------------------------------------------------- the demo channel


@pytest.fixture
def learner_page(sign_in: SignIn) -> Page:
    return sign_in(LEARNER).new_page()


@pytest.mark.parametrize("kind", sorted(DEMO))
def test_every_demo_player_is_accessible(kind: str, learner_page: Page) -> None:
    open_player(learner_page, DEMO[kind])
    READY[kind](learner_page)
    problems = accessibility_problems(learner_page)
    assert not problems, f"{kind} player:\n" + "\n".join(problems)


def tab_to_captions_button(page: Page) -> None:
    for _press in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(CAPTION_STATE)["focused"]:
            return
    pytest.fail("Tab never reached the captions button")


@pytest.mark.parametrize(("kind", "shown"), [("video", "showing"), ("audio", "hidden")])
def test_captions_switch_on_and_off_from_the_keyboard(
    kind: str, shown: str, learner_page: Page
) -> None:
    page = learner_page
    open_player(page, DEMO[kind])
    wait_for_captions(page)
    tab_to_captions_button(page)
    state = page.evaluate(CAPTION_STATE)
    assert state["pressed"] == "true"  # the track in the interface language is on
    assert f"en:{shown}" in state["modes"]
    page.keyboard.press("Space")
    state = page.evaluate(CAPTION_STATE)
    assert state["pressed"] == "false"
    assert all(mode.endswith(":disabled") for mode in state["modes"]), state
    page.keyboard.press("Space")
    state = page.evaluate(CAPTION_STATE)
    assert (state["pressed"], state["focused"]) == ("true", True)
    assert f"en:{shown}" in state["modes"]


def test_the_pdf_draws_page_one_with_its_text(learner_page: Page) -> None:
    open_player(learner_page, DEMO["document"])
    wait_for_document(learner_page)
    assert "Counting to ten" in learner_page.evaluate(PDF_PAGE_ONE_TEXT)
    expect(learner_page.locator(".pdf-page canvas").first).to_be_attached()


def book_text(page: Page) -> str:
    """The text of the frames epub.js draws the book in."""
    texts = []
    for frame in page.frames[1:]:
        try:
            texts.append(frame.evaluate("document.body ? document.body.innerText : ''"))
        except PlaywrightError:  # a frame epub.js replaced meanwhile
            continue
    return " ".join(texts)


def wait_for_book_text(page: Page, words: str) -> str:
    text = ""
    for _try in range(75):
        text = book_text(page)
        if words in text:
            break
        page.wait_for_timeout(200)
    return text


def test_the_epub_shows_its_text_and_turns_pages(learner_page: Page) -> None:
    page = learner_page
    open_player(page, DEMO["epub"])
    wait_for_book(page)
    assert "Chapitre 1" in wait_for_book_text(page, "Chapitre 1")
    page.get_by_role("button", name="Next page").click()
    assert "Awa arrive à l'école" in wait_for_book_text(page, "Awa arrive")


def test_the_html5_app_works_in_a_sandbox_that_cannot_reach_the_hub(learner_page: Page) -> None:
    page = learner_page
    open_player(page, DEMO["html5"])
    app = page.frame_locator("iframe.player-frame")
    circle = app.get_by_role("button", name="Circle")
    circle.focus()
    page.keyboard.press("Enter")
    expect(app.locator("#said")).to_have_text("This is a circle.")
    frame = player_frame(page)
    isolation = frame.evaluate(COOKIE_IN_FRAME)
    assert isolation["origin"] == "null"  # an opaque origin
    assert isolation.get("threw") == "SecurityError" or isolation.get("cookie") == ""
    assert frame.evaluate(PARENT_IN_FRAME).startswith("threw")
    assert frame.evaluate(HUB_PAGE_FROM_FRAME).startswith("refused")
    assert any(cookie["name"] == "sessionid" for cookie in page.context.cookies())


def save_a_note(page: Page) -> str:
    """Open the demo course, write a new note and save it (Commit is a synchronous POST)."""
    note = f"note {uuid.uuid4().hex[:8]}"
    open_player(page, DEMO["scorm"])
    course = page.frame_locator("iframe.player-frame")
    course.get_by_label("Your note").fill(note)
    with page.expect_response(
        lambda response: "/play/scorm-state/" in response.url and response.request.method == "POST"
    ) as saved:
        course.get_by_role("button", name="Save and finish").focus()
        page.keyboard.press("Enter")
    assert saved.value.ok
    assert saved.value.json() == {"result": True, "errorCode": 0}
    return note


def test_the_scorm_course_keeps_the_learners_note(learner_page: Page) -> None:
    page = learner_page
    note = save_a_note(page)
    open_player(page, DEMO["scorm"])
    course = page.frame_locator("iframe.player-frame")
    expect(course.get_by_label("Your note")).to_have_value(note)
    expect(page.locator(".player-status")).to_have_text("Your progress: Completed")


def test_the_demo_course_welcomes_a_returning_learner(learner_page: Page) -> None:
    page = learner_page
    save_a_note(page)
    open_player(page, DEMO["scorm"])
    course = page.frame_locator("iframe.player-frame")
    expect(course.locator("#status")).to_have_text("Welcome back.", timeout=3000)


def test_the_video_page_weighs_at_most_60_kb_before_playing(
    new_context: ContextFactory, signed_in_state: StateOf
) -> None:
    context = new_context(storage_state={"cookies": signed_in_state(LEARNER)["cookies"]})
    page = context.new_page()
    finished: list[Request] = []
    page.on("requestfinished", lambda request: finished.append(request))
    path = f"/play/{DEMO['video']}/"
    response = page.goto(path, wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    rows = []
    for request in finished:
        if request.resource_type == "media":  # the video's own bytes (preload="metadata")
            continue
        sizes = request.sizes()
        rows.append((sizes["responseBodySize"] + sizes["responseHeadersSize"], request.url))
    total = sum(size for size, _url in rows)
    for size, url in rows:
        print(f"{size:8d} {url}")
    print(f"{path}: {total} bytes in {len(rows)} requests (budget {BUDGET})")
    assert any(urlsplit(url).path == path for _size, url in rows)
    assert total <= BUDGET, f"the video page weighs {total} bytes"


# ---------------------------------------------------------------- H5P, cmi5, ZIM


@pytest.fixture(scope="module")
def extra_url(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[str]:
    """A second `kalan start` whose library also holds an H5P, a cmi5 course and a ZIM."""
    work = tmp_path_factory.mktemp("kalan-players")
    source, package, home = work / "source", work / "package", work / "home"
    source.mkdir()
    home.mkdir()
    (source / "kalan.yaml").write_text(EXTRA_METADATA, encoding="utf-8")
    (source / "activity.h5p").write_bytes(h5p_package())
    (source / "course.zip").write_bytes(cmi5_package())
    if (zim := corpus_zim()) is not None:
        shutil.copyfile(zim, source / "small.zim")
    build_channel(source, package, key=Ed25519PrivateKey.generate(), publisher="Kalan project")
    with serving_demo_with(package, home, "kalan_e2e_players") as url:
        yield url


@pytest.fixture
def extra_page(browser: Browser, extra_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=extra_url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    submit_sign_in_form(page, LEARNER, PASSWORDS[LEARNER])
    assert "/signin/" not in page.url
    yield page
    context.close()


def test_the_h5p_activity_runs_in_an_opaque_origin(extra_page: Page) -> None:
    page = extra_page
    open_player(page, EXTRA["h5p"])
    activity = page.frame_locator("iframe.player-frame")
    expect(activity.locator("#kalan-h5p-text")).to_have_text(H5P_TEXT)
    problems = accessibility_problems(page)
    assert not problems, "H5P player:\n" + "\n".join(problems)
    button = activity.locator("#kalan-h5p-button")
    button.focus()
    page.keyboard.press("Space")
    expect(activity.locator("#kalan-h5p-said")).to_have_text("Pressed.")
    expect(activity.locator("[role=alert]")).to_have_count(0)
    frame = player_frame(page)
    assert frame.evaluate(COOKIE_IN_FRAME)["origin"] == "null"
    assert frame.evaluate(HUB_PAGE_FROM_FRAME).startswith("refused")


def test_the_cmi5_au_fetches_its_token_once(extra_page: Page) -> None:
    page = extra_page
    open_player(page, EXTRA["cmi5"])
    au = page.frame_locator("iframe.player-frame")
    expect(au.locator("#token")).to_have_text(re.compile(r"^token \d+$"))  # a token came
    expect(au.locator("#again")).to_have_text("again 1")  # the second POST: error 1
    problems = accessibility_problems(page)
    assert not problems, "cmi5 player:\n" + "\n".join(problems)


def test_the_zim_main_page_shows_in_its_frame(extra_page: Page) -> None:
    if corpus_zim() is None:
        pytest.skip("the corpus's zim/nons/small.zim is not there (set KALAN_CORPUS)")
    page = extra_page
    open_player(page, EXTRA["zim"])
    expect(page.frame_locator("iframe.player-frame").locator("body")).to_contain_text(
        "Test ZIM file"
    )
    assert player_frame(page).evaluate(COOKIE_IN_FRAME)["origin"] == "null"
    problems = accessibility_problems(page)
    assert not problems, "ZIM player:\n" + "\n".join(problems)
