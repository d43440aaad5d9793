"""Mastery models, progress toward mastery, and the deterministic order of practice."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalan.assessments.grading import Grade, GradeStatus
from kalan.assessments.mastery import (
    MasteryStatus,
    assess_mastery,
    display_order,
    item_order,
    next_item,
    shuffled,
)
from kalan.content.exercises import parse_exercise
from kalan.content.exercises.model import Exercise, MOfN, NInARow, Percentage

RIGHT = Grade(GradeStatus.CORRECT, 1.0)
WRONG = Grade(GradeStatus.INCORRECT, 0.0)
PARTLY = Grade(GradeStatus.PARTLY, 0.5)
WAITING = Grade(GradeStatus.NEEDS_TEACHER, None)


def answers(pattern: str) -> list[bool]:
    return [mark == "1" for mark in pattern]


@pytest.mark.parametrize(
    ("pattern", "mastered", "progress", "at"),
    [
        ("", False, 0.0, None),
        ("1111", True, 1.0, 3),
        ("10111", True, 1.0, 4),
        ("11011", True, 1.0, 4),
        ("110101", False, 0.75, None),
        ("0101011", False, 0.75, None),
        ("00000", False, 0.0, None),
        ("011110000", True, 1.0, 4),
    ],
)
def test_four_of_the_last_five(pattern, mastered, progress, at):
    assert assess_mastery(MOfN(4, 5), answers(pattern)) == MasteryStatus(mastered, progress, at)


@pytest.mark.parametrize(
    ("pattern", "mastered", "progress"),
    [("", False, 0.0), ("11", False, 2 / 3), ("1101", False, 1 / 3), ("10111", True, 1.0),
     ("1110", True, 1.0), ("0", False, 0.0)],
)  # fmt: skip
def test_three_in_a_row(pattern, mastered, progress):
    status = assess_mastery(NInARow(3), answers(pattern))
    assert status.mastered is mastered
    assert status.progress == pytest.approx(progress)


@pytest.mark.parametrize(
    ("pattern", "mastered", "progress"),
    [
        ("", False, 0.0),
        ("111", False, 3 / 4),  # all right, but fewer than 4 answers
        ("1111", True, 1.0),
        ("1010", False, 0.5 / 0.8),
        ("10101111", False, 0.75 / 0.8),
        ("1010111111", True, 1.0),  # 8 of 10
    ],
)
def test_a_percentage_of_all_answers_with_a_minimum(pattern, mastered, progress):
    status = assess_mastery(Percentage(percent=80, minimum=4), answers(pattern))
    assert status.mastered is mastered
    assert status.progress == pytest.approx(progress)


def test_grades_waiting_for_a_teacher_do_not_count_and_partly_right_is_not_right():
    rule = NInARow(2)
    assert assess_mastery(rule, [RIGHT, WAITING, RIGHT]).mastered
    assert assess_mastery(rule, [RIGHT, WAITING, RIGHT]).mastered_at == 1
    assert not assess_mastery(rule, [RIGHT, PARTLY, RIGHT]).mastered
    assert assess_mastery(rule, [WAITING, WAITING]) == MasteryStatus(False, 0.0)


outcomes = st.lists(st.booleans(), max_size=40)
rules = st.one_of(
    st.integers(1, 8).flatmap(lambda n: st.builds(MOfN, st.integers(1, n), st.just(n))),
    st.builds(NInARow, st.integers(1, 8)),
    st.builds(Percentage, st.integers(1, 100), st.integers(1, 10)),
)


@given(rule=rules, before=outcomes, after=outcomes)
def test_mastery_once_reached_is_kept(rule, before, after):
    first = assess_mastery(rule, before)
    later = assess_mastery(rule, before + after)
    if first.mastered:
        assert later == first
    assert 0.0 <= later.progress <= 1.0
    assert later.mastered == (later.progress == 1.0 and later.mastered_at is not None)


@given(n=st.integers(1, 8), history=outcomes)
def test_n_in_a_row_is_monotonic(n, history):
    rule = NInARow(n)
    now = assess_mastery(rule, history)
    after_right = assess_mastery(rule, [*history, True])
    assert after_right.progress >= now.progress
    assert after_right.mastered >= now.mastered
    assert assess_mastery(rule, [*history, *[True] * n]).mastered


# ---------------------------------------------------------------- orders


@given(values=st.lists(st.integers(), unique=True, max_size=30), seed=st.text() | st.integers())
def test_shuffling_with_a_seed_is_a_deterministic_permutation(values, seed):
    order = shuffled(values, seed)
    assert sorted(order) == sorted(values)
    assert shuffled(values, seed) == order
    assert shuffled(tuple(values), seed) == order


def test_different_seeds_give_different_orders():
    values = list(range(20))
    assert len({shuffled(values, f"learner-{n}") for n in range(10)}) == 10
    assert shuffled(values, "x") == (shuffled(values, "x"))


def exercise(count: int = 4, *, shuffle: bool = True) -> Exercise:
    items = [
        {"id": f"q{n}", "type": "true_false", "prompt": "<p>?</p>", "correct": True}
        for n in range(1, count + 1)
    ]
    return parse_exercise({"title": "T", "shuffle_items": shuffle, "items": items})


def test_item_order_follows_the_seed_or_the_file():
    assert item_order(exercise(shuffle=False), "s") == ("q1", "q2", "q3", "q4")
    order = item_order(exercise(), "learner-7")
    assert sorted(order) == ["q1", "q2", "q3", "q4"]
    assert order == item_order(exercise(), "learner-7")


def test_next_item_skips_right_answers_and_brings_wrong_ones_back_later():
    ex = exercise(shuffle=False)
    assert next_item(ex, seed="s", answered_correctly=set()).id == "q1"
    assert next_item(ex, seed="s", answered_correctly={"q1"}, previous="q1").id == "q2"
    # q2 answered wrongly: the others come first, then q2 again
    assert next_item(ex, seed="s", answered_correctly={"q1"}, previous="q2").id == "q3"
    assert next_item(ex, seed="s", answered_correctly={"q1", "q3", "q4"}, previous="q4").id == "q2"
    # only q2 is left and it was just answered wrongly: it comes again
    assert next_item(ex, seed="s", answered_correctly={"q1", "q3", "q4"}, previous="q2").id == "q2"
    # every item right: a new round, never the same item twice in a row
    everything = {"q1", "q2", "q3", "q4"}
    assert next_item(ex, seed="s", answered_correctly=everything, previous="q4").id == "q1"
    assert next_item(ex, seed="s", answered_correctly=everything, previous="q2").id == "q3"
    one = exercise(1)
    assert next_item(one, seed="s", answered_correctly={"q1"}, previous="q1").id == "q1"


@given(
    seed=st.text(max_size=8),
    correct=st.sets(st.sampled_from(["q1", "q2", "q3", "q4", "q5"])),
    previous=st.sampled_from([None, "q1", "q2", "q3", "q4", "q5"]),
)
def test_next_item_is_deterministic_and_prefers_unanswered_items(seed, correct, previous):
    ex = exercise(5)
    chosen = next_item(ex, seed=seed, answered_correctly=correct, previous=previous)
    assert chosen == next_item(ex, seed=seed, answered_correctly=correct, previous=previous)
    remaining = {"q1", "q2", "q3", "q4", "q5"} - correct
    if remaining - {previous}:
        assert chosen.id in remaining - {previous}
    elif previous is not None and remaining == {previous}:
        assert chosen.id == previous
    else:
        assert chosen.id != previous


def test_display_order_of_choices_targets_and_steps():
    data = {
        "title": "T",
        "items": [
            {"id": "c", "type": "single_choice", "prompt": "?", "correct": "a",
             "choices": [{"id": x, "text": x} for x in "abcdef"]},
            {"id": "f", "type": "single_choice", "prompt": "?", "correct": "a",
             "shuffle_choices": False, "choices": [{"id": x, "text": x} for x in "abc"]},
            {"id": "m", "type": "matching", "prompt": "?", "pairs": [["s", "t1"]],
             "sources": [{"id": "s", "text": "s"}],
             "targets": [{"id": f"t{n}", "text": "t"} for n in range(1, 6)]},
            {"id": "o", "type": "ordering", "prompt": "?",
             "steps": [{"id": "x", "text": "x"}, {"id": "y", "text": "y"}]},
            {"id": "t", "type": "true_false", "prompt": "?", "correct": True},
        ],
    }  # fmt: skip
    ex = parse_exercise(data)
    choices = display_order(ex.item("c"), "learner")
    assert sorted(choices) == list("abcdef")
    assert display_order(ex.item("c"), "learner") == choices
    assert display_order(ex.item("f"), "learner") == ("a", "b", "c")
    assert sorted(display_order(ex.item("m"), "learner")) == ["t1", "t2", "t3", "t4", "t5"]
    assert display_order(ex.item("t"), "learner") == ()
    for n in range(20):  # two steps: always shown the wrong way round
        assert display_order(ex.item("o"), f"seed-{n}") == ("y", "x")


@given(seed=st.text(max_size=6), size=st.integers(2, 7))
def test_ordering_steps_are_never_shown_in_the_right_order(seed, size):
    steps = [{"id": f"s{n}", "text": "x"} for n in range(size)]
    item = parse_exercise(
        {"title": "T", "items": [{"id": "o", "type": "ordering", "prompt": "?", "steps": steps}]}
    ).items[0]
    order = display_order(item, seed)
    assert sorted(order) == sorted(s["id"] for s in steps)
    assert list(order) != [s["id"] for s in steps]
