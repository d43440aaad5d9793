"""Full-text search finds words however they are typed, the same on SQLite and PostgreSQL.

Case and diacritics are folded (French é/è/ç/ê, Russian ё), and the letters
people type without a special keyboard stand for the special ones: Bambara
ɛ/ɔ/ɲ/ŋ as e/o/ny/ng, Tajik ӣ/ӯ/ҳ/қ/ғ/ҷ as и/у/х/к/г/ч. The last word of a
query is a prefix, so results follow what is typed.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from kalan.content import search
from kalan.content.store import LibraryFolder
from kalan.content.tests.factories import Installed, Res, install_channel

pytestmark = pytest.mark.django_db

WORDS = [
    # French
    Res("La leçon de l'élève", description="Une page de français pour la fête."),
    Res("Fenêtre sur la forêt", description="Où l'on apprend à être curieux."),
    # Bambara
    Res("Ɲɛnajɛ ka di", language="bm", description="Sɛbɛnni kalan ŋaniya la."),
    Res("Kɔrɔ ye mun ye?", language="bm", description="Mɔgɔkɔrɔw ka kuma."),
    # Tajik
    Res("Ҳисоб ва ҷавоб", language="tg", description="Китобҳо барои хонандагон."),
    Res("Ғизои мактабӣ", language="tg", description="Ҳар рӯз хӯроки солим."),
    Res("Қонуни забон", language="tg"),
    # Russian
    Res("Ёжик в тумане", language="ru", description="Сказка про ёлку и ежевику."),
    # Inside the document only (the manifest's `text`), and a curriculum code
    Res(
        "Cahier 7",
        text="Le hibou compte les étoiles: 3.5 millions. Ɔ bɛ yan.",
        curriculum_codes=["MATH.P1.1"],
    ),
]


@pytest.fixture(scope="module")
def words(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installed]:
    with django_db_blocker.unblock(), transaction.atomic():
        folder = tmp_path_factory.mktemp("words")
        yield install_channel(
            folder / "package", WORDS, title="Mots", library=LibraryFolder(folder / "store")
        )
        transaction.set_rollback(True)


def found(words: Installed, query: str) -> list[str]:
    titles = {node_id: title for title, node_id in words.ids.items()}
    return [titles[node_id] for node_id in search.search_node_ids(query) if node_id in titles]


CASES = [
    # (query, title it must find)
    ("eleve", "La leçon de l'élève"),
    ("ÉLÈVE", "La leçon de l'élève"),
    ("élève", "La leçon de l'élève"),
    ("lecon", "La leçon de l'élève"),
    ("LEÇON", "La leçon de l'élève"),
    ("FRANCAIS", "La leçon de l'élève"),
    ("français", "La leçon de l'élève"),
    ("fete", "La leçon de l'élève"),
    ("fenetre foret", "Fenêtre sur la forêt"),
    ("etre", "Fenêtre sur la forêt"),
    ("nyenaje", "Ɲɛnajɛ ka di"),
    ("ɲɛnajɛ", "Ɲɛnajɛ ka di"),
    ("ƝƐNAJƐ", "Ɲɛnajɛ ka di"),
    ("seben", "Ɲɛnajɛ ka di"),  # the prefix of sɛbɛnni
    ("sɛbɛnni", "Ɲɛnajɛ ka di"),
    ("nganiya", "Ɲɛnajɛ ka di"),
    ("ŋaniya", "Ɲɛnajɛ ka di"),
    ("koro", "Kɔrɔ ye mun ye?"),
    ("kɔrɔ", "Kɔrɔ ye mun ye?"),
    ("mogokorow", "Kɔrɔ ye mun ye?"),
    ("хисоб", "Ҳисоб ва ҷавоб"),
    ("ҳисоб", "Ҳисоб ва ҷавоб"),
    ("ҲИСОБ", "Ҳисоб ва ҷавоб"),
    ("чавоб", "Ҳисоб ва ҷавоб"),
    ("ҷавоб", "Ҳисоб ва ҷавоб"),
    ("китобхо", "Ҳисоб ва ҷавоб"),
    ("китобҳо", "Ҳисоб ва ҷавоб"),
    ("гизо", "Ғизои мактабӣ"),  # the prefix of ғизои
    ("ғизои", "Ғизои мактабӣ"),
    ("мактаби", "Ғизои мактабӣ"),
    ("мактабӣ", "Ғизои мактабӣ"),
    ("руз", "Ғизои мактабӣ"),
    ("рӯз", "Ғизои мактабӣ"),
    ("хуроки", "Ғизои мактабӣ"),
    ("конуни", "Қонуни забон"),
    ("ежик", "Ёжик в тумане"),
    ("ЁЖИК", "Ёжик в тумане"),
    ("елку", "Ёжик в тумане"),
    ("hibou", "Cahier 7"),  # only in the text inside the document
    ("etoiles", "Cahier 7"),
    ("ɔ", "Cahier 7"),
    ("3.5", "Cahier 7"),
    ("MATH.P1.1", "Cahier 7"),
    ("math p1", "Cahier 7"),
]


@pytest.mark.parametrize(("query", "title"), CASES)
def test_a_word_is_found_however_it_is_typed(words, query, title):
    assert title in found(words, query)


def test_the_last_word_is_a_prefix_so_results_follow_typing(words):
    assert found(words, "la le") == ["La leçon de l'élève"]
    assert found(words, "la lec") == ["La leçon de l'élève"]
    assert found(words, "ɲɛna") == ["Ɲɛnajɛ ka di"]
    assert found(words, "nyen") == ["Ɲɛnajɛ ka di"]
    assert found(words, "кито") == ["Ҳисоб ва ҷавоб"]


@pytest.mark.parametrize(
    "query",
    [
        "eleves",  # more than the word: not a prefix of anything
        "leçons",
        "nyenajew",
        "хисобҳо",
        "ежики",
        "eleve hibou",  # every word must match the same resource
        "",
        "?!",
    ],
)
def test_words_that_are_not_there_find_nothing(words, query):
    assert found(words, query) == []


def test_a_title_ranks_above_the_same_word_in_a_description(words, tmp_path):
    more = install_channel(
        tmp_path / "package",
        [
            Res("Les fruits du marché", description="Compter des mangues."),
            Res("Mangues", description="Un fruit."),
        ],
        title="Fruits",
        library=LibraryFolder(tmp_path / "store"),
    )
    assert search.search_node_ids("mangues")[:2] == [more["Mangues"], more["Les fruits du marché"]]


def test_equal_matches_keep_reading_order_so_pages_never_overlap(words, tmp_path):
    same = install_channel(
        tmp_path / "package",
        [Res(f"Dictée {n:02d}", description="Écrire sans faute.") for n in (3, 1, 12, 2, 11)],
        title="Orthographe",
        library=LibraryFolder(tmp_path / "store"),
    )
    expected = [same[f"Dictée {n:02d}"] for n in (3, 1, 12, 2, 11)]  # as the channel has them
    assert search.search_node_ids("dictee") == expected
    assert search.search_node_ids("ecrire faute") == expected
    hits = search.Hits(["ecrire"], search.Filters())
    assert hits[0:2] + hits[2:4] + hits[4:] == expected
    assert hits.count() == len(expected)


def test_removing_a_channel_removes_its_words(words):
    search.remove_channel(words.channel.id)
    assert search.search_node_ids("eleve") == []


def test_the_folding_is_one_function_for_both_engines():
    assert search.fold("ÉLÈVE Ɲɛnajɛ ŊANIYA Ҳисоб Ёжик") == "eleve nyenaje nganiya хисоб ежик"
    assert search.words("MATH.P1.1, l'élève_modèle") == "math p1 1 l eleve modele"
    assert search.terms("math.p1.1") == ["math", "p1", "1"]
