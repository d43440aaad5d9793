"""Every page, as each role that may see it, passes axe-core and the house checks.

axe-core violations of impact "serious" or "critical" fail the test (minor and
moderate ones are printed). The house checks: one h1, one main landmark, a skip
link first in the tab order that moves focus to main, <html lang> set to the
active language, and an accessible name on every form control.
"""

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.e2e.conftest import Crawl, Visitor
from tests.e2e.pages import PAGES, page_id

pytestmark = pytest.mark.browser

AXE = Axe()
BLOCKING = {"serious", "critical"}
# Every browser context of the suite asks for English (conftest: locale en-US).
ACTIVE_LANGUAGE = "en"

UNNAMED_CONTROLS = """() => {
  const text = (el) => (el ? (el.innerText || el.textContent || "").trim() : "");
  const nameOf = (el) => {
    const label = (el.getAttribute("aria-label") || "").trim();
    if (label) return label;
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const t = by.split(/\\s+/).map((id) => text(document.getElementById(id))).join(" ").trim();
      if (t) return t;
    }
    const labels = Array.from(el.labels || []).map(text).join(" ").trim();
    if (labels) return labels;
    if (el.tagName === "BUTTON" && text(el)) return text(el);
    if (el.tagName === "INPUT" && ["submit", "reset", "button"].includes(el.type)) {
      return (el.value || "").trim();
    }
    if (el.tagName === "INPUT" && el.type === "image") return (el.alt || "").trim();
    return (el.getAttribute("title") || "").trim();
  };
  return Array.from(document.querySelectorAll("input, select, textarea, button"))
    .filter((el) => el.type !== "hidden" && !nameOf(el))
    .map((el) => el.outerHTML.slice(0, 160));
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  const main = document.querySelector("main, [role=main]");
  return {
    tag: el ? el.tagName : "",
    href: el ? el.getAttribute("href") || "" : "",
    text: el ? (el.innerText || el.textContent || "").trim() : "",
    mainId: main ? main.id : "",
    isMain: !!main && el === main,
  };
}"""


def axe_problems(page: Page) -> list[str]:
    """Serious and critical axe-core violations, one line each with their nodes."""
    violations: list[dict[str, Any]] = AXE.run(page).response["violations"]
    problems = []
    for violation in violations:
        targets = " | ".join(
            " ".join(str(part) for part in node["target"]) for node in violation["nodes"]
        )
        line = f"axe {violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"
        if violation["impact"] in BLOCKING:
            problems.append(line)
        else:
            print(f"{page.url}: {line}")
    return problems


def skip_link_problems(page: Page) -> list[str]:
    """The first Tab lands on a skip link to main; Enter moves focus into main."""
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    if not first["mainId"]:
        return ["skip link: the main landmark has no id to link to"]
    if first["tag"] != "A" or first["href"] != f"#{first['mainId']}" or not first["text"]:
        return [f"skip link: the first focusable element is {first}, not a link to main"]
    page.keyboard.press("Enter")
    if not page.evaluate(FOCUSED)["isMain"]:
        return ["skip link: Enter on it does not move focus to main"]
    return []


def structure_problems(page: Page) -> list[str]:
    problems = []
    if (count := page.locator("h1").count()) != 1:
        problems.append(f"{count} h1 elements instead of exactly one")
    if (count := page.locator("main, [role=main]").count()) != 1:
        problems.append(f"{count} main landmarks instead of exactly one")
    lang = page.locator("html").get_attribute("lang")
    if lang != ACTIVE_LANGUAGE:
        problems.append(f'<html lang="{lang}">, the active language is {ACTIVE_LANGUAGE}')
    pressed = page.locator("button[name=language][aria-pressed=true]")
    if pressed.count() != 1 or pressed.get_attribute("value") != lang:
        problems.append("the language picker does not mark the page's language as pressed")
    for control in page.evaluate(UNNAMED_CONTROLS):
        problems.append(f"form control without an accessible name: {control}")
    return problems + skip_link_problems(page)


def page_problems(visit: Visitor, role: str, path: str) -> list[str]:
    page = visit(role, path).page
    return axe_problems(page) + structure_problems(page)


@pytest.mark.parametrize(("role", "path"), PAGES, ids=[page_id(p) for p in PAGES])
def test_page_is_accessible(visit: Visitor, role: str, path: str) -> None:
    problems = page_problems(visit, role, path)
    assert not problems, f"{path} as {role}:\n" + "\n".join(problems)


def test_crawled_pages_are_accessible(visit: Visitor, crawl: Crawl) -> None:
    """Pages found behind each home (e.g. every page under /manage/) pass the same checks."""
    print(f"crawled pages checked: {[page_id(p) for p in crawl.pages]}")
    problems = [
        f"{path} as {role}: {problem}"
        for role, path in crawl.pages
        for problem in page_problems(visit, role, path)
    ]
    assert not problems, "\n".join(problems)


def test_crawled_links_answer(crawl: Crawl) -> None:
    assert not crawl.broken, "links that lead nowhere:\n" + "\n".join(crawl.broken)
