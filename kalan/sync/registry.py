"""The models that travel between instances, as their apps declare them.

The sync app imports no domain app: each app registers its models in its
`AppConfig.ready()` (ADR 0009). A model is *immutable* (a row never changes
once written: statements) or *mutable* (merged field by field). `order` puts a
model after the ones it refers to, so that a record arrives after what it
needs.
"""

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from kalan.sync.wire import Record


class Kind(enum.Enum):
    IMMUTABLE = "immutable"
    MUTABLE = "mutable"


# Kept by each instance for itself: never sent, never merged.
LOCAL_FIELDS = frozenset({"hlc", "origin", "seq", "created_at", "updated_at"})


# An immutable model's app takes in records of it (validates and stores them as its own
# writes would, deriving what it derives); returns how many were new.
Receive = Callable[[Sequence[Record]], int]


@dataclass(frozen=True)
class Syncable:
    model: type[models.Model]
    kind: Kind
    order: int
    excluded: frozenset[str]
    travelling: tuple[str, ...] | None = None  # immutable: the fields that travel
    receive: Receive | None = None  # immutable: how its app takes records in

    @property
    def label(self) -> str:
        return str(self.model._meta.label_lower)

    @property
    def scope_field(self) -> str | None:
        return getattr(self.model, "sync_scope_field", None)

    def fields(self) -> list[Any]:
        """The model's fields that travel (concrete, not the key, not local bookkeeping)."""
        if self.travelling is not None:
            return [self.model._meta.get_field(name) for name in self.travelling]
        return [
            field
            for field in self.model._meta.concrete_fields
            if not field.primary_key
            and field.attname not in LOCAL_FIELDS
            and field.name not in self.excluded
        ]


_registry: dict[str, Syncable] = {}


class RegistryError(Exception):
    pass


def register(
    model: type[models.Model],
    *,
    kind: Kind,
    order: int,
    excluded: tuple[str, ...] = (),
    travelling: tuple[str, ...] | None = None,
    receive: Receive | None = None,
) -> None:
    """Declare that `model` travels (called from its app's `ready()`; idempotent).

    An immutable model names the fields that travel and how its app takes
    records in; its rows carry `origin` and `seq`, set when they are stored.
    """
    if not hasattr(model, "sync_scope_field"):
        raise RegistryError(f"{model.__name__} is not a SyncableModel")
    if (kind is Kind.IMMUTABLE) != (travelling is not None and receive is not None):
        raise RegistryError(
            f"{model.__name__}: an immutable model, and only one, names its travelling"
            " fields and how its app receives them"
        )
    entry = Syncable(model, kind, order, frozenset(excluded), travelling, receive)
    known = _registry.get(entry.label)
    if known is not None and known != entry:
        raise RegistryError(f"{entry.label} is registered twice, differently")
    _registry[entry.label] = entry
    if kind is Kind.MUTABLE:
        from kalan.sync.changes import watch_deletions

        watch_deletions(model)


def registered() -> list[Syncable]:
    """Every registered model, in the order records must arrive."""
    return sorted(_registry.values(), key=lambda entry: (entry.order, entry.label))


def find(label: str) -> Syncable | None:
    return _registry.get(label)


def of_model(model: type[models.Model]) -> Syncable | None:
    return _registry.get(str(model._meta.label_lower))
