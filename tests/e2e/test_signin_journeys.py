"""Each kind of person signs in through the real form and lands on their own home."""

import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from kalan.schools.demo import NAMESPACE
from tests.e2e.conftest import ContextFactory, SignIn, submit_sign_in_form

pytestmark = pytest.mark.browser

HOMES = [
    ("head", "/manage/", "Manage"),
    ("teacher", "/teach/", "My classes"),
    ("learner01", "/learn/", "Hello, Aminata!"),
    ("parent", "/family/", "My children"),
    ("district", "/area/", "Schools"),
]


@pytest.mark.parametrize(("username", "home", "heading"), HOMES, ids=[h[0] for h in HOMES])
def test_each_role_lands_on_its_home(sign_in: SignIn, username: str, home: str, heading: str):
    page = sign_in(username, fresh=True).new_page()
    page.goto("/")
    assert urlsplit(page.url).path == home
    expect(page.locator("h1")).to_have_text(heading)


def test_young_learner_picks_class_then_name(new_context: ContextFactory) -> None:
    page = new_context().new_page()
    page.goto("/signin/")
    page.get_by_role("link", name="Find your name in your class (Demo School)").click()
    expect(page.locator("h1")).to_have_text("Find your class")
    page.get_by_role("link", name="Grade 3 A").click()
    expect(page.locator("h1")).to_have_text("Find your name")
    # Each button carries the learner's own id (real classes may repeat a name).
    learner05 = uuid.uuid5(NAMESPACE, "user:learner05")
    with page.expect_navigation():
        page.locator(f"button[name=user][value='{learner05}']").click()
    assert urlsplit(page.url).path == "/learn/"
    expect(page.locator("h1")).to_have_text("Hello, Mariam!")


def test_wrong_password_keeps_the_person_out(new_context: ContextFactory) -> None:
    page = new_context().new_page()
    submit_sign_in_form(page, "learner39", "learnerpass-wrong")
    assert urlsplit(page.url).path == "/signin/"
    expect(page.get_by_role("alert")).to_contain_text("That username and password do not match.")
    page.goto("/learn/")
    assert urlsplit(page.url).path == "/signin/"


def test_sign_out_returns_to_the_sign_in_page(sign_in: SignIn) -> None:
    page = sign_in("teacher", fresh=True).new_page()
    page.goto("/teach/")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert urlsplit(page.url).path == "/signin/"
    expect(page.locator("h1")).to_have_text("Sign in")
    page.goto("/teach/")
    assert urlsplit(page.url).path == "/signin/", "the session outlived the sign-out"
