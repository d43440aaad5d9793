"""A version on the wire: what one instance sends another for one record."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Record:
    """One version on the wire."""

    model: str
    record_id: str
    scope: str
    origin: str
    seq: int
    deleted: bool
    fields: dict[str, str | None]
    clocks: dict[str, list[Any]]
