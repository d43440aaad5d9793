"""The search page (/library/search/): words, filters, pages of results, and what it costs."""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kalan.accounts.models import User
from kalan.content.tests.factories import (
    install_channel,
    many,
    shelf_fixture,  # noqa: F401
)
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db
RESULT = re.compile(r'<h3><a href="/library/resource/[^"]+/"(?: lang="[^"]+")?>(.+?)</a></h3>')


@pytest.fixture
def learner() -> User:
    return make_person(school=make_school())


def search(client: Client, **params: str) -> tuple[str, list[str]]:
    """The page's HTML and the titles of its results, in order."""
    return fetch(client, params)


def fetch(
    client: Client, params: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    response = client.get(f"{reverse('library:search')}?{urlencode(params)}", headers=headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    titles = [title.replace("&#x27;", "'") for title in RESULT.findall(html)]
    return html, titles


def status(html: str) -> str:
    match = re.search(r'<p id="search-status" role="status">(.*?)</p>', html, re.S)
    assert match, "no status line"
    return " ".join(match[1].split())


@pytest.fixture
def client(learner: User) -> Client:
    client = Client()
    client.force_login(learner)
    return client


def test_the_empty_form_offers_only_what_the_library_holds(shelf, client):
    html, titles = search(client)
    assert titles == []
    assert status(html) == "Type a word or choose a filter, then search."

    def options(name: str) -> list[str]:
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
        assert select, name
        return re.findall(r'<option value="[^"]*"[^>]*>([^<]*)</option>', select[1])

    assert options("grade") == ["Any grade", "2", "3", "P1", "P3", "P4", "P5"]
    assert options("subject")[:5] == [
        "Any subject",
        "Bamanankan",
        "Français",
        "Mathématiques",
        "Sciences",
    ]
    assert options("language") == ["Any language", "Bamanankan", "Français", "Русский", "Тоҷикӣ"]
    assert options("kind") == [
        "Any kind",
        "Video",
        "Audio",
        "PDF document",
        "Book (EPUB)",
        "Exercise",
    ]
    assert options("channel") == ["Any channel", "Français et bamanankan", "Китобхонаи мактабӣ"]
    for name in ("q", "grade", "subject", "language", "kind", "channel"):
        assert f'<label for="id_{name}">' in html


def test_words_find_resources_with_their_kind_channel_and_snippet(shelf, client):
    html, titles = search(client, q="ELEVE")
    assert titles == ["La leçon de l'élève"]
    assert status(html) == "1 resource found"
    assert "▤</span> PDF document</span>" in html
    assert "<li>Français et bamanankan</li>" in html
    assert "Une leçon pour chaque élève de la classe." in html


def test_words_inside_documents_are_found(shelf, client):
    assert search(client, q="conjugaison")[1] == ["La leçon de l'élève"]
    assert search(client, q="hibou")[1] == ["Contes du soir"]
    assert search(client, q="чавоб")[1] == ["Ҳисоб барои синфи дуюм"]


def test_topics_are_not_results(shelf, client):
    assert search(client, q="lecture")[1] == []
    assert search(client, q="exercices")[1] == []  # the topic's title, not its resources'
    assert len(search(client, q="exercice")[1]) == 20


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "P3"}, ["La leçon de l'élève", "Le marché de Bamako"]),
        ({"grade": "P1", "kind": "audio"}, ["Kɔrɔ ka kuma"]),
        ({"subject": "Français"}, ["La leçon de l'élève", "Contes du soir"]),
        ({"language": "bm"}, ["Sɛbɛnni kalan", "Kɔrɔ ka kuma"]),
        ({"kind": "video"}, None),  # one per channel, checked below
        ({"language": "ru", "kind": "video"}, ["Ёжик в тумане"]),
        ({"grade": "2"}, ["Ҳисоб барои синфи дуюм", "Ёжик в тумане"]),
        ({"q": "ежик", "grade": "2"}, ["Ёжик в тумане"]),
        ({"q": "ежик", "grade": "3"}, []),
        ({"q": "nyenaje", "language": "bm"}, ["Sɛbɛnni kalan"]),
        ({"q": "nyenaje", "language": "fr"}, []),
    ],
)
def test_filters_narrow_the_results_with_or_without_words(shelf, client, params, expected):
    html, titles = search(client, **params)
    if expected is None:
        assert sorted(titles) == ["Le marché de Bamako", "Ёжик в тумане"]
    else:
        assert titles == expected
    if not titles:
        assert status(html) == "0 resources found"


