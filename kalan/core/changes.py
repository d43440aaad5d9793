"""Who hears of writes to syncable rows.

The sync app seals what changed since the last sync (ADR 0009), so it must learn
of every write, in the writing transaction. `SyncableModel` and its QuerySet
report them here; the sync app listens. The kernel imports no app.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from django.db import models


class Listener(Protocol):
    def wants(self, model: type[models.Model]) -> bool: ...

    def changed(self, model: type[models.Model], ids: Sequence[Any]) -> None: ...


_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def wanted(model: type[models.Model]) -> bool:
    """Whether anyone needs to hear of writes to `model` (else the ids are not read)."""
    return any(listener.wants(model) for listener in _listeners)


def changed(model: type[models.Model], ids: Sequence[Any]) -> None:
    """Rows `ids` of `model` were written (or deleted) in the current transaction."""
    if ids:
        for listener in _listeners:
            if listener.wants(model):
                listener.changed(model, ids)
