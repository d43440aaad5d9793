"""Files inside zip resources (HTML5 apps, H5P, SCORM, cmi5), served to a sandbox.

Every response carries `Content-Security-Policy: sandbox allow-scripts ...`
without `allow-same-origin`: even opened directly, a package's page runs in an
opaque origin, so it can read no cookie of the hub and its requests to the hub
carry no session (SameSite=Lax cookies are not sent from an opaque origin).
Packages are public educational content: their files answer to any origin.

SCORM packages need the run-time API in their own window (their frame cannot
reach the player page). Their pages are served under a signed per-learner token
and get two script tags injected: scorm-again and kalan's bridge, which loads
and saves the learner's run-time data through `runtime_state` with that token.
"""

import json
import mimetypes
import posixpath
import re
import uuid
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.core import signing
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt

from kalan.content import runtime_hooks
from kalan.content.kinds import FileRole
from kalan.content.manifest import SHA256
from kalan.content.models import ContentNode, NodeFile, RuntimeState
from kalan.content.store import hub_library

SANDBOX_CSP = (
    "sandbox allow-scripts allow-forms allow-popups allow-modals; "
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; "
    "connect-src 'self'; frame-ancestors 'self'"
)
TOKEN_SALT = "kalan.content.scorm"  # noqa: S105 (a namespace, not a secret)
TOKEN_MAX_AGE = 60 * 60 * 12
MAX_STATE_BYTES = 256 * 1024
CHUNK = 64 * 1024
_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)


def _member_name(raw: str) -> str:
    name = posixpath.normpath("/" + raw).lstrip("/")
    if not name or name == ".":
        return "index.html"
    return name


def _open_member(sha256: str, raw_path: str) -> tuple[IO[bytes], zipfile.ZipInfo]:
    if not SHA256.match(sha256):
        raise Http404
    try:
        archive = zipfile.ZipFile(hub_library().path(sha256))
    except (FileNotFoundError, zipfile.BadZipFile) as error:
        raise Http404 from error
    name = _member_name(raw_path)
    try:
        info = archive.getinfo(name)
    except KeyError:
        try:
            info = archive.getinfo(name.rstrip("/") + "/index.html")
        except KeyError as error:
            archive.close()
            raise Http404 from error
    member = archive.open(info)
    archive.close()  # the member keeps the file open until it is read and closed
    return member, info


