"""The player page of every kind of resource (/play/<node id>/) and the H5P host page.

A signed-in person plays a resource of the library here; anyone else is sent
to sign in, and a resource that is not installed (or a topic) is a 404. Each
kind has a template, content/players/<kind>.html, extending
content/players/base.html: the title as the one h1, a link back to the
resource's library page, the player, then the licence and credits. The
players' scripts (kalan/content/static/content/) get their strings from
data-label-* attributes, translated in the templates.

Zip-based kinds play in an iframe sandboxed without allow-same-origin, fed by
the zip server (zipcontent.py) under its sandbox policy: HTML5 apps, SCORM
(under the learner's signed token), cmi5 (launch URL from cmi5_launch.py) and
H5P, whose player runs in a host page of its own (h5p_host) served under the
same policy, so no package code ever runs with the hub's origin. ZIM archives
play from views/zim.py. A page costs four queries: the session, the user, the
resource with its channel, its files; SCORM adds the learner's saved state.

Video, audio, PDF, EPUB, HTML5 and H5P players record what the learner does as
xAPI statements (content/static/content/records.js, see
docs/architecture/learning-records.md): their root element carries `data-xapi`,
the JSON of what the recorder needs (the LRS endpoint, the learner's actor, the
resource's activity, the CSRF token, its length or page count), and
`data-resume`, where the player opens. The resume point comes for now from the
query string: `?page=N` for a PDF, `?t=<seconds>` for a video or audio,
`?cfi=epubcfi(...)` for a book.
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from kalan.accounts.xapi import actor_for
from kalan.content import cmi5_launch, permissions
from kalan.content.activities import resource_activity_id
from kalan.content.kinds import FileRole, Kind
from kalan.content.manifest import SHA256
from kalan.content.models import ContentNode, NodeFile, RuntimeState
from kalan.content.store import hub_library
from kalan.content.views import zipcontent
from kalan.content.views.zim import zim_available
from kalan.core.errors import NotFound

# What a SCORM course reports about a learner, as the page says it.
SCORM_STATUS = {
    "passed": _("Passed"),
    "completed": _("Completed"),
    "failed": _("Not passed yet"),
    "incomplete": _("Started, not finished"),
    "browsed": _("Looked through"),
}


# The kinds whose player page records statements, with the xAPI activity type of each ("": none).
RECORDED_KINDS: dict[str, str] = {
    Kind.VIDEO: "https://w3id.org/xapi/video/activity-type/video",
    Kind.AUDIO: "https://w3id.org/xapi/audio/activity-type/audio",
    Kind.DOCUMENT: "http://id.tincanapi.com/activitytype/document",
    Kind.EPUB: "http://id.tincanapi.com/activitytype/book",
    Kind.HTML5: "",
    Kind.H5P: "",
}
# A language tag simple enough to key an xAPI language map; anything else is "und".
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_PAGE = re.compile(r"[1-9][0-9]{0,5}")
_SECONDS = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,3})?")
_CFI = re.compile(r"epubcfi\([^\s<>\"]{1,500}\)")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    ext: str
    mime: str = ""
    language: str = ""
    label: str = ""

    @property
    def url(self) -> str:
        if self.ext:
            return reverse("files:file", kwargs={"sha256": self.sha256, "ext": self.ext})
        return reverse("files:file-bare", kwargs={"sha256": self.sha256})


@dataclass(frozen=True)
class Caption:
    file: StoredFile
    label: str  # the language's own name, e.g. "français"
    default: bool


@dataclass
class PlayerPage:
    node: ContentNode
    main: StoredFile
    captions: list[Caption] = field(default_factory=list)
    thumbnail: StoredFile | None = None
    resource_url: str | None = None

    @property
    def title(self) -> str:
        return self.node.title

    @property
    def licence(self) -> str:
        return self.node.licence or self.node.channel.licence


def resource_page_url(node_id: uuid.UUID) -> str | None:
    """The library's page of the resource, while the library pages exist."""
    try:
        return reverse("library:resource", args=[node_id])
    except NoReverseMatch:
        return None


def practice_url(node_id: uuid.UUID) -> str | None:
    """Where an exercise is practised (the assessments app), while that app is installed."""
    try:
        return reverse("assessments:practice", args=[node_id])
    except NoReverseMatch:
        return None


def _resource_or_404(request: HttpRequest, node_id: uuid.UUID) -> ContentNode:
    """The resource (with its channel) if the caller may see it; topics have no player."""
    try:
        node = permissions.access_node_by_id(request.user, node_id)
    except NotFound as error:
        raise Http404 from error
    if node.kind == Kind.TOPIC:
        raise Http404
    return node


def language_label(code: str, fallback: str = "") -> str:
    """A language's name in that language ("français", "Bamanankan"), else fallback or code."""
    try:
        name = str(get_language_info(code)["name_local"])
    except KeyError:
        name = ""
    return name or fallback or code


