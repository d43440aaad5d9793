"""Full-text search over titles, descriptions and the text inside documents.

Text is folded in Python before it is indexed and before it is searched, the
same way on SQLite (FTS5) and PostgreSQL (tsvector, 'simple' configuration):
case is folded, diacritics are dropped (French é/è/ç, Bambara tones), and the
letters people type without a special keyboard are equated with their plain
forms (Bambara ɛ/ɔ/ɲ/ŋ as e/o/ny/ng, Tajik ӣ/ӯ/ҳ/қ/ғ/ҷ as и/у/х/к/г/ч). The index
table is created by migrations 0002 and 0003 for the database in use (FTS5 or
tsvector); the filters are words of it too (`facet_token`).
"""

import functools
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from django.db import connection

TABLE = "content_search"
_LETTERS = str.maketrans(
    {
        "ɛ": "e",
        "ɔ": "o",
        "ɲ": "ny",
        "ŋ": "ng",
        "ҳ": "х",
        "қ": "к",
        "ғ": "г",
        "ҷ": "ч",
        "ӣ": "и",
        "ӯ": "у",
        "œ": "oe",
        "æ": "ae",
    }
)
# Letters and digits only: every other character separates words, so both engines
# split text the same way (PostgreSQL's parser would keep "math.p1.1" or "3.5" whole
# where FTS5 splits them, and a search typed with the dots would then fail there).
_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 8


@functools.cache
def _combining_marks() -> re.Pattern[str]:
    """Every combining mark of the Basic Multilingual Plane, as ranges (built once, ~10 ms)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    parts = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(f"[{parts}]+")


def fold(text: str) -> str:
    """Text as it is indexed and searched: lower case, no diacritics, plain letters."""
    if text.isascii():
        return text.lower()
    text = text.casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", _combining_marks().sub("", decomposed))


def words(text: str) -> str:
    """Text as it is stored in the index: its folded words separated by single spaces."""
    return " ".join(_WORD.findall(fold(text)))


def terms(query: str) -> list[str]:
    """The words of a query, folded; at most MAX_TERMS."""
    return _WORD.findall(fold(query))[:MAX_TERMS]


@dataclass(frozen=True)
class Entry:
    """A resource as the index keeps it: its words, and what the filters ask about."""

    node_id: uuid.UUID
    channel_id: uuid.UUID
    title: str
    body: str
    kind: str = ""
    language: str = ""
    grades: Sequence[str] = ()
    subjects: Sequence[str] = ()


@dataclass(frozen=True)
class Filters:
    """What the resources must be; an empty field asks nothing."""

    kind: str = ""
    language: str = ""
    grade: str = ""
    subject: str = ""
    channels: Sequence[uuid.UUID] | None = None  # any of these; None: every channel

    def tokens(self) -> list[list[str]]:
        """The facet tokens a resource must carry: one of each inner list."""
        required = [
            [facet_token(name, value)]
            for name, value in (
                ("kind", self.kind),
                ("language", self.language),
                ("grade", self.grade),
                ("subject", self.subject),
            )
            if value
        ]
        if self.channels is not None:
            required.append([facet_token("channel", str(c)) for c in self.channels])
        return required


def facet_token(facet: str, value: str) -> str:
    """One index word standing for "`facet` is `value`", exactly (case and accents kept).

    A hash, so that any value is one word of letters and digits on both engines,
    and no word a person types can match it.
    """
    digest = hashlib.blake2b(f"{facet}\x00{value}".encode(), digest_size=8).hexdigest()
    return f"f{digest}"


def entry_facets(entry: Entry) -> str:
    tokens = [
        facet_token("channel", str(entry.channel_id)),
        facet_token("kind", entry.kind),
        facet_token("language", entry.language),
    ]
    tokens += [facet_token("grade", value) for value in entry.grades]
    tokens += [facet_token("subject", value) for value in entry.subjects]
    return " ".join(dict.fromkeys(tokens))


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def index_entries(entries: Iterable[Entry]) -> None:
    """Index these resources, in reading order (inside the caller's transaction; the
    importer removes a channel's entries first, so nothing is indexed twice)."""
    rows = [
        (str(e.node_id), str(e.channel_id), words(e.title), words(e.body), entry_facets(e))
        for e in entries
    ]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (node_id, channel_id, title, body, facets)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s)",
            rows,
        )


