"""QTI XML read safely, QTI 3.0 names made QTI 2.x names, and item bodies made item text.

Both versions are handled by one converter: `<qti-choice-interaction
response-identifier="R">` (3.0) becomes `<choiceInteraction
responseIdentifier="R">` (2.x), namespaces are dropped and `xml:lang` becomes
`lang`. A document type declaration is refused before anything is expanded
(the protection defusedxml gives; expat never fetches external entities).

Item bodies become Kalan item text: the allowed HTML and MathML elements are
kept (with only the attributes the allow-list accepts), a few harmless
wrappers are unwrapped (`div`, `blockquote`, links), `b`/`i` become
`strong`/`em`, headings become paragraphs, pictures and sounds become item
media, and anything else is refused by name.
"""

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import NoReturn

from django.utils.translation import gettext as _

from kalan.content.exercises.errors import ExerciseError, in_item
from kalan.content.exercises.item_parsers import is_inside_path, media_kind
from kalan.content.exercises.markup import (
    HTML_ELEMENTS,
    MATH_ELEMENTS,
    MATH_VARIANTS,
    MarkupError,
    clean_text,
    is_language_tag,
)
from kalan.content.exercises.model import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, Media, MediaKind

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RENAMED = {"b": "strong", "i": "em", **{f"h{level}": "p" for level in range(1, 7)}, "pre": "p"}
UNWRAPPED = frozenset(
    {
        "div", "blockquote", "section", "article", "aside", "header", "footer", "a", "u",
        "small", "big", "code", "tt", "abbr", "acronym", "cite", "q", "dfn", "kbd", "samp",
        "var", "label", "bdo", "bdi", "address", "contentBody", "figure", "figcaption",
    }
)  # fmt: skip
FEEDBACK = frozenset({"feedbackInline", "feedbackBlock", "modalFeedback"})
SKIPPED = frozenset({"endAttemptInteraction", "hr", "stylesheet", "catalogInfo"})
TEMPLATES = frozenset({"printedVariable", "templateInline", "templateBlock"})
EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>")


class _DoctypeRefused(Exception):
    pass


