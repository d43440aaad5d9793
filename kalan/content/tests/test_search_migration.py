"""Migration 0003 rebuilds an existing search index with the filters' words, losing nothing."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kalan.content import search
from kalan.content.tests.factories import Res, Topic, install_channel

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("content", target)])


def columns() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {search.TABLE} WHERE 1 = 0")  # noqa: S608
        return {column[0] for column in cursor.description}


def test_an_index_without_facets_is_rebuilt_in_reading_order(tmp_path):
    installed = install_channel(
        tmp_path / "package",
        [
            Topic(
                "Nombres",
                children=[
                    Res("Compter les mangues", grade_levels=["P1"], subjects=["Calcul"]),
                    Res("Compter les ânes", language="bm", grade_levels=["P2"]),
                ],
            ),
            Res("Compter les étoiles", kind="audio", grade_levels=["P1"]),
        ],
        title="Calcul",
    )
    ids = installed.ids
    reading_order = [
        ids["Compter les mangues"],
        ids["Compter les ânes"],
        ids["Compter les étoiles"],
    ]
    migrate("0002_content_search")
    assert "facets" not in columns()
    migrate("0003_search_facets")
    assert "facets" in columns()
    everything = search.Hits([], search.Filters(channels=[installed.channel.id]))
    assert everything[0:10] == reading_order
    assert set(search.search_node_ids("compter")) == set(reading_order)
    assert search.Hits(["etoiles"], search.Filters()).count() == 1  # the words were kept
    by_grade = search.Hits(["compter"], search.Filters(grade="P1"))
    assert set(by_grade[0:10]) == {ids["Compter les mangues"], ids["Compter les étoiles"]}
    assert search.Hits([], search.Filters(kind="audio", grade="P1"))[0:10] == [
        ids["Compter les étoiles"]
    ]
    assert search.Hits([], search.Filters(subject="Calcul", language="fr")).count() == 1
    assert search.Hits([], search.Filters(language="bm")).count() == 1
    assert search.Hits(["compter"], search.Filters(channels=[installed.channel.id])).count() == 3
    assert search.Hits(["compter"], search.Filters(channels=[])).count() == 0
