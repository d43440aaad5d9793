"""Plain text (and the title) of an HTML or XHTML page, for search."""

from html.parser import HTMLParser

from kalan.content.inspect.inspection import MAX_TEXT

SKIPPED = {"script", "style", "noscript", "template", "svg", "math"}
BLOCKS = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextParser(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.limit = limit
        self.size = 0
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.skipping: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.skipping:
            self.in_title = True
        elif tag == "body":
            self.skipping.clear()  # whatever was left open before the body ends here
        elif tag in SKIPPED:
            self.skipping.append(tag)
        elif tag in BLOCKS:
            self.parts.append(" ")
        elif tag == "img" and not self.skipping:
            alt = dict(attrs).get("alt")
            if alt:
                self._add(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SKIPPED and tag != "title":  # <br/>, <img/>: no content to skip
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        elif tag in BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
        elif not self.skipping:
            self._add(data)

    def _add(self, data: str) -> None:
        if self.size < self.limit:
            self.parts.append(data)
            self.size += len(data)


def decode_html(data: bytes) -> str:
    """UTF-8 (the web's default and EPUB's rule), falling back to Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def html_title_and_text(data: bytes, limit: int = MAX_TEXT) -> tuple[str, str]:
    """The page's <title> and its visible text, each with whitespace folded; never raises."""
    parser = _TextParser(limit)
    parser.feed(decode_html(data))
    parser.close()
    title = " ".join("".join(parser.title_parts).split())
    text = " ".join("".join(parser.parts).split())[:limit]
    return title, text