class _NoDoctypeBuilder(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> NoReturn:
        raise _DoctypeRefused


def parse_xml(data: bytes, what: str) -> ET.Element:
    """The root element of `data`, names normalised (see the module docstring).

    Raises ExerciseError naming `what` when the XML is not well-formed or declares a DTD.
    """
    return parse_versioned(data, what)[0]


def parse_versioned(data: bytes, what: str) -> tuple[ET.Element, int]:
    """As `parse_xml`, with the QTI major version the root's name implies (3 or 2)."""
    parser = ET.XMLParser(target=_NoDoctypeBuilder())  # noqa: S314 - DTDs refused, see above
    try:
        parser.feed(data)
        root = parser.close()
    except _DoctypeRefused:
        raise ExerciseError(
            _("%(what)s declares a document type (DTD), which Kalan does not accept")
            % {"what": what}
        ) from None
    except ET.ParseError as error:
        raise ExerciseError(
            _("%(what)s is not well-formed XML (%(error)s)") % {"what": what, "error": error}
        ) from None
    version = 3 if _local(root.tag).startswith("qti-") else 2
    return _normalised(root), version


def _normalised(element: ET.Element) -> ET.Element:
    name = _local(element.tag)
    qti3 = name.startswith("qti-")
    if qti3:
        name = _camel(name[4:])
    attributes = {}
    for key, value in element.attrib.items():
        local = "lang" if key == XML_LANG else _local(key)
        attributes[_camel(local) if qti3 else local] = value
    copy = ET.Element(name, attributes)
    copy.text, copy.tail = element.text, element.tail
    copy.extend(_normalised(child) for child in element)
    return copy


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _camel(name: str) -> str:
    first, *rest = name.split("-")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def qti_name(tag: str, version: int) -> str:
    """The element's name as the file wrote it (`qti-hotspot-interaction` in QTI 3.0)."""
    if version < 3:
        return tag
    return "qti-" + re.sub(r"([A-Z])", r"-\1", tag).lower()


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if child.tag == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    found = children(element, name)
    return found[0] if found else None


def words(element: ET.Element) -> str:
    """The element's text content, whitespace folded."""
    return " ".join("".join(element.itertext()).split())


# ---------------------------------------------------------------- item bodies


@dataclass
class Fragment:
    """Item text written from part of a QTI item, and what was taken out of it."""

    text: str
    media: list[Media] = field(default_factory=list)
    feedback: list[ET.Element] = field(default_factory=list)
    rubrics: list[ET.Element] = field(default_factory=list)


@dataclass
class BodyWriter:
    """Writes QTI content as item text for the item `item_id` (for messages).

    `base` is the item file's folder inside its package (media paths are made
    relative to the package); `inline` writes an inline interaction (it returns
    the text to put in its place); elements in `skip` are left out.
    """

    item_id: str
    version: int
    base: str = ""
    inline: Callable[[ET.Element], str] | None = None
    skip: frozenset[int] = frozenset()
    fragment: Fragment = field(default_factory=lambda: Fragment(""))

    def write(self, element: ET.Element, what: str) -> Fragment:
        """The content of `element` (not the element itself) as checked item text.

        `what` names the part in messages ("prompt", "choice B").
        """
        self.fragment = Fragment("")
        out: list[str] = []
        self._content(element, out)
        html = EMPTY_PARAGRAPH.sub("", " ".join("".join(out).split()))
        try:
            self.fragment.text = clean_text(html)
        except MarkupError as error:
            raise self.fail(_("%(part)s: %(problem)s") % {"part": what, "problem": error}) from None
        return self.fragment

    def fail(self, problem: str) -> ExerciseError:
        return ExerciseError(in_item(self.item_id, problem))

    def _content(self, element: ET.Element, out: list[str]) -> None:
        out.append(escape(element.text or "", quote=False))
        for node in element:
            if id(node) not in self.skip:
                self._element(node, out)
            out.append(escape(node.tail or "", quote=False))

    def _element(self, node: ET.Element, out: list[str]) -> None:
        tag = node.tag
        if tag in HTML_ELEMENTS or tag in MATH_ELEMENTS or tag in RENAMED:
            self._kept(node, RENAMED.get(tag, tag), out)
        elif tag in UNWRAPPED:
            self._content(node, out)
        elif tag in FEEDBACK:
            self.fragment.feedback.append(node)
        elif tag == "rubricBlock":
            self.fragment.rubrics.append(node)
        elif (
            tag.endswith("Interaction")
            and self.inline is not None
            and tag != "endAttemptInteraction"
        ):
            out.append(self.inline(node))
        elif tag in {"img", "object", "audio"}:
            self.fragment.media.append(self._media(node))
        elif tag not in SKIPPED:
            self._refuse(tag)

    def _refuse(self, tag: str) -> NoReturn:
        if tag in TEMPLATES or tag.startswith("template"):
            raise self.fail(
                _("<%(tag)s> shows template variables (cloned items), which Kalan does not take")
                % {"tag": qti_name(tag, self.version)}
            )
        raise self.fail(
            _("<%(tag)s> is not something Kalan item text can hold")
            % {"tag": qti_name(tag, self.version)}
        )

    def _kept(self, node: ET.Element, tag: str, out: list[str]) -> None:
        attributes = "".join(
            f' {name}="{escape(value, quote=True)}"'
            for name, value in node.attrib.items()
            if _keeps(tag, name, value)
        )
        if tag == "br":
            out.append("<br>")
            return
        out.append(f"<{tag}{attributes}>")
        self._content(node, out)
        out.append(f"</{tag}>")

    def _media(self, node: ET.Element) -> Media:
        src = node.get("src") or node.get("data") or ""
        source = child(node, "source")
        if not src and source is not None:
            src = source.get("src", "")
        path = self.package_path(src)
        kind = media_kind(path)
        if kind is None:
            raise self.fail(
                _("%(src)s is neither a picture (%(images)s) nor a sound (%(sounds)s)")
                % {
                    "src": src,
                    "images": ", ".join(sorted(IMAGE_EXTENSIONS)),
                    "sounds": ", ".join(sorted(AUDIO_EXTENSIONS)),
                }
            )
        alt = node.get("alt", "") if node.tag == "img" else words(node)
        if kind is MediaKind.IMAGE and not alt.strip():
            raise self.fail(_("the picture %(src)s has no text alternative (alt)") % {"src": src})
        return Media(kind=kind, src=path, alt=" ".join(alt.split()))

    def package_path(self, src: str) -> str:
        """`src` (relative to the item file) as a path inside the package."""
        if not src or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", src) or src.startswith("/"):
            raise self.fail(_("%(src)s is not a file inside the package") % {"src": src or '""'})
        path = posixpath.normpath(posixpath.join(self.base, src))
        if not is_inside_path(path):
            raise self.fail(_("%(src)s is not a file inside the package") % {"src": src})
        return path


def _keeps(tag: str, name: str, value: str) -> bool:
    if name == "lang":
        return is_language_tag(value)
    if name == "dir":
        return value in {"ltr", "rtl", "auto"}
    if name == "display":
        return tag == "math" and value in {"block", "inline"}
    if name == "mathvariant":
        return tag in MATH_ELEMENTS and tag != "math" and value in MATH_VARIANTS
    return False