def test_the_channel_filter_keeps_one_channel(shelf, client):
    _, titles = search(client, channel=str(shelf.tajik.channel.id))
    assert titles == ["Ҳисоб барои синфи дуюм", "Китобҳо дар бораи ғизо", "Ёжик в тумане"]
    _, titles = search(client, channel=str(shelf.french.channel.id), q="ғизо")
    assert titles == []


def test_a_choice_that_does_not_exist_is_an_error_tied_to_its_field(shelf, client):
    html, titles = search(client, grade="P9", language="fr", kind="video")
    assert 'aria-invalid="true"' in html
    assert re.search(r'<select name="grade"[^>]*aria-describedby="id_grade_error"', html)
    assert 'id="id_grade_error"' in html
    assert titles == ["Le marché de Bamako"]  # the other filters still apply


def test_results_come_twenty_to_a_page(shelf, client):
    html, first = search(client, grade="P5")
    assert status(html) == "25 resources found"
    assert first == [f"Exercice {n:03d}" for n in range(1, 21)]  # reading order
    assert '<ol class="items" start="1">' in html
    assert "Page 1 of 2" in html
    assert 'href="?grade=P5&amp;page=2" rel="next"' in html
    html, second = search(client, grade="P5", page="2")
    assert second == [f"Exercice {n:03d}" for n in range(21, 26)]
    assert '<ol class="items" start="21">' in html
    assert 'href="?grade=P5&amp;page=1" rel="prev"' in html
    assert search(client, grade="P5", page="99")[1] == second  # the last page
    assert search(client, q="exercice", page="2")[1] == second


def test_the_form_is_enhanced_with_htmx_and_works_without_it(shelf, client):
    html, _ = search(client, q="eleve")
    form = re.search(r'<form method="get" action="/library/search/"[^>]*>', html)
    assert form, "the search form is a plain GET form"
    for attribute in (
        'hx-get="/library/search/"',
        'hx-select="#search-results"',
        'hx-target="#search-results"',
        'hx-select-oob="#search-status:innerHTML"',
        'hx-push-url="true"',
    ):
        assert attribute in form[0]
    assert '<div id="search-results">' in html
    assert re.search(r'<script src="/static/vendor/htmx/htmx(\.[0-9a-f]+)?\.min\.js" defer>', html)
    # What htmx asks for as the words change: the same page, from which it takes the results.
    htmx, titles = fetch(client, {"q": "eleve"}, headers={"HX-Request": "true"})
    assert titles == ["La leçon de l'élève"]
    assert status(htmx) == status(html) == "1 resource found"


def test_every_match_is_counted_and_reachable_page_by_page(shelf, client):
    html, first = search(client, q="calculer")  # in the 25 exercises
    assert status(html) == "25 resources found"
    _, second = search(client, q="calculer", page="2")
    assert len(first) == 20
    assert len(second) == 5
    assert not set(first) & set(second)


def count_queries(client: Client, **params: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        search(client, **params)
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("few", "many_"),
    [
        ({"q": "ежик"}, {"q": "exercice"}),
        ({"grade": "P1"}, {"grade": "P5"}),
        ({"q": "ежик", "grade": "2"}, {"q": "exercice", "grade": "P5"}),
        (
            {"subject": "Bamanankan", "language": "bm"},
            {"subject": "Mathématiques", "kind": "exercise"},
        ),
    ],
)
def test_a_search_costs_the_same_whatever_the_number_of_results(shelf, client, few, many_):
    # session, user, the channels (the filters' choices are kept until they change), then
    # from the index (which knows the filters) the number of matches and the page's ids,
    # then the page's rows.
    count_queries(client, **few)  # the first search may compute the filters' choices
    assert count_queries(client, **few) == count_queries(client, **many_) == 6


def test_a_search_costs_the_same_in_a_bigger_library(shelf, client, tmp_path):
    search(client, q="exercice", grade="P5")  # the filters' choices are worked out once
    before = count_queries(client, q="exercice", grade="P5")
    install_channel(
        tmp_path,
        list(many(30, prefix="Exercice", grade_levels=["P5"])),
        title="Encore",
        library=shelf.library,
    )
    html, titles = search(client, q="exercice", grade="P5")
    assert status(html) == "55 resources found"
    assert len(titles) == 20
    assert count_queries(client, q="exercice", grade="P5") == before


def test_the_filter_choices_follow_a_new_channel(shelf, client, tmp_path):
    html, _ = search(client)
    assert "P9" not in html
    install_channel(
        tmp_path,
        list(many(1, prefix="Algèbre", grade_levels=["P9"])),
        title="Nouveau",
        library=shelf.library,
    )
    html, _ = search(client)
    assert '<option value="P9"' in html
