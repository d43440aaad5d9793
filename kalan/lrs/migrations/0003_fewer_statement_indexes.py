"""Three indexes fewer to write for every statement stored.

- `stored` had an index no query uses (pages are ordered by `stored_us`);
- `StatementIndex.statement` had its own index, though the unique
  (statement, key) index already finds a statement's rows;
- `target_id` is now indexed only where it is set (StatementRef objects).

Only the indexes change: Django's AlterField would copy both tables on SQLite,
so the database operations drop the indexes by name instead.
"""

import django.db.models.deletion
from django.db import migrations, models

_DROPPED = (
    "lrs_statement_stored_2caccd1a",
    "lrs_statement_target_id_7c40e149",
    "lrs_statementindex_statement_id_3d9e510e",
)


class Migration(migrations.Migration):
    dependencies = [
        ("lrs", "0002_cmi5_session"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="statement",
                    name="stored",
                    field=models.DateTimeField(),
                ),
                migrations.AlterField(
                    model_name="statement",
                    name="target_id",
                    field=models.UUIDField(blank=True, null=True),
                ),
                migrations.AlterField(
                    model_name="statementindex",
                    name="statement",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="lrs.statement",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in _DROPPED],
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(
                condition=models.Q(("target_id__isnull", False)),
                fields=["target_id"],
                name="lrs_statement_target",
            ),
        ),
    ]
