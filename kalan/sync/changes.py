"""Keys of mutable records written since their last seal (the `Dirty` table).

Every write that Kalan makes to a syncable row goes through `SyncableModel`
(save, QuerySet update, bulk writes), which reports it through
`kalan.core.changes` inside the writing transaction; deletions arrive by the
`post_delete` signal, which Django sends inside the deleting transaction.
Sealing (seal.py) reads these keys.
"""

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
            [Dirty(model=label, record_id=record_id) for record_id in ids],
            ignore_conflicts=True,
        )


_LISTENER = _DirtyKeys()


def _deleted(sender: type[models.Model], instance: models.Model, **_kwargs: Any) -> None:
    if _LISTENER.wants(sender):
        _LISTENER.changed(sender, [instance.pk])


def connect() -> None:
    changes.listen(_LISTENER)
    post_delete.connect(_deleted, dispatch_uid="kalan.sync.deleted")
