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

    def as_json(self) -> dict[str, Any]:
        return {
            "m": self.model,
            "id": self.record_id,
            "sc": self.scope,
            "o": self.origin,
            "s": self.seq,
            "d": self.deleted,
            "f": self.fields,
            "c": self.clocks,
        }
