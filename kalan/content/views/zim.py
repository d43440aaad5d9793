"""Entries of a stored Kiwix archive (.zim), served to the player's sandboxed frame.

/play/zim/<sha256>/<path> answers one entry of the archive stored under that
SHA-256, with the zip server's sandbox headers (an opaque origin, a strict
Content-Security-Policy): a ZIM's pages are third-party HTML like a zip's.
Redirect entries become HTTP redirects, so relative links keep working; the
bare archive URL goes to the main page.

libzim (GPL-3.0) is the optional kalan[zim] extra: it is imported only here,
when a ZIM is played. Without it every entry answers 503 with one line saying
so, and the player page says so too (zim_available()).
"""

import importlib.util
from functools import lru_cache
from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from kalan.content.manifest import SHA256
from kalan.content.store import hub_library
from kalan.content.views.zipcontent import sandbox_headers

if TYPE_CHECKING:
    from libzim.reader import Archive  # type: ignore[import-untyped]

YEAR = "public, max-age=31536000, immutable"
MAX_REDIRECTS = 10
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def zim_available() -> bool:
    """True when libzim (the kalan[zim] extra) can be imported."""
    return importlib.util.find_spec("libzim") is not None


@lru_cache(maxsize=8)
def _archive(path: str) -> "Archive":
    from libzim.reader import Archive

    return Archive(path)


def _open(sha256: str) -> "Archive":
    if not SHA256.match(sha256):
        raise Http404
    path = hub_library().path(sha256)
    if not path.is_file():  # a removed channel's archive may still be in the cache
        raise Http404
    try:
        return _archive(str(path))
    except RuntimeError as error:
        raise Http404 from error


def _redirect(sha256: str, path: str) -> HttpResponse:
    response = HttpResponseRedirect(reverse("players:zim-entry", args=[sha256, path]))
    for name, value in sandbox_headers(path, cache="private, no-cache").items():
        if name != "Content-Type":
            response[name] = value
    return response


@xframe_options_sameorigin
@require_safe
def zim_entry(request: HttpRequest, sha256: str, path: str = "") -> HttpResponseBase:
    """One entry of a stored ZIM; 404 when the archive or the entry is not there."""
    if not zim_available():
        message = _("This server cannot open Kiwix archives: the kalan[zim] extra is missing.")
        return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    archive = _open(sha256)
    try:
        if not path:
            if not archive.has_main_entry:
                raise Http404
            return _redirect(sha256, archive.main_entry.get_item().path)
        entry = archive.get_entry_by_path(path)
        for _hop in range(MAX_REDIRECTS):
            if not entry.is_redirect:
                break
            entry = entry.get_redirect_entry()
        if entry.path != path:
            return _redirect(sha256, entry.path)
        item = entry.get_item()
    except (KeyError, RuntimeError) as error:
        raise Http404 from error
    headers = sandbox_headers(path, cache=YEAR)
    mimetype = item.mimetype or "application/octet-stream"
    if mimetype.startswith(TEXT_TYPES) and "charset" not in mimetype:
        mimetype += "; charset=utf-8"
    headers["Content-Type"] = mimetype
    return HttpResponse(bytes(item.content), headers=headers)
