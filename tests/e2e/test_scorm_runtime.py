"""The SCORM run-time as SCOs meet it: scorm-again made by our scorm-bridge.js.

Each launch is a real page in headless Chromium, served in an opaque-origin
sandbox by tests/e2e/scorm_server.py on 127.0.0.1, with scorm-again and the
bridge loaded from the repository's static files and the learner's state read
from, and saved to, the state URL.

1. The ADL run-time conformance replays (scorm-again's fixtures, decoded from
   the ADL SCORM 2004 4th Edition test suite, in ../shared/corpus/scorm): for
   every activity the bridge runs again and makes a fresh API from the initial
   state the state URL serves; every step's return value and GetLastError code
   must match ADL's expectation. Steps upstream marks `knownDivergence` either
   match ADL because the bridge fixes them (FIXED) or must show exactly the
   divergence upstream documents (scorm-again's deliberate leniency).
2. What a SCO commits is POSTed to the state URL and comes back on the next
   launch; a SCO never starts from an empty state when its state is unreadable.
"""

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import CHROMIUM
from tests.e2e.scorm_server import StateStore, scorm_server

pytestmark = pytest.mark.browser

CORPUS = Path(os.environ.get("KALAN_CORPUS") or Path(__file__).parents[2] / "../shared/corpus")
FIXTURES_DIR = CORPUS / "scorm" / "scorm-again-adl-rte-fixtures"
FIXTURES = sorted(FIXTURES_DIR.rglob("*.json"))
# knownDivergence steps the bridge corrects: (fixture id, activity id, element).
# SCORM 1.2 GetValue of an unknown leaf in a known category: ADL's 201, not 401.
FIXED = {("SCORM12-divergence-probes", "P4-invalid-element", "cmi.core.bogus")}
# A new launch in the same page: the bridge's script runs again with another state URL
# and must make a new API (a navigation per activity would take four times longer).
RELAUNCH = """({stateUrl, version}) => new Promise((resolve, reject) => {
  const before = window.API || window.API_1484_11;
  const script = document.createElement("script");
  script.src = document.querySelector("script[data-state-url]").src;
  script.setAttribute("data-state-url", stateUrl);
  script.setAttribute("data-version", version);
  script.onerror = () => reject(new Error("scorm-bridge.js did not load"));
  script.onload = () => {
    const after = version === "2004" ? window.API_1484_11 : window.API;
    after && after !== before ? resolve() : reject(new Error("no new API"));
  };
  document.head.appendChild(script);
})"""
# The SCORM 1.2 and 2004 names of the eight API methods the fixtures call.
REPLAY = """({version, steps}) => {
  const is2004 = version === "2004";
  const api = is2004 ? window.API_1484_11 : window.API;
  const name = (method) => is2004 ? method : {
    Initialize: "LMSInitialize", Terminate: "LMSFinish", Commit: "LMSCommit",
    GetValue: "LMSGetValue", SetValue: "LMSSetValue", GetLastError: "LMSGetLastError",
    GetErrorString: "LMSGetErrorString", GetDiagnostic: "LMSGetDiagnostic"}[method];
  return steps.map((step) => {
    let args;
    if (step.method === "SetValue") args = [step.element, step.value];
    else if (step.method === "GetValue") args = [step.element];
    else if (step.method === "GetLastError") args = [];
    else args = [step.value === undefined ? "" : step.value];
    const result = api[name(step.method)](...args);
    return [result, api[name("GetLastError")]()];
  });
}"""


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> Browser:
    if not CHROMIUM.exists() and os.environ.get("KALAN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KALAN_REQUIRE_BROWSER=1 but Debian's chromium is not at {CHROMIUM}")
    browser: Browser = request.getfixturevalue("browser")  # skips when chromium is absent
    return browser


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, StateStore]]:
    with scorm_server() as served:
        yield served


