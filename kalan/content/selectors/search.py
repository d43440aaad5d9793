"""The search page's reads: what the filters offer, and a page of results."""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from kalan.content import search
from kalan.content.kinds import Kind
from kalan.content.models import Channel, ContentNode, NodeTag
from kalan.content.selectors.items import Items, NodeItem, item_rows, language_name

RESULTS_PER_PAGE = 20


@dataclass(frozen=True)
class SearchCriteria:
    """What a person asked for: words and filters, each optional."""

    q: str = ""
    grade: str = ""
    subject: str = ""
    language: str = ""
    kind: str = ""
    channel: uuid.UUID | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            search.terms(self.q)
            or self.grade
            or self.subject
            or self.language
            or self.kind
            or self.channel
        )


@dataclass(frozen=True)
class SearchFacets:
    """The values the filters offer: only what the library holds."""

    grades: list[str]
    subjects: list[str]
    languages: list[str]
    kinds: list[str]
    channels: list[tuple[uuid.UUID, str]]


def _natural(value: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts "P2" before "P10"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", value)
        if part
    )


# The filter choices of the library, per process, until a channel is added, updated or removed.
_FACET_CACHE: dict[tuple[tuple[Any, ...], ...], SearchFacets] = {}


def get_search_facets(channels: QuerySet[Channel]) -> SearchFacets:
    """Grades, subjects, languages and kinds in use, and the channels.

    One query for the channels; the choices (three queries over the whole
    library) are kept per process and computed again only when the channels'
    ids, versions or import times change.
    """
    rows = list(channels.order_by("title").values_list("id", "title", "version", "imported_at"))
    key = tuple((row[0], row[2], row[3]) for row in rows)
    cached = _FACET_CACHE.get(key)
    if cached is None:
        cached = _compute_facets()
        _FACET_CACHE.clear()
        _FACET_CACHE[key] = cached
    return replace(cached, channels=[(row[0], row[1]) for row in rows])


def _compute_facets() -> SearchFacets:
    tags: dict[str, list[str]] = {NodeTag.Facet.GRADE: [], NodeTag.Facet.SUBJECT: []}
    for facet, value in (
        NodeTag.objects.filter(facet__in=list(tags))
        .order_by()
        .values_list("facet", "value")
        .distinct()
    ):
        tags[facet].append(value)
    languages = ContentNode.objects.order_by().values_list("language", flat=True).distinct()
    kinds = ContentNode.objects.order_by().values_list("kind", flat=True).distinct()
    return SearchFacets(
        grades=sorted(tags[NodeTag.Facet.GRADE], key=_natural),
        subjects=sorted(tags[NodeTag.Facet.SUBJECT], key=str.casefold),
        languages=sorted((code for code in languages if code), key=language_name),
        kinds=[kind for kind in Kind.values if kind != Kind.TOPIC and kind in set(kinds)],
        channels=[],
    )


@dataclass(frozen=True)
class SearchResults:
    page: Page[Any]  # which page of the results, of how many
    items: list[NodeItem]  # the resources of this page, best or reading order first


def search_resources(
    channels: Sequence[uuid.UUID],
    criteria: SearchCriteria,
    *,
    page_number: int | str | None = 1,
    per_page: int = RESULTS_PER_PAGE,
) -> SearchResults:
    """One page of the resources of `channels` matching the words and every filter.

    With words, best first; without, in reading order. Three queries whatever the
    number of matches: their count and the page's ids from the index (which knows
    the filters), then the page's rows.
    """
    within = [c for c in channels if not criteria.channel or c == criteria.channel]
    hits = search.Hits(
        search.terms(criteria.q),
        search.Filters(
            kind=criteria.kind,
            language=criteria.language,
            grade=criteria.grade,
            subject=criteria.subject,
            channels=within,
        ),
    )
    page = Paginator(hits, per_page).get_page(page_number)
    ids = list(page.object_list)
    rows = {row["id"]: row for row in item_rows(ContentNode.objects.filter(id__in=ids))}
    item = Items()
    items = [item(rows[node_id]) for node_id in ids if node_id in rows]
    return SearchResults(page=page, items=items)
