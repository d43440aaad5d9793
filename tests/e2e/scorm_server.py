"""A small HTTP server for the SCORM bridge's browser tests.

It plays the two parts of Kalan the bridge talks to: the zip content server,
which serves a SCO's launch page under its sandbox policy (an opaque origin) with
scorm-again and scorm-bridge.js added before the SCO's scripts, and the state URL (see the
protocol at the top of kalan/content/static/content/scorm-bridge.js). Static
files come from the repository's static folders, as collectstatic would gather
them. It runs on 127.0.0.1 in a thread of the test process.
"""

import json
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kalan.content.views.zipcontent import SANDBOX_CSP

ROOT = Path(__file__).resolve().parents[2]
STATIC_DIRS = [ROOT / "kalan" / "ui" / "static", ROOT / "kalan" / "content" / "static"]
RUNTIMES = {"1.2": "scorm12.min.js", "2004": "scorm2004.min.js"}
# The launch page of a SCO as the zip content server sends it: the runtime and the
# bridge first, then the SCO's own (here: none; the tests call the API themselves).
SCO_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>SCO</title>
<script src="/static/vendor/scorm-again/{runtime}"></script>
<script src="/static/content/scorm-bridge.js" data-state-url="{state_url}"
        data-version="{version}"></script>
</head><body><p>SCO</p></body></html>
"""


@dataclass
class Post:
    content_type: str
    body: dict[str, Any]


@dataclass
class StateStore:
    """The state URL's side: what a GET answers and every POST received, by key."""

    states: dict[str, Any] = field(default_factory=dict)
    posts: dict[str, list[Post]] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)  # every state request's method
    broken: set[str] = field(default_factory=set)  # keys whose GET answers 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts_to(self, key: str) -> list[Post]:
        with self.lock:
            return list(self.posts.get(key, []))


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests report what matters

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, data: Any, status: int = HTTPStatus.OK) -> None:
        body = json.dumps(data).encode()
        self._send(
            status,
            body,
            "application/json",
            Access_Control_Allow_Origin="*",
            Cache_Control="no-store",
        )

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if parts[0] == "static":
            self._static(parts[1:])
        elif parts[0] == "sco" and len(parts) == 3 and parts[1] in RUNTIMES:
            page = SCO_PAGE.format(
                runtime=RUNTIMES[parts[1]], version=parts[1], state_url=f"/state/{parts[2]}"
            )
            # Under the policy of Kalan's zip server: an opaque origin, connections to 'self'.
            headers = {"Content_Security_Policy": SANDBOX_CSP}
            self._send(200, page.encode(), "text/html; charset=utf-8", **headers)
        elif parts[0] == "state" and len(parts) == 2:
            self._get_state(parts[1])
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        if parts[0] != "state" or len(parts) != 2:
            self._send(404, b"not found", "text/plain")
            return
        store = self.server.store
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        post = Post(self.headers.get("Content-Type", ""), json.loads(raw))
        with store.lock:
            store.methods.append("POST")
            store.states[parts[1]] = post.body
            store.posts.setdefault(parts[1], []).append(post)
        self._send_json({"result": True, "errorCode": 0})

    def do_OPTIONS(self) -> None:
        # The bridge must never need a CORS preflight: record it and refuse it.
        with self.server.store.lock:
            self.server.store.methods.append("OPTIONS")
        self._send(405, b"no preflight", "text/plain")

    def _get_state(self, key: str) -> None:
        store = self.server.store
        with store.lock:
            store.methods.append("GET")
            state = None if key in store.broken else store.states.get(key, {"cmi": {}})
        if state is None:
            self._send_json({"error": "broken on purpose"}, HTTPStatus.INTERNAL_SERVER_ERROR)
        else:
            self._send_json(state)

    def _static(self, parts: list[str]) -> None:
        if ".." in parts:
            self._send(404, b"not found", "text/plain")
            return
        for folder in STATIC_DIRS:
            path = folder.joinpath(*parts)
            if path.is_file():
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                # Cached like Kalan's fingerprinted files: one download per browser context.
                cache = "max-age=3600"
                self._send(200, path.read_bytes(), content_type, Cache_Control=cache)
                return
        self._send(404, b"not found", "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, store: StateStore) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store = store


@contextmanager
def scorm_server() -> Iterator[tuple[str, StateStore]]:
    """Serve on a free port of 127.0.0.1; yields the base URL and the state store."""
    store = StateStore()
    server = _Server(store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
