"""The search index learns the filters: each resource's kind, language, grades,
subjects and channel become words of a `facets` column, so that a search and its
count are answered by the index alone. Only resources are indexed, in reading
order (PostgreSQL keeps that order in `seq`, SQLite in the rowid).

The existing index is rebuilt from itself and the nodes' tables: no channel
needs importing again.
"""

from django.db import migrations

from kalan.content.search import Entry, entry_facets


def postgres_table(name: str) -> list[str]:
    return [
        f"CREATE TABLE {name} (node_id uuid PRIMARY KEY,"
        " seq bigint GENERATED ALWAYS AS IDENTITY, channel_id uuid NOT NULL,"
        " title text NOT NULL, body text NOT NULL, facets text NOT NULL,"
        " tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple', title), 'A') ||"
        " setweight(to_tsvector('simple', body), 'B')) STORED,"
        " ftsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', facets)) STORED)",
    ]


POSTGRES_INDEXES = [
    "CREATE INDEX content_search_tsv ON content_search USING gin (tsv)",
    "CREATE INDEX content_search_ftsv ON content_search USING gin (ftsv)",
    "CREATE INDEX content_search_channel ON content_search (channel_id)",
    "CREATE INDEX content_search_seq ON content_search (seq)",
]


def sqlite_table(name: str) -> list[str]:
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5(node_id UNINDEXED, channel_id UNINDEXED,"
        " title, body, facets, tokenize = 'unicode61 remove_diacritics 2')"
    ]


def _facets_by_node(apps):
    """Each resource's facet words, in reading order."""
    ContentNode = apps.get_model("content", "ContentNode")
    NodeTag = apps.get_model("content", "NodeTag")
    tags: dict[object, dict[str, list[str]]] = {}
    for node_id, facet, value in NodeTag.objects.filter(facet__in=["grade", "subject"]).values_list(
        "node_id", "facet", "value"
    ):
        tags.setdefault(node_id, {}).setdefault(facet, []).append(value)
    nodes = (
        ContentNode.objects.exclude(kind="topic")
        .order_by("channel_id", "path")
        .values_list("id", "channel_id", "kind", "language")
    )
    for node_id, channel_id, kind, language in nodes.iterator(chunk_size=2000):
        node_tags = tags.get(node_id, {})
        entry = Entry(
            node_id=node_id,
            channel_id=channel_id,
            title="",
            body="",
            kind=kind,
            language=language,
            grades=node_tags.get("grade", []),
            subjects=node_tags.get("subject", []),
        )
        yield node_id, entry_facets(entry)


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    key_type = "uuid" if postgres else "text"
    statements = (
        postgres_table("content_search_next") if postgres else sqlite_table("content_search_next")
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(
            f"CREATE TEMPORARY TABLE content_search_facets (node_id {key_type} PRIMARY KEY,"
            " position integer NOT NULL, facets text NOT NULL)"
        )
        rows = [
            (node_id if postgres else str(node_id), position, facets)
            for position, (node_id, facets) in enumerate(_facets_by_node(apps))
        ]
        cursor.executemany("INSERT INTO content_search_facets VALUES (%s, %s, %s)", rows)
        cursor.execute(
            "INSERT INTO content_search_next (node_id, channel_id, title, body, facets)"
            " SELECT o.node_id, o.channel_id, o.title, o.body, f.facets FROM content_search o"
            " JOIN content_search_facets f ON f.node_id = o.node_id ORDER BY f.position"
        )
        cursor.execute("DROP TABLE content_search_facets")
        cursor.execute("DROP TABLE content_search")
        cursor.execute("ALTER TABLE content_search_next RENAME TO content_search")
        if postgres:
            for statement in POSTGRES_INDEXES:
                cursor.execute(statement)


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "CREATE TABLE content_search_prev (node_id uuid PRIMARY KEY, channel_id uuid"
                " NOT NULL, title text NOT NULL, body text NOT NULL, tsv tsvector GENERATED"
                " ALWAYS AS (setweight(to_tsvector('simple', title), 'A') ||"
                " setweight(to_tsvector('simple', body), 'B')) STORED)"
            )
        else:
            cursor.execute(
                "CREATE VIRTUAL TABLE content_search_prev USING fts5(node_id UNINDEXED,"
                " channel_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')"
            )
        cursor.execute(
            "INSERT INTO content_search_prev (node_id, channel_id, title, body)"
            " SELECT node_id, channel_id, title, body FROM content_search"
        )
        cursor.execute("DROP TABLE content_search")
        cursor.execute("ALTER TABLE content_search_prev RENAME TO content_search")
        if postgres:
            cursor.execute("CREATE INDEX content_search_tsv ON content_search USING gin (tsv)")
            cursor.execute("CREATE INDEX content_search_channel ON content_search (channel_id)")


class Migration(migrations.Migration):
    dependencies = [("content", "0002_content_search")]

    operations = [migrations.RunPython(forwards, backwards)]