@pytest.fixture(scope="module")
def replay_page(
    chromium: Browser, server: tuple[str, StateStore]
) -> Iterator[Callable[[str], Page]]:
    """The launch page of a SCO of a version, one per version for all the replays."""
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    pages: dict[str, Page] = {}

    def page_for(version: str) -> Page:
        if version not in pages:
            pages[version] = context.new_page()
            launch(pages[version], server[0], version, "replay")
        return pages[version]

    yield page_for
    context.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def launch(page: Page, base: str, version: str, key: str) -> None:
    """Open a SCO's launch page: the bridge has made the API once it has loaded."""
    response = page.goto(f"{base}/sco/{version}/{key}")
    assert response is not None
    assert response.ok, response.status


def step(method: str, *args: str) -> dict[str, str]:
    """One API call: step("SetValue", "cmi.location", "p2"), step("Commit", "")."""
    names = ("element", "value") if method in ("GetValue", "SetValue") else ("value",)
    return {"method": method, **dict(zip(names, args, strict=False))}


def call(page: Page, version: str, steps: list[dict[str, Any]]) -> list[list[str]]:
    """Call the API as a SCO would, in order; [return value, GetLastError] for each call."""
    results: list[list[str]] = page.evaluate(REPLAY, {"version": version, "steps": steps})
    return results


# ---------------------------------------------------------------- 1. ADL replays


def expectation(fixture: str, activity: str, item: dict[str, Any]) -> tuple[Any, str, str]:
    """The (return, error code, kind) a step must produce from our run-time."""
    divergence = item.get("knownDivergence")
    if divergence and (fixture, activity, item.get("element")) not in FIXED:
        return divergence["actualReturn"], divergence["actualErrorCode"], "pinned divergence"
    kind = "fixed divergence" if divergence else "ADL"
    return item.get("expectedReturn"), item["expectedErrorCode"], kind


def matches(expected: Any, actual: str) -> bool:
    if expected is None:  # upstream: no return check for this step
        return True
    if isinstance(expected, dict):
        assert expected == {"match": "nonEmptyMax255"}, expected
        return 0 < len(actual) <= 255
    return bool(actual == expected)


def mismatches(
    fixture: dict[str, Any], activity: dict[str, Any], results: list[list[str]]
) -> Iterator[str]:
    steps = activity["steps"]
    assert len(results) == len(steps)
    for number, (item, (returned, code)) in enumerate(zip(steps, results, strict=True)):
        want, want_code, kind = expectation(fixture["id"], activity["id"], item)
        if not matches(want, returned) or code != want_code:
            yield (
                f"{activity['id']} step {number + 1} {item['method']}"
                f"({item.get('element', '')!r}, {item.get('value', '')!r}): "
                f"got {returned!r}/{code}, {kind} expects {want!r}/{want_code}"
            )


@pytest.mark.skipif(not FIXTURES, reason=f"the SCORM replay corpus is not at {FIXTURES_DIR}")
@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_adl_conformance_replay(
    path: Path, replay_page: Callable[[str], Page], server: tuple[str, StateStore]
) -> None:
    _base, store = server
    fixture = json.loads(path.read_text())
    version = fixture["scormVersion"]
    problems: list[str] = []
    page = replay_page(version)
    for number, activity in enumerate(fixture["activities"]):
        key = f"{path.stem}-{number}"
        launch_values = activity.get("initialState", fixture.get("initialState", {}))
        store.states[key] = {"cmi": {}, "launch": launch_values.get("cmi", {})}
        page.evaluate(RELAUNCH, {"stateUrl": f"/state/{key}", "version": version})
        results = call(page, version, activity["steps"])
        problems += mismatches(fixture, activity, results)
    assert not problems, f"{fixture['id']}:\n" + "\n".join(problems)
    assert "OPTIONS" not in store.methods, "a state request needed a CORS preflight"


