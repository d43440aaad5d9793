"""Statements carry the version id sync moves them by (ADR 0009).

`seq` is new; `origin`, already there, is now set on every statement. Those
stored before are this instance's own, numbered from its counter in stored order. The index on `school_id` becomes the
feed index (school, origin, seq), and `hlc`, which a statement never uses, loses
its index. The column is added and the indexes dropped by SQL: Django's operations
would copy the table on SQLite.
"""

from django.db import migrations, models


def _own_versions(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Statements stored before: this instance's own, numbered in stored order."""
    count = apps.get_model("lrs", "Statement").objects.filter(seq=0).count()
    if not count:
        return
    instance, _made = apps.get_model("core", "Instance").objects.get_or_create(singleton=True)
    counter, _made = apps.get_model("sync", "Counter").objects.get_or_create(singleton=True)
    first = counter.value + 1
    counter.value += count
    counter.save()
    origin = instance.id.hex if schema_editor.connection.vendor == "sqlite" else instance.id
    # One statement for any number of rows (SQLite 3.33 and PostgreSQL both have UPDATE FROM).
    schema_editor.execute(
        'UPDATE "lrs_statement" SET "origin" = %s, "seq" = numbered.n + %s'
        ' FROM (SELECT "id", ROW_NUMBER() OVER (ORDER BY "stored_us", "id") AS n'
        '       FROM "lrs_statement" WHERE "seq" = 0) AS numbered'
        ' WHERE "lrs_statement"."id" = numbered."id"',
        [origin, first - 1],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_instance"),
        ("sync", "0001_initial"),
        ("lrs", "0003_fewer_statement_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="statement",
                    name="seq",
                    field=models.BigIntegerField(default=0, editable=False),
                ),
                migrations.AlterField(
                    model_name="statement",
                    name="hlc",
                    field=models.BigIntegerField(default=0, editable=False),
                ),
                migrations.AlterField(
                    model_name="statement",
                    name="school_id",
                    field=models.UUIDField(blank=True, null=True),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        # A column with a constant default: no copy of the table, on either.
                        'ALTER TABLE "lrs_statement" ADD COLUMN "seq" bigint NOT NULL DEFAULT 0',
                        'DROP INDEX IF EXISTS "lrs_statement_hlc_eab1bae7"',
                        'DROP INDEX IF EXISTS "lrs_statement_school_id_0e2f365c"',
                    ],
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="statement",
            index=models.Index(fields=["school_id", "origin", "seq"], name="lrs_statement_feed"),
        ),
        migrations.RunPython(_own_versions, migrations.RunPython.noop),
    ]
