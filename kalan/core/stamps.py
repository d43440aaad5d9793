"""The instance identity and clock that stamp every syncable write."""

import uuid
from functools import cache
from typing import Any

from kalan.core.hlc import HybridLogicalClock
from kalan.core.models import Instance


@cache
def instance_id() -> uuid.UUID:
    """This instance's id, created on first use (one row, never changes)."""
    row, _ = Instance.objects.get_or_create(singleton=True)
    return row.id


def _floor() -> int:
    return int(
        Instance.objects.filter(singleton=True).values_list("hlc_high_water", flat=True).first()
        or 0
    )


def _reserve(stamp: int) -> None:
    Instance.objects.filter(id=instance_id()).update(hlc_high_water=stamp)


@cache
def clock() -> HybridLogicalClock:
    instance_id()
    return HybridLogicalClock(floor=_floor, reserve=_reserve)


def stamp_fields() -> dict[str, Any]:
    return {"hlc": clock().now(), "origin": instance_id()}


def stamp_object(obj: Any) -> None:
    obj.hlc = clock().now()
    obj.origin = instance_id()


def forget_instance() -> None:
    """Drop cached identity and clock (tests that flush the database)."""
    instance_id.cache_clear()
    clock.cache_clear()
