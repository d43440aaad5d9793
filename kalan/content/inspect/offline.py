"""Packages whose launch URLs leave the package (SCORM hrefs, cmi5 AU urls).

Inspection records such URLs and sets options["offline"] to False rather than
refusing, so that a catalogue can still describe the course; Kalan plays only
what is inside the package, so the builder refuses them with check_offline().
"""

from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import Inspection, InvalidFile


def is_outside(url: str) -> bool:
    """True for a URL with a scheme or a host (http://..., //host/..., data:...)."""
    parts = urlsplit(url.strip())
    return bool(parts.scheme or parts.netloc)


def check_offline(inspection: Inspection) -> None:
    """Raise InvalidFile when a launch URL of the package points to another host."""
    if inspection.options.get("offline", True):
        return
    if inspection.kind == "cmi5":
        outside = next(au for au in inspection.options["aus"] if is_outside(au["url"]))
        raise InvalidFile(
            _("cmi5 AU %(url)s points to an outside host; Kalan plays only packaged AUs")
            % {"url": outside["url"]}
        )
    outside = next(sco for sco in inspection.options["scos"] if is_outside(sco["href"]))
    raise InvalidFile(
        _("SCORM item %(url)s points to an outside host; Kalan plays only packaged content")
        % {"url": outside["href"]}
    )