def test_every_fixed_divergence_is_still_listed_upstream() -> None:
    if not FIXTURES:
        pytest.skip(f"the SCORM replay corpus is not at {FIXTURES_DIR}")
    listed = set()
    for path in FIXTURES:
        fixture = json.loads(path.read_text())
        for activity in fixture["activities"]:
            for item in activity["steps"]:
                if "knownDivergence" in item:
                    listed.add((fixture["id"], activity["id"], item.get("element")))
    assert listed >= FIXED, f"FIXED names steps upstream no longer lists: {FIXED - listed}"


# ---------------------------------------------------------------- 2. saved and reloaded


def wait_for_posts(store: StateStore, key: str, count: int) -> list[Any]:
    """The POSTs to a state URL once there are `count` (a beacon arrives on its own time)."""
    deadline = time.monotonic() + 5
    while len(store.posts_to(key)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    posts = store.posts_to(key)
    assert len(posts) == count, [post.body for post in posts]
    return posts


def test_scorm12_commit_is_saved_and_resumed(page: Page, server: tuple[str, StateStore]) -> None:
    base, store = server
    key = "round-trip-12"
    store.states[key] = {"cmi": {}, "launch": {"core": {"student_id": "l-7", "student_name": "K"}}}
    launch(page, base, "1.2", key)
    assert page.evaluate("window.origin") == "null"  # sandboxed like Kalan's zip server
    first = call(
        page,
        "1.2",
        [
            step("Initialize", ""),
            step("GetValue", "cmi.core.entry"),
            step("GetValue", "cmi.core.student_id"),
            step("SetValue", "cmi.core.lesson_location", "page-7"),
            step("SetValue", "cmi.suspend_data", "answers=1,2;seen=3"),
            step("SetValue", "cmi.core.lesson_status", "incomplete"),
            step("SetValue", "cmi.core.score.raw", "40"),
            step("SetValue", "cmi.core.session_time", "00:05:00"),
            step("SetValue", "cmi.core.exit", "suspend"),
            step("Commit", ""),
        ],
    )
    assert first == [
        ["true", "0"],
        ["ab-initio", "0"],
        ["l-7", "0"],
        *[["true", "0"]] * 7,
    ]
    (commit,) = wait_for_posts(store, key, 1)
    assert commit.content_type.startswith("text/plain")  # a simple request: no preflight
    assert "terminated" not in commit.body
    core = commit.body["cmi"]["core"]
    assert (core["lesson_location"], core["exit"], core["score"]["raw"]) == (
        "page-7",
        "suspend",
        "40",
    )
    assert commit.body["cmi"]["suspend_data"] == "answers=1,2;seen=3"

    assert call(page, "1.2", [step("Terminate", "")]) == [["true", "0"]]
    finish = wait_for_posts(store, key, 2)[1]
    assert finish.body["terminated"] is True
    assert finish.body["cmi"]["core"]["total_time"] == "00:05:00"

    launch(page, base, "1.2", key)  # the learner comes back
    again = call(
        page,
        "1.2",
        [
            step("Initialize", ""),
            step("GetValue", "cmi.core.entry"),
            step("GetValue", "cmi.core.lesson_location"),
            step("GetValue", "cmi.suspend_data"),
            step("GetValue", "cmi.core.lesson_status"),
            step("GetValue", "cmi.core.score.raw"),
            step("GetValue", "cmi.core.total_time"),
            step("GetValue", "cmi.core.student_id"),
        ],
    )
    assert [value for value, _code in again] == [
        "true",
        "resume",
        "page-7",
        "answers=1,2;seen=3",
        "incomplete",
        "40",
        "00:05:00",
        "l-7",
    ]
    assert {code for _value, code in again} == {"0"}
    assert "OPTIONS" not in store.methods


def test_scorm2004_suspended_attempt_resumes_and_a_finished_one_starts_anew(
    page: Page, server: tuple[str, StateStore]
) -> None:
    base, store = server
    key = "round-trip-2004"
    launch(page, base, "2004", key)
    call(
        page,
        "2004",
        [
            step("Initialize", ""),
            step("SetValue", "cmi.location", "slide-12"),
            step("SetValue", "cmi.suspend_data", "state=abc"),
            step("SetValue", "cmi.session_time", "PT2M30S"),
            step("SetValue", "cmi.exit", "suspend"),
            step("Commit", ""),
            step("Terminate", ""),
        ],
    )
    wait_for_posts(store, key, 2)
    launch(page, base, "2004", key)
    resumed = call(
        page,
        "2004",
        [
            step("Initialize", ""),
            step("GetValue", "cmi.entry"),
            step("GetValue", "cmi.location"),
            step("GetValue", "cmi.suspend_data"),
            step("GetValue", "cmi.total_time"),
            step("SetValue", "cmi.completion_status", "completed"),
            step("SetValue", "cmi.exit", "normal"),
            step("Terminate", ""),
        ],
    )
    assert resumed == [
        ["true", "0"],
        ["resume", "0"],
        ["slide-12", "0"],
        ["state=abc", "0"],
        ["PT2M30S", "0"],
        ["true", "0"],
        ["true", "0"],
        ["true", "0"],
    ]
    finished = wait_for_posts(store, key, 3)[2].body
    assert finished["terminated"] is True
    assert finished["cmi"]["completion_status"] == "completed"

    launch(page, base, "2004", key)  # a new attempt: nothing of the last one is offered
    fresh = call(
        page,
        "2004",
        [
            step("Initialize", ""),
            step("GetValue", "cmi.entry"),
            step("GetValue", "cmi.location"),
            step("GetValue", "cmi.completion_status"),
        ],
    )
    assert fresh == [["true", "0"], ["ab-initio", "0"], ["", "403"], ["unknown", "0"]]


def test_uncommitted_changes_are_sent_when_the_page_goes(
    page: Page, server: tuple[str, StateStore]
) -> None:
    base, store = server
    key = "pagehide-12"
    launch(page, base, "1.2", key)
    call(
        page,
        "1.2",
        [step("Initialize", ""), step("SetValue", "cmi.core.lesson_location", "page-3")],
    )
    assert store.posts_to(key) == []
    page.goto("about:blank")
    (beacon,) = wait_for_posts(store, key, 1)
    assert beacon.body["cmi"]["core"]["lesson_location"] == "page-3"
    assert "terminated" not in beacon.body

    launch(page, base, "1.2", key)
    back = call(
        page,
        "1.2",
        [
            step("Initialize", ""),
            step("GetValue", "cmi.core.lesson_location"),
            step("GetValue", "cmi.core.entry"),
        ],
    )
    assert back == [["true", "0"], ["page-3", "0"], ["", "0"]]


@pytest.mark.parametrize(("version", "error"), [("1.2", "101"), ("2004", "102")])
def test_an_unreadable_state_stops_the_sco_before_it_overwrites_anything(
    version: str, error: str, page: Page, server: tuple[str, StateStore]
) -> None:
    base, store = server
    key = f"broken-{version}"
    store.broken.add(key)
    launch(page, base, version, key)
    assert call(
        page, version, [step("Initialize", ""), step("SetValue", "cmi.suspend_data", "x")]
    ) == [
        ["false", error],
        ["false", "132" if version == "2004" else "301"],
    ]
    page.goto("about:blank")
    time.sleep(0.5)  # room for a beacon that must not come
    assert store.posts_to(key) == []


def test_a_successful_get_value_clears_the_last_error(
    page: Page, server: tuple[str, StateStore]
) -> None:
    base, _store = server
    launch(page, base, "2004", "stale-error")
    results = call(
        page,
        "2004",
        [
            step("Initialize", ""),
            step("GetValue", ""),
            step("GetValue", "cmi.completion_status"),
            step("GetValue", "cmi.location"),
            step("GetValue", "cmi.success_status"),
        ],
    )
    assert results == [["true", "0"], ["", "301"], ["unknown", "0"], ["", "403"], ["unknown", "0"]]
