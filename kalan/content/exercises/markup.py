"""Item text: a small, safe subset of HTML and MathML, checked against an allow-list.

Prompts, choices, hints and feedback may hold paragraphs, emphasis, line breaks,
lists, sub- and superscripts, spans that change the language, and MathML
presentation markup. Anything else (scripts, links, images, styles, event
handlers, comments) is refused with the reason, never silently dropped: an
author learns at build time what the learner would not have seen. Accepted
text comes back in one canonical form, so it can be put in a page as it is.
"""

import re
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser

from django.utils.translation import gettext as _

HTML_ELEMENTS = frozenset({"p", "em", "strong", "br", "ul", "ol", "li", "sub", "sup", "span"})
MATH_ELEMENTS = frozenset(
    {
        "math", "mi", "mn", "mo", "mrow", "mfrac", "msup", "msub", "msqrt", "mroot",
        "mtext", "mspace", "mtable", "mtr", "mtd", "semantics", "annotation",
    }
)  # fmt: skip
ALLOWED_ELEMENTS = HTML_ELEMENTS | MATH_ELEMENTS
INLINE_ELEMENTS = frozenset({"em", "strong", "span", "sub", "sup"})
BLOCK_ELEMENTS = frozenset({"p", "ul", "ol"})
REQUIRED_PARENTS = {
    "li": frozenset({"ul", "ol"}),
    "mtr": frozenset({"mtable"}),
    "mtd": frozenset({"mtr"}),
    "annotation": frozenset({"semantics"}),
}
NO_TEXT_INSIDE = frozenset({"ul", "ol", "mtable", "mtr", "mspace"})
MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"
MATH_VARIANTS = frozenset(
    {
        "normal", "bold", "italic", "bold-italic", "double-struck", "bold-fraktur", "script",
        "bold-script", "fraktur", "sans-serif", "bold-sans-serif", "sans-serif-italic",
        "sans-serif-bold-italic", "monospace", "initial", "tailed", "looped", "stretched",
    }
)  # fmt: skip
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")


class MarkupError(ValueError):
    """Item text was refused; the message says why, without naming the item or field."""


def clean_text(text: str) -> str:
    """`text` checked against the allow-list and written in canonical form.

    Raises MarkupError naming the first element, attribute or construct that is
    not allowed, or the first element that is not closed or not where it may be.
    """
    parser = _Sanitiser()
    parser.feed(text)
    parser.close()
    return "".join(parser.out)


def plain_text(text: str) -> str:
    """The words of accepted item text without markup (MathML annotations left out)."""
    reader = _TextReader()
    reader.feed(text)
    reader.close()
    return " ".join("".join(reader.words).split())


def placeholders(text: str) -> tuple[list[str], list[str]]:
    """The `{{name}}` placeholders of accepted item text: (outside MathML, inside MathML)."""
    reader = _TextReader()
    reader.feed(text)
    reader.close()
    return (
        PLACEHOLDER.findall("".join(reader.words)),
        PLACEHOLDER.findall("".join(reader.math_words)),
    )


def is_language_tag(value: str) -> bool:
    """True for a BCP 47-shaped tag such as `fr`, `bm`, `tg-Cyrl` or `en-GB`."""
    return LANGUAGE_TAG.match(value) is not None


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_place(tag)
        attributes = "".join(_attribute(tag, name, value) for name, value in attrs)
        if tag == "br":
            self.out.append("<br>")
            return
        self.out.append(f"<{tag}{attributes}>")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag != "br":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise MarkupError(_("</%(tag)s> has no matching <%(tag)s>") % {"tag": tag})
        self.stack.pop()
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] in NO_TEXT_INSIDE and data.strip():
            raise MarkupError(
                _("text is not allowed directly inside <%(tag)s>") % {"tag": self.stack[-1]}
            )
        self.out.append(escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        raise MarkupError(_("comments are not allowed in item text"))

    def handle_decl(self, decl: str) -> None:
        raise MarkupError(_("declarations are not allowed in item text"))

    def unknown_decl(self, data: str) -> None:
        raise MarkupError(_("declarations are not allowed in item text"))

    def handle_pi(self, data: str) -> None:
        raise MarkupError(_("processing instructions are not allowed in item text"))

    def close(self) -> None:
        super().close()
        if self.stack:
            raise MarkupError(_("<%(tag)s> is not closed") % {"tag": self.stack[-1]})

    def _check_place(self, tag: str) -> None:
        if tag not in ALLOWED_ELEMENTS:
            raise MarkupError(_("<%(tag)s> is not allowed in item text") % {"tag": tag})
        parent = self.stack[-1] if self.stack else ""
        in_math = "math" in self.stack
        required = REQUIRED_PARENTS.get(tag)
        if required is not None and parent not in required:
            raise MarkupError(
                _("<%(tag)s> must be inside <%(parent)s>")
                % {"tag": tag, "parent": sorted(required)[-1]}
            )
        if tag in MATH_ELEMENTS and tag != "math" and not in_math:
            raise MarkupError(_("<%(tag)s> must be inside <math>") % {"tag": tag})
        if (tag in HTML_ELEMENTS or tag == "math") and in_math:
            raise MarkupError(_("<%(tag)s> is not allowed inside <math>") % {"tag": tag})
        if parent in NO_TEXT_INSIDE and tag not in {"li", "mtr", "mtd"}:
            raise MarkupError(
                _("<%(tag)s> is not allowed inside <%(parent)s>") % {"tag": tag, "parent": parent}
            )
        if tag in BLOCK_ELEMENTS and (parent in INLINE_ELEMENTS or parent == "p"):
            raise MarkupError(
                _("<%(tag)s> is not allowed inside <%(parent)s>") % {"tag": tag, "parent": parent}
            )


def _attribute(tag: str, name: str, value: str | None) -> str:
    """` name="value"` when the attribute is allowed on `tag`, "" for a MathML xmlns."""
    value = value or ""
    if name == "xmlns" and tag == "math" and value == MATHML_NAMESPACE:
        return ""
    allowed = _allowed_values(tag, name)
    if allowed is None:
        raise MarkupError(
            _("the attribute %(attribute)s is not allowed on <%(tag)s>")
            % {"attribute": name, "tag": tag}
        )
    if not allowed(value):
        raise MarkupError(
            _('%(attribute)s="%(value)s" is not allowed on <%(tag)s>')
            % {"attribute": name, "value": value, "tag": tag}
        )
    return f' {name}="{escape(value, quote=True)}"'


def _allowed_values(tag: str, name: str) -> Callable[[str], bool] | None:
    if name == "lang":
        return is_language_tag
    if name == "dir":
        return lambda value: value in {"ltr", "rtl", "auto"}
    if name == "display" and tag == "math":
        return lambda value: value in {"block", "inline"}
    if name == "mathvariant" and tag in MATH_ELEMENTS and tag != "math":
        return lambda value: value in MATH_VARIANTS
    return None


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.math_words: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"p", "li", "br"}:
            self.words.append(" ")
        if tag != "br":
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.words.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        if tag in {"p", "li"}:
            self.words.append(" ")

    def handle_data(self, data: str) -> None:
        if "annotation" in self.stack:
            return
        if "math" in self.stack:
            self.math_words.append(data)
            self.words.append(PLACEHOLDER.sub(" ", data))
            return
        self.words.append(data)
