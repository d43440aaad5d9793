"""HTML5 apps: a zip with index.html at its top, or in the one folder everything is in."""

from pathlib import Path

from django.utils.translation import gettext as _

from kalan.content.inspect.html_text import html_title_and_text
from kalan.content.inspect.inspection import Inspection, InvalidFile
from kalan.content.inspect.zip_package import ZipPackage, top_folder

INDEX = "index.html"


def html5_entry(names: frozenset[str]) -> str:
    """`index.html` or `folder/index.html` among a zip's names; "" when there is neither."""
    if INDEX in names:
        return INDEX
    folder = top_folder(names)
    if folder and f"{folder}/{INDEX}" in names:
        return f"{folder}/{INDEX}"
    return ""


def inspect_html5(path: Path) -> Inspection:
    """Entry, title and text of the index page. Raises InvalidFile when there is no index.html."""
    with ZipPackage(path) as package:
        entry = html5_entry(package.names)
        if not entry:
            raise InvalidFile(
                _("the zip has no index.html at its top (or in the one folder it holds)")
            )
        title, text = html_title_and_text(package.read(entry))
    return Inspection(kind="html5", title=title, text=text, entry=entry)
