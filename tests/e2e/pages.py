"""Every page of the app, as each role that may see it.

PAGES is the fixed list. Pages behind a role's home are also found at test
time by following that home's same-origin links (CRAWL_ROOTS), so a page added
under /manage/ (or another home) is checked without anyone editing this file.
"""

import re
import uuid
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.sync_api import APIRequestContext

from kalan.schools.demo import NAMESPACE

ANONYMOUS = "anonymous"
DEMO_SCHOOL_ID = uuid.uuid5(NAMESPACE, "school")
DEMO_CLASS_ID = uuid.uuid5(NAMESPACE, "class")

PAGES: list[tuple[str, str]] = [
    (ANONYMOUS, "/signin/"),
    (ANONYMOUS, f"/signin/school/{DEMO_SCHOOL_ID}/"),  # young learners: pick the class
    (ANONYMOUS, f"/signin/class/{DEMO_CLASS_ID}/"),  # young learners: pick your name
    ("learner01", "/learn/"),
    ("teacher", "/teach/"),
    ("parent", "/family/"),
    ("district", "/area/"),
    ("head", "/manage/"),
    ("teacher", "/practice/grading/"),
    ("head", "/practice/grading/"),
    ("learner01", "/library/"),
    ("learner01", "/library/search/"),
    ("parent", "/library/"),
]

# Where to look for more pages, as whom: links under the root's path are followed.
CRAWL_ROOTS: list[tuple[str, str]] = [
    ("head", "/manage/"),
    ("teacher", "/teach/"),
    ("learner01", "/learn/"),
    ("parent", "/family/"),
    ("district", "/area/"),
    ("learner01", "/library/"),  # channels, topics, resources, search
]
CRAWL_LIMIT = 80  # pages fetched per root, at most
PER_SHAPE = 1  # pages checked per URL shape (/manage/people/<id>/ is one shape)

# Django's own admin is for technical staff and its markup is Django's: it is
# checked for outside requests and static assets, but not with axe.
TECHNICAL_PAGES: list[tuple[str, str]] = [(ANONYMOUS, "/admin/login/")]

_VARIABLE_PART = re.compile(
    r"/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)"
)


def page_id(page: tuple[str, str]) -> str:
    role, path = page
    return f"{role}:{path}"


def shape(path: str) -> str:
    """The path with ids replaced, without the query: pages of one template share it."""
    return _VARIABLE_PART.sub("/<id>", urlsplit(path).path)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _links(html: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [urldefrag(urljoin(base, href))[0] for href in parser.hrefs]


def discover_pages(
    request: APIRequestContext, base_url: str, root: str
) -> tuple[list[str], list[str]]:
    """Pages (paths) reachable from root by links under root, and the broken links met.

    Only GET, only HTML answers, only the same origin; bounded by CRAWL_LIMIT
    fetches and PER_SHAPE pages per shape.
    """
    origin = urlsplit(base_url)
    found: list[str] = []
    broken: list[str] = []
    per_shape: dict[str, int] = {}
    queue, seen = deque([root]), {root}
    while queue and len(found) + len(broken) < CRAWL_LIMIT:
        path = queue.popleft()
        response = request.get(path, max_redirects=0)
        if response.status in (301, 302, 303, 307, 308):
            continue  # e.g. a page that sends its visitor elsewhere: not a page of its own
        if response.status != 200:
            broken.append(f"{path} answered {response.status}")
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue  # a download (export), not a page
        found.append(path)
        for url in _links(response.text(), f"{base_url}{path}"):
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                continue
            if not parts.path.startswith(root) or target in seen:
                continue
            seen.add(target)
            if per_shape.get(shape(target), 0) < PER_SHAPE:
                per_shape[shape(target)] = per_shape.get(shape(target), 0) + 1
                queue.append(target)
    return found, broken
