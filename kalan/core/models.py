"""Base models of the shared kernel.

Every record an instance can create offline is a `SyncableModel`: a UUID key,
its school scope (declared by the concrete model, see `SyncMeta`), and the
hybrid-logical-clock stamp and origin instance of its last change. The stamp is
set on every write path Django offers (save, QuerySet.update, bulk_create,
bulk_update), so the sync engine can trust it.
"""

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from django.db import models, router, transaction
from django.utils.translation import gettext_lazy as _

from kalan.core import changes


class Instance(models.Model):
    """The one row that names this instance and keeps its clock's high-water mark."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    hlc_high_water = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("instance")

    def __str__(self) -> str:
        return str(self.id)


class SyncableQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        from kalan.core.stamps import stamp_fields

        if not changes.wanted(self.model):
            return super().update(**{**kwargs, **stamp_fields()})
        with transaction.atomic(using=self.db, savepoint=False):
            # The rows are locked first (PostgreSQL), so that those written are those heard of.
            ids = list(self.select_for_update().values_list("pk", flat=True))
            rows = self.model._base_manager.using(self.db).filter(pk__in=ids)
            count = models.QuerySet.update(rows, **{**kwargs, **stamp_fields()})
            changes.changed(self.model, ids)
        return count

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        from kalan.core.stamps import stamp_object

        objs = list(objs)
        for obj in objs:
            stamp_object(obj)
        with transaction.atomic(using=self.db, savepoint=False):
            made = super().bulk_create(objs, *args, **kwargs)
            changes.changed(self.model, [obj.pk for obj in objs])
        return made

    def bulk_update(
        self, objs: Iterable[Any], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        from kalan.core.stamps import stamp_object

        objs = list(objs)
        for obj in objs:
            stamp_object(obj)
        with transaction.atomic(using=self.db, savepoint=False):
            count = super().bulk_update(objs, [*fields, "hlc", "origin"], batch_size=batch_size)
            changes.changed(self.model, [obj.pk for obj in objs])
        return count


class SyncableModel(models.Model):
    """A record that travels between instances.

    Concrete models say which column holds their school scope in
    `sync_scope_field` ("school_id" for most, "id" for a school itself, None
    for national records such as admin areas).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    hlc = models.BigIntegerField(default=0, editable=False, db_index=True)
    origin = models.UUIDField(null=True, editable=False)

    sync_scope_field: ClassVar[str | None] = "school_id"

    objects = SyncableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Stamping is kernel bookkeeping, not domain logic: it must happen on
        # every write, whoever writes (services, the Django admin, migrations).
        from kalan.core.stamps import stamp_object

        stamp_object(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "hlc", "origin", "updated_at"}
        if not changes.wanted(type(self)):
            super().save(*args, **kwargs)
            return
        with transaction.atomic(
            using=kwargs.get("using") or router.db_for_write(type(self)), savepoint=False
        ):
            super().save(*args, **kwargs)
            changes.changed(type(self), [self.pk])
