"""cmi5 courses: the course structure (cmi5.xml) in a zip, or a bare cmi5.xml.

AUs are read in document order through nested blocks. A relative AU url names
a file of the package, which must be in the zip; a bare cmi5.xml has no package,
so each of its AUs must have a full URL. Full URLs (another host) are recorded
and the course marked offline=False (see offline.py): Kalan plays only packaged
AUs, and the builder refuses such courses with that reason.

Checked as the course structure schema says: the root is <courseStructure>,
there is a <course> with an id, at least one AU, every AU has an id (unique) and
a url, moveOn and launchMethod take their listed values, masteryScore is a
decimal from 0 to 1.
"""

import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import Inspection, InvalidFile, clip_text
from kalan.content.inspect.offline import is_outside
from kalan.content.inspect.xml_reader import child, children, local_name, parse_xml
from kalan.content.inspect.zip_package import MAX_READ, ZipPackage, member_for_url

COURSE_STRUCTURE = "cmi5.xml"
MOVE_ON = {"NotApplicable", "Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed"}
LAUNCH_METHODS = {"AnyWindow", "OwnWindow"}


def inspect_cmi5(path: Path) -> Inspection:
    """Course id, title, description, AUs and blocks of a cmi5 zip or bare cmi5.xml.

    Raises InvalidFile as the module docstring says.
    """
    if path.suffix.lower() == ".xml":
        with path.open("rb") as handle:
            data = handle.read(MAX_READ + 1)
        if len(data) > MAX_READ:
            raise InvalidFile(_("cmi5.xml is larger than 20 MB"))
        inspection = _inspect_structure(data)
        for au in inspection.options["aus"]:
            if not is_outside(au["url"]):
                raise InvalidFile(
                    _(
                        "cmi5 AU %(url)s is a relative url, but a cmi5.xml alone has no files;"
                        " import the course's zip instead"
                    )
                    % {"url": au["url"]}
                )
        return inspection
    with ZipPackage(path) as package:
        if not package.has(COURSE_STRUCTURE):
            raise InvalidFile(_("the zip has no cmi5.xml at its top: it is not a cmi5 course"))
        inspection = _inspect_structure(package.read(COURSE_STRUCTURE))
        for au in inspection.options["aus"]:
            _check_au_file(package, au["url"])
    return inspection


def _inspect_structure(data: bytes) -> Inspection:
    root = parse_xml(data, COURSE_STRUCTURE)
    course = child(root, "course")
    if local_name(root.tag) != "courseStructure" or course is None:
        raise InvalidFile(_("cmi5.xml is not a cmi5 course structure (no <course>)"))
    course_id = course.get("id", "").strip()
    if not course_id:
        raise InvalidFile(_("cmi5.xml: the course has no id"))
    aus: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    _walk(root, None, aus, blocks)
    if not aus:
        raise InvalidFile(_("cmi5.xml has no AU (assignable unit)"))
    _check_unique([au["id"] for au in aus])
    title, language = _langstring(child(course, "title"))
    description = _langstring(child(course, "description"))[0]
    options = {
        "course_id": course_id,
        "aus": aus,
        "blocks": blocks,
        "offline": not any(is_outside(au["url"]) for au in aus),
    }
    text = " ".join([title, description, *(au["title"] for au in aus)])
    return Inspection(
        kind="cmi5",
        title=title,
        description=description,
        language=language,
        entry=aus[0]["url"],
        options=options,
        text=clip_text(text),
    )


def _walk(
    parent: ET.Element, block: str | None, aus: list[dict[str, Any]], blocks: list[dict[str, Any]]
) -> None:
    for element in parent:
        name = local_name(element.tag)
        if name == "au":
            aus.append(_au(element, block))
        elif name == "block":
            identifier = element.get("id", "").strip()
            if not identifier:
                raise InvalidFile(_("cmi5.xml: a block has no id"))
            title = _langstring(child(element, "title"))[0]
            blocks.append({"id": identifier, "title": title, "parent": block})
            _walk(element, identifier, aus, blocks)


def _au(element: ET.Element, block: str | None) -> dict[str, Any]:
    identifier = element.get("id", "").strip()
    url_element = child(element, "url")
    url = (url_element.text or "").strip() if url_element is not None else ""
    if not identifier or not url:
        raise InvalidFile(_("cmi5.xml: every AU needs an id and a url"))
    move_on = element.get("moveOn", "NotApplicable").strip()
    launch_method = element.get("launchMethod", "AnyWindow").strip()
    if move_on not in MOVE_ON:
        raise InvalidFile(
            _("cmi5.xml: AU %(id)s has an unknown moveOn value %(value)s")
            % {"id": identifier, "value": move_on}
        )
    if launch_method not in LAUNCH_METHODS:
        raise InvalidFile(
            _("cmi5.xml: AU %(id)s has an unknown launchMethod value %(value)s")
            % {"id": identifier, "value": launch_method}
        )
    return {
        "id": identifier,
        "title": _langstring(child(element, "title"))[0],
        "url": url,
        "launch_method": launch_method,
        "move_on": move_on,
        "mastery_score": _mastery_score(element, identifier),
        "activity_type": element.get("activityType", "").strip(),
        "launch_parameters": _text(child(element, "launchParameters")),
        "block": block,
    }


def _mastery_score(element: ET.Element, identifier: str) -> float | None:
    raw = element.get("masteryScore")
    if raw is None:
        return None
    try:
        score = Decimal(raw.strip())
    except InvalidOperation:
        score = Decimal(-1)
    if not score.is_finite() or not 0 <= score <= 1:
        raise InvalidFile(
            _("cmi5.xml: AU %(id)s has a masteryScore that is not a decimal from 0 to 1")
            % {"id": identifier}
        )
    return float(score)


def _langstring(element: ET.Element | None) -> tuple[str, str]:
    """The first <langstring>'s text and language (a title may be given in several)."""
    if element is None:
        return "", ""
    strings = children(element, "langstring")
    if not strings:
        return "", ""
    return " ".join((strings[0].text or "").split()), strings[0].get("lang", "").strip()


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _check_unique(identifiers: list[str]) -> None:
    seen: set[str] = set()
    for identifier in identifiers:
        if identifier in seen:
            raise InvalidFile(_("cmi5.xml: two AUs have the id %(id)s") % {"id": identifier})
        seen.add(identifier)


def _check_au_file(package: ZipPackage, url: str) -> None:
    if is_outside(url):
        return
    member = member_for_url(url)
    if member is None:
        raise InvalidFile(_("cmi5 AU %(url)s points outside the package") % {"url": url})
    if not package.has(member):
        raise InvalidFile(
            _("cmi5 AU %(url)s names %(file)s, which is not in the zip")
            % {"url": url, "file": member}
        )
