"""A real Kalan server and one headless Chromium for the browser journeys.

The server is started once per run the way an operator starts it (`kalan demo`,
then `kalan start`), in a fresh KALAN_HOME and, on PostgreSQL, a database of its
own. It is stopped with SIGTERM at the end, which must leave it cleanly within
10 s. Each test gets new browser contexts: nothing leaks between tests except
the server's data. Only 127.0.0.1 is ever contacted.
"""

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    StorageState,
    sync_playwright,
)

from tests.e2e.pages import ANONYMOUS, CRAWL_ROOTS, PAGES, discover_pages
from tests.support import HOST, kalan_command, own_database, server_env, serving_kalan

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces: a name other than the loopback address never resolves,
    # so a stray outside request fails here instead of leaving the machine.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
]
# The demo accounts of `kalan demo` (kalan/schools/demo.py).
PASSWORDS = {
    "head": "demo-head-pass",
    "teacher": "demo-teacher-pass",
    "parent": "demo-parent-pass",
    "district": "demo-district-pass",
    **{f"learner{n:02d}": "learnerpass" for n in range(1, 41)},
}

ContextFactory = Callable[..., BrowserContext]
SignIn = Callable[..., BrowserContext]


# ---------------------------------------------------------------- the server


@pytest.fixture(scope="session")
def kalan_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real `kalan start` serving the demo school on 127.0.0.1."""
    home = tmp_path_factory.mktemp("kalan-e2e-home")
    with own_database("kalan_e2e") as database_url:
        env = server_env(home, database_url)
        demo = subprocess.run(
            kalan_command("demo"), env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert demo.returncode == 0, f"kalan demo failed:\n{demo.stdout}\n{demo.stderr}"
        with serving_kalan(home, env) as url:
            yield url


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser: Browser, kalan_url: str) -> Iterator[ContextFactory]:
    """Make fresh browser contexts (empty cache, no cookies) that speak English."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=kalan_url, locale="en-US", **options)
        context.set_default_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def submit_sign_in_form(page: Page, username: str, password: str) -> None:
    """Fill in and send the real sign-in form, waiting for the answer."""
    page.goto("/signin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


StateOf = Callable[[str], StorageState]


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, kalan_url: str) -> StateOf:
    """The cookies of a demo account signed in once per run through the real form."""
    states: dict[str, StorageState] = {}

    def state_of(username: str) -> StorageState:
        if username not in states:
            context = browser.new_context(base_url=kalan_url, locale="en-US")
            try:
                page = context.new_page()
                submit_sign_in_form(page, username, PASSWORDS[username])
                assert "/signin/" not in page.url, f"{username} could not sign in: {page.url}"
                states[username] = context.storage_state()
            finally:
                context.close()
        return states[username]

    return state_of


@pytest.fixture
def sign_in(new_context: ContextFactory, signed_in_state: StateOf) -> SignIn:
    """A new context (empty cache) signed in as a demo account, or anonymous.

    By default it carries the cookie of the run's session of that account;
    `fresh=True` signs in anew through the form, for a test that ends the session.
    """

    def make(username: str, *, fresh: bool = False) -> BrowserContext:
        if username == ANONYMOUS:
            return new_context()
        if not fresh:
            return new_context(storage_state=signed_in_state(username))
        context = new_context()
        page = context.new_page()
        submit_sign_in_form(page, username, PASSWORDS[username])
        assert "/signin/" not in page.url, f"{username} could not sign in: {page.url}"
        page.close()
        return context

    return make


@dataclass(frozen=True)
class Crawl:
    pages: list[tuple[str, str]]  # (role, path) found by crawling and not in PAGES
    broken: list[str]  # links that did not answer


@pytest.fixture(scope="session")
def crawl(browser: Browser, kalan_url: str, signed_in_state: StateOf) -> Crawl:
    """Pages behind each role's home, found by following links (see pages.py)."""
    pages: list[tuple[str, str]] = []
    broken: list[str] = []
    for role, root in CRAWL_ROOTS:
        context = browser.new_context(base_url=kalan_url, storage_state=signed_in_state(role))
        try:
            found, bad = discover_pages(context.request, kalan_url, root)
        finally:
            context.close()
        pages += [(role, path) for path in found if (role, path) not in PAGES]
        broken += [f"as {role}: {problem}" for problem in bad]
    return Crawl(pages, broken)


@dataclass(frozen=True)
class Visit:
    page: Page
    requests: list[Request]  # every request the context made, in order


Visitor = Callable[..., Visit]


@pytest.fixture
def visit(sign_in: SignIn) -> Visitor:
    """Open a page as a role in a new context, recording every request; the page must load.

    With `settle=True` the visit also waits until the network has been idle for
    half a second, to catch whatever the page requests after its load event.
    """

    def go(role: str, path: str, *, settle: bool = False) -> Visit:
        context = sign_in(role)
        requests: list[Request] = []
        context.on("request", lambda request: requests.append(request))
        page = context.new_page()
        response = page.goto(path, wait_until="networkidle" if settle else "load")
        assert response is not None, f"no answer for {path}"
        assert response.status == 200, f"{path} as {role} answered {response.status}"
        assert urlsplit(page.url).path == urlsplit(path).path, f"{path} went to {page.url}"
        return Visit(page, requests)

    return go
