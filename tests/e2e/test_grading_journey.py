"""A learner writes a free response and the teacher grades it, in Chromium, keyboard only.

A `kalan start` of its own serves the demo school plus a channel made here
whose exercise has a free-response item. The pages pass axe-core and the
house checks (tests/e2e), and the grading page keeps within the page budget.
"""

import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kalan.content.builder import build_channel
from tests.e2e.conftest import PASSWORDS, submit_sign_in_form
from tests.e2e.test_accessibility import axe_problems, structure_problems
from tests.e2e.test_weight import check_budget, weigh
from tests.support import serving_demo_with

pytestmark = pytest.mark.browser

CHANNEL_ID = uuid.UUID("9c4f5a3e-2d7b-4f61-8a0e-6b1d2c3e4f50")
EXERCISE_PATH = "writing.exercise.json"
PRACTICE = f"/practice/{uuid.uuid5(CHANNEL_ID, EXERCISE_PATH)}/"
GRADING = "/practice/grading/"
METADATA = f"""\
channel:
  id: {CHANNEL_ID}
  version: 1
  title: Writing practice
  language: en
  licence: CC BY 4.0
  publisher: Kalan project
"""
EXERCISE = {
    "title": "Writing about school",
    "language": "en",
    "items": [
        {
            "id": "story",
            "type": "free_response",
            "prompt": "<p>Write three sentences about your school.</p>",
            "guidance": "<p>Three full sentences; spelling mistakes are fine.</p>",
        },
        {"id": "sum", "type": "true_false", "prompt": "<p>5 + 5 = 10</p>", "correct": True},
    ],
}


@pytest.fixture(scope="module")
def writing_url(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[str]:
    work = tmp_path_factory.mktemp("kalan-grading")
    source, package, home = work / "source", work / "package", work / "home"
    source.mkdir()
    home.mkdir()
    (source / "kalan.yaml").write_text(METADATA, encoding="utf-8")
    (source / EXERCISE_PATH).write_text(json.dumps(EXERCISE), encoding="utf-8")
    build_channel(source, package, key=Ed25519PrivateKey.generate(), publisher="Kalan project")
    with serving_demo_with(package, home, "kalan_e2e_grading") as url:
        yield url


SignIn = Callable[[str], Page]


@pytest.fixture
def signed_in(browser: Browser, writing_url: str) -> Iterator[SignIn]:
    made: list[BrowserContext] = []

    def sign_in(username: str) -> Page:
        context = browser.new_context(base_url=writing_url, locale="en-US")
        context.set_default_timeout(15_000)
        made.append(context)
        page = context.new_page()
        submit_sign_in_form(page, username, PASSWORDS[username])
        assert "/signin/" not in page.url, f"{username} could not sign in"
        return page

    yield sign_in
    for context in made:
        context.close()


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element `selector` names has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} was not reached with {limit} presses of Tab")


def no_problems(page: Page, where: str) -> None:
    problems = axe_problems(page) + structure_problems(page)
    assert not problems, f"{where}:\n" + "\n".join(problems)


def test_a_free_response_graded_with_the_keyboard_alone(signed_in: SignIn) -> None:
    learner = signed_in("learner33")
    learner.goto(f"{PRACTICE}?item=story")
    tab_to(learner, "textarea[name=answer]")
    learner.keyboard.type("My school has two classrooms.\nWe have a garden.")
    learner.keyboard.press("Tab")
    learner.keyboard.press("Enter")  # "Check my answer"
    expect(learner.get_by_role("status")).to_contain_text("your teacher will read your answer")

    teacher = signed_in("teacher")
    teacher.goto(GRADING)
    expect(teacher.locator("h1")).to_have_text("Answers to grade")
    card = teacher.locator("li.card").filter(has_text="My school has two classrooms.")
    expect(card).to_contain_text("Write three sentences about your school.")
    no_problems(teacher, "the grading page")

    # Saving without a verdict: one message, announced.
    tab_to(teacher, "li.card button[type=submit]")
    teacher.keyboard.press("Enter")
    expect(teacher.get_by_role("alert")).to_have_text("Choose right or not right.")
    no_problems(teacher, "the grading page with a refused grade")

    tab_to(teacher, "li.card input[name=verdict]")
    teacher.keyboard.press("Space")  # the first choice: right
    expect(teacher.locator("li.card input[value=correct]")).to_be_checked()
    teacher.keyboard.press("Tab")
    teacher.keyboard.type("Well written.")
    teacher.keyboard.press("Tab")
    teacher.keyboard.press("Enter")  # "Save the grade"
    expect(teacher.get_by_role("status")).to_contain_text("The grade is saved.")
    expect(teacher.locator("main")).to_contain_text("No answer waits for a grade.")

    teacher.get_by_role("link", name="Graded: change a grade").focus()
    teacher.keyboard.press("Enter")
    teacher.wait_for_load_state()
    expect(teacher.locator("li.card textarea")).to_have_value("Well written.")
    no_problems(teacher, "the graded answers")

    learner.goto(f"{PRACTICE}?item=sum")
    section = learner.get_by_role("region", name="Your answers for your teacher")
    expect(section).to_contain_text("Your teacher says: right.")
    expect(section).to_contain_text("Well written.")
    no_problems(learner, "the exercise page with the teacher's grade")


def test_learners_are_refused_the_grading_page(signed_in: SignIn) -> None:
    page = signed_in("learner34")
    response = page.goto(GRADING)
    assert response is not None
    assert response.status == 403


def test_the_grading_page_keeps_within_the_budget(
    signed_in: SignIn, browser: Browser, writing_url: str
) -> None:
    """A first visit (empty cache, only the session cookie) weighs at most 60 KB."""
    cookies = signed_in("teacher").context.storage_state()["cookies"]
    context = browser.new_context(
        base_url=writing_url, locale="en-US", storage_state={"cookies": cookies}
    )
    try:
        check_budget(weigh(context, GRADING), GRADING)
    finally:
        context.close()
