"""`kalan sync status`: per scope, the records held, the positions, and a digest.

The digest covers the travelling fields of every registered record in the scope
(not the clocks, which each instance keeps for itself), so two instances that
hold the same data print the same digest, whatever way the data reached them.
"""

import hashlib
import json
from typing import Any

from kalan.core.stamps import instance_id
from kalan.sync import feed, registry
from kalan.sync.seal import field_values


def _scopes() -> list[str]:
    found: set[str] = set()
    for entry in registry.registered():
        name = entry.scope_field
        if name is None:
            found.add(feed.NATIONAL)
            continue
        values = entry.model._base_manager.values_list(name, flat=True).distinct()
        found.update(str(value) for value in values if value is not None)
    return sorted(found)


def _in_scope(entry: registry.Syncable, scope: str) -> Any:
    rows = entry.model._base_manager.all()
    name = entry.scope_field
    if name is None:
        return rows if scope == feed.NATIONAL else rows.none()
    if scope == feed.NATIONAL:  # records of no school (national staff): as the feed sends them
        return rows.filter(**{f"{name}__isnull": True})
    return rows.filter(**{name: scope})


def scope_status(scope: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    for entry in registry.registered():
        rows = _in_scope(entry, scope).order_by("pk")
        count = 0
        for row in rows.iterator(chunk_size=1000):
            line = [entry.label, str(row.pk), field_values(entry, row)]
            digest.update(json.dumps(line, sort_keys=True, separators=(",", ":")).encode())
            digest.update(b"\n")
            count += 1
        if count:
            counts[entry.label] = count
    return {"records": counts, "positions": feed.positions(scope), "digest": digest.hexdigest()}


def status() -> dict[str, Any]:
    return {
        "instance": str(instance_id()),
        "scopes": {scope or "national": scope_status(scope) for scope in _scopes()},
    }
