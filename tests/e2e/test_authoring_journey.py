"""A teacher builds a channel in the page and a learner finds it in the library.

On the real server of the run (`kalan demo` + `kalan start`): the demo teacher
creates a draft, uploads a PDF of the shared corpus, describes it, publishes,
and learner01 then finds the channel and the sheet in the library. Every page
of the builder met on the way passes axe-core (serious and critical issues).
"""

import os
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SignIn

pytestmark = pytest.mark.browser

REPOSITORY = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("KALAN_CORPUS") or REPOSITORY.parent / "shared" / "corpus")
PDF = CORPUS / "pdf" / "004-pdflatex-4-pages" / "pdflatex-4-pages.pdf"
AXE = Axe()


def serious_axe_problems(page: Page) -> list[str]:
    violations = AXE.run(page).response["violations"]
    return [
        f"{page.url}: axe {v['id']} ({v['impact']}): {v['help']}"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


def test_a_teacher_publishes_a_sheet_and_a_learner_finds_it(sign_in: SignIn):
    if not PDF.is_file():
        pytest.skip(f"{PDF} is absent (set KALAN_CORPUS)")
    title = f"Peace education {uuid.uuid4().hex[:6]}"
    problems: list[str] = []

    teacher = sign_in("teacher").new_page()
    teacher.goto("/manage/library/author/")
    problems += serious_axe_problems(teacher)
    teacher.get_by_label("Title of the channel").fill(title)
    teacher.get_by_role("button", name="Create the channel").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(title)
    problems += serious_axe_problems(teacher)

    teacher.get_by_label("File", exact=True).set_input_files(str(PDF))
    teacher.get_by_role("button", name="Add the file").click()
    expect(teacher.get_by_role("heading", level=1)).to_contain_text("Describe")
    problems += serious_axe_problems(teacher)
    teacher.get_by_role("textbox", name="Title", exact=True).fill("Living together in peace")
    teacher.get_by_label("Subjects").fill("Civics")
    teacher.get_by_label("Licence").select_option("CC BY 4.0")
    teacher.get_by_role("button", name="Save").click()

    expect(teacher.get_by_role("heading", level=1)).to_have_text(title)
    expect(teacher.get_by_text("Living together in peace", exact=True)).to_be_visible()
    teacher.get_by_role("button", name="Publish the channel").click()
    expect(teacher.get_by_text("Version 1 is published")).to_be_visible()
    expect(teacher.get_by_text("Published: version 1 is in the library.")).to_be_visible()
    problems += serious_axe_problems(teacher)

    teacher.goto("/manage/library/author/")
    expect(teacher.get_by_role("row", name=title)).to_contain_text("Version 1")
    learner = sign_in("learner01").new_page()
    response = learner.goto("/library/")
    assert response is not None
    if response.status == 404:
        assert problems == []
        pytest.skip("the library pages are not installed; checked the builder's list only")
    learner.get_by_role("link", name=title).click()
    expect(learner.get_by_role("heading", level=1)).to_contain_text(title)
    expect(learner.get_by_role("link", name="Living together in peace")).to_be_visible()
    assert problems == []


def test_learners_never_reach_the_builder(sign_in: SignIn):
    page = sign_in("learner01").new_page()
    response = page.goto("/manage/library/author/")
    assert response is not None
    assert response.status == 404


def test_reordering_works_from_the_keyboard(sign_in: SignIn):
    page = sign_in("teacher").new_page()
    page.goto("/manage/library/author/")
    page.get_by_label("Title of the channel").fill(f"Order {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Create the channel").click()
    for title in ("Monday", "Tuesday"):
        page.get_by_label("Title of the topic").fill(title)
        page.get_by_role("button", name="Add the topic").click()
    move_up = page.get_by_role("button", name="Move up “Tuesday”")
    move_up.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**#node-*")
    topics = page.locator("main li[id^=node-] strong")
    expect(topics).to_have_text(["Tuesday", "Monday"])
    # The page comes back at the moved topic: the next Tab reaches its own controls.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.closest('li')?.id || ''")
    assert focused == page.url.split("#", 1)[1]
    expect(page.locator(":focus")).to_have_accessible_name("Edit “Tuesday”")
