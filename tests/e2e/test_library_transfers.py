"""A school head brings channels into the hub from the library pages, in a real browser.

The server is the suite's real `kalan start`, whose transfers run on the database
task backend (the runner thread of kalan/content/tasks.py). A slow peer hub,
served from this test process on 127.0.0.1, makes the progress page show a
transfer under way and then finished, without a reload. Every channel imported
here is deleted through the pages at the end, so the server is left as found.
"""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from kalan.content.tests.packages import PeerServer, make_package, random_items, serving
from tests.e2e.conftest import ContextFactory, SignIn
from tests.e2e.test_accessibility import axe_problems

pytestmark = pytest.mark.browser
LIBRARY = "/manage/library/"


def _delete(page: Page, title: str, *, check: bool = True) -> None:
    """Delete the channel through the pages (axe-core needs JavaScript: `check` with it only)."""
    page.goto(LIBRARY)
    page.get_by_role("link", name=f"Export {title}").click()
    expect(page.get_by_label("Folder to write to")).to_be_visible()
    if check:
        assert axe_problems(page) == []
    page.goto(LIBRARY)
    page.get_by_role("link", name=f"Delete {title}").click()
    if check:
        assert axe_problems(page) == []
    page.get_by_role("button", name="Delete the channel").click()
    expect(page.get_by_role("status")).to_contain_text(f"{title} was removed")
    expect(page.locator("section[aria-labelledby=installed-title]")).not_to_contain_text(title)


def test_importing_chosen_topics_from_a_peer_shows_progress_then_the_channel(
    sign_in: SignIn, tmp_path
) -> None:
    folder = tmp_path / "peer"
    # Six files of the chosen topic, each 16 slow chunks (about 2.4 s): with three files
    # copied at once the transfer lasts about 5 s, so the page (polling every second) sees it
    # under way.
    make_package(
        folder, resources=random_items(12, size=800_000, topics=("Eau", "Air")), title="Physique"
    )
    with serving(PeerServer([folder], name="Hub de Mopti", chunk=50_000, delay=0.15)) as peer:
        page = sign_in("head").new_page()
        page.goto(LIBRARY)
        assert axe_problems(page) == []
        page.get_by_label("Address of the hub").fill(peer.url)
        page.get_by_role("button", name="See the hub's channels").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Channels of Hub de Mopti")
        assert axe_problems(page) == []
        page.get_by_role("link", name="Choose topics of Physique").click()
        expect(page.get_by_role("group", name="Topics to import")).to_be_visible()
        assert axe_problems(page) == []
        page.get_by_label(re.compile(r"^Eau")).check()
        page.get_by_role("button", name="Import", exact=True).click()

        expect(page).to_have_url(re.compile(r"/manage/library/transfers/[0-9a-f-]+/$"))
        progress_url = page.url
        page.evaluate("window.notReloaded = true")
        expect(page.locator("#transfer-status")).to_contain_text("In progress", timeout=20_000)
        assert axe_problems(page) == []
        expect(page.locator("#transfer-status")).to_contain_text("Finished", timeout=60_000)
        assert page.evaluate("window.notReloaded") is True  # htmx refreshed it in place
        assert page.url == progress_url
        expect(page.locator("#transfer-progress")).to_have_attribute("value", "100")
        expect(page.locator("#transfer-status")).to_contain_text("Resources: 6. Files copied: 6")

    page.goto(LIBRARY)
    row = page.get_by_role("row").filter(has_text="Physique")
    expect(row).to_contain_text("6")  # the resources of the one topic chosen
    _delete(page, "Physique")


def test_importing_a_folder_works_without_javascript(
    new_context: ContextFactory, signed_in_state, tmp_path
) -> None:
    stick = tmp_path / "usb"
    make_package(stick / "kalan-library", resources=random_items(3, seed=7), title="Lecture")
    page = new_context(java_script_enabled=False, storage_state=signed_in_state("head")).new_page()
    page.goto(LIBRARY)
    page.get_by_label("Folder or USB stick").fill(str(stick))
    page.get_by_role("button", name="Look in the folder").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Channels in")
    page.get_by_role("button", name="Import the whole channel Lecture").click()
    status = page.locator("#transfer-status")
    deadline = time.monotonic() + 60
    while "Finished" not in status.inner_text():
        assert "Failed" not in status.inner_text(), status.inner_text()
        assert time.monotonic() < deadline, status.inner_text()
        page.get_by_role("link", name="Show the latest progress").click()
    expect(page.locator("progress")).to_have_attribute("value", "100")
    expect(status).to_contain_text("Resources: 3. Files copied: 3")
    page.goto(LIBRARY)
    expect(page.get_by_role("link", name="Finished").first).to_be_visible()
    _delete(page, "Lecture", check=False)