def _stream(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while data := handle.read(CHUNK):
            yield data


def sandbox_headers(name: str, *, cache: str) -> dict[str, str]:
    """Headers of a file served to a sandboxed frame: its type, the sandbox policy, CORS."""
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in {"application/javascript"}:
        content_type += "; charset=utf-8"
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": SANDBOX_CSP,
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@xframe_options_sameorigin
def zip_member(request: HttpRequest, sha256: str, path: str = "") -> HttpResponseBase:
    """A file inside a stored zip; the zip is content-addressed, so cached for a year."""
    handle, info = _open_member(sha256, path)
    headers = sandbox_headers(info.filename, cache="public, max-age=31536000, immutable")
    headers["Content-Length"] = str(info.file_size)
    return StreamingHttpResponse(_stream(handle), headers=headers)


# ---------------------------------------------------------------- SCORM


def scorm_token(user_id: uuid.UUID, node_id: uuid.UUID) -> str:
    """A capability for one learner's run-time data of one SCORM resource."""
    return signing.dumps({"u": str(user_id), "n": str(node_id)}, salt=TOKEN_SALT)


def _read_token(token: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        return uuid.UUID(data["u"]), uuid.UUID(data["n"])
    except (signing.BadSignature, KeyError, ValueError, TypeError) as error:
        raise Http404 from error


def scorm_launch_url(user_id: uuid.UUID, node: ContentNode) -> str:
    token = scorm_token(user_id, node.id)
    path, _, query = (node.entry or "index.html").partition("?")
    url = reverse("players:scorm-member", args=[token, path])
    return f"{url}?{query}" if query else url


def _scorm_tags(token: str, version: str) -> bytes:
    runtime = f"vendor/scorm-again/scorm{version.replace('.', '')}.min.js"
    state_url = reverse("players:scorm-state", args=[token])
    return (
        f'<script src="{escape(static(runtime))}"></script>'
        f'<script src="{escape(static("content/scorm-bridge.js"))}"'
        f' data-state-url="{escape(state_url)}" data-version="{escape(version)}"></script>'
    ).encode()


@xframe_options_sameorigin
def scorm_member(request: HttpRequest, token: str, path: str = "") -> HttpResponseBase:
    """A file of a SCORM package; its HTML pages get the run-time API injected."""
    _user_id, node_id = _read_token(token)
    main = (
        NodeFile.objects.filter(node_id=node_id, role=FileRole.MAIN)
        .values_list("sha256", "node__options")
        .first()
    )
    if main is None:
        raise Http404
    sha256, options = main
    handle, info = _open_member(sha256, path)
    headers = sandbox_headers(info.filename, cache="private, no-cache")
    if not info.filename.lower().endswith((".html", ".htm")):
        headers["Content-Length"] = str(info.file_size)
        return StreamingHttpResponse(_stream(handle), headers=headers)
    with handle:
        page = handle.read()
    tags = _scorm_tags(token, _scorm_version(options))
    match = _HEAD.search(page)
    page = page[: match.end()] + tags + page[match.end() :] if match else tags + page
    return HttpResponse(page, headers=headers)


@csrf_exempt
def runtime_state(request: HttpRequest, token: str) -> HttpResponse:
    """The protocol of kalan/content/static/content/scorm-bridge.js (see its header).

    GET: {"cmi": {...}, "terminated": bool, "launch": {...}}; POST {"cmi": {...},
    "terminated"?: true} saves. The token in the URL is the credential: the SCO
    runs in an opaque origin and sends no cookie; bodies come as text/plain.
    """
    user_id, node_id = _read_token(token)
    cors = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
    if request.method == "OPTIONS":
        cors["Access-Control-Allow-Methods"] = "GET, POST"
        cors["Access-Control-Allow-Headers"] = "Content-Type"
        return HttpResponse(status=204, headers=cors)
    if request.method == "GET":
        state = RuntimeState.objects.filter(user_id=user_id, node_id=node_id).first()
        saved = state.data if state else {}
        body = {"cmi": saved.get("cmi", {}), "launch": _launch_values(user_id, node_id)}
        if saved.get("terminated"):
            body["terminated"] = True
        return JsonResponse(body, headers=cors)
    if request.method != "POST":
        return HttpResponse(status=405, headers={**cors, "Allow": "GET, POST, OPTIONS"})
    if len(request.body) > MAX_STATE_BYTES:
        return HttpResponseBadRequest("run-time data too large", headers=cors)
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict) or not isinstance(body.get("cmi"), dict):
            raise TypeError
    except (ValueError, TypeError):
        return HttpResponseBadRequest('expected JSON {"cmi": {...}}', headers=cors)
    saved = {"cmi": body["cmi"], "terminated": body.get("terminated") is True}
    _save_state(user_id, node_id, saved)
    return JsonResponse({"result": True, "errorCode": 0}, headers=cors)


def _scorm_version(options: object) -> str:
    version = str(options.get("scorm_version", "")) if isinstance(options, dict) else ""
    return "2004" if version.startswith("2004") else "1.2"


def _launch_values(user_id: uuid.UUID, node_id: uuid.UUID) -> dict[str, object]:
    """What the LMS sets on every launch: the learner's id and name, as the version names them."""
    from kalan.accounts.models import User

    user = User.objects.filter(id=user_id).values("full_name", "username").first()
    node = ContentNode.objects.filter(id=node_id).values("options").first()
    if user is None or node is None:
        raise Http404
    name = user["full_name"] or user["username"]
    if _scorm_version(node["options"]) == "2004":
        return {"learner_id": str(user_id), "learner_name": name}
    return {"core": {"student_id": str(user_id), "student_name": name}}


def _save_state(user_id: uuid.UUID, node_id: uuid.UUID, cmi: dict[str, object]) -> None:
    from kalan.accounts.models import User

    node = ContentNode.objects.filter(id=node_id).values("channel_id", "options").first()
    user = User.objects.filter(id=user_id).values("school_id").first()
    if node is None or user is None:
        raise Http404
    with transaction.atomic():
        state, created = RuntimeState.objects.select_for_update().get_or_create(
            user_id=user_id,
            node_id=node_id,
            defaults={
                "channel_id": node["channel_id"],
                "school_id": user["school_id"],
                "data": cmi,
            },
        )
        before = {} if created else state.data
        if not created:
            state.data = cmi
            state.save(update_fields=["data"])
        runtime_hooks.committed(
            runtime_hooks.ScormCommit(
                user_id=user_id,
                node_id=node_id,
                version=_scorm_version(node["options"]),
                before=_cmi_of(before),
                after=_cmi_of(cmi),
                terminated=cmi.get("terminated") is True,
                was_terminated=isinstance(before, dict) and before.get("terminated") is True,
            )
        )


def _cmi_of(saved: object) -> dict[str, Any]:
    cmi = saved.get("cmi") if isinstance(saved, dict) else None
    return cmi if isinstance(cmi, dict) else {}
