"""Hybrid logical clock: stamps that order changes across instances.

A stamp is one 64-bit integer: milliseconds since the Unix epoch in the high
48 bits and a logical counter in the low 16. Stamps issued by one process only
grow, even when the wall clock steps back (tablets often have a wrong date), and
`observe()` moves the clock past any stamp received from a peer, so a change made
after seeing another always sorts after it.

Across restarts the clock never goes back either: it reserves a window of
stamps ahead in the database (a "high-water mark") and starts above it.
"""

import threading
import time
from collections.abc import Callable

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1
RESERVE_MS = 10_000


def pack(millis: int, counter: int) -> int:
    return (millis << COUNTER_BITS) | counter


def unpack(stamp: int) -> tuple[int, int]:
    return stamp >> COUNTER_BITS, stamp & COUNTER_MASK


class HybridLogicalClock:
    """A thread-safe HLC; `reserve(stamp)` persists a floor for the next start."""

    def __init__(
        self,
        wall_ms: Callable[[], int] | None = None,
        floor: Callable[[], int] | None = None,
        reserve: Callable[[int], None] | None = None,
    ) -> None:
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._floor = floor
        self._reserve = reserve
        self._lock = threading.Lock()
        self._last = -1
        self._reserved = -1

    def _start(self) -> None:
        if self._last < 0:
            self._last = self._floor() if self._floor else 0
            self._reserved = self._last

    def _advance(self, candidate: int) -> int:
        self._last = candidate
        if self._reserve and candidate >= self._reserved:
            millis, _ = unpack(candidate)
            self._reserved = pack(millis + RESERVE_MS, 0)
            self._reserve(self._reserved)
        return candidate

    def now(self) -> int:
        """A stamp greater than every stamp this clock issued or observed."""
        with self._lock:
            self._start()
            wall = pack(self._wall_ms(), 0)
            return self._advance(max(wall, self._last + 1))

    def observe(self, remote: int) -> int:
        """Take in a peer's stamp; returns a local stamp greater than both."""
        with self._lock:
            self._start()
            wall = pack(self._wall_ms(), 0)
            return self._advance(max(wall, self._last + 1, remote + 1))