def remove_channel(channel_id: uuid.UUID) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE channel_id = %s", [str(channel_id)])  # noqa: S608


class Hits:
    """The resources matching every word (each as a prefix) and every filter, as a
    sequence a Paginator can page through: a count, and a slice per page.

    With words, best first; equal ranks, and a search without words, in reading
    order (channels in the order they were imported, each in tree order), so pages
    neither repeat nor skip a resource. Both the count and a page are answered by the
    index alone (FTS5 on SQLite, GIN on PostgreSQL): the filters are words of the
    index too, so no match is ever read from the nodes' table.
    """

    def __init__(self, words: Sequence[str], filters: Filters) -> None:
        self.words = list(words)[:MAX_TERMS]
        self.required = filters.tokens()
        # A filter that nothing can satisfy (no channel to search), or nothing asked.
        self.empty = any(not group for group in self.required) or not (self.words or self.required)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            if self.empty:
                self._count = 0
            else:
                where, params = self._where()
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE {where}", params)  # noqa: S608
                    self._count = int(cursor.fetchone()[0])
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self[0:])

    @overload
    def __getitem__(self, index: int) -> uuid.UUID: ...

    @overload
    def __getitem__(self, index: slice) -> list[uuid.UUID]: ...

    def __getitem__(self, index: int | slice) -> uuid.UUID | list[uuid.UUID]:
        if isinstance(index, int):
            found = self._window(index, index + 1) if index >= 0 else []
            if not found:
                raise IndexError(index)
            return found[0]
        return self._window(index.start or 0, index.stop)

    def _window(self, start: int, stop: int | None) -> list[uuid.UUID]:
        if self.empty or (stop is not None and stop <= start):
            return []
        where, params = self._where()
        if _is_postgres():
            order = "seq"
            if self.words:
                order = "ts_rank(tsv, to_tsquery('simple', %s)) DESC, seq"
                params.append(self._postgres_words())
        else:
            order = "rowid"
            if self.words:
                # Title words weigh ten times the others; the facets weigh nothing.
                order = f"bm25({TABLE}, 0, 0, 10.0, 1.0, 0.0), rowid"
        # No upper bound: LIMIT NULL on PostgreSQL, a negative LIMIT on SQLite.
        limit = stop - start if stop is not None else (None if _is_postgres() else -1)
        sql = f"SELECT node_id FROM {TABLE} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, start])
            return [uuid.UUID(str(row[0])) for row in cursor.fetchall()]

    def _postgres_words(self) -> str:
        return " & ".join(f"{word}:*" for word in self.words)

    def _where(self) -> tuple[str, list[Any]]:
        groups = [" | ".join(group) for group in self.required]
        if _is_postgres():
            clauses, params = [], []
            if self.words:
                clauses.append("tsv @@ to_tsquery('simple', %s)")
                params.append(self._postgres_words())
            if groups:
                clauses.append("ftsv @@ to_tsquery('simple', %s)")
                params.append(" & ".join(f"({group})" for group in groups))
            return " AND ".join(clauses), params
        parts = []
        if self.words:
            phrase = " ".join(f'"{word}"*' for word in self.words)
            parts.append(f"{{title body}} : ({phrase})")
        if groups:
            parts.append(
                "facets : (" + " AND ".join(f"({g.replace('|', 'OR')})" for g in groups) + ")"
            )
        return f"{TABLE} MATCH %s", [" AND ".join(parts)]


def search_node_ids(query: str, *, limit: int = 1000) -> list[uuid.UUID]:
    """Ids of the resources matching every word of `query` (each as a prefix), best first."""
    return Hits(terms(query), Filters())[:limit]
