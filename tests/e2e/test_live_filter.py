"""htmx as progressive enhancement: the people list follows the search as it is typed."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SignIn

pytestmark = pytest.mark.browser
SCHOOL = "/manage/"


def test_people_list_filters_while_typing_and_keeps_the_url(sign_in: SignIn) -> None:
    page = sign_in("head").new_page()
    page.goto(SCHOOL)
    page.get_by_role("link", name="Demo School").first.click()
    page.get_by_role("link", name="People").first.click()
    rows = page.locator("#people-results tbody tr")
    expect(rows).to_have_count(43)
    page.get_by_label("Name or username").fill("aminata")
    # No submit: htmx fetches the filtered list and puts it in place.
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]q=aminata"))
    assert page.locator("h1").count() == 1
