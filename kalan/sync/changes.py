"""Keys of mutable records written since their last seal (the `Dirty` table).

Every write that Kalan makes to a syncable row goes through `SyncableModel`
(save, QuerySet update, bulk writes), which reports it through
`kalan.core.changes` inside the writing transaction; deletions arrive by the
`post_delete` signal of each registered model, which Django sends inside the
deleting transaction.
Sealing (seal.py) reads these keys.
"""

import secrets
from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models.signals import post_delete

from kalan.core import changes
from kalan.sync import registry
from kalan.sync.registry import Kind


class _DirtyKeys:
    def wants(self, model: type[models.Model]) -> bool:
        entry = registry.of_model(model)
        return entry is not None and entry.kind is Kind.MUTABLE

    def changed(self, model: type[models.Model], ids: Sequence[Any]) -> None:
        from kalan.sync.models import Dirty

        label = str(model._meta.label_lower)
        Dirty.objects.bulk_create(
            [
                Dirty(model=label, record_id=record_id, generation=secrets.randbits(62))
                for record_id in dict.fromkeys(ids)
            ],
            update_conflicts=True,
            unique_fields=["model", "record_id"],
            update_fields=["generation"],
        )


_LISTENER = _DirtyKeys()


def _deleted(sender: type[models.Model], instance: models.Model, **_kwargs: Any) -> None:
    _LISTENER.changed(sender, [instance.pk])


def connect() -> None:
    changes.listen(_LISTENER)


def watch_deletions(model: type[models.Model]) -> None:
    """Hear of deletions of `model` (a registered mutable model) only: a receiver
    without a sender would make Django load the rows of every bulk delete of every
    model before deleting them."""
    post_delete.connect(
        _deleted, sender=model, dispatch_uid=f"kalan.sync.deleted.{model._meta.label_lower}"
    )
