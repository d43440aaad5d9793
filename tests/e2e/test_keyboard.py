"""Everything works with the keyboard alone, focus is always visible, errors are tied to fields."""

import gettext
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import kalan
from tests.e2e.conftest import ContextFactory, SignIn

pytestmark = pytest.mark.browser

MAX_TABS = 60
FRENCH_CATALOGUE = Path(kalan.__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "django.mo"

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute("name") || "",
    value: el.getAttribute("value") || "",
    text: (el.innerText || el.value || "").trim().slice(0, 40),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
  };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    info: dict[str, Any] | None = page.evaluate(FOCUSED)
    return info


def tab_to(page: Page, wanted: dict[str, str]) -> int:
    """Press Tab until the focused element matches every key of wanted; the presses taken."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        now = focused(page)
        if now and all(now.get(key) == value for key, value in wanted.items()):
            return presses
    raise AssertionError(f"Tab never reached {wanted} in {MAX_TABS} presses")


def test_sign_in_with_the_keyboard_only(new_context: ContextFactory) -> None:
    page = new_context().new_page()
    page.goto("/signin/")
    # Skip link, then the brand link, then the form: the fields come first.
    assert tab_to(page, {"id": "id_username"}) <= 4
    page.keyboard.type("learner01")
    page.keyboard.press("Tab")
    assert (focused(page) or {}).get("id") == "id_password"
    page.keyboard.type("learnerpass")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/learn/")
    expect(page.locator("h1")).to_contain_text("Aminata")


def visible_focus_problems(page: Page) -> tuple[set[str], list[str]]:
    """Tab through every stop of the page: the kinds met, and stops without a visible outline."""
    kinds: set[str] = set()
    problems = []
    first = None
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None:
            break  # past the last stop, back to the document
        stop = (now["tag"], now["id"], now["name"], now["value"], now["text"])
        if stop == first:
            break
        first = first or stop
        kinds.add(now["tag"])
        if now["outlineStyle"] == "none" or now["outlineWidth"] <= 0:
            problems.append(f"no visible focus on {stop}: {now}")
    return kinds, problems


@pytest.mark.parametrize(("role", "path"), [("anonymous", "/signin/"), ("learner01", "/learn/")])
def test_focus_is_always_visible(sign_in: SignIn, role: str, path: str) -> None:
    page = sign_in(role).new_page()
    page.goto(path)
    kinds, problems = visible_focus_problems(page)
    assert {"a", "button"} <= kinds, kinds
    if path == "/signin/":
        assert "input" in kinds, kinds
    assert not problems, "\n".join(problems)


def french(message: str) -> str | None:
    """The French translation in the compiled catalogue, or None when there is none yet."""
    if not FRENCH_CATALOGUE.exists():
        return None
    with FRENCH_CATALOGUE.open("rb") as handle:
        translated = gettext.GNUTranslations(handle).gettext(message)
    return translated if translated != message else None


def test_language_picker_works_with_the_keyboard(new_context: ContextFactory) -> None:
    page = new_context().new_page()
    page.goto("/signin/")
    assert page.locator("html").get_attribute("lang") == "en"
    tab_to(page, {"tag": "button", "name": "language", "value": "fr"})
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.url.endswith("/signin/")
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.locator("button[name=language][value=fr]")).to_have_attribute(
        "aria-pressed", "true"
    )
    heading = french("Sign in")
    if heading is None:
        pytest.skip(f"{FRENCH_CATALOGUE} has no French for 'Sign in' yet: heading text unchecked")
    expect(page.locator("h1")).to_have_text(heading)


def described_by_visible_text(page: Page, field_id: str) -> str:
    """The field is marked invalid; return the visible text its aria-describedby points to."""
    field = page.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    ids = (field.get_attribute("aria-describedby") or "").split()
    assert ids, f"#{field_id} is not described by any error text"
    texts = []
    for described in ids:
        target = page.locator(f"#{described}")
        expect(target).to_be_visible()
        texts.append(target.inner_text().strip())
    text = " ".join(texts)
    assert text, f"#{field_id} points to empty text"
    return text


def test_empty_sign_in_shows_an_error_summary_tied_to_the_fields(new_context: ContextFactory):
    page = new_context().new_page()
    page.goto("/signin/")
    tab_to(page, {"id": "id_username"})
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value is not None
    assert navigation.value.status == 400
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the problems below.")
    for field_id in ("id_username", "id_password"):
        assert "required" in described_by_visible_text(page, field_id)


def test_wrong_password_shows_an_error_summary(new_context: ContextFactory) -> None:
    page = new_context().new_page()
    page.goto("/signin/")
    tab_to(page, {"id": "id_username"})
    page.keyboard.type("learner40")
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value is not None
    assert navigation.value.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("That username and password do not match.")
    # The name is kept so that only the password needs typing again.
    expect(page.get_by_label("Username")).to_have_value("learner40")
