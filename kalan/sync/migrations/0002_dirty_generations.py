"""Keys carry a generation (see models.Dirty); and the records an instance held
before sync existed are marked as written, so that its first sync seals and sends
them (a fresh database holds none; tables not made yet are skipped)."""

from django.db import migrations, models


def _mark_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from kalan.sync import registry

    tables = set(schema_editor.connection.introspection.table_names())
    dirty = apps.get_model("sync", "Dirty")
    for entry in registry.registered():
        if entry.kind is not registry.Kind.MUTABLE or entry.model._meta.db_table not in tables:
            continue
        model = apps.get_model(entry.label)
        ids = model._base_manager.values_list("pk", flat=True).iterator(chunk_size=2000)
        batch = []
        for record_id in ids:
            batch.append(dirty(model=entry.label, record_id=record_id))
            if len(batch) == 2000:
                dirty.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        dirty.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dirty",
            name="generation",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(_mark_existing, migrations.RunPython.noop),
    ]
