"""What a page costs a school's Wi-Fi, and that it never reaches outside.

The first page a person meets (sign-in) and a learner's first page weigh at most
60 KB on the wire with an empty cache (bodies as transferred plus headers, with
the Accept-Encoding Chromium sends). No page requests anything from a host other
than 127.0.0.1. Every static asset is fingerprinted, cached for a year and
compressed when it is text.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Request

from tests.e2e.conftest import ContextFactory, Crawl, StateOf, Visitor
from tests.e2e.pages import PAGES, TECHNICAL_PAGES, page_id
from tests.support import HOST

pytestmark = pytest.mark.browser

BUDGET = 60 * 1024
ONE_YEAR = 365 * 24 * 60 * 60
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
MAX_AGE = re.compile(r"(?:^|[,\s])max-age=(\d+)")
TEXT_TYPES = ("text/", "javascript", "json", "image/svg+xml")
ALL_PAGES = PAGES + TECHNICAL_PAGES


def weigh(context: BrowserContext, path: str) -> list[tuple[int, str]]:
    """(bytes on the wire, URL) of every request of a first visit to path."""
    finished: list[Request] = []
    page = context.new_page()
    page.on("requestfinished", lambda request: finished.append(request))
    response = page.goto(path, wait_until="networkidle")
    assert response is not None
    assert response.status == 200
    assert urlsplit(page.url).path == path, f"{path} went to {page.url}"
    rows = []
    for request in finished:
        sizes = request.sizes()
        wire = max(0, sizes["responseBodySize"]) + max(0, sizes["responseHeadersSize"])
        rows.append((wire, request.url))
    return rows


def check_budget(rows: list[tuple[int, str]], path: str) -> None:
    total = sum(size for size, _url in rows)
    for size, url in rows:
        print(f"{size:8d} {url}")
    print(f"{path}: {total} bytes on the wire in {len(rows)} requests (budget {BUDGET})")
    document = [size for size, url in rows if urlsplit(url).path == path]
    assert document, f"the page itself was not measured: {rows}"
    assert document[0] > 0
    assert total <= BUDGET, f"{path} weighs {total} bytes, over the {BUDGET} budget"


def test_sign_in_page_weighs_at_most_60_kb(new_context: ContextFactory) -> None:
    check_budget(weigh(new_context(), "/signin/"), "/signin/")


def test_learner_home_weighs_at_most_60_kb(
    new_context: ContextFactory, signed_in_state: StateOf
) -> None:
    # Only the session cookie: the learner home is the first page this context loads.
    context = new_context(storage_state={"cookies": signed_in_state("learner01")["cookies"]})
    check_budget(weigh(context, "/learn/"), "/learn/")


def outside_requests(requests: list[Request]) -> list[str]:
    return [
        request.url
        for request in requests
        if not request.url.startswith(("data:", "blob:")) and urlsplit(request.url).hostname != HOST
    ]


@pytest.mark.parametrize(("role", "path"), ALL_PAGES, ids=[page_id(p) for p in ALL_PAGES])
def test_no_request_leaves_the_machine(visit: Visitor, role: str, path: str) -> None:
    requests = visit(role, path, settle=True).requests
    assert any(urlsplit(r.url).path == path for r in requests), "requests were not recorded"
    assert not outside_requests(requests)


def static_asset_problems(request: Request) -> list[str]:
    response = request.response()
    name = urlsplit(request.url).path
    if response is None:
        return [f"{name}: no answer"]
    headers = response.headers
    problems = []
    if response.status != 200:
        problems.append(f"{name}: status {response.status}")
    if not FINGERPRINTED.search(name):
        problems.append(f"{name}: no content fingerprint in the name")
    ages = [int(age) for age in MAX_AGE.findall(headers.get("cache-control", ""))]
    if not ages or max(ages) < ONE_YEAR:
        problems.append(f"{name}: Cache-Control {headers.get('cache-control')!r}, not a year")
    text = any(kind in headers.get("content-type", "") for kind in TEXT_TYPES)
    if text and headers.get("content-encoding") not in {"gzip", "br"}:
        problems.append(f"{name}: text sent uncompressed ({headers.get('content-encoding')!r})")
    return problems


@pytest.mark.parametrize(("role", "path"), ALL_PAGES, ids=[page_id(p) for p in ALL_PAGES])
def test_static_assets_are_fingerprinted_cached_and_compressed(
    visit: Visitor, role: str, path: str
) -> None:
    assets = [
        r
        for r in visit(role, path, settle=True).requests
        if urlsplit(r.url).path.startswith("/static/")
    ]
    assert assets, f"{path} loads no static asset: its stylesheet is missing"
    problems = [problem for asset in assets for problem in static_asset_problems(asset)]
    assert not problems, "\n".join(problems)


def test_crawled_pages_stay_local_with_good_static_assets(visit: Visitor, crawl: Crawl) -> None:
    """Pages found behind each home (e.g. every page under /manage/) pass the same two checks."""
    problems = []
    for role, path in crawl.pages:
        requests = visit(role, path, settle=True).requests
        problems += [
            f"{path} as {role}: outside request {url}" for url in outside_requests(requests)
        ]
        problems += [
            f"{path} as {role}: {problem}"
            for request in requests
            if urlsplit(request.url).path.startswith("/static/")
            for problem in static_asset_problems(request)
        ]
    assert not problems, "\n".join(problems)
