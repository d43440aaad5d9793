"""The full-text index of the library: FTS5 on SQLite, a tsvector on PostgreSQL.

Text is folded by kalan.content.search before it is stored, so both engines
index the same words.
"""

from django.db import migrations

POSTGRES = [
    "CREATE TABLE content_search (node_id uuid PRIMARY KEY, channel_id uuid NOT NULL,"
    " title text NOT NULL, body text NOT NULL, tsv tsvector GENERATED ALWAYS AS"
    " (setweight(to_tsvector('simple', title), 'A') ||"
    " setweight(to_tsvector('simple', body), 'B')) STORED)",
    "CREATE INDEX content_search_tsv ON content_search USING gin (tsv)",
    "CREATE INDEX content_search_channel ON content_search (channel_id)",
]
SQLITE = [
    "CREATE VIRTUAL TABLE content_search USING fts5(node_id UNINDEXED,"
    " channel_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')",
]


def create(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS content_search")


class Migration(migrations.Migration):
    dependencies = [("content", "0001_content_library")]

    operations = [migrations.RunPython(create, drop)]
