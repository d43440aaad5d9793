"""Practising the demo exercise in Chromium: every item type accessible, keyboard only, light."""

import uuid

import pytest
from playwright.sync_api import expect

from kalan.content.demo import DEMO_CHANNEL_ID
from tests.e2e.conftest import ContextFactory, StateOf, Visitor
from tests.e2e.test_accessibility import axe_problems, structure_problems
from tests.e2e.test_weight import check_budget, weigh

pytestmark = pytest.mark.browser

EXERCISE = uuid.uuid5(DEMO_CHANNEL_ID, "04 Practice/counting.exercise.json")
PRACTICE = f"/practice/{EXERCISE}/"
ITEMS = ["stars", "after-seven", "ten", "smallest-first", "three-in-words", "missing"]


@pytest.mark.parametrize("item", ITEMS)
def test_every_item_type_passes_axe_and_the_house_checks(visit: Visitor, item: str) -> None:
    page = visit("learner01", f"{PRACTICE}?item={item}").page
    problems = axe_problems(page) + structure_problems(page)
    assert not problems, f"{item}:\n" + "\n".join(problems)


def test_the_exercise_page_weighs_at_most_60_kb(
    new_context: ContextFactory, signed_in_state: StateOf
) -> None:
    context = new_context(storage_state={"cookies": signed_in_state("learner02")["cookies"]})
    check_budget(weigh(context, PRACTICE), PRACTICE)


def test_a_question_answered_with_the_keyboard_alone(visit: Visitor) -> None:
    page = visit("learner03", f"{PRACTICE}?item=stars").page
    # Tab from the top of the page to the first choice, move with the arrows, submit with Enter.
    page.locator("input[name=choice]").first.focus()
    while page.evaluate("document.activeElement.value") != "three":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # submits the form, as a radio button does
    status = page.get_by_role("status")
    expect(status).to_contain_text("Right!")
    expect(status).to_contain_text("Well done!")
    problems = axe_problems(page) + structure_problems(page)
    assert not problems, "feedback:\n" + "\n".join(problems)
    page.get_by_role("link", name="Next question").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("input[name=item]")).not_to_have_value("stars")


def test_the_ordering_and_blanks_items_with_the_keyboard(visit: Visitor) -> None:
    page = visit("learner04", f"{PRACTICE}?item=smallest-first").page
    for step, place in (("n2", "1"), ("n5", "2"), ("n9", "3")):
        page.locator(f"#position-{step}").select_option(place)
    page.get_by_role("button", name="Check my answer").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Right!")
    page.goto(f"{PRACTICE}?item=missing")
    page.get_by_label("Blank 1").fill("3")
    page.get_by_label("Blank 2").fill("4")
    page.get_by_label("Blank 2").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Partly right.")
    expect(page.locator(".mark.wrong")).to_have_count(1)
