"""H5P packages (.h5p): h5p.json metadata, content/content.json and the main library.

h5p-standalone plays a package from its own files, so the main library's folder
(`Machine.Name-major.minor/`) must be in the package, as it is in every export
from an H5P editor "with libraries".
"""

import json
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import Inspection, InvalidFile, clip_text
from kalan.content.inspect.zip_package import ZipPackage

METADATA = "h5p.json"
CONTENT = "content/content.json"


def inspect_h5p(path: Path) -> Inspection:
    """Title, language, licence, authors and main library of an .h5p file.

    Raises InvalidFile when h5p.json or content/content.json is missing or not
    JSON, h5p.json lacks a title or mainLibrary, or the main library is not in
    the package.
    """
    with ZipPackage(path) as package:
        if not package.has(METADATA):
            raise InvalidFile(_("the file has no h5p.json at its top: it is not an H5P package"))
        metadata = _json_object(package.read(METADATA), METADATA)
        if not package.has(CONTENT):
            raise InvalidFile(_("the H5P package has no content/content.json"))
        _json_object(package.read(CONTENT), CONTENT)
        title = _text(metadata.get("title"))
        main = _text(metadata.get("mainLibrary"))
        if not title or not main:
            raise InvalidFile(_("h5p.json needs a title and a mainLibrary"))
        folder = _library_folder(metadata, main)
        if folder and not any(name.startswith(f"{folder}/") for name in package.names):
            raise InvalidFile(
                _(
                    "the H5P package does not hold its main library %(library)s; export it"
                    " with its libraries"
                )
                % {"library": folder}
            )
    authors = _authors(metadata.get("authors"))
    language = _text(metadata.get("language"))
    return Inspection(
        kind="h5p",
        title=title,
        language="" if language == "und" else language,
        author=", ".join(author["name"] for author in authors),
        entry="",
        options={
            "main_library": main,
            "library_folder": folder,
            "license": _text(metadata.get("license")),
            "authors": authors,
        },
        text=clip_text(title),
    )


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidFile(_("%(name)s is not valid JSON") % {"name": name}) from None
    if not isinstance(value, dict):
        raise InvalidFile(_("%(name)s is not a JSON object") % {"name": name})
    return value


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _library_folder(metadata: dict[str, Any], main: str) -> str:
    """`H5P.Foo-1.2` for the main library, from preloadedDependencies ("" when not listed)."""
    for dependency in metadata.get("preloadedDependencies") or []:
        if isinstance(dependency, dict) and dependency.get("machineName") == main:
            major, minor = dependency.get("majorVersion"), dependency.get("minorVersion")
            if isinstance(major, int | str) and isinstance(minor, int | str):
                return f"{main}-{major}.{minor}"
    return ""


def _authors(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        return []
    return [
        {"name": _text(author.get("name")), "role": _text(author.get("role"))}
        for author in value
        if isinstance(author, dict) and _text(author.get("name"))
    ]
