"""Full-text search over titles, descriptions and the text inside documents.

Text is folded in Python before it is indexed and before it is searched, the
same way on SQLite (FTS5) and PostgreSQL (tsvector, 'simple' configuration):
case is folded, diacritics are dropped (French é/è/ç, Bambara tones), and the
letters people type without a special keyboard are equated with their plain
forms (Bambara ɛ/ɔ/ɲ/ŋ as e/o/ny/ng, Tajik ӣ/ӯ/ҳ/қ/ғ/ҷ as и/у/х/к/г/ч). The index
table is created by migration 0002 for the database in use (FTS5 or tsvector).
"""

import functools
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

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
    node_id: uuid.UUID
    channel_id: uuid.UUID
    title: str
    body: str


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def index_entries(entries: Iterable[Entry]) -> None:
    """Index these nodes (inside the caller's transaction; the importer removes a
    channel's entries first, so nothing is indexed twice)."""
    rows = [(str(e.node_id), str(e.channel_id), words(e.title), words(e.body)) for e in entries]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} (node_id, channel_id, title, body)"  # noqa: S608
            " VALUES (%s, %s, %s, %s)",
            rows,
        )


def remove_channel(channel_id: uuid.UUID) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE channel_id = %s", [str(channel_id)])  # noqa: S608


def search_node_ids(query: str, *, limit: int = 1000) -> list[uuid.UUID]:
    """Ids of the nodes matching every word of `query` (each as a prefix), best first.

    Equal ranks are ordered by title, then id: the order is the same on every call,
    so pages of results neither repeat nor skip a node.
    """
    words = terms(query)
    if not words:
        return []
    if _is_postgres():
        expression = " & ".join(f"{word}:*" for word in words)
        sql = (
            f"SELECT node_id FROM {TABLE} WHERE tsv @@ to_tsquery('simple', %s)"  # noqa: S608
            " ORDER BY ts_rank(tsv, to_tsquery('simple', %s)) DESC, title, node_id LIMIT %s"
        )
        params: list[str | int] = [expression, expression, limit]
    else:
        expression = " ".join(f'"{word}"*' for word in words)
        sql = (
            f"SELECT node_id FROM {TABLE} WHERE {TABLE} MATCH %s"  # noqa: S608
            f" ORDER BY bm25({TABLE}, 0, 0, 10.0, 1.0), title, node_id LIMIT %s"
        )
        params = [expression, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [uuid.UUID(str(row[0])) for row in cursor.fetchall()]
