"""The sync app's own tables (ADR 0009): the counter, the store of mutable records'
sealed versions, the keys written since the last seal, positions, and conflicts."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """This instance's version counter (one row): every version it makes takes the next
    values, inside the transaction that makes it, so values follow commit order."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)


class Dirty(models.Model):
    """A mutable record written since its last sealed version (written in the same
    transaction as the record).

    Each write gives the key a new random `generation`; sealing deletes only the
    generation it read, so a write that commits while a seal runs keeps its key
    (on PostgreSQL the two can overlap; the key's row lock orders them).
    """

    id = models.BigAutoField(primary_key=True)
    model = models.CharField(max_length=100)
    record_id = models.UUIDField()
    generation = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "record_id"], name="sync_dirty_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.record_id}"


class Version(models.Model):
    """The last sealed version of a mutable record, with a clock per field.

    `fields` holds each travelling field's value as text (Django's
    `value_to_string`, None for NULL); `clocks` maps each field to the
    `[hlc, origin]` of the change that set it. `(origin, seq)` names the version.
    """

    id = models.BigAutoField(primary_key=True)
    model = models.CharField(max_length=100)
    record_id = models.UUIDField()
    scope = models.UUIDField(null=True, blank=True)  # the school; None: national records
    origin = models.UUIDField()
    seq = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    fields = models.JSONField(default=dict)
    clocks = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "record_id"], name="sync_version_unique")
        ]
        indexes = [models.Index(fields=["scope", "origin", "seq"], name="sync_version_feed")]

    def __str__(self) -> str:
        return f"{self.model} {self.record_id} {self.origin}:{self.seq}"


class Position(models.Model):
    """This instance holds every version `origin` made in `scope` up to `seq` (or a
    later version of the same record). `scope` is a school id, or "" for national
    records."""

    scope = models.CharField(max_length=36, blank=True)
    origin = models.UUIDField()
    seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "origin"], name="sync_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope or '*'} {self.origin}:{self.seq}"


class Conflict(models.Model):
    """Two instances changed one field of a record to different values; one was kept."""

    id = models.BigAutoField(primary_key=True)
    model = models.CharField(max_length=100)
    record_id = models.UUIDField()
    scope = models.UUIDField(null=True, blank=True)
    field = models.CharField(max_length=100)
    kept = models.JSONField(null=True)  # the value as text, or None
    kept_origin = models.UUIDField()
    lost = models.JSONField(null=True)
    lost_origin = models.UUIDField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sync conflict")
        verbose_name_plural = _("sync conflicts")
        indexes = [models.Index(fields=["scope", "at"], name="sync_conflict_scope")]

    def __str__(self) -> str:
        return f"{self.model} {self.record_id} {self.field}"
