"""Field-by-field merge: order-free, idempotent, deletions win (kalan/sync/merge.py)."""

from hypothesis import given
from hypothesis import strategies as st

from kalan.sync.merge import State, merge

ORIGINS = ["a" * 8, "b" * 8, "c" * 8]
FIELDS = ["name", "grade", "school_id"]


@st.composite
def states(draw: st.DrawFn) -> State:
    names = draw(st.lists(st.sampled_from(FIELDS), unique=True, min_size=1))
    fields = {name: draw(st.one_of(st.none(), st.sampled_from(["x", "y", "z"]))) for name in names}
    clocks = {name: (draw(st.integers(0, 5)), draw(st.sampled_from(ORIGINS))) for name in names}
    return State(fields, clocks)


def test_the_later_clock_wins_each_field_and_the_loser_is_a_conflict() -> None:
    local = State({"name": "Awa", "grade": "CM1"}, {"name": (5, "a"), "grade": (1, "a")})
    incoming = State({"name": "Aïcha", "grade": "CM2"}, {"name": (3, "b"), "grade": (4, "b")})
    merged = merge(local, incoming)
    assert merged.state.fields == {"name": "Awa", "grade": "CM2"}
    assert merged.state.clocks == {"name": (5, "a"), "grade": (4, "b")}
    assert [(c.field, c.kept, c.lost) for c in merged.conflicts] == [
        ("grade", "CM2", "CM1"),
        ("name", "Awa", "Aïcha"),
    ]


def test_the_same_clocks_break_ties_by_origin() -> None:
    local = State({"name": "Awa"}, {"name": (5, "a")})
    incoming = State({"name": "Aïcha"}, {"name": (5, "b")})
    assert merge(local, incoming).state.fields == {"name": "Aïcha"}
    assert merge(incoming, local).state.fields == {"name": "Aïcha"}


def test_a_change_made_here_twice_is_no_conflict() -> None:
    local = State({"name": "Awa"}, {"name": (5, "a")})
    incoming = State({"name": "Aw"}, {"name": (3, "a")})
    assert merge(local, incoming).conflicts == []


def test_a_deletion_wins_over_any_edit() -> None:
    edited = State({"name": "Awa"}, {"name": (9, "a")})
    deleted = State({}, {}, deleted=True)
    assert merge(edited, deleted).state.deleted
    assert merge(deleted, edited).state.deleted


@st.composite
def maybe_deleted(draw: st.DrawFn) -> State:
    state = draw(states())
    return State({}, {}, deleted=True) if draw(st.booleans()) else state


@given(maybe_deleted(), maybe_deleted())
def test_merging_does_not_depend_on_the_order(first: State, second: State) -> None:
    assert merge(first, second).state == merge(second, first).state


@given(maybe_deleted(), maybe_deleted(), maybe_deleted())
def test_merging_three_versions_in_any_grouping_gives_one_state(
    a: State, b: State, c: State
) -> None:
    left = merge(merge(a, b).state, c).state
    right = merge(a, merge(b, c).state).state
    assert left == right


@given(maybe_deleted(), maybe_deleted())
def test_merging_again_changes_nothing(first: State, second: State) -> None:
    once = merge(first, second).state
    assert merge(once, second).state == once
    assert merge(once, first).state == once
