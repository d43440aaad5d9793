"""Mastery of an exercise, and the order in which a learner meets its items and choices.

Mastery is judged on the sequence of graded answers, oldest first. Answers
that wait for a teacher do not count; a partly right answer counts as not
right. Mastery is reached at the first answer where the exercise's rule holds
and is kept after that, whatever comes next, as the progress projection keeps
"mastered".

Orders are deterministic from a seed (for example the learner's id and the
exercise's): the same seed gives the same order on every device and after
every reload, and different learners get different orders.
"""

import random
from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

from kalan.assessments.grading import Grade, GradeStatus
from kalan.content.exercises.model import (
    Exercise,
    Item,
    MasteryRule,
    MatchingItem,
    MOfN,
    MultipleChoiceItem,
    NInARow,
    OrderingItem,
    Percentage,
    SingleChoiceItem,
)

T = TypeVar("T")


@dataclass(frozen=True)
class MasteryStatus:
    """`progress` is 0..1 toward mastery (1 once mastered); `mastered_at` is the index,
    in the answers given, of the answer that reached mastery."""

    mastered: bool
    progress: float
    mastered_at: int | None = None


def assess_mastery(rule: MasteryRule, answers: Iterable[Grade | bool]) -> MasteryStatus:
    """Whether `answers` (Grades, or True for right and False for wrong) master the rule."""
    outcomes = [
        answer.correct if isinstance(answer, Grade) else answer
        for answer in answers
        if not _waiting(answer)
    ]
    tracker = _Tracker(rule)
    for index, right in enumerate(outcomes):
        tracker.add(right)
        if tracker.holds():
            return MasteryStatus(mastered=True, progress=1.0, mastered_at=index)
    return MasteryStatus(mastered=False, progress=float(tracker.progress()))


def _waiting(answer: Grade | bool) -> bool:
    return isinstance(answer, Grade) and answer.status is GradeStatus.NEEDS_TEACHER


class _Tracker:
    """The state a rule needs, updated one answer at a time."""

    def __init__(self, rule: MasteryRule) -> None:
        self.rule = rule
        window = rule.n if isinstance(rule, MOfN) else 1
        self.recent: deque[bool] = deque(maxlen=window)
        self.streak = 0
        self.total = 0
        self.right = 0

    def add(self, right: bool) -> None:
        self.recent.append(right)
        self.streak = self.streak + 1 if right else 0
        self.total += 1
        self.right += right

    def holds(self) -> bool:
        rule = self.rule
        if isinstance(rule, MOfN):
            return sum(self.recent) >= rule.m
        if isinstance(rule, NInARow):
            return self.streak >= rule.n
        return self.total >= rule.minimum and self.right * 100 >= rule.percent * self.total

    def progress(self) -> Fraction:
        rule = self.rule
        if isinstance(rule, MOfN):
            return min(Fraction(1), Fraction(sum(self.recent), rule.m))
        if isinstance(rule, NInARow):
            return min(Fraction(1), Fraction(self.streak, rule.n))
        return _percentage_progress(rule, self.total, self.right)


def _percentage_progress(rule: Percentage, total: int, right: int) -> Fraction:
    if total == 0:
        return Fraction(0)
    share = Fraction(right * 100, total * rule.percent)
    return min(Fraction(1), Fraction(total, rule.minimum), share)


# ---------------------------------------------------------------- orders


def shuffled(values: Sequence[T], seed: str | int) -> tuple[T, ...]:
    """`values` in an order that depends only on `seed` (a permutation of them)."""
    order = list(values)
    random.Random(f"kalan:{seed}").shuffle(order)  # noqa: S311 - an order to practise in, not a secret
    return tuple(order)


def item_order(exercise: Exercise, seed: str | int) -> tuple[str, ...]:
    """The item ids in the order the learner meets them (as written when not shuffled)."""
    ids = tuple(item.id for item in exercise.items)
    return shuffled(ids, seed) if exercise.shuffle_items else ids


def next_item(
    exercise: Exercise,
    *,
    seed: str | int,
    answered_correctly: Collection[str],
    previous: str | None = None,
) -> Item:
    """The item to show next.

    Items come in `item_order`, starting after `previous`; the first one not yet
    answered correctly is next, so an item answered wrongly comes back after the
    others. When every item has been answered correctly the round starts again.
    The same item never comes twice in a row unless it is the only candidate.
    """
    order = item_order(exercise, seed)
    if previous in order:
        start = order.index(previous) + 1
        order = order[start:] + order[:start]
    candidates = [item_id for item_id in order if item_id not in answered_correctly]
    if not candidates:
        candidates = list(order)
    if len(candidates) > 1 and candidates[-1] == previous:
        candidates.pop()
    return exercise.item(candidates[0])


def display_order(item: Item, seed: str | int) -> tuple[str, ...]:
    """The ids a learner sees in a list, in the order to show them.

    Choices (single and multiple choice), targets (matching; sources keep their
    order), steps (ordering: always shuffled, and never shown already in the
    right order when there are two or more). Other items have no list: ().
    """
    seed = f"{seed}:{item.id}"
    if isinstance(item, SingleChoiceItem | MultipleChoiceItem):
        ids = tuple(choice.id for choice in item.choices)
        return shuffled(ids, seed) if item.shuffle_choices else ids
    if isinstance(item, MatchingItem):
        ids = tuple(target.id for target in item.targets)
        return shuffled(ids, seed) if item.shuffle_choices else ids
    if isinstance(item, OrderingItem):
        correct = tuple(step.id for step in item.steps)
        order = shuffled(correct, seed)
        return order[1:] + order[:1] if order == correct else order
    return ()