def _captions(rows: list[StoredFile]) -> list[Caption]:
    """Caption tracks; the one in the interface language (if any) is the default."""
    language = (get_language() or "").split("-")[0].lower()
    default = next((r for r in rows if r.language.split("-")[0].lower() == language), None)
    return [Caption(r, language_label(r.language, r.label), r is default) for r in rows]


def get_player_page(node: ContentNode) -> PlayerPage:
    """The resource's files sorted by role; Http404 without a main file."""
    rows = NodeFile.objects.filter(node_id=node.id).order_by("role", "position", "id")
    files: dict[str, list[StoredFile]] = {}
    for role, sha256, ext, mime, language, label in rows.values_list(
        "role", "sha256", "ext", "mime", "language", "label"
    ):
        files.setdefault(role, []).append(StoredFile(sha256, ext, mime, language, label))
    if not files.get(FileRole.MAIN):
        raise Http404
    return PlayerPage(
        node=node,
        main=files[FileRole.MAIN][0],
        captions=_captions(files.get(FileRole.CAPTION, [])),
        thumbnail=next(iter(files.get(FileRole.THUMBNAIL, [])), None),
        resource_url=resource_page_url(node.id),
    )


# ---------------------------------------------------------------- kinds


Context = dict[str, Any]


def _zip_entry_url(page: PlayerPage) -> str:
    """The package's launch page; an entry may carry a query string or a fragment."""
    parts = urlsplit(page.node.entry or "index.html")
    url = reverse("players:zip-member", args=[page.main.sha256, unquote(parts.path)])
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return url + query + fragment


def _learner_id(request: HttpRequest) -> uuid.UUID:
    """The signed-in person's id (every player page requires a sign-in)."""
    user_id = request.user.pk
    if not isinstance(user_id, uuid.UUID):
        raise Http404
    return user_id


def _html5(request: HttpRequest, page: PlayerPage) -> Context:
    return {"frame_src": _zip_entry_url(page)}


def _scorm_status(cmi: Any) -> str:
    if not isinstance(cmi, dict):
        return ""
    core = cmi.get("core")
    values = [core.get("lesson_status")] if isinstance(core, dict) else []
    values += [cmi.get("success_status"), cmi.get("completion_status")]  # SCORM 2004
    for value in values:
        if isinstance(value, str) and value in SCORM_STATUS:
            return str(SCORM_STATUS[value])
    return ""


def _scorm(request: HttpRequest, page: PlayerPage) -> Context:
    state = (
        RuntimeState.objects.filter(user_id=_learner_id(request), node_id=page.node.id)
        .values_list("data", flat=True)
        .first()
    )
    status = _scorm_status(state.get("cmi")) if isinstance(state, dict) else ""
    return {
        "frame_src": zipcontent.scorm_launch_url(_learner_id(request), page.node),
        "status": status,
    }


def _cmi5(request: HttpRequest, page: PlayerPage) -> Context:
    aus = [au for au in page.node.options.get("aus", []) if isinstance(au, dict)]
    try:
        index = int(request.GET.get("au", "0"))
    except ValueError:
        index = 0
    if not 0 <= index < len(aus):
        index = 0
    choices = [
        {"number": number, "title": au.get("title") or au.get("id"), "current": number == index}
        for number, au in enumerate(aus)
    ]
    context: Context = {"aus": choices if len(aus) > 1 else [], "launch": None}
    if not aus:
        return context
    au = aus[index]
    context["au_title"] = au.get("title") or ""
    if cmi5_launch.packaged_member(str(au.get("url", ""))) is None:
        context["outside_url"] = str(au.get("url", ""))
        return context
    context["launch"] = cmi5_launch.build_launch(
        hub_url=request.build_absolute_uri("/"),
        user_id=_learner_id(request),
        node_id=page.node.id,
        sha256=page.main.sha256,
        au=au,
    )
    context["own_window"] = au.get("launch_method") == "OwnWindow"
    return context


def _package_url(page: PlayerPage) -> str:
    """The folder h5p-standalone reads an H5P package from (the id it gives the activity)."""
    return reverse("players:zip-member", args=[page.main.sha256, ""]).rstrip("/")


def _h5p(request: HttpRequest, page: PlayerPage) -> Context:
    return {"frame_src": reverse("players:h5p-host", args=[page.main.sha256])}


def _zim(request: HttpRequest, page: PlayerPage) -> Context:
    if not zim_available():
        return {"frame_src": None}
    return {"frame_src": reverse("players:zim-entry", args=[page.main.sha256, page.node.entry])}


def _nothing(request: HttpRequest, page: PlayerPage) -> Context:
    return {}


