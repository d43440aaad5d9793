"""XML manifests parsed with the standard library, with document type declarations refused.

xml.etree never fetches external entities, but it would expand entities declared
in an internal DTD (the "billion laughs"). No manifest Kalan reads (imsmanifest.xml,
cmi5.xml) needs a DTD, so a document that declares one is refused outright.
"""

import xml.etree.ElementTree as ET
from typing import NoReturn

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import InvalidFile

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


class _DoctypeRefused(Exception):
    pass


class _NoDoctypeBuilder(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> NoReturn:
        raise _DoctypeRefused


def parse_xml(data: bytes, what: str) -> ET.Element:
    """The root element of `data`. Raises InvalidFile naming `what` when it is not well-formed."""
    parser = ET.XMLParser(target=_NoDoctypeBuilder())  # noqa: S314 - see the module docstring
    try:
        parser.feed(data)
        return parser.close()
    except _DoctypeRefused:
        raise InvalidFile(
            _("%(what)s declares a document type (DTD), which Kalan does not accept")
            % {"what": what}
        ) from None
    except ET.ParseError as error:
        raise InvalidFile(
            _("%(what)s is not well-formed XML (%(error)s)") % {"what": what, "error": error}
        ) from None


def local_name(tag: object) -> str:
    """`item` for `{http://www.imsglobal.org/xsd/imscp_v1p1}item` (and for `item`)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """The child elements called `name`, whatever their namespace."""
    return [child for child in element if local_name(child.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    found = children(element, name)
    return found[0] if found else None


def child_text(element: ET.Element, name: str) -> str:
    found = child(element, name)
    return " ".join((found.text or "").split()) if found is not None else ""


def attribute(element: ET.Element, name: str) -> str:
    """The attribute `name` in any namespace (SCORM 1.2 and 2004 use different ones)."""
    for key, value in element.attrib.items():
        if local_name(key) == name:
            return value
    return ""
