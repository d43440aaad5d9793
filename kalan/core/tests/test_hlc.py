from hypothesis import given
from hypothesis import strategies as st

from kalan.core.hlc import RESERVE_MS, HybridLogicalClock, pack, unpack


class FakeWall:
    def __init__(self, times: list[int]) -> None:
        self.times = iter(times)
        self.last = 0

    def __call__(self) -> int:
        self.last = next(self.times, self.last)
        return self.last


@given(st.lists(st.integers(min_value=0, max_value=2**40), min_size=1, max_size=50))
def test_stamps_strictly_increase_even_when_the_wall_clock_goes_back(times):
    clock = HybridLogicalClock(wall_ms=FakeWall(times))
    stamps = [clock.now() for _ in times]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


@given(st.integers(min_value=0, max_value=2**60), st.integers(min_value=0, max_value=2**40))
def test_observe_moves_past_a_remote_stamp(remote, wall):
    clock = HybridLogicalClock(wall_ms=lambda: wall)
    local = clock.observe(remote)
    assert local > remote
    assert clock.now() > local


def test_restart_starts_above_the_reserved_high_water_mark():
    stored = {"floor": 0}
    wall = {"ms": 1_000_000}

    def reserve(stamp: int) -> None:
        stored["floor"] = stamp

    first = HybridLogicalClock(
        wall_ms=lambda: wall["ms"], floor=lambda: stored["floor"], reserve=reserve
    )
    issued = [first.now() for _ in range(5)]
    assert unpack(stored["floor"])[0] == 1_000_000 + RESERVE_MS
    wall["ms"] = 10  # the device's clock was reset to 1970 before the restart
    second = HybridLogicalClock(
        wall_ms=lambda: wall["ms"], floor=lambda: stored["floor"], reserve=reserve
    )
    assert second.now() > max(issued)


def test_pack_unpack_round_trip():
    assert unpack(pack(123_456, 789)) == (123_456, 789)