KINDS: dict[str, Callable[[HttpRequest, PlayerPage], Context]] = {
    Kind.VIDEO: _nothing,
    Kind.AUDIO: _nothing,
    Kind.DOCUMENT: _nothing,
    Kind.EPUB: _nothing,
    Kind.HTML5: _html5,
    Kind.SCORM: _scorm,
    Kind.CMI5: _cmi5,
    Kind.H5P: _h5p,
    Kind.ZIM: _zim,
    Kind.EXERCISE: _nothing,
}


# ---------------------------------------------------------------- learning records


def _recording(request: HttpRequest, page: PlayerPage) -> str:
    """The JSON of a player's `data-xapi`: what records.js needs to record for the learner."""
    node = page.node
    language = node.language if _LANGUAGE_TAG.fullmatch(node.language or "") else "und"
    definition: dict[str, Any] = {"name": {language: node.title}}
    if RECORDED_KINDS[node.kind]:
        definition["type"] = RECORDED_KINDS[node.kind]
    settings: dict[str, Any] = {
        "endpoint": reverse("xapi:statements"),
        "csrf": get_token(request),
        "actor": actor_for(_learner_id(request)),
        "object": {
            "objectType": "Activity",
            "id": resource_activity_id(node.id),
            "definition": definition,
        },
    }
    if node.kind in {Kind.VIDEO, Kind.AUDIO} and node.duration:
        settings["length"] = node.duration
    if node.kind == Kind.DOCUMENT and node.page_count:
        settings["pages"] = node.page_count
    if node.kind == Kind.H5P:
        settings["source"] = _package_url(page)
    return json.dumps(settings, ensure_ascii=False, separators=(",", ":"))


def _resume_point(request: HttpRequest, kind: str) -> str:
    """Where the player opens, in the form of the records' location; "" for the start."""
    if kind == Kind.DOCUMENT and _PAGE.fullmatch(page := request.GET.get("page", "")):
        return f"page={page}"
    if kind in {Kind.VIDEO, Kind.AUDIO} and _SECONDS.fullmatch(time := request.GET.get("t", "")):
        return time
    if kind == Kind.EPUB and _CFI.fullmatch(cfi := request.GET.get("cfi", "")):
        return cfi
    return ""


@login_required
@require_safe
def play(request: HttpRequest, node_id: uuid.UUID) -> HttpResponse:
    """The player of one resource, chosen by its kind."""
    node = _resource_or_404(request, node_id)
    if node.kind == Kind.EXERCISE and (practice := practice_url(node.id)):
        return redirect(practice)
    context_for = KINDS.get(node.kind)
    if context_for is None:
        raise Http404
    page = get_player_page(node)
    context = {"page": page, **context_for(request, page)}
    if node.kind in RECORDED_KINDS:
        context["xapi"] = _recording(request, page)
        context["resume"] = _resume_point(request, node.kind)
    return render(request, f"content/players/{node.kind}.html", context)


# ---------------------------------------------------------------- H5P host page


@xframe_options_sameorigin
@require_safe
def h5p_host(request: HttpRequest, sha256: str) -> HttpResponse:
    """The page h5p-standalone runs in: under the sandbox policy, so in an opaque origin.

    The H5P core and the package's libraries run here, never in the player page:
    they can read no cookie of the hub and call none of its pages with the
    learner's session. h5p-standalone is told to draw in this page (embedType
    "div"): its default inner frame would get an opaque origin of its own, which
    the core cannot write into. Its storage lasts the page (the sandbox has none),
    so H5P's own "resume" data is not kept. Its xAPI statements go to the player
    page with postMessage, which records them as the learner's (h5p-player.js).
    The page is the same for everyone (an .h5p is public content, named by its
    SHA-256); only its few strings follow the request's language.
    """
    if not SHA256.match(sha256) or not hub_library().has(sha256):
        raise Http404
    context = {"package_url": reverse("players:zip-member", args=[sha256, ""]).rstrip("/")}
    response = render(request, "content/players/h5p_host.html", context)
    for name, value in zipcontent.sandbox_headers("index.html", cache="private, no-cache").items():
        response[name] = value
    return response


# ---------------------------------------------------------------- cmi5 fetch URL


@csrf_exempt
def cmi5_fetch(request: HttpRequest, ticket: str) -> HttpResponse:
    """The fetch URL of a cmi5 launch (cmi5 8.2): POST answers JSON, always with 200.

    The AU runs in an opaque origin: it sends no cookie, and its request needs
    CORS; the ticket in the URL is the credential.
    """
    cors = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
    if request.method == "OPTIONS":
        cors["Access-Control-Allow-Methods"] = "POST"
        cors["Access-Control-Allow-Headers"] = "Content-Type"
        return HttpResponse(status=204, headers=cors)
    if request.method != "POST":
        return HttpResponse(status=405, headers={**cors, "Allow": "POST, OPTIONS"})
    return JsonResponse(cmi5_launch.redeem_fetch_ticket(ticket), headers=cors)
