"""The library in a real browser: a learner finds, searches and opens resources.

These journeys run against the demo channel that `kalan demo` installs ("Kalan
demo library": topics, and a resource of every kind). Each library page also
passes axe-core and the house checks, stays local and within the page budget.
"""

import re
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, SignIn, StateOf, Visitor
from tests.e2e.test_accessibility import axe_problems, structure_problems
from tests.e2e.test_keyboard import focused, tab_to, visible_focus_problems
from tests.e2e.test_weight import check_budget, outside_requests, weigh

pytestmark = pytest.mark.browser

LEARNER = "learner01"
DEMO_CHANNEL = "Kalan demo library"
BOOK = "La leçon de l'élève"  # an EPUB in French, in the topic "Reading"
AUDIO = "A greeting tone"  # a WAV with English captions, in the topic "Listening"
MAX_TABS = 80


def require_demo_channel(page: Page) -> None:
    page.goto("/library/")
    expect(page.get_by_role("link", name=DEMO_CHANNEL, exact=True)).to_have_count(1)


def resource_path(page: Page, title: str) -> str:
    """The address of a demo resource, found through the search page."""
    page.goto(f"/library/search/?q={quote(title)}")
    href = (
        page.locator("#search-results")
        .get_by_role("link", name=title, exact=True)
        .get_attribute("href")
    )
    assert href, f"{title!r} is not in the library"
    return href


def library_paths(page: Page) -> dict[str, str]:
    """One page of each library template, as the demo channel offers them."""
    require_demo_channel(page)
    channel = page.get_by_role("link", name=DEMO_CHANNEL, exact=True).get_attribute("href")
    assert channel
    page.goto(channel)
    topic = page.get_by_role("link", name="Reading", exact=True).get_attribute("href")
    assert topic
    return {
        "index": "/library/",
        "channel": channel,
        "topic": topic,
        "search": "/library/search/?q=lecon",
        "filters": "/library/search/?kind=document",
        "book": resource_path(page, BOOK),
        "audio": resource_path(page, AUDIO),
    }


def tab_until(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches the CSS selector."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector} in {MAX_TABS} presses")


def test_a_learner_finds_and_opens_a_book_with_the_keyboard(sign_in: SignIn) -> None:
    page = sign_in(LEARNER).new_page()
    require_demo_channel(page)
    page.goto("/learn/")
    tab_to(page, {"tag": "a", "text": "Library"})
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/library/"
    tab_to(page, {"tag": "input", "id": "library-q"})
    page.keyboard.type("lecon")  # typed without the cedilla
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/library/search/\?q=lecon$", page.url), page.url
    expect(page.locator("#search-status")).to_have_text("1 resource found")
    tab_to(page, {"tag": "a", "text": BOOK})
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(BOOK)
    expect(page.locator("h1")).to_have_attribute("lang", "fr")
    crumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(crumbs.get_by_role("link")).to_have_text(["Library", DEMO_CHANNEL, "Reading"])
    expect(page.locator("main")).to_contain_text("Book (EPUB)")
    tab_until(page, "a.open")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/play/[0-9a-f-]{36}/$", page.url), page.url


def test_search_results_follow_typing_and_filters(sign_in: SignIn) -> None:
    page = sign_in(LEARNER).new_page()
    require_demo_channel(page)
    page.goto("/library/search/")
    expect(page.locator("#search-status")).to_contain_text("Type a word")
    page.evaluate("window.kalanNoReload = true")
    page.get_by_label("Words").fill("nyenaje")  # Bambara ɲɛnajɛ, typed on a plain keyboard
    results = page.locator("#search-results h3")
    expect(results).to_have_text(["Counting to ten"])
    expect(page.locator("#search-status")).to_have_text("1 resource found")
    expect(page).to_have_url(re.compile(r"[?&]q=nyenaje"))
    page.get_by_label("Kind").select_option(label="Audio")
    expect(page.locator("#search-status")).to_have_text("0 resources found")
    expect(results).to_have_count(0)
    page.get_by_label("Words").fill("")
    expect(results).to_have_text([AUDIO])
    assert page.evaluate("window.kalanNoReload === true"), "the page was reloaded"
    assert page.locator("h1").count() == 1


def test_an_audio_plays_inline_with_a_captions_switch(sign_in: SignIn) -> None:
    page = sign_in(LEARNER).new_page()
    require_demo_channel(page)
    page.goto(resource_path(page, AUDIO))
    audio = page.locator("main audio")
    expect(audio).to_have_attribute("preload", "none")
    expect(audio.locator("track")).to_have_attribute("srclang", "en")
    expect(audio.locator("track")).to_have_attribute("label", "English")
    source = audio.locator("source").get_attribute("src") or ""
    assert re.fullmatch(r"/content/files/[0-9a-f]{64}\.wav", source), source
    assert page.request.get(source, headers={"Range": "bytes=0-3"}).body() == b"RIFF"
    switch = page.get_by_role("button", name=re.compile("^Captions"))
    expect(switch).to_have_attribute("aria-pressed", "true")  # the interface speaks English
    tab_until(page, "main .media-captions button")
    page.keyboard.press("Enter")
    expect(switch).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert (focused(page) or {}).get("tag") == "button"


def test_every_library_page_is_accessible_and_stays_local(sign_in: SignIn, visit: Visitor):
    paths = library_paths(sign_in(LEARNER).new_page())
    problems = []
    for name, path in paths.items():
        seen = visit(LEARNER, path, settle=True)
        problems += [f"{name} {path}: {p}" for p in axe_problems(seen.page)]
        problems += [f"{name} {path}: {p}" for p in structure_problems(seen.page)]
        problems += [f"{name} {path}: outside request {u}" for u in outside_requests(seen.requests)]
    assert not problems, "\n".join(problems)


def test_focus_is_always_visible_on_the_library_pages(sign_in: SignIn) -> None:
    page = sign_in(LEARNER).new_page()
    paths = library_paths(page)
    for name in ("index", "search", "audio"):
        page.goto(paths[name])
        kinds, problems = visible_focus_problems(page)
        assert {"a", "button", "input" if name != "audio" else "a"} <= kinds, (name, kinds)
        assert not problems, f"{name}: " + "\n".join(problems)


@pytest.mark.parametrize("name", ["index", "topic", "audio", "search page"])
def test_library_pages_weigh_at_most_60_kb(
    sign_in: SignIn, new_context: ContextFactory, signed_in_state: StateOf, name: str
) -> None:
    paths = {**library_paths(sign_in(LEARNER).new_page()), "search page": "/library/search/"}
    # Only the session cookie: nothing of the library is in the cache yet.
    context = new_context(storage_state={"cookies": signed_in_state(LEARNER)["cookies"]})
    check_budget(weigh(context, paths[name]), paths[name])
